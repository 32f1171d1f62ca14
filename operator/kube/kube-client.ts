// The one door to the Kubernetes API (ADR 0001). Every read, write and watch the operator makes goes through
// here, so requests are counted by verb and resource, bodies are bounded, timeouts are uniform, the client-side
// rate (QPS/burst) holds for every request but watches, every connection comes from one keep-alive pool, and
// server-side apply always carries the field manager.
// Uses node:https with the KubeConfig's TLS and auth (client certs, tokens, in-cluster token files, exec).
//
// Defaults (the controller engineer wires flags to them): qps 50, burst 100 (kube-scheduler's defaults; a
// region-wide carbon step needs a few hundred writes within seconds, and the apiserver's own priority and
// fairness protects it beyond that), 10 request sockets, watches on their own pool, 15 s per request,
// 64 MiB per response body (lists are paginated at 500 objects), 16 MiB per watch event line.
import { request as httpsRequest, type AgentOptions, type RequestOptions } from 'node:https';
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import { FIELD_MANAGER } from '../constants.ts';
import { wallClock, type Clock } from './clock.ts';
import { ConnectionPool, type PoolStats } from './connection-pool.ts';
import { parseApiPath, recordInScopes, RequestTally, verbOf, type RequestRecord } from './request-accounting.ts';
import { TokenBucket } from './token-bucket.ts';

export interface ResourceDescriptor {
  group: string; // '' for the core group
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

export function apiVersionOf(r: ResourceDescriptor): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/** Collection path (namespace omitted = all namespaces / cluster-scoped). */
export function collectionPath(r: ResourceDescriptor, namespace?: string): string {
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  return r.namespaced && namespace ? `${base}/namespaces/${namespace}/${r.plural}` : `${base}/${r.plural}`;
}

export function objectPath(r: ResourceDescriptor, name: string, namespace?: string): string {
  return `${collectionPath(r, namespace)}/${encodeURIComponent(name)}`;
}

export const Resources = {
  deployment: { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespaced: true },
  service: { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true },
  configMap: { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true },
  secret: { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true },
  pod: { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true },
  node: { group: '', version: 'v1', plural: 'nodes', kind: 'Node', namespaced: false },
  lease: { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true },
  event: { group: 'events.k8s.io', version: 'v1', plural: 'events', kind: 'Event', namespaced: true },
  inferenceService: {
    group: 'carbonscale.dev',
    version: 'v1alpha1',
    plural: 'inferenceservices',
    kind: 'InferenceService',
    namespaced: true,
  },
  carbonSource: {
    group: 'carbonscale.dev',
    version: 'v1alpha1',
    plural: 'carbonsources',
    kind: 'CarbonSource',
    namespaced: false,
  },
} satisfies Record<string, ResourceDescriptor>;

export class KubeApiError extends Error {
  override name = 'KubeApiError';
  readonly status: number;
  readonly reason: string;
  constructor(status: number, reason: string, message: string) {
    super(message);
    this.status = status;
    this.reason = reason;
  }
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: Array<Record<string, unknown>>;
    managedFields?: unknown;
    creationTimestamp?: string;
    deletionTimestamp?: string;
  };
  [k: string]: unknown;
}

export interface ListResult<T> {
  items: T[];
  metadata: { resourceVersion?: string; continue?: string };
}

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export const KUBE_CLIENT_DEFAULTS = {
  qps: 50,
  burst: 100,
  maxSockets: 10,
  requestTimeoutMs: 15_000,
  maxResponseBytes: 64 * 1024 * 1024,
  maxWatchLineBytes: 16 * 1024 * 1024,
} as const;

export interface KubeClientOptions {
  requestTimeoutMs?: number;
  /** Called for every write the operator makes (tests and metrics count them). */
  onWrite?: (method: string, path: string) => void;
  /** Called for every request once it has an answer (or failed): verb, resource, status, time. */
  onRequest?: (r: RequestRecord) => void;
  /** Client-side rate for every request except watches: sustained requests per second and burst. */
  qps?: number;
  burst?: number;
  /** Concurrent request sockets in the keep-alive pool (watches have their own). */
  maxSockets?: number;
  maxResponseBytes?: number;
  maxWatchLineBytes?: number;
  /** The rate limiter's clock: the wall clock (the apiserver counts real seconds). Tests pass a manual one. */
  clock?: Clock;
}

