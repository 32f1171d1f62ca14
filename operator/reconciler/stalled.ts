// A pass that cannot progress (feasibility.ts, or a spec the policy refuses): say so as kstatus does — `Stalled`
// True and Ready False with the same reason and words, status.observedGeneration set — plus a Warning Event, and
// leave the workload as it is (nothing is created for a service that cannot run; a running one keeps running the
// last spec it could). Written only when the conditions change (ADR 0002), so a periodic recheck of a cluster-bound
// stall makes no request. A spec problem ends the pass as a TerminalError (retried when the spec changes); a
// cluster-bound one is rechecked after STALL_RECHECK_MS.
import type { InferenceServiceStatus } from '../api/types.ts';
import { Condition, EventAction, Reason } from '../constants.ts';
import { TerminalError, type ReconcileResult } from '../kube/work-queue.ts';
import { setCondition } from './conditions.ts';
import type { Infeasible } from './feasibility.ts';
import type { ObservedPass, ReconcilerContext } from './pass-context.ts';
import { statusEquivalent } from './status.ts';

/** How soon a stall that the cluster can end (a bigger node joins) is looked at again (clock ms). */
export const STALL_RECHECK_MS = 60_000;

export async function reportStalled(
  ctx: ReconcilerContext,
  pass: ObservedPass,
  why: Infeasible,
): Promise<ReconcileResult> {
  const gen = pass.isvc.metadata.generation;
  const prev = pass.isvc.status;
  let conditions = prev?.conditions ?? [];
  for (const type of [Condition.Ready, Condition.Stalled])
    conditions = setCondition(
      conditions,
      { type, status: type === Condition.Stalled ? 'True' : 'False', reason: why.reason, message: why.message },
      pass.nowIso,
      gen,
    );
  const status: InferenceServiceStatus = {
    ...(prev ?? {}),
    ...(gen !== undefined ? { observedGeneration: gen } : {}),
    conditions,
  };
  ctx.metrics?.errors.inc({ reason: why.reason });
  if (!statusEquivalent(prev, status)) {
    await ctx.ports.writes.applyStatus(pass.isvc, status);
    await ctx.ports.events.record(pass.target, {
      type: 'Warning',
      reason: why.reason,
      action: EventAction.Validate,
      note: why.message,
    });
    ctx.log.warn('service stalled', {
      namespace: pass.isvc.metadata.namespace,
      name: pass.isvc.metadata.name,
      reason: why.reason,
      // Not `message`: winston would append it to the log line's own message.
      problem: why.message,
    });
  }
  if (why.until === 'cluster-change') return { requeueAfterMs: STALL_RECHECK_MS };
  throw new TerminalError(`${pass.key}: ${why.message}`);
}

/** A spec the policy refuses (DecisionInputError) is a stall of its own kind. */
export function invalidSpec(message: string): Infeasible {
  return { reason: Reason.InvalidSpec, message, until: 'spec-change' };
}
