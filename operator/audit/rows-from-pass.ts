// Audit rows from what a reconcile pass (decision rows) and the accountant (usage rows) know, through the audit
// layer's own builders (decision.ts makeDecisionRecord, usage.ts computeUsageRecord), so every number in a row is
// computed by the methodology docs/audit.md documents and nowhere else. Pure.
import type { Defaulted, InferenceService, VariantSpec } from '../api/types.ts';
import type { DecisionInput as PolicyInput } from '../decision/types.ts';
import type { ServedCounts } from '../demand/served-counts.ts';
import type { MeasuredLatency } from '../demand/served-latency.ts';
import { DEFAULT_HEADROOM, replicasNeeded } from '../decision/index.ts';
import { makeDecisionRecord, type DecisionKind, type DecisionRecord, type DecisionState } from './decision.ts';
import {
  computeUsageRecord,
  MAX_FALLBACK_REASON,
  type CarbonReading,
  type MissingCarbonReading,
  type ReplicasAverageMethod,
  type UsageRecord,
} from './usage.ts';

export interface RowIdentity {
  clusterId: string;
  operatorVersion: string;
  isvc: Defaulted<InferenceService>;
}

/** The carbon signal as a row needs it (the reconciler's SignalView has these fields). */
export interface RowSignal {
  valueGPerKWh?: number;
  available: boolean;
  provider?: string;
  signal?: 'average' | 'marginal';
  basis?: 'direct' | 'lifecycle';
  dataTimeMs?: number;
  estimated?: boolean;
  isForecast?: boolean;
  fallbackLevel: string;
  forecast: unknown[] | null;
}

export interface DecisionRowFacts extends RowIdentity {
  timeMs: number;
  kind: DecisionKind;
  before: DecisionState;
  after: DecisionState;
  reason: string;
  /** The policy input of the pass (carbon, demand outlook, state), kept as JSON in the row. */
  input: PolicyInput;
  flags: Record<string, boolean>;
  budgetUsed: number;
  signal: RowSignal;
  fallbackIndex: number;
}

export function decisionRow(f: DecisionRowFacts): DecisionRecord {
  const { isvc, input } = f;
  return makeDecisionRecord({
    timeMs: f.timeMs,
    clusterId: f.clusterId,
    operatorVersion: f.operatorVersion,
    namespace: isvc.metadata.namespace,
    name: isvc.metadata.name,
    uid: isvc.metadata.uid ?? 'unknown',
    kind: f.kind,
    before: f.before,
    after: f.after,
    reason: f.reason,
    inputs: {
      carbon: {
        nowGPerKWh: input.carbon.nowGPerKWh ?? null,
        forecastPoints: input.carbon.forecast?.length ?? 0,
        historyPoints: input.carbon.history?.length ?? 0,
        fallbackLevel: f.signal.fallbackLevel,
      },
      demand: demandDigest(input.demand),
      state: input.state,
      clusterGpuHeadroom: Number.isFinite(input.clusterGpuHeadroom) ? input.clusterGpuHeadroom : null,
      budgetUsed: f.budgetUsed,
      flags: f.flags,
    },
    ...(f.signal.valueGPerKWh !== undefined ? { ciGPerKWh: f.signal.valueGPerKWh } : {}),
  });
}

/** A demand forecast as a decision row keeps it: its extent and rates, not its points. */
export interface DemandForecastDigest {
  points: number;
  fromMs: number | null;
  toMs: number | null;
  minRps: number | null;
  maxRps: number | null;
  meanRps: number | null;
}

/**
 * The demand input of a decision row, with the forecast as a digest (docs/audit.md, inputs_json). The forecast runs
 * to the end of the budget window at the policy interval: up to ~10,000 points a week, 180 KB of JSON in every
 * decision row of every service (the 200-service soak: 22 MiB of the operator's heap in these strings, 34 MB of
 * journal in three minutes). The carbon forecast is kept as its point count for the same reason.
 */