type Query = Record<string, string | number | boolean | undefined>;

interface Prepared {
  url: URL;
  options: RequestOptions;
}

/** An error with no HTTP answer (refused, reset, timed out), naming the request. */
export class KubeConnectionError extends Error {
  override name = 'KubeConnectionError';
  readonly code?: string;
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    const code = (cause as { code?: unknown } | null | undefined)?.code;
    if (typeof code === 'string') this.code = code;
  }
}

export class KubeClient {
  readonly kc: KubeConfig;
  private opts: KubeClientOptions;
  private bucket: TokenBucket;
  private pool?: ConnectionPool;
  private tlsReady?: Promise<{ pool: ConnectionPool | undefined; headers?: Record<string, string> }>;
  writes = 0;
  /** Every request this client made, by `verb resource`. */
  readonly requests = new RequestTally();

  constructor(kc: KubeConfig, opts: KubeClientOptions = {}) {
    this.kc = kc;
    this.opts = opts;
    this.bucket = new TokenBucket(
      opts.qps ?? KUBE_CLIENT_DEFAULTS.qps,
      opts.burst ?? KUBE_CLIENT_DEFAULTS.burst,
      opts.clock ?? wallClock,
    );
  }

  /** Sockets opened and TLS handshakes done, for requests and for watches. */
  connectionStats(): { requests: PoolStats; watches: PoolStats } {
    return {
      requests: { ...(this.pool?.requestStats ?? { socketsCreated: 0, tlsHandshakes: 0 }) },
      watches: { ...(this.pool?.watchStats ?? { socketsCreated: 0, tlsHandshakes: 0 }) },
    };
  }

  /** Closes the pool's sockets (on shutdown, so the process can exit without waiting for idle timeouts). */
  close(): void {
    this.pool?.destroy();
  }

  // TLS material is read from the kubeconfig once, into the pool's agents. A proxy-url in the kubeconfig keeps
  // client-node's proxy agent (and its own pooling) instead.
  private setup(): Promise<{ pool: ConnectionPool | undefined; headers?: Record<string, string> }> {
    this.tlsReady ??= (async () => {
      const cluster = this.kc.getCurrentCluster();
      if (!cluster) throw new Error('kubeconfig has no current cluster');
      const o: RequestOptions = {};
      await this.kc.applyToHTTPSOptions(o);
      if (cluster.proxyUrl) return { pool: undefined };
      const tls: AgentOptions = {};
      for (const k of ['ca', 'cert', 'key', 'pfx', 'passphrase', 'servername', 'rejectUnauthorized'] as const)
        if (o[k] !== undefined) (tls as Record<string, unknown>)[k] = o[k];
      this.pool = new ConnectionPool({
        maxSockets: this.opts.maxSockets ?? KUBE_CLIENT_DEFAULTS.maxSockets,
        tls,
        plainHttp: cluster.server.startsWith('http:'),
      });
      const user = this.kc.getCurrentUser();
      // Static credentials (client certificate, fixed token, basic auth): the headers never change.
      const dynamic = !!(user?.authProvider || user?.exec);
      const headers = dynamic ? undefined : { ...(o.headers as Record<string, string>) };
      if (!dynamic && o.auth) headers!.Authorization = `Basic ${Buffer.from(o.auth).toString('base64')}`;
      return { pool: this.pool, ...(headers ? { headers } : {}) };
    })();
    return this.tlsReady;
  }

