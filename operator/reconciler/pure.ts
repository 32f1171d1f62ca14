// Pure helpers of the reconcile pass: spec + signals → policy input, cluster objects → GPU headroom,
// desired ⊆ live comparison (drift detection without a write), and status/condition building.
import type { InferenceService, InferenceServiceStatus, Condition as K8sCondition } from '../api/types.ts';
import type { DecisionInput, Decision, IntensityPoint } from '../decision/index.ts';
import { DEFAULT_HEADROOM, replicasNeeded } from '../decision/index.ts';
import { Condition, Reason } from '../constants.ts';

export interface SignalView {
  available: boolean;
  valueGPerKWh?: number;
  provider?: string;
  signal?: string;
  basis?: string;
  dataTimeMs?: number;
  estimated?: boolean;
  forecast: IntensityPoint[] | null;
  fallbackLevel: string;
  reason: string;
  conditionReason: string;
}

export interface BudgetState {
  windowStartMs: number;
  servedTotal: number;
  servedDegraded: number;
}

export interface ServiceMemory {
  lastChangeMs?: number;
  budget: BudgetState;
  todayG: number;
  day: string;
  lastAccountMs?: number;
  lastStatusWriteMs?: number;
  lastFallbackLevel?: string;
  lastDecisionKey?: string;
  lastDecisionTime?: string;
  lastMode?: string;
  appliedGeneration?: number | undefined;
  appliedKey?: string;
}

export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function budgetWindowStart(ms: number, window: 'day' | 'week'): number {
  const d = new Date(ms);
  const dayStart = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  if (window === 'day') return dayStart;
  const dow = (d.getUTCDay() + 6) % 7; // Monday-based ISO week
  return dayStart - dow * 86_400_000;
}

export function toDecisionInput(
  isvc: InferenceService,
  signal: SignalView,
  demandRps: number,
  activeVariant: string | undefined,
  replicas: number | undefined,
  mem: ServiceMemory,
  clusterGpuHeadroom: number,
  history?: IntensityPoint[],
): DecisionInput {
  const s = isvc.spec;
  const input: DecisionInput = {
    variants: s.variants.map((v) => ({
      name: v.name,
      quality: v.quality,
      capacityRps: v.capacityRps,
      latencyP95Ms: v.latencyP95Ms,
      gpusPerReplica: v.gpusPerReplica,
      powerBusyWatts: v.powerBusyWatts,
      powerIdleWatts: v.powerIdleWatts,
    })),
    tier: s.tier,
    replicas: { min: s.replicas.min, max: s.replicas.max },
    slo: {
      latencyP95Ms: s.slo.latencyP95Ms,
      qualityFloor: s.slo.qualityFloor ?? 0,
      ...(s.slo.relaxedLatencyP95Ms !== undefined ? { relaxedLatencyP95Ms: s.slo.relaxedLatencyP95Ms } : {}),
      ...(s.slo.degradationBudget ? { degradationBudget: s.slo.degradationBudget } : {}),
    },
    carbon: {
      ...(signal.available || signal.valueGPerKWh !== undefined ? { nowGPerKWh: signal.valueGPerKWh } : {}),
      ...(signal.forecast ? { forecast: signal.forecast } : {}),
      ...(history && history.length ? { history } : {}),
    },
    pue: s.carbon.pue ?? 1,
    embodiedGPerGpuHour: s.carbon.embodiedGPerGpuHour ?? 0,
    policy: {
      hysteresis: s.policy.hysteresis ?? 0.1,
      minDwellMs: (s.policy.minDwellSeconds ?? 900) * 1000,
      switchCostJoules: s.policy.switchCostJoules ?? 0,
      intervalMs: (s.policy.intervalSeconds ?? 300) * 1000,
      ...(s.policy.fallbackVariant ? { fallbackVariant: s.policy.fallbackVariant } : {}),
    },
    demand: { currentRps: demandRps },
    state: {
      ...(activeVariant ? { variant: activeVariant } : {}),
      ...(replicas !== undefined ? { replicas } : {}),
      ...(mem.lastChangeMs !== undefined ? { lastChangeMs: mem.lastChangeMs } : {}),
      budget: mem.budget,
    },
    clusterGpuHeadroom,
  };
  if (input.carbon.nowGPerKWh === undefined) delete input.carbon.nowGPerKWh;
  return input;
}