export function demandDigest(d: PolicyInput['demand']): Omit<PolicyInput['demand'], 'forecast'> & {
  forecast?: DemandForecastDigest;
} {
  const { forecast, ...rest } = d;
  if (!forecast) return rest;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let weight = 0;
  for (const p of forecast) {
    min = Math.min(min, p.rps);
    max = Math.max(max, p.rps);
    // A run counts for its length; a point without one for one unit (all points then weigh the same).
    const w = p.untilMs !== undefined ? p.untilMs - p.timeMs : 1;
    sum += p.rps * w;
    weight += w;
  }
  const n = forecast.length;
  const last = forecast[n - 1];
  return {
    ...rest,
    forecast: {
      points: n,
      fromMs: forecast[0]?.timeMs ?? null,
      toMs: last ? (last.untilMs ?? last.timeMs) : null,
      minRps: n ? min : null,
      maxRps: n ? max : null,
      meanRps: weight > 0 ? sum / weight : null,
    },
  };
}

export interface UsageRowFacts extends RowIdentity {
  fromMs: number;
  toMs: number;
  variant: VariantSpec;
  replicas: { desired: number; ready: number; average: number; method: ReplicasAverageMethod };
  /** Mean requests/s over the interval (a rate × the interval: modelled counts). */
  rps: number;
  /** The intensity in force over the interval, or undefined when none was known. */
  signal?: RowSignal;
  fallbackIndex: number;
  budgetUsed: number;
  /** Measured energy and the meter, or why a configured meter did not cover the interval (absent: no meter). */
  energy?: { measured?: { kWh: number; source: string }; meter?: string; fallbackReason?: string };
  /** Counted requests, inferences and tokens (absent: modelled from the rate). */
  counts?: ServedCounts;
  /** Latency measured from the runtime's request-duration histogram (absent: unknown, the row says null). */
  latency?: MeasuredLatency;
  /** The decisions over the whole interval used the relaxed ceiling (true) or not (false); absent: mixed or unknown. */
  relaxedLatency?: boolean;
}

/**
 * slo_met (docs/audit.md): the measured p95 within the latency ceiling in force — slo.relaxedLatencyP95Ms when the
 * interval's decisions used it, else slo.latencyP95Ms. Where the ceiling changed inside the interval (or is not
 * known) the answer is given only when both agree; a p95 above the histogram's largest finite bound is a miss only
 * when that bound is at or over the ceiling. Undefined: unknown.
 */
export function sloMetOf(
  slo: { latencyP95Ms: number; relaxedLatencyP95Ms?: number },
  latency: MeasuredLatency | undefined,
  relaxed: boolean | undefined,
): boolean | undefined {
  if (!latency) return undefined;
  const strict = slo.latencyP95Ms;
  const loose = slo.relaxedLatencyP95Ms ?? strict;
  const ceilings = relaxed === true ? [loose] : relaxed === false ? [strict] : [strict, loose];
  const lo = Math.min(...ceilings);
  const hi = Math.max(...ceilings);
  if (latency.p95AboveMs !== undefined) return latency.p95AboveMs >= hi ? false : undefined;
  if (latency.p95Ms <= lo) return true;
  if (latency.p95Ms > hi) return false;
  return undefined;
}

function carbonOf(f: UsageRowFacts): CarbonReading | MissingCarbonReading {
  const s = f.signal;
  const region = f.isvc.spec.carbon.region;
  if (!s || s.valueGPerKWh === undefined)
    return { missing: true, region, provider: s?.provider ?? 'none', fallbackLevel: f.fallbackIndex };
  return {
    valueGPerKWh: s.valueGPerKWh,
    region,
    provider: s.provider ?? 'unknown',
    signal: s.signal ?? 'average',
    basis: s.basis ?? 'direct',
    dataTimeMs: s.dataTimeMs ?? f.fromMs,
    estimated: s.estimated ?? !s.available,
    forecast: s.isForecast ?? false,
    fallbackLevel: f.fallbackIndex,
  };
}