  private async prepare(method: string, path: string, headers: Record<string, string>, watch: boolean) {
    const { pool, headers: staticHeaders } = await this.setup();
    const cluster = this.kc.getCurrentCluster()!;
    const url = new URL(cluster.server.replace(/\/$/, '') + path);
    const options: RequestOptions = { method, headers: { Accept: 'application/json', ...headers } };
    if (!pool) {
      await this.kc.applyToHTTPSOptions(options); // proxy: client-node's agent
    } else {
      let auth = staticHeaders;
      if (!auth) {
        // Token files, exec plugins and auth providers refresh themselves: ask for the header on every request.
        const scratch: RequestOptions = { headers: {} };
        await this.kc.applyToHTTPSOptions(scratch);
        auth = scratch.headers as Record<string, string>;
      }
      options.headers = { ...auth, ...options.headers };
      options.agent = watch ? pool.watches : pool.requests;
    }
    return { url, options } satisfies Prepared;
  }

  private send(p: Prepared): { req: ClientRequest; response: Promise<IncomingMessage> } {
    let req!: ClientRequest;
    const response = new Promise<IncomingMessage>((resolve, reject) => {
      req = (p.url.protocol === 'http:' ? httpRequest : httpsRequest)(p.url, p.options, resolve);
      req.on('error', reject);
    });
    return { req, response };
  }

  private account(r: RequestRecord): void {
    this.requests.add(r);
    recordInScopes(r);
    this.opts.onRequest?.(r);
  }

  async request<T>(
    method: string,
    path: string,
    init: { query?: Query; body?: unknown; contentType?: string } = {},
  ): Promise<T> {
    const headers: Record<string, string> = {};
    let payload: string | undefined;
    if (init.body !== undefined) {
      payload = JSON.stringify(init.body);
      headers['Content-Type'] = init.contentType ?? 'application/json';
    }
    const waitStart = Date.now();
    await this.bucket.take();
    const throttledMs = Date.now() - waitStart;
    const p = await this.prepare(method, path, headers, false);
    for (const [k, v] of Object.entries(init.query ?? {})) if (v !== undefined) p.url.searchParams.set(k, String(v));
    if (WRITE_METHODS.has(method)) {
      this.writes++;
      this.opts.onWrite?.(method, path);
    }
    const timeout = this.opts.requestTimeoutMs ?? KUBE_CLIENT_DEFAULTS.requestTimeoutMs;
    p.options.timeout = timeout;
    const started = Date.now();
    const verb = verbOf(method, path, false);
    const { group, resource } = parseApiPath(path);
    let status = 0;
    try {
      const res = await this.exchange(p, payload, timeout);
      status = res.statusCode ?? 0;
      const text = await readBody(res, this.opts.maxResponseBytes ?? KUBE_CLIENT_DEFAULTS.maxResponseBytes);
      return decode<T>(method, path, status, text);
    } catch (e) {
      if (e instanceof KubeApiError) throw e;
      throw new KubeConnectionError(`${method} ${path}: ${(e as Error).message}`, e);
    } finally {
      this.account({ verb, resource, group, status, durationMs: Date.now() - started, throttledMs });
    }
  }

