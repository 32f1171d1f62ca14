// Phase 5a, report what changed: an Event and a decision row for a new plan (swap or scale), a carbon fallback
// step and a mode change; Events for drift and unschedulable pods. A decision is reported once, when the engine
// replans it; the passes that follow within the interval return the standing plan and report nothing.
import { EventAction, Reason } from '../constants.ts';
import { decisionRow } from '../audit/rows-from-pass.ts';
import type { DecisionKind, DecisionState } from '../audit/decision.ts';
import type { AppliedPass, DecidedPass, GatheredPass, ObservedPass, ReconcilerContext } from './pass-context.ts';
import { fallbackIndex } from './signal-view.ts';

export async function reportChanges(
  ctx: ReconcilerContext,
  pass: ObservedPass,
  g: GatheredPass,
  d: DecidedPass,
  a: AppliedPass,
): Promise<void> {
  if (d.changed) await reportDecision(ctx, pass, g, d);
  await reportFallback(ctx, pass, g, d);
  await reportMode(ctx, pass, g, d);
  if (a.driftCorrected)
    await ctx.ports.events.record(pass.target, {
      type: 'Warning',
      reason: Reason.DriftCorrected,
      action: EventAction.Apply,
      note: 'the Deployment or Service was edited outside carbonscale: restored the fields carbonscale owns',
    });
  if (pass.pods.pending > 0) {
    ctx.metrics?.errors.inc({ reason: Reason.PodsPending });
    // Repeats collapse into one Event series (kube/events.ts), so a lasting shortage does not flood the API.
    await ctx.ports.events.record(pass.target, {
      type: 'Warning',
      reason: Reason.PodsPending,
      action: EventAction.Scale,
      note: `${pass.pods.pending} pod(s) cannot be scheduled: not enough ${pass.gpuResource} free; planning within ${pass.pods.heldGpus + pass.headroomGpus} GPU(s)`,
    });
  }
}

async function reportDecision(
  ctx: ReconcilerContext,
  pass: ObservedPass,
  g: GatheredPass,
  d: DecidedPass,
): Promise<void> {
  const dec = d.step.decision;
  const observe = pass.mode === 'observe';
  const reason = observe ? Reason.DecisionObserved : d.swapped ? Reason.VariantSwapped : Reason.Scaled;
  const prefix = observe ? 'observe mode (not applied): ' : pass.paused ? 'paused (not applied): ' : '';
  await ctx.ports.events.record(pass.target, {
    type: 'Normal',
    reason,
    action: observe ? EventAction.Observe : d.swapped ? EventAction.Swap : EventAction.Scale,
    note: prefix + dec.reason,
  });
  const before: DecisionState = d.previous ? { variant: d.previous.variant, replicas: d.previous.replicas } : {};
  await audit(
    ctx,
    pass,
    g,
    d,
    d.swapped ? 'swap' : 'scale',
    before,
    { variant: dec.variant, replicas: dec.replicas },
    dec.reason,
  );
  pass.memory.decisionTimeIso = pass.nowIso;
  ctx.metrics?.decisions.inc({ kind: d.swapped ? 'swap' : 'scale', mode: pass.mode });
  ctx.log.info('decision', {
    namespace: pass.isvc.metadata.namespace,
    name: pass.isvc.metadata.name,
    kind: d.swapped ? 'swap' : 'scale',
    mode: pass.mode,
    variant: dec.variant,
    replicas: dec.replicas,
    reason: dec.reason,
  });
}

async function reportFallback(
  ctx: ReconcilerContext,
  pass: ObservedPass,
  g: GatheredPass,
  d: DecidedPass,
): Promise<void> {
  const prev = pass.memory.lastFallbackLevel;
  const now = g.signal.fallbackLevel;
  pass.memory.lastFallbackLevel = now;
  if (prev === undefined || prev === now) return;
  const good = g.signal.available && now === 'primary';
  await ctx.ports.events.record(pass.target, {
    type: good ? 'Normal' : 'Warning',
    reason: Reason.CarbonFallback,
    action: EventAction.Fallback,
    note: `carbon signal ${prev} → ${now}: ${g.signal.reason}`,
  });
  const dec = d.step.decision;
  await audit(ctx, pass, g, d, 'fallback', {}, { variant: dec.variant, replicas: dec.replicas }, g.signal.reason);
}

async function reportMode(ctx: ReconcilerContext, pass: ObservedPass, g: GatheredPass, d: DecidedPass): Promise<void> {
  const prev = pass.memory.state.mode;
  if (prev === pass.mode) return;
  const text = `mode ${prev} → ${pass.mode}`;
  await audit(ctx, pass, g, d, 'mode', { mode: prev }, { mode: pass.mode }, text);
  await ctx.ports.events.record(pass.target, {
    type: 'Normal',
    reason: Reason.ModeChanged,
    action: EventAction.Apply,
    note: text,
  });
}

async function audit(
  ctx: ReconcilerContext,
  pass: ObservedPass,
  g: GatheredPass,
  d: DecidedPass,
  kind: DecisionKind,
  before: DecisionState,
  after: DecisionState,
  reason: string,
): Promise<void> {
  const sink = ctx.ports.audit;
  if (!sink) return;
  try {
    await sink.writeDecision(
      decisionRow({
        clusterId: ctx.options.clusterId,
        operatorVersion: ctx.options.operatorVersion,
        isvc: pass.isvc,
        timeMs: pass.now,
        kind,
        before,
        after,
        reason,
        input: d.step.input,
        flags: { ...d.step.decision.flags },
        budgetUsed: d.step.budgetUsed,
        signal: g.signal,
        fallbackIndex: fallbackIndex(g.signal.fallbackLevel),
      }),
    );
  } catch (e) {
    // Never fail a pass on the audit trail: say so and count it (the sink records its own drops).
    ctx.log.error('audit decision row not written', { error: (e as Error).message });
    ctx.metrics?.errors.inc({ reason: 'AuditWriteFailed' });
  }
}
