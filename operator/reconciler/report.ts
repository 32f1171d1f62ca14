// Phase 5, report: Events and decision rows for what changed (report-events.ts), the status — written only when it
// differs in substance or the heartbeat is due (ADR 0002) — the metrics, the samples the accountant reads back,
// and the engine's books, saved only when a restart could not reconstruct them (service-state.ts).
import type { InferenceServiceStatus } from '../api/types.ts';
import { baselineReplicas } from '../audit/rows-from-pass.ts';
import { emissionsRateGPerHour } from '../decision/energy-model.ts';
import { conditionsFor } from './conditions.ts';
import { latencyFloorMessage } from './feasibility.ts';
import { latestPoint } from './demand-ledger.ts';
import type { AppliedPass, DecidedPass, GatheredPass, ObservedPass, ReconcilerContext } from './pass-context.ts';
import { readyState } from './ready.ts';
import { reportChanges } from './report-events.ts';
import { budgetWindowOf } from './service-policy.ts';
import { notePods } from './pod-log.ts';
import { mustSave, type ServiceState } from './service-state.ts';
import { buildStatus, stableJson, statusEquivalent } from './status.ts';
import { workloadView } from './workload.ts';

export async function report(
  ctx: ReconcilerContext,
  pass: ObservedPass,
  g: GatheredPass,
  d: DecidedPass,
  a: AppliedPass,
): Promise<{ rolling: boolean }> {
  await reportChanges(ctx, pass, g, d, a);
  const { status, rolling } = statusOf(ctx, pass, g, d);
  await writeStatus(ctx, pass, status);
  recordSamples(pass, g, d);
  observePods(ctx, pass);
  observeMetrics(ctx, pass, g, d);
  await saveState(ctx, pass, { books: d.step.books, demand: g.demand, mode: pass.mode });
  return { rolling };
}

function statusOf(ctx: ReconcilerContext, pass: ObservedPass, g: GatheredPass, d: DecidedPass) {
  const { isvc, memory } = pass;
  const dec = d.step.decision;
  const full = isvc.spec.variants[0]!.name;
  // After the apply: the Deployment as the cache holds it now (our write has usually arrived already).
  const w = workloadView(ctx.ports.cache.deployment(pass.key));
  const active = pass.mode === 'active';
  const rolling = active && !pass.paused && (!w.rolledOut || w.variant !== dec.variant || w.replicas !== dec.replicas);
  // The variant the ready replicas serve: the applied one once rolled out, else what status said before.
  const served =
    active && w.variant && (w.rolledOut || !isvc.status?.activeVariant) ? w.variant : isvc.status?.activeVariant;
  const ready = readyState({
    mode: pass.mode,
    paused: pass.paused,
    pendingPods: pass.pods.pending,
    gpuResource: pass.gpuResource,
    rolling,
    variant: dec.variant,
    replicas: dec.replicas,
  });
  const last = latestPoint(g.demand);
  const budget = isvc.spec.tier === 'eco' && isvc.spec.slo.degradationBudget;
  const latencyFloor = latencyFloorMessage(isvc, dec.variant, dec.flags.relaxedLatency);
  const status = buildStatus({
    ...(isvc.metadata.generation !== undefined ? { generation: isvc.metadata.generation } : {}),
    ...(served ? { servedVariant: served } : {}),
    decision: { ...dec, reason: standingReason(isvc, d) },
    decisionTimeIso: memory.decisionTimeIso ?? pass.nowIso,
    applied: active && !pass.paused,
    readyReplicas: w.ready,
    region: isvc.spec.carbon.region,
    signal: g.signal,
    ...(last
      ? {
          demand: {
            requestsPerSecond: last.rps,
            source: memory.demandSource ?? isvc.spec.demand.source,
            sampledAtMs: last.timeMs + g.demand.intervalMs,
          },
        }
      : {}),
    emissions: {
      ...pass.usage.emissions,
      ...(dec.expectedEmissionsGPerHour !== null ? { rateGPerHour: dec.expectedEmissionsGPerHour } : {}),
    },
    ...(budget
      ? { budget: { windowStartMs: d.step.books.budget.windowStartMs, usedFraction: d.step.budgetUsed } }
      : {}),
    ...(ctx.options.clockSpeedup !== undefined ? { clockSpeedup: ctx.options.clockSpeedup } : {}),
    nowMs: pass.now,
    conditions: conditionsFor(isvc.status?.conditions ?? [], {
      nowIso: pass.nowIso,
      ...(isvc.metadata.generation !== undefined ? { generation: isvc.metadata.generation } : {}),
      signal: g.signal,
      decision: dec,
      ready,
      fullVariant: full,
      pendingPods: pass.pods.pending,
      tier: isvc.spec.tier,
      ...(latencyFloor ? { latencyFloor } : {}),
      profileDrift: pass.usage.drift,
    }),
  });
  return { status, rolling };
}

/**
 * The reason status shows: that of the decision which set the standing variant and replicas (status.lastDecision
 * is that decision: its time is when it was taken). A replan that keeps both — every interval — words its moving
 * figures (ranks, hours left, budget used) anew; printing them in status would rewrite every steady service each
 * interval (ADR 0002). They stay in the engine's plan, the metrics and every usage row of the audit trail.
 */