/** Replicas of the full variant that demand alone needs within the SLO (docs/audit.md, baseline). */
export function baselineReplicas(isvc: Defaulted<InferenceService>, rps: number): number {
  const full = isvc.spec.variants[0]!;
  const n = replicasNeeded(full, rps, isvc.spec.slo.latencyP95Ms, DEFAULT_HEADROOM);
  return Math.min(
    isvc.spec.replicas.max,
    Math.max(isvc.spec.replicas.min, Number.isFinite(n) ? n : isvc.spec.replicas.max),
  );
}

export function usageRow(f: UsageRowFacts): UsageRecord {
  const { isvc, variant: v } = f;
  const full = isvc.spec.variants[0]!;
  const secs = (f.toMs - f.fromMs) / 1000;
  // Utilisation is modelled: the served rate (counted when counts exist) over the capacity of the ready replicas.
  const rate = f.counts ? f.counts.requests / secs : f.rps;
  const util = f.replicas.average > 0 ? Math.min(1, rate / (f.replicas.average * v.capacityRps)) : 0;
  const base = baselineReplicas(isvc, f.rps);
  const embodied = isvc.spec.carbon.embodiedGPerGpuHour;
  const e = f.energy ?? {};
  const modelled = Math.round(f.rps * secs);
  const sloMet = sloMetOf(isvc.spec.slo, f.latency, f.relaxedLatency);
  return computeUsageRecord({
    intervalStartMs: f.fromMs,
    intervalEndMs: f.toMs,
    clusterId: f.clusterId,
    operatorVersion: f.operatorVersion,
    namespace: isvc.metadata.namespace,
    name: isvc.metadata.name,
    uid: isvc.metadata.uid ?? 'unknown',
    tier: isvc.spec.tier,
    variant: {
      name: v.name,
      quality: v.quality,
      isFull: v.name === full.name,
      ...(v.model.sha256 ? { modelDigest: v.model.sha256 } : {}),
    },
    replicas: { desired: f.replicas.desired, ready: f.replicas.ready, average: f.replicas.average },
    replicasAverageMethod: f.replicas.method,
    gpusPerReplica: v.gpusPerReplica,
    power: { idleW: v.powerIdleWatts, busyW: v.powerBusyWatts, utilization: util },
    utilizationMethod: 'modelled',
    ...(e.measured ? { measuredEnergy: e.measured } : {}),
    ...(e.meter ? { energyMeter: e.meter } : {}),
    ...(e.fallbackReason ? { energyFallbackReason: e.fallbackReason.slice(0, MAX_FALLBACK_REASON) } : {}),
    pue: isvc.spec.carbon.pue,
    carbon: carbonOf(f),
    ...(embodied > 0
      ? { embodied: { gPerGpuHour: embodied, source: 'InferenceService spec.carbon.embodiedGPerGpuHour' } }
      : {}),
    requests: f.counts ? f.counts.requests : modelled,
    requestsMethod: f.counts ? 'measured' : 'modelled',
    inferences: f.counts ? f.counts.inferences : modelled,
    inferencesMethod: f.counts ? 'measured' : 'modelled',
    ...(f.counts?.promptTokens !== undefined ? { promptTokens: f.counts.promptTokens } : {}),
    ...(f.counts?.generatedTokens !== undefined ? { generatedTokens: f.counts.generatedTokens } : {}),
    ...(f.latency ? { latencyP50Ms: f.latency.p50Ms, latencyP95Ms: f.latency.p95Ms } : {}),
    ...(sloMet !== undefined ? { sloMet } : {}),
    baseline: {
      replicas: base,
      gpusPerReplica: full.gpusPerReplica,
      power: {
        idleW: full.powerIdleWatts,
        busyW: full.powerBusyWatts,
        utilization: base > 0 ? Math.min(1, f.rps / (base * full.capacityRps)) : 0,
      },
    },
    degradationBudgetUsed: f.budgetUsed,
  });
}
