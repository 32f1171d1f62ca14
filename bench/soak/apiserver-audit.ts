// What the operator asked of the apiserver, read from the apiserver's own audit log (the harness logs every verb
// of the operator identities and the writes of everyone): counts by verb and resource, per user, per time window.
// The figures come from the server side, so they hold whatever the client believes it sent.
import type { LocalControlPlane } from '../../operator/local-cluster/control-plane.ts';

export interface AuditRequest {
  auditID: string;
  user: string;
  verb: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  code: number;
  /** When the apiserver answered (ms since epoch; for a watch, when its response started). */
  atMs: number;
  uri: string;
}

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Incremental reader of the audit log; keeps every request seen so far (one entry per auditID). */
export class ApiserverAudit {
  private offset = 0;
  private seen = new Set<string>();
  readonly requests: AuditRequest[] = [];
  private readonly cp: LocalControlPlane;

  constructor(cp: LocalControlPlane) {
    this.cp = cp;
  }

  /** Reads what the apiserver has logged since the last call. */
  refresh(): this {
    const { events, offset } = this.cp.auditEventsFrom(this.offset);
    this.offset = offset;
    for (const e of events as Raw[]) {
      const stage = e.stage as string;
      // Watches log ResponseStarted when they open and ResponseComplete when they close: count each once.
      if (stage !== 'ResponseComplete' && stage !== 'ResponseStarted' && stage !== 'Panic') continue;
      if (this.seen.has(e.auditID)) continue;
      this.seen.add(e.auditID);
      const ref = (e.objectRef ?? {}) as Raw;
      this.requests.push({
        auditID: e.auditID,
        user: e.user?.username ?? '',
        verb: e.verb,
        resource: ref.resource ?? '',
        ...(ref.subresource ? { subresource: ref.subresource } : {}),
        ...(ref.namespace ? { namespace: ref.namespace } : {}),
        ...(ref.name ? { name: ref.name } : {}),
        code: e.responseStatus?.code ?? 0,
        atMs: Date.parse(e.stageTimestamp ?? e.requestReceivedTimestamp),
        uri: e.requestURI ?? '',
      });
    }
    return this;
  }

  /** Requests of these users in [fromMs, toMs). */
  between(users: readonly string[], fromMs: number, toMs = Infinity): AuditRequest[] {
    this.refresh();
    const u = new Set(users);
    return this.requests.filter((r) => u.has(r.user) && r.atMs >= fromMs && r.atMs < toMs);
  }
}

export const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

export const isWrite = (r: AuditRequest) => WRITE_VERBS.has(r.verb);

/** `verb resource[/subresource]` → count, largest first. */
export function countByVerbResource(rs: readonly AuditRequest[]): Record<string, number> {
  const m = new Map<string, number>();
  for (const r of rs) {
    const k = `${r.verb} ${r.resource}${r.subresource ? `/${r.subresource}` : ''}`;
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return Object.fromEntries([...m].sort((a, b) => b[1] - a[1]));
}

/**
 * A LIST that starts a list: its first page. A paginated list (limit/continue, 500 objects a page by default)
 * is one list of many requests, so "relists per cache" counts only the requests without a continue token.
 */
export function startsAList(r: AuditRequest): boolean {
  if (r.verb !== 'list') return false;
  const q = r.uri.indexOf('?');
  return q < 0 || !new URLSearchParams(r.uri.slice(q + 1)).has('continue');
}

/** LISTs answered 200: lists started (first pages) and pages, per resource, and the most lists of one resource. */
export function listsOf(rs: readonly AuditRequest[]): {
  lists: Record<string, number>;
  pages: Record<string, number>;
  max: number;
} {
  const ok = rs.filter((x) => x.verb === 'list' && x.code === 200);
  const lists = countByVerbResource(ok.filter(startsAList));
  return { lists, pages: countByVerbResource(ok), max: Math.max(0, ...Object.values(lists)) };
}

/** A short text of the counts: `get configmaps 356, patch leases 12`. */
export function describeCounts(c: Record<string, number>, max = 6): string {
  const e = Object.entries(c);
  if (e.length === 0) return 'none';
  const shown = e.slice(0, max).map(([k, v]) => `${k} ${v}`);
  return e.length > max ? `${shown.join(', ')}, … (${e.length - max} more kinds)` : shown.join(', ');
}

/** Lease renewals and the leader-election reads that go with them: what a quiet leader may still send. */
export function isLeaseTraffic(r: AuditRequest): boolean {
  return r.resource === 'leases';
}
