// The soak's own view of the cluster: a list + watch of one resource (as any client would keep), with a history of
// what it saw per object and when (harness wall time). It relists after a watch ends or fails (apiserver restart),
// so it outlives the faults it watches.
import type { KubeClient, KubeObject, ListResult, WatchEvent } from '../../operator/kube/kube-client.ts';
import { sleep } from './operator-process.ts';

export interface Seen<T> {
  atMs: number;
  object: T;
}

export class ObjectTracker<T extends KubeObject = KubeObject> {
  readonly objects = new Map<string, T>();
  /** Every version seen per key, oldest first (a relist that brings no change adds nothing). */
  readonly history = new Map<string, Seen<T>[]>();
  private abort = new AbortController();
  private loop?: Promise<void>;
  relists = 0;
  private readonly client: KubeClient;
  private readonly path: string;
  private readonly query: Record<string, string>;

  constructor(client: KubeClient, path: string, query: Record<string, string> = {}) {
    this.client = client;
    this.path = path;
    this.query = query;
  }

  static key(o: KubeObject): string {
    return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
  }

  /** Lists once (resolves when listed), then watches in the background. */
  async start(): Promise<void> {
    const rv = await this.relist();
    this.loop = this.watchLoop(rv);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private record(o: T): void {
    const k = ObjectTracker.key(o);
    const prev = this.objects.get(k);
    this.objects.set(k, o);
    if (prev?.metadata?.resourceVersion === o.metadata?.resourceVersion) return;
    const h = this.history.get(k) ?? this.history.set(k, []).get(k)!;
    h.push({ atMs: Date.now(), object: o });
  }

  private async relist(): Promise<string> {
    const r: ListResult<T> = await this.client.listAll<T>(this.path, this.query);
    this.relists++;
    const keys = new Set<string>();
    for (const o of r.items) {
      keys.add(ObjectTracker.key(o));
      this.record(o);
    }
    for (const k of [...this.objects.keys()]) if (!keys.has(k)) this.objects.delete(k);
    return r.metadata.resourceVersion ?? '';
  }

  /** Read through a call: TypeScript narrows `signal.aborted` to false after the loop test and cannot see stop() flip it. */
  private stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private async watchLoop(rv: string): Promise<void> {
    while (!this.stopped()) {
      try {
        await this.client.watch<T>(
          this.path,
          { ...this.query, resourceVersion: rv, allowWatchBookmarks: 'true' },
          (e: WatchEvent<T>) => {
            const v = e.object.metadata?.resourceVersion;
            if (v) rv = v;
            if (e.type === 'ADDED' || e.type === 'MODIFIED') this.record(e.object);
            else if (e.type === 'DELETED') this.objects.delete(ObjectTracker.key(e.object));
          },
          this.abort.signal,
        );
      } catch {
        if (this.stopped()) return;
        await sleep(1000);
        rv = await this.relist().catch(() => rv);
        continue;
      }
      if (this.stopped()) return;
      // The server closed the watch (its timeout): go on from the last version seen.
    }
  }
}

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The variant a Deployment's pod template runs (the custom runtime's env), or undefined. */
export function deploymentVariant(d: KubeObject, env: string): string | undefined {
  const cs = ((d as Any).spec?.template?.spec?.containers ?? []) as Any[];
  for (const c of cs) for (const e of (c.env ?? []) as Any[]) if (e.name === env) return e.value as string;
  return undefined;
}

/** Times (harness wall ms) at which the variant of this object's history changed, with the new variant. */
export function variantChanges(h: readonly Seen<KubeObject>[], env: string): Array<{ atMs: number; variant: string }> {
  const out: Array<{ atMs: number; variant: string }> = [];
  let last: string | undefined;
  for (const s of h) {
    const v = deploymentVariant(s.object, env);
    if (v === undefined) continue;
    if (last !== undefined && v !== last) out.push({ atMs: s.atMs, variant: v });
    last = v;
  }
  return out;
}

/** An InferenceService is reconciled when its status has caught up with its generation. */
export function isReconciled(o: KubeObject): boolean {
  const a = o as Any;
  return a.status?.observedGeneration === a.metadata?.generation && a.status?.lastDecision !== undefined;
}

/**
 * The leaf paths (`status.readyReplicas`, `status.conditions[Ready].message`) whose values differ between two
 * versions of an object under `root`: what a write changed. Conditions are keyed by type, not position.
 */
export function changedPaths(a: unknown, b: unknown, root = 'status'): string[] {
  const out: string[] = [];
  walk((a as Any | undefined)?.[root], (b as Any | undefined)?.[root], root, out);
  return out;
}

function walk(a: unknown, b: unknown, at: string, out: string[]): void {
  if (Array.isArray(a) || Array.isArray(b)) {
    const key = (x: unknown, i: number) => ((x as Any | undefined)?.type as string | undefined) ?? String(i);
    const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
    const am = new Map(list(a).map((x, i) => [key(x, i), x]));
    const bm = new Map(list(b).map((x, i) => [key(x, i), x]));
    for (const k of new Set([...am.keys(), ...bm.keys()])) walk(am.get(k), bm.get(k), `${at}[${k}]`, out);
    return;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ao = a as Any;
    const bo = b as Any;
    for (const k of new Set([...Object.keys(ao), ...Object.keys(bo)])) walk(ao[k], bo[k], `${at}.${k}`, out);
    return;
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) out.push(at);
}

/** How often each path changed between consecutive versions seen in [fromMs, toMs), over all `histories`. */
export function changeCounts(
  histories: Iterable<readonly Seen<KubeObject>[]>,
  fromMs: number,
  toMs = Infinity,
  root = 'status',
): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const h of histories)
    for (let i = 1; i < h.length; i++) {
      if (h[i]!.atMs < fromMs || h[i]!.atMs >= toMs) continue;
      for (const p of changedPaths(h[i - 1]!.object, h[i]!.object, root)) counts[p] = (counts[p] ?? 0) + 1;
    }
  return counts;
}
