// What the accountant knows of a service's pods over time: each pod's Ready spans on the operator's clock, taken
// from the Ready condition's lastTransitionTime (mapped from wall time onto the clock) and bounded by what the
// operator itself saw (a transition lies between the last look that saw the old state and the first that saw the
// new one). `replicas_avg` is the ready replica-time of an interval over its length (docs/audit.md: a replica
// ready for half the interval counts 0.5), and the energy meters get the pods that ran in it. Pure: the passes and
// the accountant call notePods with the pods in the cache whenever they look.
import type { KubeObject } from '../kube/kube-client.ts';

export interface PodSpan {
  fromMs: number;
  /** Absent while the pod is ready. */
  toMs?: number;
}

export interface PodRecord {
  name: string;
  uid?: string;
  /** Creation and end as the meters count time (wall ms). */
  createdWallMs?: number;
  endWallMs?: number;
  /** Ready spans, clock ms, ascending. */
  spans: PodSpan[];
  /** When the operator last looked at the pod (clock ms) and whether it was ready then. */
  seenMs: number;
  seenReady: boolean;
  /** The pod is gone from the cache (deleted). */
  gone: boolean;
}

export interface PodLog {
  /** First time the operator looked at the service's pods (clock ms): earlier spans are reconstructed. */
  sinceMs?: number;
  pods: Map<string, PodRecord>;
}

export const emptyPodLog = (): PodLog => ({ pods: new Map() });

interface PodLike {
  metadata?: { name?: string; uid?: string; creationTimestamp?: string; deletionTimestamp?: string };
  status?: { conditions?: Array<{ type: string; status: string; lastTransitionTime?: string }> };
}

const parse = (s: string | undefined) => {
  const t = s === undefined ? NaN : Date.parse(s);
  return Number.isFinite(t) ? t : undefined;
};

function readiness(p: PodLike): { ready: boolean; atWallMs?: number } {
  const c = p.status?.conditions?.find((x) => x.type === 'Ready');
  const deleting = parse(p.metadata?.deletionTimestamp);
  // A terminating pod leaves the Service's endpoints: it serves no more from its deletion on.
  if (deleting !== undefined) return { ready: false, atWallMs: deleting };
  return {
    ready: c?.status === 'True',
    ...(parse(c?.lastTransitionTime) !== undefined ? { atWallMs: parse(c?.lastTransitionTime)! } : {}),
  };
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/** Folds what the cache shows now into the log. `toClock` maps a wall time onto the operator's clock. */
export function notePods(
  log: PodLog,
  pods: readonly KubeObject[],
  nowMs: number,
  toClock: (wallMs: number) => number,
  nowWallMs: number,
): void {
  log.sinceMs ??= nowMs;
  const present = new Set<string>();
  for (const raw of pods as unknown as PodLike[]) {
    const name = raw.metadata?.name;
    if (!name) continue;
    const key = raw.metadata?.uid ?? name;
    present.add(key);
    let rec = log.pods.get(key);
    const fresh = !rec;
    rec ??= { name, spans: [], seenMs: nowMs, seenReady: false, gone: false };
    if (raw.metadata?.uid) rec.uid = raw.metadata.uid;
    const created = parse(raw.metadata?.creationTimestamp);
    if (created !== undefined) rec.createdWallMs = created;
    const { ready, atWallMs } = readiness(raw);
    // The transition happened after the last look that saw the old state, and at or before now.
    const lo = fresh ? -Infinity : rec.seenMs;
    const at = clamp(atWallMs !== undefined ? toClock(atWallMs) : nowMs, lo, nowMs);
    const open = rec.spans[rec.spans.length - 1];
    if (ready && (!open || open.toMs !== undefined)) rec.spans.push({ fromMs: at });
    if (!ready && open && open.toMs === undefined) open.toMs = Math.max(open.fromMs, at);
    if (!ready && raw.metadata?.deletionTimestamp) rec.endWallMs = parse(raw.metadata.deletionTimestamp);
    rec.seenMs = nowMs;
    rec.seenReady = ready;
    log.pods.set(key, rec);
  }
  for (const [key, rec] of log.pods) {
    if (present.has(key) || rec.gone) continue;
    // Deleted since the last look: it stopped at the latest now (passes follow pod changes closely).
    const open = rec.spans[rec.spans.length - 1];
    if (open && open.toMs === undefined) open.toMs = nowMs;
    rec.endWallMs ??= nowWallMs;
    rec.gone = true;
    rec.seenMs = nowMs;
  }
}

/** Replica-ms of readiness in [a, b) (a pod still ready at the last look counts as ready to b). */
export function readyReplicaMs(log: PodLog, a: number, b: number): number {
  let ms = 0;
  for (const rec of log.pods.values())
    for (const s of rec.spans) {
      const to = Math.min(b, s.toMs ?? b);
      const from = Math.max(a, s.fromMs);
      if (to > from) ms += to - from;
    }
  return ms;
}

/** Pods ready at some time in [a, b). */
export function podsReadyDuring(log: PodLog, a: number, b: number): PodRecord[] {
  return [...log.pods.values()].filter((rec) =>
    rec.spans.some((s) => s.fromMs < b && (s.toMs === undefined || s.toMs > a)),
  );
}

/** Forgets pods whose last span ended before `beforeMs`. */
export function prunePodLog(log: PodLog, beforeMs: number): void {
  for (const [key, rec] of log.pods) {
    const last = rec.spans[rec.spans.length - 1];
    if ((rec.gone || rec.spans.length === 0 || last?.toMs !== undefined) && (last?.toMs ?? rec.seenMs) < beforeMs)
      log.pods.delete(key);
  }
}
