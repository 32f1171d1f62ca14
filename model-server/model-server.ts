// The Open Inference Protocol v2 REST server (the dialect KServe and Triton speak) over node:http, serving one
// model name whose "versions" are the configured variants; `model_version` in every response names the variant
// that actually ran. Every route is in routes.ts, the handlers in request-handlers.ts, body bounds in
// http-body.ts. Bad input is a 4xx naming the field, never a crash; SIGTERM (via shutdown()) drains.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ActiveVariantWatcher, readActiveVariantFile } from './active-variant-watcher.ts';
import { resolveAdminToken } from './admin-token.ts';
import type { ServerConfig } from './config.ts';
import { chooseExecutionProvider, systemProbe } from './execution-provider.ts';
import type { ExecutionProviderDecision, HostProbe } from './execution-provider.ts';
import { HttpError } from './http-error.ts';
import { InferenceRunner } from './inference-runner.ts';
import { createLogger } from './logger.ts';
import type { Logger } from './logger.ts';
import { createServerMetrics } from './metrics.ts';
import type { ServerMetrics } from './metrics.ts';
import { handleRequest, sendJson, type FlightState, type HandlerContext } from './request-handlers.ts';
import { VariantPool } from './variant-pool.ts';

export interface ModelServerDeps {
  logger?: Logger;
  probe?: HostProbe;
  /** Monotonic ms for durations (performance.now by default). */
  clock?: () => number;
  /** Admin bearer token; read from config.adminTokenFile or CARBONSCALE_ADMIN_TOKEN when not given. */
  adminToken?: string;
}

export interface ModelServer {
  readonly url: string;
  readonly port: number;
  readonly pool: VariantPool;
  readonly metrics: ServerMetrics;
  readonly executionProvider: ExecutionProviderDecision;
  /** Inference requests being handled now (body read, queued or running). */
  readonly inFlight: number;
  /** Applies a variant switch as the file watcher and admin endpoint do. */
  switchVariant(name: string): ReturnType<VariantPool['switchTo']>;
  /** Stops accepting work, waits for in-flight requests (up to drainTimeoutMs), then closes everything. */
  shutdown(): Promise<void>;
}

async function startPool(config: ServerConfig, deps: ModelServerDeps, logger: Logger) {
  const clock = deps.clock ?? (() => performance.now());
  const executionProvider = chooseExecutionProvider(config.executionProvider, deps.probe ?? systemProbe());
  logger.info(`execution provider: ${executionProvider.provider} (${executionProvider.reason})`, {
    executionProvider: executionProvider.provider,
    reason: executionProvider.reason,
  });
  const metrics = createServerMetrics(config.modelName);
  const pool = new VariantPool({
    variants: config.variants,
    executionProvider,
    modelCacheDir: config.modelCacheDir,
    maxModelBytes: config.maxModelBytes,
    pvcMountRoot: config.pvcMountRoot,
    intraOpThreads: config.intraOpThreads,
    intraOpSpinning: config.intraOpSpinning,
    instances: config.instances,
    unloadInactive: config.unloadInactive,
    metrics,
    logger,
    now: clock,
  });
  const fromFile = config.activeVariantFile ? await readActiveVariantFile(config.activeVariantFile) : undefined;
  const initial = fromFile && pool.names.includes(fromFile) ? fromFile : config.activeVariant;
  await pool.start(initial);
  return { clock, executionProvider, metrics, pool, initial };
}

/** Node's own limits back the body deadline: headers within requestTimeoutMs, the whole request within twice it. */
function httpServer(ctx: HandlerContext, logger: Logger): Server {
  const t = ctx.config.requestTimeoutMs;
  const server: Server = createServer(
    {
      keepAliveTimeout: 65_000,
      headersTimeout: t,
      requestTimeout: 2 * t,
      connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(t / 4))),
    },
    (req, res) => {
      handleRequest(ctx, req, res).catch((err: unknown) => {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        if (err instanceof HttpError) {
          sendJson(res, err.status, { error: err.message }, err.headers);
        } else {
          logger.error('internal error', { error: (err as Error).message });
          sendJson(res, 500, { error: `internal error: ${(err as Error).message}` });
        }
      });
    },
  );
  // Errors before a request exists (unparsable, headers too slow or too large): a status line that says which.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    const status =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? '408 Request Timeout'
        : err.code === 'HPE_HEADER_OVERFLOW'
          ? '431 Request Header Fields Too Large'
          : '400 Bad Request';
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
  });
  return server;
}

export async function startModelServer(config: ServerConfig, deps: ModelServerDeps = {}): Promise<ModelServer> {
  const logger = deps.logger ?? createLogger();
  const adminToken = await resolveAdminToken(config, deps.adminToken);
  const { clock, executionProvider, metrics, pool, initial } = await startPool(config, deps, logger);
  const runner = new InferenceRunner({
    pool,
    metrics,
    batching: config.batching,
    concurrentBatches: config.instances,
    clock,
  });
  const switchVariant = (name: string) => pool.switchTo(name);
  const watcher = config.activeVariantFile
    ? new ActiveVariantWatcher(
        {
          path: config.activeVariantFile,
          pollMs: config.activeVariantPollMs,
          onChange: async (v) => void (await switchVariant(v)),
          logger,
        },
        initial,
      )
    : undefined;
  watcher?.start();
  const flight: FlightState = { inFlight: 0, draining: false };
  const ctx: HandlerContext = { config, pool, runner, metrics, clock, adminToken, switchVariant, flight };
  const server = httpServer(ctx, logger);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  logger.info('model server listening', {
    port,
    model: config.modelName,
    activeVariant: pool.active.name,
    batching: config.batching,
    adminEndpoint: adminToken ? 'enabled' : 'disabled',
    activeVariantFile: config.activeVariantFile ?? null,
  });

  let shutdownPromise: Promise<void> | undefined;
  const shutdown = async (): Promise<void> => {
    flight.draining = true;
    watcher?.stop();
    const closed = new Promise<void>((r) => server.close(() => r()));
    server.closeIdleConnections();
    await waitInFlight(flight, config.drainTimeoutMs, logger);
    await runner.idle();
    server.closeAllConnections();
    await closed;
    await pool.close();
    logger.info('model server stopped');
  };
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    pool,
    metrics,
    executionProvider,
    get inFlight() {
      return flight.inFlight;
    },
    switchVariant,
    shutdown: () => (shutdownPromise ??= shutdown()),
  };
}

/** Waits for the requests in flight to finish, up to `timeoutMs`. */
async function waitInFlight(flight: FlightState, timeoutMs: number, logger: Logger): Promise<void> {
  if (flight.inFlight === 0) return;
  const done = new Promise<void>((r) => (flight.drained = r));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)));
  await Promise.race([done, timeout]);
  clearTimeout(timer);
  if (flight.inFlight > 0) logger.warn('drain timeout: closing with requests in flight', { inFlight: flight.inFlight });
}
