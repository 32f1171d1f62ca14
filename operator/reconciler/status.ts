// The status of an InferenceService, built from the facts of one pass, and the test of whether it differs from
// the stored one enough to write (ADR 0002): moving timestamps are ignored, rates compared at a few significant
// digits, the running emissions total refreshed by the heartbeat only.
import type { Condition as K8sCondition, InferenceServiceStatus } from '../api/types.ts';
import type { Decision } from '../decision/types.ts';
import type { SignalView } from './signal-view.ts';

export interface StatusFacts {
  generation?: number;
  servedVariant?: string;
  decision: Decision;
  decisionTimeIso: string;
  applied: boolean;
  readyReplicas: number;
  region: string;
  signal: SignalView;
  demand?: { requestsPerSecond: number; source: string; sampledAtMs: number };
  emissions: { rateGPerHour?: number; todayG: number; day: string; untilMs: number };
  budget?: { windowStartMs: number; usedFraction: number };
  clockSpeedup?: number;
  nowMs: number;
  conditions: K8sCondition[];
}

export function buildStatus(f: StatusFacts): InferenceServiceStatus {
  const s = f.signal;
  const st: InferenceServiceStatus = {
    ...(f.generation !== undefined ? { observedGeneration: f.generation } : {}),
    ...(f.servedVariant ? { activeVariant: f.servedVariant } : {}),
    desiredReplicas: f.decision.replicas,
    readyReplicas: f.readyReplicas,
    lastDecision: {
      time: f.decisionTimeIso,
      variant: f.decision.variant,
      replicas: f.decision.replicas,
      reason: f.decision.reason,
      applied: f.applied,
    },
    // Floats are stored rounded (kubectl prints them as they are; the audit trail keeps full precision).
    emissions: {
      ...(f.emissions.rateGPerHour !== undefined ? { rateGPerHour: sig(f.emissions.rateGPerHour, 3) } : {}),
      // To the centigram: read back after a restart, so an error this small is all a restart can add.
      todayG: Math.round(f.emissions.todayG * 100) / 100,
      day: f.emissions.day,
      until: new Date(f.emissions.untilMs).toISOString(),
      estimated: true,
    },
    conditions: f.conditions,
  };
  if (s.valueGPerKWh !== undefined)
    st.carbon = {
      valueGPerKWh: Math.round(s.valueGPerKWh * 10) / 10,
      unit: 'gCO2eq/kWh',
      region: f.region,
      provider: s.provider ?? 'unknown',
      signal: `${s.signal ?? 'average'}/${s.basis ?? 'direct'}`,
      dataTime: new Date(s.dataTimeMs ?? f.nowMs).toISOString(),
      fallbackLevel: s.fallbackLevel,
    };
  if (f.demand)
    st.demand = {
      requestsPerSecond: sig(f.demand.requestsPerSecond, 3),
      source: f.demand.source,
      sampledAt: new Date(f.demand.sampledAtMs).toISOString(),
    };
  if (f.budget)
    st.budget = {
      windowStart: new Date(f.budget.windowStartMs).toISOString(),
      usedFraction: Math.round(f.budget.usedFraction * 1000) / 1000,
    };
  if (f.clockSpeedup !== undefined) st.clock = { mode: 'replay', speedup: f.clockSpeedup };
  return st;
}

/** `x` at `digits` significant digits (0 stays 0). */
function sig(x: number, digits: number): number {
  return x === 0 || !Number.isFinite(x) ? x : Number(x.toPrecision(digits));
}

/** Status equality for the write-or-skip decision. */
export function statusEquivalent(a: InferenceServiceStatus | undefined, b: InferenceServiceStatus): boolean {
  return a !== undefined && stableJson(comparable(a)) === stableJson(comparable(b));
}

function comparable(s: InferenceServiceStatus): InferenceServiceStatus {
  const c = structuredClone(s);
  // Refreshed with the value or by the heartbeat; the time alone moving is no reason to write.
  if (c.demand) {
    c.demand.sampledAt = '';
    c.demand.requestsPerSecond = sig(c.demand.requestsPerSecond, 3);
  }
  if (c.carbon) c.carbon.dataTime = '';
  if (c.emissions) {
    c.emissions.todayG = 0;
    c.emissions.until = '';
    if (c.emissions.rateGPerHour !== undefined) c.emissions.rateGPerHour = sig(c.emissions.rateGPerHour, 3);
  }
  if (c.budget) c.budget.usedFraction = Math.round(c.budget.usedFraction * 100) / 100;
  c.conditions = (c.conditions ?? []).map((x) => ({ ...x, lastTransitionTime: '' }));
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
