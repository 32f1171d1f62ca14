// One reconcile pass for one InferenceService, keyed namespace/name, level-triggered and idempotent, as named
// phases over one context: observe (caches) → gather (carbon signal, demand) → decide (the engine) → apply (owned
// objects, only what differs) → report (Events, audit, status, books). Each phase is a small function in its own
// file with narrow ports (ports.ts); this class only runs them in order and keeps the per-service memory, which a
// pass commits only when it completes (a failed pass is retried from the same memory, so it cannot report twice).
// A service the operator cannot run (feasibility.ts) or a spec the policy refuses stalls before anything is applied.
import type { Logger } from 'winston';
import { DecisionInputError } from '../decision/decision-input-error.ts';
import type { ReconcileResult } from '../kube/work-queue.ts';
import { applyPass } from './apply.ts';
import { decidePass } from './decide-pass.ts';
import { feasibility, InfeasibleSpecError } from './feasibility.ts';
import { gather } from './gather.ts';
import type { OperatorMetrics } from './metrics.ts';
import { observe } from './observe.ts';
import type {
  DecidedPass,
  ObservedPass,
  Ports,
  ReconcilerContext,
  ReconcilerOptions,
  ServiceMemory,
} from './pass-context.ts';
import { ConflictError } from './ports.ts';
import { report } from './report.ts';
import { invalidSpec, reportStalled } from './stalled.ts';

/** How long a pass waits for a source's first answer before looking again (clock ms). */
export const SIGNAL_WAIT_MS = 2_000;
/** Requeue while a rollout or unschedulable pods are in progress (clock ms). */
export const ROLLOUT_POLL_MS = 5_000;

export class Reconciler {
  readonly ctx: ReconcilerContext;

  constructor(ports: Ports, options: ReconcilerOptions, log: Logger, metrics?: OperatorMetrics) {
    this.ctx = { ports, options, memory: new Map(), usage: new Map(), log, ...(metrics ? { metrics } : {}) };
  }

  /** The leader's audit sink arrives when this process starts acting. */
  setAudit(audit: Ports['audit']): void {
    if (audit) this.ctx.ports.audit = audit;
    else delete this.ctx.ports.audit;
  }

  memoryOf(key: string): ServiceMemory | undefined {
    return this.ctx.memory.get(key);
  }

  forget(key: string): void {
    const m = this.ctx.memory.get(key);
    if (m?.registered) this.ctx.ports.signals.unregister(m.registered.source, m.registered.region);
    this.ctx.memory.delete(key);
    this.ctx.usage.delete(key);
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const pass = observe(this.ctx, key);
    if (!pass) {
      this.forget(key);
      return;
    }
    const stall = feasibility(pass.isvc, this.ctx.ports.cache.nodes() as never[]);
    if (stall) return reportStalled(this.ctx, pass, stall);
    const gathered = await gather(this.ctx, pass);
    // Keep the registration even while waiting: the poller then polls the pair.
    if (gathered.waiting) {
      this.commitRegistration(key, pass);
      return { requeueAfterMs: SIGNAL_WAIT_MS };
    }
    let decided: DecidedPass;
    try {
      decided = decidePass(pass, gathered);
    } catch (e) {
      if (e instanceof DecisionInputError) return reportStalled(this.ctx, pass, invalidSpec(e.message));
      throw e;
    }
    let applied;
    try {
      applied = await applyPass(this.ctx, pass, decided);
    } catch (e) {
      if (e instanceof ConflictError) return { requeueAfterMs: 1000 };
      if (e instanceof InfeasibleSpecError) return reportStalled(this.ctx, pass, e.infeasible);
      throw e;
    }
    const { rolling } = await report(this.ctx, pass, gathered, decided, applied);
    pass.memory.state = { books: decided.step.books, demand: gathered.demand, mode: pass.mode };
    this.ctx.memory.set(key, pass.memory);
    return { requeueAfterMs: requeueAfter(pass, decided, rolling) };
  }

  private commitRegistration(key: string, pass: ObservedPass): void {
    const m = this.ctx.memory.get(key);
    if (m) m.registered = pass.memory.registered;
    else this.ctx.memory.set(key, pass.memory);
  }
}

/** The next pass: the next interval boundary (the engine's nextEvaluationMs), sooner while a rollout runs. */
function requeueAfter(pass: ObservedPass, d: DecidedPass, rolling: boolean): number {
  const next = Math.max(1, d.step.decision.nextEvaluationMs - pass.now);
  return rolling || pass.pods.pending > 0 ? Math.min(next, ROLLOUT_POLL_MS) : next;
}