  /**
   * Sends one request and waits for its response head. A kept-alive socket the server closed while idle fails
   * with ECONNRESET/EPIPE before the server read anything: that one case is sent once more on a fresh socket
   * (Node's documented pattern, `req.reusedSocket`).
   */
  private async exchange(p: Prepared, payload: string | undefined, timeout: number): Promise<IncomingMessage> {
    for (let attempt = 1; ; attempt++) {
      const { req, response } = this.send(p);
      req.on('timeout', () => req.destroy(new Error(`timed out after ${timeout} ms`)));
      if (payload !== undefined) req.write(payload);
      req.end();
      try {
        return await response;
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (attempt === 1 && req.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE')) continue;
        throw e;
      }
    }
  }

  list<T>(path: string, query: Query = {}): Promise<ListResult<T>> {
    return this.request<ListResult<T>>('GET', path, { query });
  }

  /**
   * Every page of a list (limit/continue). A continue token that expired (410 Gone) restarts with one
   * unpaginated list, as client-go's pager does: a fresh consistent snapshot that cannot expire midway.
   */
  async listAll<T>(path: string, query: Query = {}, pageSize = 500): Promise<ListResult<T>> {
    const items: T[] = [];
    let cont: string | undefined;
    let rv: string | undefined;
    try {
      do {
        const page = await this.list<T>(path, { ...query, limit: pageSize > 0 ? pageSize : undefined, continue: cont });
        items.push(...page.items);
        rv ??= page.metadata.resourceVersion;
        cont = page.metadata.continue || undefined;
      } while (cont);
    } catch (e) {
      if (!(cont && e instanceof KubeApiError && e.status === 410)) throw e;
      return this.list<T>(path, query);
    }
    return { items, metadata: rv !== undefined ? { resourceVersion: rv } : {} };
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  async getOrNull<T>(path: string): Promise<T | null> {
    try {
      return await this.get<T>(path);
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 404) return null;
      throw e;
    }
  }

  /** Server-side apply: we own exactly the fields we send; `force` takes them back from whoever edited them. */
  apply<T>(path: string, obj: unknown, force = true, fieldManager: string = FIELD_MANAGER): Promise<T> {
    return this.request<T>('PATCH', path, {
      query: { fieldManager, force },
      body: obj,
      contentType: 'application/apply-patch+yaml',
    });
  }

  /** Status goes through the status subresource, as a server-side apply of the status we own. */
  applyStatus<T>(path: string, obj: unknown): Promise<T> {
    return this.request<T>('PATCH', `${path}/status`, {
      query: { fieldManager: FIELD_MANAGER, force: true },
      body: obj,
      contentType: 'application/apply-patch+yaml',
    });
  }

  create<T>(path: string, obj: unknown): Promise<T> {
    return this.request<T>('POST', path, { body: obj, query: { fieldManager: FIELD_MANAGER } });
  }

  update<T>(path: string, obj: unknown): Promise<T> {
    return this.request<T>('PUT', path, { body: obj, query: { fieldManager: FIELD_MANAGER } });
  }

  mergePatch<T>(path: string, patch: unknown): Promise<T> {
    return this.request<T>('PATCH', path, {
      body: patch,
      contentType: 'application/merge-patch+json',
      query: { fieldManager: FIELD_MANAGER },
    });
  }

  delete(path: string): Promise<unknown> {
    return this.request('DELETE', path);
  }

  /**
   * Streams a watch until the server closes it (resolve), the signal aborts (resolve) or it fails (reject).
   * A watch ERROR event rejects with a KubeApiError carrying its code (410 Gone: the caller relists).
   * Watches skip the rate limiter (client-go does the same) and use the pool's watch agent.
   * `idleMs` (optional) cuts a connection that sends no bytes for that long; the watcher keeps its own
   * watchdog on events, so it does not need this.
   */
  async watch<T>(
    path: string,
    query: Query,
    onEvent: (e: WatchEvent<T>) => void,
    signal: AbortSignal,
    idleMs?: number,
  ): Promise<void> {
    const p = await this.prepare('GET', path, {}, true);
    p.url.searchParams.set('watch', 'true');
    for (const [k, v] of Object.entries(query)) if (v !== undefined) p.url.searchParams.set(k, String(v));
    const { group, resource } = parseApiPath(path);
    const started = Date.now();
    let status = 0;
    try {
      await this.streamWatch<T>(p, path, onEvent, signal, idleMs, (s) => (status = s));
    } finally {
      this.account({ verb: 'watch', resource, group, status, durationMs: Date.now() - started, throttledMs: 0 });
    }
  }

  private streamWatch<T>(
    p: Prepared,
    path: string,
    onEvent: (e: WatchEvent<T>) => void,
    signal: AbortSignal,
    idleMs: number | undefined,
    onStatus: (s: number) => void,
  ): Promise<void> {
    const maxLine = this.opts.maxWatchLineBytes ?? KUBE_CLIENT_DEFAULTS.maxWatchLineBytes;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      let idle: NodeJS.Timeout | undefined;
      const finish = (err?: Error) => {
        if (settled) return;
        settled = true;
        if (idle) clearTimeout(idle);
        signal.removeEventListener('abort', onAbort);
        req.destroy();
        if (err) reject(err);
        else resolve();
      };
      const touch = () => {
        if (!idleMs) return;
        if (idle) clearTimeout(idle);
        idle = setTimeout(() => finish(new Error(`watch ${path}: no data for ${idleMs} ms`)), idleMs);
      };
      const onAbort = () => finish();
      if (signal.aborted) return resolve();
      signal.addEventListener('abort', onAbort);
      touch();
      const { req, response } = this.send(p);
      req.end();
      response.then(
        (res) => {
          onStatus(res.statusCode ?? 0);
          if (res.statusCode !== 200) {
            readBody(res, 64 * 1024).then(
              (text) => finish(statusError(`watch ${path}`, res.statusCode ?? 0, text)),
              (e: Error) => finish(e),
            );
            return;
          }
          const lines = new LineSplitter(maxLine);
          res.on('data', (chunk: Buffer) => {
            touch();
            try {
              for (const line of lines.push(chunk)) {
                if (settled) return;
                handleWatchLine<T>(path, line, onEvent);
              }
            } catch (e) {
              finish(e as Error);
            }
          });
          res.on('aborted', () => finish(new Error(`watch ${path}: connection aborted`)));
          res.on('end', () => finish());
          res.on('error', (e) => finish(e));
        },
        (e: Error) => finish(new KubeConnectionError(`watch ${path}: ${e.message}`, e)),
      );
    });
  }
}

