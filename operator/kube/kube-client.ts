// The one door to the Kubernetes API. Every read, write and watch the operator makes goes through here, so
// writes can be counted, timeouts are uniform, and server-side apply always carries the field manager.
// Uses node:https with the KubeConfig's TLS and auth (client certs, tokens, in-cluster).
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { request as httpRequest } from 'node:http';
import { createInterface } from 'node:readline';
import type { KubeConfig } from '@kubernetes/client-node';
import { FIELD_MANAGER } from '../constants.ts';

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

export interface KubeClientOptions {
  requestTimeoutMs?: number;
  /** Called for every write the operator makes (tests and metrics count them). */
  onWrite?: (method: string, path: string) => void;
}

export class KubeClient {
  readonly kc: KubeConfig;
  private opts: KubeClientOptions;
  writes = 0;

  constructor(kc: KubeConfig, opts: KubeClientOptions = {}) {
    this.kc = kc;
    this.opts = opts;
  }

  private async options(
    method: string,
    path: string,
    headers: Record<string, string>,
  ): Promise<RequestOptions & { url: URL }> {
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    const url = new URL(cluster.server.replace(/\/$/, '') + path);
    const o: RequestOptions = { method, headers: { Accept: 'application/json', ...headers } };
    await this.kc.applyToHTTPSOptions(o);
    return { ...o, url };
  }

  async request<T>(
    method: string,
    path: string,
    init: { query?: Record<string, string | number | boolean | undefined>; body?: unknown; contentType?: string } = {},
  ): Promise<T> {
    const headers: Record<string, string> = {};
    let payload: string | undefined;
    if (init.body !== undefined) {
      payload = JSON.stringify(init.body);
      headers['Content-Type'] = init.contentType ?? 'application/json';
    }
    const o = await this.options(method, path, headers);
    for (const [k, v] of Object.entries(init.query ?? {})) if (v !== undefined) o.url.searchParams.set(k, String(v));
    if (WRITE_METHODS.has(method)) {
      this.writes++;
      this.opts.onWrite?.(method, path);
    }
    const timeout = this.opts.requestTimeoutMs ?? 15_000;
    return new Promise<T>((resolve, reject) => {
      const req = (o.url.protocol === 'http:' ? httpRequest : httpsRequest)(o.url, { ...o, timeout }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : {};
          } catch {
            json = undefined;
          }
          if (status >= 200 && status < 300) return resolve(json as T);
          const st = (json ?? {}) as { reason?: string; message?: string };
          reject(
            new KubeApiError(
              status,
              st.reason ?? String(status),
              `${method} ${path}: ${status} ${st.message ?? text.slice(0, 300)}`,
            ),
          );
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out after ${timeout} ms`)));
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  list<T>(path: string, query: Record<string, string | number | boolean | undefined> = {}): Promise<ListResult<T>> {
    return this.request<ListResult<T>>('GET', path, { query });
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
  apply<T>(path: string, obj: unknown, force = true): Promise<T> {
    return this.request<T>('PATCH', path, {
      query: { fieldManager: FIELD_MANAGER, force },
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
   * `idleMs` aborts a silent connection: with bookmarks on, silence means a half-open socket.
   */
  async watch<T>(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    onEvent: (e: WatchEvent<T>) => void,
    signal: AbortSignal,
    idleMs: number,
  ): Promise<void> {
    const o = await this.options('GET', path, {});
    o.url.searchParams.set('watch', 'true');
    for (const [k, v] of Object.entries(query)) if (v !== undefined) o.url.searchParams.set(k, String(v));
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (err?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(idle);
        signal.removeEventListener('abort', onAbort);
        req.destroy();
        if (err) reject(err);
        else resolve();
      };
      let idle = setTimeout(() => finish(new Error(`watch ${path}: no data for ${idleMs} ms`)), idleMs);
      const touch = () => {
        clearTimeout(idle);
        idle = setTimeout(() => finish(new Error(`watch ${path}: no data for ${idleMs} ms`)), idleMs);
      };
      const onAbort = () => finish();
      signal.addEventListener('abort', onAbort);
      const req = (o.url.protocol === 'http:' ? httpRequest : httpsRequest)(o.url, o, (res) => {
        if (res.statusCode !== 200) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let reason = String(res.statusCode);
            try {
              reason = (JSON.parse(text) as { reason?: string }).reason ?? reason;
            } catch {
              // not JSON
            }
            finish(
              new KubeApiError(res.statusCode ?? 0, reason, `watch ${path}: ${res.statusCode} ${text.slice(0, 200)}`),
            );
          });
          return;
        }
        res.on('data', touch);
        const lines = createInterface({ input: res });
        lines.on('error', (e) => finish(e));
        res.on('aborted', () => finish(new Error(`watch ${path}: connection aborted`)));
        lines.on('line', (line) => {
          if (!line.trim()) return;
          let ev: WatchEvent<T>;
          try {
            ev = JSON.parse(line) as WatchEvent<T>;
          } catch {
            return finish(new Error(`watch ${path}: unparseable event`));
          }
          if (ev.type === 'ERROR') {
            const st = ev.object as unknown as { code?: number; reason?: string; message?: string };
            return finish(
              new KubeApiError(st.code ?? 500, st.reason ?? 'Error', `watch ${path}: ${st.message ?? 'error event'}`),
            );
          }
          try {
            onEvent(ev);
          } catch (e) {
            finish(e as Error);
          }
        });
        res.on('end', () => finish());
        res.on('error', (e) => finish(e));
      });
      req.on('error', (e) => finish(e));
      req.end();
    });
  }
}
