// The handlers behind the route table (routes.ts): health, metadata, metrics, the token-guarded variant switch and
// inference. Bodies are read within bodyLimitBytes / requestTimeoutMs / maxJsonDepth (http-body.ts). Unknown model
// or version is bad input (400, as Triton answers and as the project's spec asks), not an unknown route: the path
// is well formed, the name in it is wrong.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tokenMatches } from './admin-token.ts';
import type { ServerConfig } from './config.ts';
import { parseJsonBody, readBody } from './http-body.ts';
import { HttpError } from './http-error.ts';
import type { InferenceRunner } from './inference-runner.ts';
import type { ServerMetrics } from './metrics.ts';
import { decodeInferRequest } from './oip-tensor.ts';
import { matchRoute } from './routes.ts';
import type { VariantPool } from './variant-pool.ts';

export const SERVER_NAME = 'carbonscale';
export const SERVER_VERSION = '0.1.0';

/** What the handlers share with the server's lifecycle (shutdown reads it). */
export interface FlightState {
  inFlight: number;
  draining: boolean;
  drained?: () => void;
}

export interface HandlerContext {
  config: ServerConfig;
  pool: VariantPool;
  runner: InferenceRunner;
  metrics: ServerMetrics;
  clock: () => number;
  adminToken: string | undefined;
  switchVariant: (name: string) => ReturnType<VariantPool['switchTo']>;
  flight: FlightState;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...JSON_HEADERS, 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'content-length': 0 });
  res.end();
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new HttpError(400, 'bad_path', `malformed percent-encoding in the path segment '${part}'`);
  }
}

function checkModel(ctx: HandlerContext, name: string, version: string | undefined): void {
  const { config, pool } = ctx;
  if (decode(name) !== config.modelName)
    throw new HttpError(400, 'unknown_model', `unknown model '${decode(name)}' (serving '${config.modelName}')`);
  if (version !== undefined && !pool.names.includes(decode(version)))
    throw new HttpError(
      400,
      'unknown_version',
      `model '${config.modelName}' has no version '${decode(version)}' (versions: ${pool.names.join(', ')})`,
    );
}

async function jsonBody(ctx: HandlerContext, req: IncomingMessage): Promise<unknown> {
  return parseJsonBody(await readBody(req, ctx.config), ctx.config.maxJsonDepth);
}

async function infer(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse, version?: string): Promise<void> {
  const { config, pool, metrics, flight } = ctx;
  const t0 = ctx.clock();
  const activeAtStart = pool.active.name;
  if (flight.inFlight >= config.maxConcurrency) {
    metrics.errors.inc({ variant: activeAtStart, reason: 'too_many_requests' });
    throw new HttpError(
      429,
      'too_many_requests',
      `too many concurrent requests (maxConcurrency ${config.maxConcurrency}); retry later`,
      { 'retry-after': '1' },
    );
  }
  flight.inFlight++;
  metrics.inFlight.set(flight.inFlight);
  try {
    const parsed = await jsonBody(ctx, req);
    if (version !== undefined && decode(version) !== pool.active.name) {
      throw new HttpError(
        400,
        'inactive_version',
        `version '${decode(version)}' is not the active variant ('${pool.active.name}'); ` +
          `the operator chooses the variant: address /v2/models/${config.modelName}/infer`,
      );
    }
    const decoded = decodeInferRequest(parsed, pool.active.signature);
    const outcome = await ctx.runner.run(decoded);
    sendJson(res, 200, {
      model_name: config.modelName,
      model_version: outcome.variant,
      ...(decoded.id !== undefined ? { id: decoded.id } : {}),
      outputs: outcome.outputs,
    });
    metrics.requests.inc({ variant: outcome.variant, code: '200' });
    metrics.inferences.inc({ variant: outcome.variant }, decoded.rows);
    metrics.requestDuration.observe({ variant: outcome.variant }, (ctx.clock() - t0) / 1000);
  } catch (err) {
    const status = err instanceof HttpError ? err.status : 500;
    const reason = err instanceof HttpError ? err.reason : 'internal';
    metrics.errors.inc({ variant: activeAtStart, reason });
    metrics.requests.inc({ variant: activeAtStart, code: String(status) });
    throw err;
  } finally {
    flight.inFlight--;
    metrics.inFlight.set(flight.inFlight);
    if (flight.draining && flight.inFlight === 0) flight.drained?.();
  }
}

async function admin(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { pool, adminToken } = ctx;
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
  const name = ((await jsonBody(ctx, req)) as { variant?: unknown } | null)?.variant;
  if (typeof name !== 'string' || !pool.names.includes(name)) {
    throw new HttpError(400, 'unknown_variant', `variant: expected one of ${pool.names.join(', ')}`);
  }
  sendJson(res, 200, await ctx.switchVariant(name));
}

function modelMetadata(ctx: HandlerContext, res: ServerResponse): void {
  const sig = ctx.pool.active.signature;
  sendJson(res, 200, {
    name: ctx.config.modelName,
    versions: ctx.pool.names,
    platform: 'onnxruntime_onnx',
    inputs: sig.inputs,
    outputs: sig.outputs,
  });
}

export async function handleRequest(ctx: HandlerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = (req.url ?? '/').split('?')[0]!;
  const method = req.method ?? 'GET';
  if (ctx.flight.draining && url !== '/metrics' && url !== '/v2/health/live') {
    throw new HttpError(503, 'shutting_down', 'server is shutting down', { connection: 'close' });
  }
  const { route, params } = matchRoute(url, method);
  const [name, version] = params;
  if (name !== undefined) checkModel(ctx, name, version);
  switch (route.id) {
    case 'live':
      return sendEmpty(res, 200);
    case 'ready':
    case 'model-ready':
      return sendEmpty(res, ctx.pool.ready ? 200 : 400);
    case 'server':
      return sendJson(res, 200, { name: SERVER_NAME, version: SERVER_VERSION, extensions: [] });
    case 'metrics': {
      const text = await ctx.metrics.registry.metrics();
      res.writeHead(200, { 'content-type': ctx.metrics.registry.contentType });
      res.end(text);
      return;
    }
    case 'admin-variant':
      return admin(ctx, req, res);
    case 'model':
      return modelMetadata(ctx, res);
    case 'infer':
      return infer(ctx, req, res, version);
  }
}
