// The Open Inference Protocol v2 REST server (the dialect KServe and Triton speak) over node:http, serving one
// model name whose "versions" are the configured variants; `model_version` in every response names the variant
// that actually ran. Bad input is a 4xx naming the field, never a crash; SIGTERM (via shutdown()) drains.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ActiveVariantWatcher, readActiveVariantFile } from './active-variant-watcher.ts';
import type { ServerConfig } from './config.ts';
import { chooseExecutionProvider, systemProbe } from './execution-provider.ts';
import type { ExecutionProviderDecision, HostProbe } from './execution-provider.ts';
import { HttpError } from './http-error.ts';
import { InferenceRunner } from './inference-runner.ts';
import { createLogger } from './logger.ts';
import type { Logger } from './logger.ts';
import { createServerMetrics } from './metrics.ts';
import type { ServerMetrics } from './metrics.ts';
import { decodeInferRequest } from './oip-tensor.ts';
import { VariantPool } from './variant-pool.ts';

export const SERVER_NAME = 'carbonscale';
export const SERVER_VERSION = '0.1.0';

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

const JSON_HEADERS = { 'content-type': 'application/json' };

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...JSON_HEADERS, 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'content-length': 0 });
  res.end();
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  const tooBig = () =>
    new HttpError(400, 'body_too_large', `request body exceeds the limit of ${limit} bytes (bodyLimitBytes)`, {
      connection: 'close',
    });
  if (Number.isFinite(declared) && declared > limit) throw tooBig();
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limit) throw tooBig();
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
}

function tokenMatches(expected: string, header: string | undefined): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!m) return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(m[1]!.trim()).digest();
  return timingSafeEqual(a, b);
}

async function resolveAdminToken(config: ServerConfig, deps: ModelServerDeps): Promise<string | undefined> {
  if (deps.adminToken) return deps.adminToken;
  if (config.adminTokenFile) {
    const t = (await readFile(config.adminTokenFile, 'utf8')).trim();
    if (!t) throw new Error(`adminTokenFile ${config.adminTokenFile} is empty`);
    return t;
  }
  return process.env['CARBONSCALE_ADMIN_TOKEN'] || undefined;
}