function handleWatchLine<T>(path: string, line: string, onEvent: (e: WatchEvent<T>) => void): void {
  if (!line.trim()) return;
  let ev: WatchEvent<T>;
  try {
    ev = JSON.parse(line) as WatchEvent<T>;
  } catch {
    throw new Error(`watch ${path}: an event line is not JSON (${line.length} bytes)`);
  }
  if (ev.type === 'ERROR') {
    const st = ev.object as unknown as { code?: number; reason?: string; message?: string };
    throw new KubeApiError(st.code ?? 500, st.reason ?? 'Error', `watch ${path}: ${st.message ?? 'error event'}`);
  }
  onEvent(ev);
}

/** Splits a byte stream into lines without ever holding a line over `max` bytes. */
class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private max: number;
  constructor(max: number) {
    this.max = max;
  }
  *push(chunk: Buffer): Generator<string> {
    let start = 0;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, start)) {
      this.add(chunk.subarray(start, i));
      yield Buffer.concat(this.parts).toString('utf8');
      this.parts = [];
      this.size = 0;
      start = i + 1;
    }
    if (start < chunk.length) this.add(chunk.subarray(start));
  }
  private add(b: Buffer) {
    this.size += b.length;
    if (this.size > this.max) throw new Error(`watch event line over ${this.max} bytes`);
    this.parts.push(b);
  }
}

function readBody(res: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const fail = (e: Error) => {
      if (settled) return;
      settled = true;
      reject(e);
    };
    res.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        // Settle first: destroying the response emits 'aborted', which must not replace the real reason.
        fail(new Error(`response body over ${max} bytes`));
        res.destroy();
        return;
      }
      chunks.push(c);
    });
    res.on('end', () => {
      if (settled) return;
      settled = true;
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    res.on('error', fail);
    res.on('aborted', () => fail(new Error('connection aborted while reading the body')));
  });
}

function statusError(what: string, status: number, text: string): KubeApiError {
  let st: { reason?: string; message?: string } = {};
  try {
    st = (text ? JSON.parse(text) : {}) as typeof st;
  } catch {
    // not a Status object: show the start of the body
  }
  return new KubeApiError(
    status,
    st.reason ?? String(status),
    `${what}: ${status} ${st.message ?? text.slice(0, 300)}`,
  );
}

function decode<T>(method: string, path: string, status: number, text: string): T {
  if (status >= 200 && status < 300) {
    try {
      return (text ? JSON.parse(text) : {}) as T;
    } catch {
      throw new KubeApiError(status, 'InvalidResponse', `${method} ${path}: ${status} with a body that is not JSON`);
    }
  }
  throw statusError(`${method} ${path}`, status, text);
}
