// Bad input to the policy is a caller bug or a bad spec: it gets an error naming the field, never a crash deeper in.
import type { DecisionInput } from './types.ts';
import type { Unchecked } from './unchecked.ts';

export class DecisionInputError extends Error {
  override name = 'DecisionInputError';
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}

function finite(v: unknown, field: string, min = -Infinity, max = Infinity): asserts v is number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new DecisionInputError(field, `must be a finite number`);
  if (v < min || v > max) throw new DecisionInputError(field, `${v} is outside [${min}, ${max}]`);
}

/** Throws DecisionInputError on the first malformed field. Cheap: runs on every decision. */
export function validateDecisionInput(input: Unchecked<DecisionInput> | null | undefined): void {
  if (!input || typeof input !== 'object') throw new DecisionInputError('input', 'must be an object');
  if (input.tier !== 'premium' && input.tier !== 'eco')
    throw new DecisionInputError('tier', `must be 'premium' or 'eco', got ${String(input.tier)}`);
  if (!Array.isArray(input.variants) || input.variants.length === 0)
    throw new DecisionInputError('variants', 'needs at least one variant (the full one first)');
  const names = new Set<string>();
  const named = (n: unknown) => typeof n === 'string' && names.has(n);
  input.variants.forEach((v, i) => {
    const f = `variants[${i}]`;
    if (!v || typeof v.name !== 'string' || v.name === '') throw new DecisionInputError(`${f}.name`, 'must be a name');
    if (names.has(v.name)) throw new DecisionInputError(`${f}.name`, `duplicate variant '${v.name}'`);
    names.add(v.name);
    finite(v.quality, `${f}.quality`, 0, 1);
    finite(v.capacityRps, `${f}.capacityRps`, Number.MIN_VALUE);
    finite(v.latencyP95Ms, `${f}.latencyP95Ms`, Number.MIN_VALUE);
    finite(v.gpusPerReplica, `${f}.gpusPerReplica`, 0);
    finite(v.powerIdleWatts, `${f}.powerIdleWatts`, 0);
    finite(v.powerBusyWatts, `${f}.powerBusyWatts`, v.powerIdleWatts);
  });
  const r = input.replicas;
  if (!r) throw new DecisionInputError('replicas', 'missing');
  finite(r.min, 'replicas.min', 0);
  finite(r.max, 'replicas.max', r.min);
  const s = input.slo;
  if (!s) throw new DecisionInputError('slo', 'missing');
  finite(s.latencyP95Ms, 'slo.latencyP95Ms', Number.MIN_VALUE);
  finite(s.qualityFloor, 'slo.qualityFloor', 0, 1);
  if (s.relaxedLatencyP95Ms !== undefined) finite(s.relaxedLatencyP95Ms, 'slo.relaxedLatencyP95Ms', s.latencyP95Ms);
  if (s.degradationBudget !== undefined) {
    // null is not "no budget": it says nothing, so it is refused by name (it used to fail as a TypeError).
    if (!s.degradationBudget) throw new DecisionInputError('slo.degradationBudget', 'must be an object');
    finite(s.degradationBudget.fraction, 'slo.degradationBudget.fraction', 0, 1);
    if (s.degradationBudget.window !== 'day' && s.degradationBudget.window !== 'week')
      throw new DecisionInputError('slo.degradationBudget.window', `must be 'day' or 'week'`);
  }
  if (!input.carbon || typeof input.carbon !== 'object') throw new DecisionInputError('carbon', 'missing');
  if (input.carbon.nowGPerKWh !== undefined) finite(input.carbon.nowGPerKWh, 'carbon.nowGPerKWh', 0);
  finite(input.pue, 'pue', 1);
  finite(input.embodiedGPerGpuHour, 'embodiedGPerGpuHour', 0);
  const p = input.policy;
  if (!p) throw new DecisionInputError('policy', 'missing');
  finite(p.hysteresis, 'policy.hysteresis', 0, 1);
  finite(p.minDwellMs, 'policy.minDwellMs', 0);
  finite(p.switchCostJoules, 'policy.switchCostJoules', 0);
  finite(p.intervalMs, 'policy.intervalMs', 1);
  if (p.headroom !== undefined) finite(p.headroom, 'policy.headroom', 0);
  if (p.budgetDemandSafety !== undefined) finite(p.budgetDemandSafety, 'policy.budgetDemandSafety', 0, 1);
  if (p.fallbackVariant !== undefined && !named(p.fallbackVariant))
    throw new DecisionInputError('policy.fallbackVariant', `names no variant: '${p.fallbackVariant}'`);
  if (!input.demand) throw new DecisionInputError('demand', 'missing');
  finite(input.demand.currentRps, 'demand.currentRps', 0);
  if (input.demand.predictedRps !== undefined) finite(input.demand.predictedRps, 'demand.predictedRps', 0);
  if (input.demand.overForecastShare !== undefined)
    finite(input.demand.overForecastShare, 'demand.overForecastShare', 0, 1);
  if (input.demand.underForecastShare !== undefined)
    finite(input.demand.underForecastShare, 'demand.underForecastShare', 0, 1);
  const st = input.state;
  if (!st || !st.budget) throw new DecisionInputError('state.budget', 'missing');
  finite(st.budget.windowStartMs, 'state.budget.windowStartMs');
  finite(st.budget.servedTotal, 'state.budget.servedTotal', 0);
  finite(st.budget.servedDegraded, 'state.budget.servedDegraded', 0, st.budget.servedTotal);
  if (st.variant !== undefined && !named(st.variant))
    throw new DecisionInputError('state.variant', `names no variant: '${st.variant}'`);
  if (st.replicas !== undefined) finite(st.replicas, 'state.replicas', 0);
  // Infinity is legal here: no GPU limit known (e.g. the simulator's unconstrained cluster).
  if (
    typeof input.clusterGpuHeadroom !== 'number' ||
    Number.isNaN(input.clusterGpuHeadroom) ||
    input.clusterGpuHeadroom < 0
  )
    throw new DecisionInputError('clusterGpuHeadroom', 'must be a number ≥ 0 (Infinity for no limit)');
}