function standingReason(isvc: ObservedPass['isvc'], d: DecidedPass): string {
  const dec = d.step.decision;
  const stored = isvc.status?.lastDecision;
  const same = stored !== undefined && stored.variant === dec.variant && stored.replicas === dec.replicas;
  return !d.changed && same && stored.reason ? stored.reason : dec.reason;
}

async function writeStatus(ctx: ReconcilerContext, pass: ObservedPass, status: InferenceServiceStatus): Promise<void> {
  const m = pass.memory;
  if (statusEquivalent(pass.isvc.status, status)) {
    // The heartbeat refreshes the moving fields (the emissions total, times) when they moved at all.
    const due = m.lastStatusWriteMs !== undefined && pass.now - m.lastStatusWriteMs > ctx.options.statusHeartbeatMs;
    if (!due || stableJson(withoutTransitions(pass.isvc.status)) === stableJson(withoutTransitions(status))) return;
  }
  await ctx.ports.writes.applyStatus(pass.isvc, status);
  m.lastStatusWriteMs = pass.now;
}

/** What ran and which signal was in force, from now on: the accountant reads these back per interval. */
function recordSamples(pass: ObservedPass, g: GatheredPass, d: DecidedPass): void {
  const m = pass.usage;
  const w = pass.workload;
  const last = m.workloadLog[m.workloadLog.length - 1];
  const sample = {
    atMs: pass.now,
    ...(w.variant ? { variant: w.variant } : {}),
    desired: w.replicas,
    ready: w.ready,
    budgetUsed: d.step.budgetUsed,
    relaxedLatency: d.step.decision.flags.relaxedLatency,
  };
  if (
    !last ||
    last.variant !== sample.variant ||
    last.desired !== sample.desired ||
    last.ready !== sample.ready ||
    last.budgetUsed !== sample.budgetUsed ||
    last.relaxedLatency !== sample.relaxedLatency
  )
    m.workloadLog.push(sample);
  const prev = m.signalLog[m.signalLog.length - 1]?.signal;
  const s = g.signal;
  // Any field a usage row takes from the signal (a forecast value in force, a new provider) starts a new sample.
  if (
    !prev ||
    prev.valueGPerKWh !== s.valueGPerKWh ||
    prev.fallbackLevel !== s.fallbackLevel ||
    prev.dataTimeMs !== s.dataTimeMs ||
    prev.isForecast !== s.isForecast ||
    prev.estimated !== s.estimated ||
    prev.available !== s.available ||
    prev.provider !== s.provider
  )
    m.signalLog.push({ atMs: pass.now, signal: s });
}

/** The service's pods as the cache shows them now, into the pod log (replicas_avg from Ready transitions). */
function observePods(ctx: ReconcilerContext, pass: ObservedPass): void {
  const m = ctx.ports.meters;
  const pods = ctx.ports.cache.podsOf(pass.isvc.metadata.namespace, pass.isvc.metadata.name);
  notePods(pass.usage.pods, pods, pass.now, m ? (w) => m.toClock(w) : (w) => w, m ? m.wallNow() : pass.now);
}

function observeMetrics(ctx: ReconcilerContext, pass: ObservedPass, g: GatheredPass, d: DecidedPass): void {
  const metrics = ctx.metrics;
  if (!metrics) return;
  const { isvc } = pass;
  const dec = d.step.decision;
  metrics.observeDecision(isvc, dec, g.signal);
  const l = { namespace: isvc.metadata.namespace, name: isvc.metadata.name };
  metrics.budgetUsed.set(l, d.step.budgetUsed);
  const rps = latestPoint(g.demand)?.rps;
  if (g.signal.valueGPerKWh === undefined || rps === undefined) return;
  const full = isvc.spec.variants[0]!;
  metrics.baselineEmissions.set(
    l,
    emissionsRateGPerHour(
      full,
      baselineReplicas(isvc, rps),
      rps,
      isvc.spec.carbon.pue,
      g.signal.valueGPerKWh,
      isvc.spec.carbon.embodiedGPerGpuHour,
    ),
  );
}

async function saveState(ctx: ReconcilerContext, pass: ObservedPass, state: ServiceState): Promise<void> {
  const m = pass.memory;
  if (!mustSave(m.saved, state, pass.isvc.spec.variants[0]!.name, budgetWindowOf(pass.isvc), pass.now)) return;
  await ctx.ports.states.save(pass.isvc, state, pass.now);
  m.saved = { ...state, savedAtMs: pass.now };
}

function withoutTransitions(s: InferenceServiceStatus | undefined): unknown {
  if (!s) return undefined;
  const { demand, ...rest } = s;
  // sampledAt moves every interval with an unchanged rate: not a reason to refresh.
  return {
    ...rest,
    ...(demand ? { demand: { ...demand, sampledAt: '' } } : {}),
    conditions: (s.conditions ?? []).map((c) => ({ ...c, lastTransitionTime: '' })),
  };
}
