// Status conditions of an InferenceService (names in constants.ts). Each condition is one small function of the
// pass's facts; messages carry no moving numbers (ages, times, budget percentages), so an unchanged situation
// gives an unchanged condition and status is not rewritten (ADR 0002).
import type { Condition as K8sCondition } from '../api/types.ts';
import { Condition, Reason } from '../constants.ts';
import type { Decision } from '../decision/types.ts';
import { driftCondition, type DriftBook } from './profile-drift.ts';
import type { ReadyState } from './ready.ts';
import type { SignalView } from './signal-view.ts';

type Status = K8sCondition['status'];

interface Cond {
  type: string;
  status: Status;
  reason: string;
  message: string;
}

export interface ConditionFacts {
  nowIso: string;
  generation?: number;
  signal: SignalView;
  decision: Decision;
  ready: ReadyState;
  fullVariant: string;
  pendingPods: number;
  tier: 'premium' | 'eco';
  /** Profile against meter per variant (the accountant's); no condition while nothing was measured. */
  profileDrift?: DriftBook;
  /** Set when the variant serving cannot meet the ceiling in force at any load (feasibility.ts): why, in words. */
  latencyFloor?: string;
}

/** Sets one condition, keeping its lastTransitionTime while its status stays the same. */
export function setCondition(list: K8sCondition[], c: Cond, nowIso: string, generation?: number): K8sCondition[] {
  const prev = list.find((x) => x.type === c.type);
  const next: K8sCondition = {
    ...c,
    lastTransitionTime: prev && prev.status === c.status ? prev.lastTransitionTime : nowIso,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
  return [...list.filter((x) => x.type !== c.type), next].sort((a, b) => a.type.localeCompare(b.type));
}

function signalCondition(s: SignalView): Cond {
  const reason = !s.available
    ? s.conditionReason === Reason.SourceNotFound
      ? Reason.SourceNotFound
      : Reason.SignalMissing
    : s.fallbackLevel === 'primary'
      ? Reason.SignalFresh
      : Reason.SignalFallback;
  return { type: Condition.CarbonSignalAvailable, status: s.available ? 'True' : 'False', reason, message: s.summary };
}

function sloCondition(d: Decision, pendingPods: number, latencyFloor: string | undefined): Cond {
  const atRisk = d.flags.sloAtRisk || pendingPods > 0;
  if (pendingPods > 0)
    return {
      type: Condition.SLOAtRisk,
      status: 'True',
      reason: Reason.GpuLimited,
      message: `${pendingPods} pod(s) cannot be scheduled (not enough GPUs free)`,
    };
  if (latencyFloor)
    return { type: Condition.SLOAtRisk, status: 'True', reason: Reason.LatencyFloor, message: latencyFloor };
  if (!atRisk)
    return {
      type: Condition.SLOAtRisk,
      status: 'False',
      reason: Reason.WithinSLO,
      message: 'the planned replicas hold the latency SLO at the predicted demand',
    };
  return {
    type: Condition.SLOAtRisk,
    status: 'True',
    reason: d.flags.gpuLimited ? Reason.GpuLimited : Reason.CapacityShort,
    message: 'the planned replicas cannot hold the latency SLO at the predicted demand',
  };
}

function budgetCondition(d: Decision): Cond {
  return d.flags.budgetExhausted
    ? {
        type: Condition.BudgetExhausted,
        status: 'True',
        reason: Reason.BudgetSpent,
        message: 'the degradation budget of this window is spent: serving the full variant',
      }
    : {
        type: Condition.BudgetExhausted,
        status: 'False',
        reason: Reason.BudgetAvailable,
        message: 'budget left in this window',
      };
}

function degradedCondition(d: Decision, full: string): Cond {
  return d.variant !== full
    ? {
        type: Condition.Degraded,
        status: 'True',
        reason: Reason.SmallerVariant,
        message: `serving ${d.variant} instead of ${full}`,
      }
    : {
        type: Condition.Degraded,
        status: 'False',
        reason: Reason.FullVariant,
        message: `serving the full variant ${d.variant}`,
      };
}

export function conditionsFor(prev: K8sCondition[], f: ConditionFacts): K8sCondition[] {
  const ready: Cond = {
    type: Condition.Ready,
    status: f.ready.ok ? 'True' : 'False',
    reason: f.ready.reason,
    message: f.ready.message,
  };
  const list: Cond[] = [ready, signalCondition(f.signal), sloCondition(f.decision, f.pendingPods, f.latencyFloor)];
  if (f.tier === 'eco') list.push(budgetCondition(f.decision));
  list.push(degradedCondition(f.decision, f.fullVariant));
  const drift = driftCondition(f.profileDrift);
  if (drift) list.push(drift);
  // A pass that reaches here progresses: Stalled (abnormal-true, kstatus) is removed rather than set False.
  let out = prev.filter(
    (x) => x.type !== Condition.Stalled && (f.tier === 'eco' || x.type !== Condition.BudgetExhausted),
  );
  for (const c of list) out = setCondition(out, c, f.nowIso, f.generation);
  return out;
}
