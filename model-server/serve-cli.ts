// `carbonscale serve --config FILE [--port N] [--host H]`: runs the model server until SIGTERM/SIGINT, then drains.
import { parseArgs } from 'node:util';
import { loadServerConfigFile } from './config.ts';
import { createLogger } from './logger.ts';
import { startModelServer } from './model-server.ts';

const USAGE = `usage: carbonscale serve --config FILE [--port N] [--host ADDR]

Serves the variants named in FILE (JSON, see docs/model-server.md) over the Open Inference Protocol v2.`;

export async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.config) {
    console.error(`--config is required\n${USAGE}`);
    return 2;
  }
  const logger = createLogger();
  let config;
  try {
    config = await loadServerConfigFile(values.config);
  } catch (err) {
    logger.error((err as Error).message);
    return 2;
  }
  if (values.port !== undefined) {
    const p = Number(values.port);
    if (!Number.isInteger(p) || p < 0 || p > 65535) {
      logger.error(`--port: expected an integer in [0, 65535], got ${values.port}`);
      return 2;
    }
    config.port = p;
  }
  if (values.host !== undefined) config.host = values.host;
  const server = await startModelServer(config, { logger });
  // One line on stdout a supervisor (or a test) can wait for.
  console.log(JSON.stringify({ listening: server.url, port: server.port }));
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info('signal received: draining', { signal });
      server.shutdown().then(resolve, (err: unknown) => {
        logger.error('shutdown failed', { error: (err as Error).message });
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}
