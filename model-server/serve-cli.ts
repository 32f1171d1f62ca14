// `carbonscale serve --config FILE [--port N] [--host H]`: runs the model server until SIGTERM/SIGINT, then drains.
import { parseArgs } from 'node:util';
import { usageErrorLine } from './cli-errors.ts';
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
    console.error(`${usageErrorLine('serve', err)}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.config) {
    console.error(`carbonscale serve: --config is required\n\n${USAGE}`);
    return 2;
  }
  // Bad flags and a bad config file are said in one plain line before anything starts (no JSON log yet: nothing
  // is running that a log collector would follow).
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    console.error(`carbonscale serve: --port: expected an integer in [0, 65535], got ${values.port}`);
    return 2;
  }
  let config;
  try {
    config = await loadServerConfigFile(values.config);
  } catch (err) {
    console.error(`carbonscale serve: ${(err as Error).message}`);
    return 2;
  }
  if (port !== undefined) config.port = port;
  if (values.host !== undefined) config.host = values.host;
  const logger = createLogger();
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