interface NodeLike {
  metadata?: { name?: string };
  spec?: { unschedulable?: boolean };
  status?: { allocatable?: Record<string, string> };
}
interface PodLike {
  metadata?: { labels?: Record<string, string> };
  spec?: { nodeName?: string; containers?: Array<{ resources?: { requests?: Record<string, string> } }> };
  status?: { phase?: string };
}

export function podRequests(pod: PodLike, resource: string): number {
  let n = 0;
  for (const c of pod.spec?.containers ?? []) n += Number(c.resources?.requests?.[resource] ?? 0) || 0;
  return n;
}

/** Unallocated `resource` on schedulable nodes: allocatable minus what bound, live pods request. */
export function freeGpus(nodes: NodeLike[], pods: PodLike[], resource: string): number {
  let alloc = 0;
  const names = new Set<string>();
  for (const n of nodes) {
    if (n.spec?.unschedulable) continue;
    alloc += Number(n.status?.allocatable?.[resource] ?? 0) || 0;
    if (n.metadata?.name) names.add(n.metadata.name);
  }
  let used = 0;
  for (const p of pods) {
    if (!p.spec?.nodeName || !names.has(p.spec.nodeName)) continue;
    if (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') continue;
    used += podRequests(p, resource);
  }
  return Math.max(0, alloc - used);
}

/** True when every field of `want` is present and equal in `have` (arrays element-wise, objects by key). */
export function isSubset(want: unknown, have: unknown): boolean {
  if (want === null || typeof want !== 'object') {
    if (typeof want === 'number' && typeof have === 'string') return String(want) === have;
    return want === have;
  }
  if (Array.isArray(want)) {
    if (!Array.isArray(have) || have.length !== want.length) return false;
    return want.every((w, i) => isSubset(w, have[i]));
  }
  if (have === null || typeof have !== 'object' || Array.isArray(have)) return false;
  const h = have as Record<string, unknown>;
  return Object.entries(want as Record<string, unknown>).every(([k, v]) => isSubset(v, h[k]));
}

export function setCondition(
  list: K8sCondition[],
  type: string,
  status: 'True' | 'False' | 'Unknown',
  reason: string,
  message: string,
  nowIso: string,
  generation?: number,
): K8sCondition[] {
  const prev = list.find((c) => c.type === type);
  const keepTime = prev && prev.status === status;
  const c: K8sCondition = {
    type,
    status,
    reason,
    message,
    lastTransitionTime: keepTime ? prev.lastTransitionTime : nowIso,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
  return [...list.filter((x) => x.type !== type), c].sort((a, b) => a.type.localeCompare(b.type));
}

/** Status equality for the write-or-skip decision: ignores timestamps that move every pass. */
export function statusEquivalent(a: InferenceServiceStatus | undefined, b: InferenceServiceStatus): boolean {
  const norm = (s: InferenceServiceStatus | undefined) => {
    if (!s) return null;
    const c = structuredClone(s);
    if (c.carbon) c.carbon.dataTime = '';
    if (c.demand) c.demand.sampledAt = '';
    if (c.emissions) {
      c.emissions.todayG = 0;
      c.emissions.rateGPerHour = Math.round(c.emissions.rateGPerHour);
    }
    if (c.budget) c.budget.usedFraction = Math.round(c.budget.usedFraction * 100) / 100;
    if (c.demand) c.demand.requestsPerSecond = Math.round(c.demand.requestsPerSecond * 100) / 100;
    c.conditions = (c.conditions ?? []).map((x) => ({ ...x, lastTransitionTime: '' }));
    return stableJson(c);
  };
  return norm(a) === norm(b);
}

export function conditionsFor(
  prev: K8sCondition[],
  args: {
    nowIso: string;
    generation?: number;
    signal: SignalView;
    decision: Decision;
    ready: { ok: boolean; reason: string; message: string };
    fullVariant: string;
    pendingPods: number;
    tier: string;
  },
): K8sCondition[] {
  const { nowIso: t, generation: g, signal, decision: d } = args;
  let c = setCondition(
    prev,
    Condition.Ready,
    args.ready.ok ? 'True' : 'False',
    args.ready.reason,
    args.ready.message,
    t,
    g,
  );
  const fresh = signal.fallbackLevel === 'primary';
  c = setCondition(
    c,
    Condition.CarbonSignalAvailable,
    signal.available ? 'True' : 'False',
    !signal.available ? Reason.SignalMissing : fresh ? Reason.SignalFresh : Reason.SignalFallback,
    // The age in the provider's message changes every pass; leaving it out keeps status writes to real changes.
    signal.reason.replace(/,? [\d.]+ (min|h) old/, ''),
    t,
    g,
  );
  const atRisk = d.flags.sloAtRisk || args.pendingPods > 0;
  c = setCondition(
    c,
    Condition.SLOAtRisk,
    atRisk ? 'True' : 'False',
    args.pendingPods > 0 || d.flags.gpuLimited ? Reason.GpuLimited : atRisk ? Reason.CapacityShort : Reason.WithinSLO,
    args.pendingPods > 0
      ? `${args.pendingPods} pod(s) cannot be scheduled (not enough GPUs free)`
      : atRisk
        ? 'the planned replicas cannot hold the latency SLO at the predicted demand'
        : 'the planned replicas hold the latency SLO at the predicted demand',
    t,
    g,
  );
  if (args.tier === 'eco') {
    c = setCondition(
      c,
      Condition.BudgetExhausted,
      d.flags.budgetExhausted ? 'True' : 'False',
      d.flags.budgetExhausted ? Reason.BudgetSpent : Reason.BudgetAvailable,
      d.flags.budgetExhausted
        ? 'the degradation budget of this window is spent: serving the full variant'
        : 'budget left in this window',
      t,
      g,
    );
  } else c = c.filter((x) => x.type !== Condition.BudgetExhausted);
  c = setCondition(
    c,
    Condition.Degraded,
    d.variant !== args.fullVariant ? 'True' : 'False',
    d.variant !== args.fullVariant ? Reason.SmallerVariant : Reason.FullVariant,
    d.variant !== args.fullVariant
      ? `serving ${d.variant} instead of ${args.fullVariant}`
      : `serving the full variant ${d.variant}`,
    t,
    g,
  );
  return c;
}

/** JSON with object keys sorted at every level, so equal values give equal strings. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * Measured intensity per (source, region), kept by the operator for the policy's fallback forecast when a source
 * publishes none (static values, providers without a forecast): one point per distinct data timestamp, 48 h deep.
 */
export class IntensityHistory {
  private series = new Map<string, IntensityPoint[]>();
  private readonly depthMs: number;
  constructor(depthMs = 48 * 3_600_000) {
    this.depthMs = depthMs;
  }
  record(key: string, timeMs: number, valueGPerKWh: number): void {
    const s = this.series.get(key) ?? [];
    const last = s[s.length - 1];
    if (last && timeMs <= last.timeMs) return;
    s.push({ timeMs, valueGPerKWh });
    while (s.length && s[0]!.timeMs < timeMs - this.depthMs) s.shift();
    this.series.set(key, s);
  }
  get(key: string): IntensityPoint[] {
    return this.series.get(key) ?? [];
  }
}

/**
 * Replicas of the full variant that demand alone needs within the latency SLO (the same sizing rule the policy
 * uses), clamped to spec.replicas: the baseline that savings are measured against (docs/audit.md).
 */
export function demandOnlyReplicas(isvc: InferenceService, demandRps: number): number {
  const full = isvc.spec.variants[0]!;
  const n = replicasNeeded(full, demandRps, isvc.spec.slo.latencyP95Ms, DEFAULT_HEADROOM);
  return Math.min(
    isvc.spec.replicas.max,
    Math.max(isvc.spec.replicas.min, Number.isFinite(n) ? n : isvc.spec.replicas.max),
  );
}