export async function startModelServer(config: ServerConfig, deps: ModelServerDeps = {}): Promise<ModelServer> {
  const logger = deps.logger ?? createLogger();
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
  const runner = new InferenceRunner({
    pool,
    metrics,
    batching: config.batching,
    concurrentBatches: config.instances,
    clock,
  });
  const adminToken = await resolveAdminToken(config, deps);
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

  let inFlight = 0;
  let draining = false;
  let drained: (() => void) | undefined;

  const decode = (part: string): string => {
    try {
      return decodeURIComponent(part);
    } catch {
      throw new HttpError(400, 'bad_path', `malformed percent-encoding in the path segment '${part}'`);
    }
  };
  const modelPath = new RegExp(`^/v2/models/([^/]+)(?:/versions/([^/]+))?(/ready|/infer)?$`);

  // Unknown model or version is bad input (400, as Triton answers and as the project's spec asks), not an unknown
  // route: the path is well formed, the name in it is wrong.
  function checkModel(name: string, version: string | undefined): void {
    if (decode(name) !== config.modelName) {
      throw new HttpError(400, 'unknown_model', `unknown model '${decode(name)}' (serving '${config.modelName}')`);
    }
    if (version !== undefined && !pool.names.includes(decode(version))) {
      throw new HttpError(
        400,
        'unknown_version',
        `model '${config.modelName}' has no version '${decode(version)}' (versions: ${pool.names.join(', ')})`,
      );
    }
  }

  async function infer(req: IncomingMessage, res: ServerResponse, version: string | undefined): Promise<void> {
    const t0 = clock();
    const activeAtStart = pool.active.name;
    if (inFlight >= config.maxConcurrency) {
      metrics.errors.inc({ variant: activeAtStart, reason: 'too_many_requests' });
      throw new HttpError(
        429,
        'too_many_requests',
        `too many concurrent requests (maxConcurrency ${config.maxConcurrency}); retry later`,
        { 'retry-after': '1' },
      );
    }
    inFlight++;
    metrics.inFlight.set(inFlight);
    try {
      const body = await readBody(req, config.bodyLimitBytes);
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch (err) {
        throw new HttpError(400, 'malformed_json', `request body is not valid JSON: ${(err as Error).message}`);
      }
      if (version !== undefined && decode(version) !== pool.active.name) {
        throw new HttpError(
          400,
          'inactive_version',
          `version '${decode(version)}' is not the active variant ('${pool.active.name}'); ` +
            `the operator chooses the variant: address /v2/models/${config.modelName}/infer`,
        );
      }
      const decoded = decodeInferRequest(parsed, pool.active.signature);
      const outcome = await runner.run(decoded);
      const response = {
        model_name: config.modelName,
        model_version: outcome.variant,
        ...(decoded.id !== undefined ? { id: decoded.id } : {}),
        outputs: outcome.outputs,
      };
      sendJson(res, 200, response);
      metrics.requests.inc({ variant: outcome.variant, code: '200' });
      metrics.inferences.inc({ variant: outcome.variant }, decoded.rows);
      metrics.requestDuration.observe({ variant: outcome.variant }, (clock() - t0) / 1000);
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 500;
      const reason = err instanceof HttpError ? err.reason : 'internal';
      metrics.errors.inc({ variant: activeAtStart, reason });
      metrics.requests.inc({ variant: activeAtStart, code: String(status) });
      throw err;
    } finally {
      inFlight--;
      metrics.inFlight.set(inFlight);
      if (draining && inFlight === 0) drained?.();
    }
  }

  async function admin(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!adminToken) throw new HttpError(404, 'admin_disabled', 'admin endpoint disabled: no admin token configured');
    if (!tokenMatches(adminToken, req.headers['authorization'])) {
      throw new HttpError(401, 'unauthorized', 'admin endpoint needs "Authorization: Bearer <token>"', {
        'www-authenticate': 'Bearer',
      });
    }
    if (req.method === 'GET') {
      sendJson(res, 200, { active: pool.active.name, variants: pool.names, lastSwitch: pool.lastSwitch ?? null });
      return;
    }
    const body = await readBody(req, config.bodyLimitBytes);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw new HttpError(400, 'malformed_json', `request body is not valid JSON: ${(err as Error).message}`);
    }
    const name = (parsed as { variant?: unknown } | null)?.variant;
    if (typeof name !== 'string' || !pool.names.includes(name)) {
      throw new HttpError(400, 'unknown_variant', `variant: expected one of ${pool.names.join(', ')}`);
    }
    const result = await switchVariant(name);
    sendJson(res, 200, result);
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = (req.url ?? '/').split('?')[0]!;
    const method = req.method ?? 'GET';
    if (draining && url !== '/metrics' && url !== '/v2/health/live') {
      throw new HttpError(503, 'shutting_down', 'server is shutting down', { connection: 'close' });
    }
    if (url === '/v2/health/live') return expectGet(method, () => sendEmpty(res, 200));
    if (url === '/v2/health/ready') return expectGet(method, () => sendEmpty(res, pool.ready ? 200 : 400));
    if (url === '/v2') {
      return expectGet(method, () =>
        sendJson(res, 200, { name: SERVER_NAME, version: SERVER_VERSION, extensions: [] }),
      );
    }
    if (url === '/metrics') {
      if (method !== 'GET') throw methodNotAllowed('GET');
      const text = await metrics.registry.metrics();
      res.writeHead(200, { 'content-type': metrics.registry.contentType });
      res.end(text);
      return;
    }
    if (url === '/admin/variant') {
      if (method !== 'GET' && method !== 'POST') throw methodNotAllowed('GET, POST');
      return admin(req, res);
    }
    const m = modelPath.exec(url);
    if (m) {
      const [, name, version, tail] = m;
      checkModel(name!, version);
      if (tail === '/infer') {
        if (method !== 'POST') throw methodNotAllowed('POST');
        return infer(req, res, version);
      }
      if (tail === '/ready') return expectGet(method, () => sendEmpty(res, pool.ready ? 200 : 400));
      return expectGet(method, () => {
        const sig = pool.active.signature;
        sendJson(res, 200, {
          name: config.modelName,
          versions: pool.names,
          platform: 'onnxruntime_onnx',
          inputs: sig.inputs,
          outputs: sig.outputs,
        });
      });
    }
    throw new HttpError(404, 'not_found', `no route for ${method} ${url}`);
  }

  function expectGet(method: string, fn: () => void): void {
    if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed('GET');
    fn();
  }

  function methodNotAllowed(allow: string): HttpError {
    return new HttpError(405, 'method_not_allowed', `method not allowed (allowed: ${allow})`, { allow });
  }

  const server: Server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    route(req, res).catch((err: unknown) => {
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
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
  });
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
  async function shutdown(): Promise<void> {
    draining = true;
    watcher?.stop();
    const closed = new Promise<void>((r) => server.close(() => r()));
    server.closeIdleConnections();
    if (inFlight > 0) {
      const done = new Promise<void>((r) => (drained = r));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<void>((r) => (timer = setTimeout(r, config.drainTimeoutMs)));
      await Promise.race([done, timeout]);
      clearTimeout(timer);
      if (inFlight > 0) logger.warn('drain timeout: closing with requests in flight', { inFlight });
    }
    await runner.idle();
    server.closeAllConnections();
    await closed;
    await pool.close();
    logger.info('model server stopped');
  }

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    pool,
    metrics,
    executionProvider,
    get inFlight() {
      return inFlight;
    },
    switchVariant,
    shutdown: () => (shutdownPromise ??= shutdown()),
  };
}
