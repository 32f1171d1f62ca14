// The Ready condition as a table: the first rule whose `when` holds decides (observe mode, paused, pods the
// scheduler cannot place, a rollout in progress, else serving). One place to read what Ready means.
import { Reason } from '../constants.ts';

export interface ReadyFacts {
  mode: 'active' | 'observe';
  paused: boolean;
  pendingPods: number;
  gpuResource: string;
  rolling: boolean;
  variant: string;
  replicas: number;
}

export interface ReadyState {
  ok: boolean;
  reason: string;
  message: string;
}

const RULES: ReadonlyArray<{ when: (f: ReadyFacts) => boolean; then: (f: ReadyFacts) => ReadyState }> = [
  {
    when: (f) => f.mode === 'observe',
    then: () => ({
      ok: true,
      reason: Reason.ObserveMode,
      message: 'observe mode: decisions are reported, the workload is not touched',
    }),
  },
  {
    when: (f) => f.paused,
    then: () => ({ ok: true, reason: Reason.Paused, message: 'paused: holding the current variant and replicas' }),
  },
  {
    when: (f) => f.pendingPods > 0,
    then: (f) => ({
      ok: false,
      reason: Reason.PodsPending,
      message: `${f.pendingPods} pod(s) Pending: not enough ${f.gpuResource} free`,
    }),
  },
  {
    when: (f) => f.rolling,
    then: (f) => ({ ok: false, reason: Reason.RollingOut, message: `rolling out ${f.variant} × ${f.replicas}` }),
  },
];

export function readyState(f: ReadyFacts): ReadyState {
  const rule = RULES.find((r) => r.when(f));
  return rule
    ? rule.then(f)
    : { ok: true, reason: Reason.RolloutComplete, message: `serving ${f.variant} × ${f.replicas}` };
}
