// Apiserver requests by verb and resource, so a reconcile's cost is visible: the scale work prints requests per
// reconcile, and the zero-requests-in-a-quiet-pass goal is checked by counting. Counts are kept per client and,
// through AsyncLocalStorage, per scope (one reconcile pass), so concurrent passes do not mix their counts.
import { AsyncLocalStorage } from 'node:async_hooks';

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'discovery' | 'other';

export interface RequestRecord {
  verb: Verb;
  /** Plural resource ('deployments'), with '/status' etc. for a subresource; 'discovery' for /api, /apis. */
  resource: string;
  group: string;
  namespace?: string;
  /** HTTP status; 0 when no response came (refused, reset, timed out). */
  status: number;
  durationMs: number;
  /** Time spent waiting for the client-side rate limiter. */
  throttledMs: number;
}

export interface ParsedPath {
  group: string;
  resource: string;
  namespace?: string;
  name?: string;
}

/** Splits an API path (/api/v1/namespaces/ns/pods/x/status, /apis/apps/v1/deployments) into its parts. */
export function parseApiPath(path: string): ParsedPath {
  const segs = path.split('?')[0]!.split('/').filter(Boolean);
  let rest: string[];
  let group: string;
  if (segs[0] === 'api' && segs.length >= 2) {
    group = '';
    rest = segs.slice(2);
  } else if (segs[0] === 'apis' && segs.length >= 3) {
    group = segs[1]!;
    rest = segs.slice(3);
  } else return { group: '', resource: 'discovery' };
  if (rest.length === 0) return { group, resource: 'discovery' };
  let namespace: string | undefined;
  // /namespaces/NS/<plural>/...; a bare /namespaces or /namespaces/NS is the namespace resource itself.
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = decodeURIComponent(rest[1]!);
    rest = rest.slice(2);
  }
  const [plural, name, ...sub] = rest;
  const out: ParsedPath = { group, resource: sub.length ? `${plural}/${sub.join('/')}` : plural! };
  if (namespace !== undefined) out.namespace = namespace;
  if (name !== undefined) out.name = decodeURIComponent(name);
  return out;
}

/** The Kubernetes verb of a request, as the apiserver's audit log names it. */
export function verbOf(method: string, path: string, watch: boolean): Verb {
  const p = parseApiPath(path);
  if (p.resource === 'discovery') return 'discovery';
  switch (method) {
    case 'GET':
      return watch ? 'watch' : p.name === undefined ? 'list' : 'get';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return 'delete';
    default:
      return 'other';
  }
}

/** Counts keyed `verb resource` (e.g. `list pods`, `patch inferenceservices/status`). */
export class RequestTally {
  readonly counts = new Map<string, number>();
  total = 0;

  add(r: Pick<RequestRecord, 'verb' | 'resource'>): void {
    const k = `${r.verb} ${r.resource}`;
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
    this.total++;
  }

  count(verb: Verb, resource?: string): number {
    if (resource !== undefined) return this.counts.get(`${verb} ${resource}`) ?? 0;
    let n = 0;
    for (const [k, v] of this.counts) if (k.startsWith(`${verb} `)) n += v;
    return n;
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => a.localeCompare(b)));
  }
}

const scope = new AsyncLocalStorage<RequestTally[]>();

/** Runs `fn`, counting every apiserver request it (and what it awaits) makes, including nested scopes. */
export async function countRequests<R>(fn: () => Promise<R>): Promise<{ value: R; requests: RequestTally }> {
  const tally = new RequestTally();
  const outer = scope.getStore() ?? [];
  const value = await scope.run([...outer, tally], fn);
  return { value, requests: tally };
}

/** Called by the client for each request: adds it to every scope it runs in. */
export function recordInScopes(r: RequestRecord): void {
  for (const t of scope.getStore() ?? []) t.add(r);
}
