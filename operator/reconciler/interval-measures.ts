// What the accountant measures for one interval, beside what the passes recorded: the ready replica-time from the
// pod log, the energy from the service's meter (or why the interval is not measured), and the served counts (or
// why they are modelled). Each says how it was obtained, so the row can say it too.
import type { Defaulted, InferenceService, VariantSpec } from '../api/types.ts';
import type { ReplicasAverageMethod } from '../audit/usage.ts';
import type { CountReading, CountTarget } from '../demand/served-counts.ts';
import type { LatencyReading } from '../demand/served-latency.ts';
import { J_PER_KWH, type MeteredPod } from '../energy/energy-source.ts';
import type { KubeObject } from '../kube/kube-client.ts';
import type { MeterPort } from './meter-port.ts';
import type { UsageMemory } from './pass-context.ts';
import { podsReadyDuring, readyReplicaMs, type PodRecord } from './pod-log.ts';

export interface IntervalEnergy {
  /** Measured IT energy and its meter; absent: estimated from the profile. */
  measured?: { kWh: number; source: string };
  /** The meter configured (energy.source other than profile). */
  meter?: string;
  /** Why the interval is estimated although a meter is configured. */
  fallbackReason?: string;
}

/** The pod log's ready replica-time over [a, b); `time_weighted` once the log has watched the whole interval. */
export function replicasFromPods(
  mem: UsageMemory,
  a: number,
  b: number,
): { average: number; method: ReplicasAverageMethod } | undefined {
  if (mem.pods.pods.size === 0) return undefined;
  const since = mem.pods.sinceMs ?? Infinity;
  return { average: readyReplicaMs(mem.pods, a, b) / (b - a), method: since <= a ? 'time_weighted' : 'snapshot' };
}

function metered(rec: PodRecord, toWall: (ms: number) => number): MeteredPod {
  const last = rec.spans[rec.spans.length - 1];
  const end = rec.endWallMs ?? (last?.toMs !== undefined ? toWall(last.toMs) : undefined);
  return {
    name: rec.name,
    ...(rec.uid ? { uid: rec.uid } : {}),
    ...(rec.createdWallMs !== undefined ? { createdMs: rec.createdWallMs } : {}),
    ...(end !== undefined ? { endMs: end } : {}),
  };
}

/** The interval on the wall clock, or why the meters cannot be asked (a replay clock). */
function wallSpan(
  m: MeterPort,
  a: number,
  b: number,
): { from: number; to: number; toWall: (ms: number) => number } | string {
  const from = m.toWall(a);
  const to = m.toWall(b);
  if (from === undefined || to === undefined) return m.replayReason ?? 'the operator clock is not the wall clock';
  return { from, to, toWall: (ms) => m.toWall(ms) ?? ms };
}

export async function energyOver(
  m: MeterPort | undefined,
  isvc: Defaulted<InferenceService>,
  mem: UsageMemory,
  variant: VariantSpec,
  a: number,
  b: number,
): Promise<IntervalEnergy> {
  if (!m) return {};
  const source = m.energy(isvc);
  if (source.name === 'profile') return {};
  const meter = source.name;
  const w = wallSpan(m, a, b);
  if (typeof w === 'string') return { meter, fallbackReason: `${meter}: ${w}` };
  const pods = podsReadyDuring(mem.pods, a, b).map((p) => metered(p, w.toWall));
  const r = await source.measure({
    namespace: isvc.metadata.namespace,
    service: isvc.metadata.name,
    fromMs: w.from,
    toMs: w.to,
    pods,
    gpusPerReplica: variant.gpusPerReplica,
  });
  if (r.measured) return { meter, measured: { kWh: r.joules / J_PER_KWH, source: r.source } };
  return { meter, fallbackReason: r.reason };
}

function countTarget(
  m: MeterPort,
  isvc: Defaulted<InferenceService>,
  mem: UsageMemory,
  pods: readonly KubeObject[],
  a: number,
  b: number,
  toWall: (ms: number) => number,
): CountTarget {
  const addresses = new Map<string, string>();
  for (const p of pods) {
    const addr = m.address(p);
    if (addr && p.metadata?.name) addresses.set(p.metadata.name, addr);
  }
  return {
    namespace: isvc.metadata.namespace,
    service: isvc.metadata.name,
    pods: podsReadyDuring(mem.pods, a, b).map((p) => metered(p, toWall)),
    addresses,
  };
}

/** Served counts of [a, b), or why they are modelled; undefined when the demand path cannot count at all. */
export async function countsOver(
  m: MeterPort | undefined,
  isvc: Defaulted<InferenceService>,
  mem: UsageMemory,
  pods: readonly KubeObject[],
  a: number,
  b: number,
): Promise<CountReading | undefined> {
  const src = m?.counts(isvc);
  if (!m || !src) return undefined;
  const w = wallSpan(m, a, b);
  if (typeof w === 'string') return { counted: false, source: src.name, reason: w };
  return src.counts(countTarget(m, isvc, mem, pods, a, b, w.toWall), {
    fromMs: a,
    toMs: b,
    wallFromMs: w.from,
    wallToMs: w.to,
  });
}

/** Measured latency of [a, b), or why it is unknown; undefined when the demand path has no latency source. */
export async function latencyOver(
  m: MeterPort | undefined,
  isvc: Defaulted<InferenceService>,
  mem: UsageMemory,
  pods: readonly KubeObject[],
  a: number,
  b: number,
): Promise<LatencyReading | undefined> {
  const src = m?.latency?.(isvc);
  if (!m || !src) return undefined;
  const w = wallSpan(m, a, b);
  if (typeof w === 'string') return { measured: false, source: src.name, reason: w };
  return src.latency(countTarget(m, isvc, mem, pods, a, b, w.toWall), {
    fromMs: a,
    toMs: b,
    wallFromMs: w.from,
    wallToMs: w.to,
  });
}

/** A boundary reached: count and latency sources that read the pods read them now. */
export async function countersAtBoundary(
  m: MeterPort | undefined,
  isvc: Defaulted<InferenceService>,
  mem: UsageMemory,
  pods: readonly KubeObject[],
  boundaryMs: number,
): Promise<void> {
  if (!m || m.toWall(boundaryMs) === undefined) return;
  const target = countTarget(m, isvc, mem, pods, boundaryMs, boundaryMs + 1, (ms) => m.toWall(ms) ?? ms);
  const counts = m.counts(isvc);
  const latency = m.latency?.(isvc);
  await Promise.all([
    counts?.atBoundary?.(target, boundaryMs, m.wallNow()),
    latency?.atBoundary?.(target, boundaryMs).catch(() => undefined),
  ]);
}

/** Clock ms an interval waits after its end before it is accounted (its meter's samples must be in). */
export function settleOf(m: MeterPort | undefined, isvc: Defaulted<InferenceService>): number {
  if (!m || m.toWall(0) === undefined) return 0;
  return Math.max(m.energy(isvc).settleMs, m.counts(isvc)?.settleMs ?? 0, m.latency?.(isvc)?.settleMs ?? 0);
}
