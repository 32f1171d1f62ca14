// One reconcile pass for one InferenceService, keyed namespace/name, level-triggered and idempotent:
// read the caches → gather the carbon signal and demand → decide (pure policy) → render (pure) → apply what
// differs (server-side apply) → status once, only when it changed → events and audit rows for changes →
// requeue at the policy's next evaluation time.
import type { Logger } from 'winston';
import type { InferenceService, InferenceServiceStatus } from '../api/types.ts';
import { API_VERSION, KIND } from '../api/types.ts';
import { Condition, EventAction, Label, Reason } from '../constants.ts';
import type { Decision, DecisionInput } from '../decision/index.ts';
import { emissionsRateGPerHour, servicePowerWatts } from '../decision/energy-model.ts';
import type { EventRecorder } from '../kube/events.ts';
import { KubeApiError, objectPath, Resources, type KubeClient, type KubeObject } from '../kube/kube-client.ts';
import type { Reflector } from '../kube/reflector.ts';
import { TerminalError, type ReconcileResult } from '../kube/work-queue.ts';
import type { AuditSink } from '../audit/sink.ts';
import { makeDecisionRecord, type DecisionKind } from '../audit/decision.ts';
import { computeUsageRecord } from '../audit/usage.ts';
import { render, variantByName } from './render.ts';
import { withDefaults } from '../api/defaults.ts';
import {
  budgetWindowStart,
  conditionsFor,
  freeGpus,
  isSubset,
  podRequests,
  statusEquivalent,
  toDecisionInput,
  utcDay,
  IntensityHistory,
  demandOnlyReplicas,
  type ServiceMemory,
  type SignalView,
} from './pure.ts';
import type { OperatorMetrics } from './metrics.ts';

export interface SignalPort {
  register(sourceName: string, region: string): void;
  unregister(sourceName: string, region: string): void;
  get(sourceName: string, region: string): SignalView;
}

export interface DemandReading {
  rps: number;
  source: string;
  sampledAtMs: number;
}

export interface ReconcilerDeps {
  client: KubeClient;
  isvcs: Reflector<KubeObject>;
  deployments: Reflector<KubeObject>;
  pods: Reflector<KubeObject>;
  nodes: Reflector<KubeObject>;
  signals: SignalPort;
  demand: (isvc: InferenceService, nowMs: number) => Promise<DemandReading>;
  decide: (input: DecisionInput, now: number) => Decision;
  events: EventRecorder;
  audit?: AuditSink;
  metrics?: OperatorMetrics;
  now: () => number;
  log: Logger;
  clusterId: string;
  operatorVersion: string;
  modelServerImage?: string;
  /** Status fields that move every pass (emissions total) are refreshed at least this often. */
  statusHeartbeatMs?: number;
}

interface Observed {
  replicas: number;
  ready: number;
  rolledOut: boolean;
  variant?: string;
}

const STATUS_HEARTBEAT_MS = 15 * 60_000;

export class Reconciler {
  private d: ReconcilerDeps;
  private memory = new Map<string, ServiceMemory>();
  private registered = new Map<string, string>();
  private lastDemand = new Map<string, DemandReading>();
  private lastSignal = new Map<string, SignalView>();
  private reconcileSeq = 0;
  private history = new IntensityHistory();

  constructor(deps: ReconcilerDeps) {
    this.d = deps;
  }

  private mem(key: string, isvc: InferenceService, now: number): ServiceMemory {
    let m = this.memory.get(key);
    if (!m) {
      // Hydrate from status, so a restarted operator keeps its dwell time, budget and daily total.
      const st = isvc.status ?? {};
      const window = isvc.spec.slo.degradationBudget?.window ?? 'day';
      const ws = budgetWindowStart(now, window);
      const lastTime = st.lastDecision?.time ? Date.parse(st.lastDecision.time) : undefined;
      m = {
        budget: {
          windowStartMs: ws,
          servedTotal: 0,
          servedDegraded: 0,
        },
        todayG: st.emissions?.day === utcDay(now) ? st.emissions.todayG : 0,
        day: utcDay(now),
        ...(lastTime !== undefined && Number.isFinite(lastTime) ? { lastChangeMs: lastTime } : {}),
        ...(st.lastDecision ? { lastDecisionKey: `${st.lastDecision.variant}/${st.lastDecision.replicas}` } : {}),
        ...(st.lastDecision?.time ? { lastDecisionTime: st.lastDecision.time } : {}),
        ...(st.carbon?.fallbackLevel ? { lastFallbackLevel: st.carbon.fallbackLevel } : {}),
        lastMode: isvc.spec.policy?.mode ?? 'active',
      };
      if (st.budget && Date.parse(st.budget.windowStart) === ws && isvc.spec.slo.degradationBudget) {
        // Budget use survives restarts as a fraction of the budget; rebuild counts that give the same fraction.
        const frac = isvc.spec.slo.degradationBudget.fraction;
        m.budget.servedTotal = 1000;
        m.budget.servedDegraded = st.budget.usedFraction * frac * 1000;
      }
      this.memory.set(key, m);
    }
    return m;
  }

  /** The audit sink arrives when this process starts acting (leader only). */
  setAudit(a: AuditSink): void {
    this.d.audit = a;
  }

  forget(key: string): void {
    this.memory.delete(key);
    this.lastDemand.delete(key);
    this.lastSignal.delete(key);
    const reg = this.registered.get(key);
    if (reg) {
      const [source, region] = reg.split('\u0000') as [string, string];
      this.d.signals.unregister(source, region);
      this.registered.delete(key);
    }
  }

  private servicePods(isvc: InferenceService): KubeObject[] {
    return this.d.pods
      .list()
      .filter(
        (p) =>
          p.metadata?.namespace === isvc.metadata.namespace &&
          p.metadata?.labels?.[Label.service] === isvc.metadata.name,
      );
  }

  private observe(isvc: InferenceService, dep: KubeObject | undefined): Observed {
    if (!dep) return { replicas: 0, ready: 0, rolledOut: false };
    const spec = dep.spec as { replicas?: number; template?: { metadata?: { annotations?: Record<string, string> } } };
    const st = (dep.status ?? {}) as {
      observedGeneration?: number;
      updatedReplicas?: number;
      readyReplicas?: number;
      replicas?: number;
      unavailableReplicas?: number;
    };
    const want = spec.replicas ?? 0;
    const ready = st.readyReplicas ?? 0;
    const rolledOut =
      (st.observedGeneration ?? 0) >= (dep.metadata?.generation ?? 0) &&
      (st.updatedReplicas ?? 0) >= want &&
      ready >= want &&
      (st.replicas ?? 0) <= want;
    const o: Observed = { replicas: want, ready, rolledOut };
    const v =
      isvc.spec.runtime?.type === 'custom'
        ? spec.template?.metadata?.annotations?.['carbonscale.dev/variant']
        : (dep.metadata?.annotations?.['carbonscale.dev/variant'] ?? undefined);
    if (v) o.variant = v;
    return o;
  }

  private async gatherDemand(
    key: string,
    isvc: InferenceService,
    now: number,
  ): Promise<DemandReading & { error?: string }> {
    try {
      const r = await this.d.demand(isvc, now);
      if (!Number.isFinite(r.rps) || r.rps < 0) throw new Error(`demand source returned ${r.rps} requests/s`);
      this.lastDemand.set(key, r);
      return r;
    } catch (e) {
      const prev = this.lastDemand.get(key);
      const error = (e as Error).message;
      this.d.metrics?.errors.inc({ reason: 'DemandUnavailable' });
      if (prev) return { ...prev, error };
      // No demand ever seen: plan for the minimum and say so.
      return { rps: 0, source: 'none', sampledAtMs: now, error };
    }
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const raw = this.d.isvcs.get(key);
    if (!raw || raw.metadata?.deletionTimestamp) {
      this.forget(key);
      return;
    }
    const isvc = withDefaults(structuredClone(raw) as unknown as InferenceService);
    isvc.apiVersion ??= API_VERSION;
    isvc.kind ??= KIND;
    const log = this.d.log.child({
      namespace: isvc.metadata.namespace,
      name: isvc.metadata.name,
      reconcileId: ++this.reconcileSeq,
    });
    const now = this.d.now();
    const nowIso = new Date(now).toISOString();
    const spec = isvc.spec;
    const mode = spec.policy?.mode ?? 'active';
    const paused = spec.policy?.paused ?? false;
    const mem = this.mem(key, isvc, now);
    const target = {
      apiVersion: isvc.apiVersion,
      kind: isvc.kind,
      name: isvc.metadata.name,
      namespace: isvc.metadata.namespace,
      ...(isvc.metadata.uid ? { uid: isvc.metadata.uid } : {}),
    };

    // Signals.
    const source = spec.carbon.sourceRef ?? 'default';
    const regKey = `${source}\u0000${spec.carbon.region}`;
    const prevReg = this.registered.get(key);
    if (prevReg !== regKey) {
      if (prevReg) {
        const [s, r] = prevReg.split('\u0000') as [string, string];
        this.d.signals.unregister(s, r);
      }
      this.d.signals.register(source, spec.carbon.region);
      this.registered.set(key, regKey);
    }
    const signal = this.d.signals.get(source, spec.carbon.region);
    // Only real provider values enter the history (not fail-safe assumptions).
    if (signal.available && signal.valueGPerKWh !== undefined && signal.dataTimeMs !== undefined)
      this.history.record(regKey, signal.dataTimeMs, signal.valueGPerKWh);
    this.lastSignal.set(key, signal);
    const demand = await this.gatherDemand(key, isvc, now);

    // Observed state.
    const dep = this.d.deployments.get(key);
    const obs = this.observe(isvc, dep);
    const activeVariant = isvc.status?.activeVariant ?? obs.variant;
    const full = spec.variants[0]!;
    const resource = full.gpuResource ?? 'nvidia.com/gpu';
    const pods = this.servicePods(isvc);
    const pending = pods.filter((p) =>
      ((p.status as { conditions?: Array<{ type: string; status: string; reason?: string }> })?.conditions ?? []).some(
        (c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable',
      ),
    ).length;
    const free = freeGpus(this.d.nodes.list() as never[], this.d.pods.list() as never[], resource);
    const held = pods
      .filter((p) => (p.spec as { nodeName?: string })?.nodeName)
      .reduce((a, p) => a + podRequests(p as never, resource), 0);

    // Budget window bookkeeping: requests served since the last pass, at the variant that served them.
    const window = spec.slo.degradationBudget?.window ?? 'day';
    const ws = budgetWindowStart(now, window);
    if (ws !== mem.budget.windowStartMs) mem.budget = { windowStartMs: ws, servedTotal: 0, servedDegraded: 0 };
    if (mem.lastAccountMs !== undefined && now > mem.lastAccountMs) {
      const served = demand.rps * ((now - mem.lastAccountMs) / 1000);
      mem.budget.servedTotal += served;
      if (activeVariant && activeVariant !== full.name) mem.budget.servedDegraded += served;
      // Emissions so far today (estimated from the power profile at the active variant).
      const v = spec.variants.find((x) => x.name === (activeVariant ?? full.name)) ?? full;
      const watts = servicePowerWatts(v, Math.max(obs.ready, 0), demand.rps);
      const ci = signal.valueGPerKWh ?? 0;
      const hours = (now - mem.lastAccountMs) / 3_600_000;
      const g =
        ((watts * (spec.carbon.pue ?? 1)) / 1000) * hours * ci +
        (spec.carbon.embodiedGPerGpuHour ?? 0) * v.gpusPerReplica * obs.ready * hours;
      if (utcDay(now) !== mem.day) {
        mem.day = utcDay(now);
        mem.todayG = 0;
      }
      mem.todayG += g;
    }
    mem.lastAccountMs = now;

    // Decide.
    const input = toDecisionInput(
      isvc,
      signal,
      demand.rps,
      activeVariant,
      dep ? obs.replicas : undefined,
      mem,
      free,
      this.history.get(regKey),
    );
    let decision: Decision;
    try {
      decision = this.d.decide(input, now);
    } catch (e) {
      const msg = (e as Error).message;
      await this.writeStatus(isvc, mem, {
        ...(isvc.status ?? {}),
        observedGeneration: isvc.metadata.generation,
        conditions: [
          ...(isvc.status?.conditions ?? []).filter((c) => c.type !== Condition.Ready),
          {
            type: Condition.Ready,
            status: 'False',
            reason: Reason.InvalidSpec,
            message: msg,
            lastTransitionTime: nowIso,
            observedGeneration: isvc.metadata.generation,
          },
        ],
      } as InferenceServiceStatus);
      await this.d.events.record(target, {
        type: 'Warning',
        reason: Reason.InvalidSpec,
        action: EventAction.Validate,
        note: msg,
      });
      throw new TerminalError(`${key}: ${msg}`);
    }
    if (
      held + free <
      decision.replicas * (spec.variants.find((v) => v.name === decision.variant)?.gpusPerReplica ?? 0)
    ) {
      log.warn('decision exceeds schedulable GPUs', {
        held,
        free,
        decision: `${decision.variant}/${decision.replicas}`,
      });
    }
    // Paused: hold what runs; the decision is still reported.
    const holdVariant = activeVariant ?? full.name;
    const applied = mode === 'active' && !paused;
    const effVariant = applied ? decision.variant : dep ? holdVariant : decision.variant;
    const effReplicas = applied ? decision.replicas : dep ? obs.replicas : decision.replicas;

    // Apply.
    let driftFixed = false;
    if (mode === 'active' && (!paused || !dep)) {
      const r = render(
        isvc,
        effVariant,
        effReplicas,
        this.d.modelServerImage ? { modelServerImage: this.d.modelServerImage } : {},
      );
      // The variant the Deployment is set to serve, for the next pass's observe().
      (r.deployment.metadata as { annotations?: Record<string, string> }).annotations = {
        'carbonscale.dev/variant': effVariant,
      };
      const children: Array<[typeof Resources.deployment, Record<string, unknown>, KubeObject | undefined | null]> = [];
      if (r.configMap) {
        const live = await this.d.client.getOrNull<KubeObject>(
          objectPath(Resources.configMap, `${isvc.metadata.name}-carbonscale`, isvc.metadata.namespace),
        );
        children.push([Resources.configMap, r.configMap, live]);
      }
      children.push([Resources.deployment, r.deployment, dep]);
      const svc = await this.d.client.getOrNull<KubeObject>(
        objectPath(Resources.service, isvc.metadata.name, isvc.metadata.namespace),
      );
      children.push([Resources.service, r.service, svc]);
      for (const [res, body, live] of children) {
        if (live && isSubset(body, live)) continue;
        const name = (body.metadata as { name: string }).name;
        try {
          await this.d.client.apply(objectPath(res, name, isvc.metadata.namespace), body);
        } catch (e) {
          this.d.metrics?.errors.inc({ reason: Reason.ApplyFailed });
          if (e instanceof KubeApiError && e.status === 409) return { requeueAfterMs: 1000 };
          throw e;
        }
        // Same spec generation and same decision as our last apply, yet the live object differs: someone edited it.
        if (
          live &&
          mem.appliedGeneration === isvc.metadata.generation &&
          mem.appliedKey === `${effVariant}/${effReplicas}`
        )
          driftFixed = true;
      }
    }
    if (mode === 'active' && (!paused || !dep)) {
      mem.appliedGeneration = isvc.metadata.generation;
      mem.appliedKey = `${effVariant}/${effReplicas}`;
    }
    if (driftFixed) {
      await this.d.events.record(target, {
        type: 'Warning',
        reason: Reason.DriftCorrected,
        action: EventAction.Apply,
        note: 'the Deployment or Service was edited outside carbonscale: restored the fields carbonscale owns',
      });
    }

    // Events and audit rows for changes.
    const decisionKey = `${decision.variant}/${decision.replicas}`;
    const prevKey = mem.lastDecisionKey;
    const [prevVariant, prevReplicasS] = prevKey ? (prevKey.split('/') as [string, string]) : [undefined, undefined];
    const prevReplicas = prevReplicasS !== undefined ? Number(prevReplicasS) : undefined;
    if (decisionKey !== prevKey) {
      const swapped = prevVariant !== undefined && prevVariant !== decision.variant;
      const kind: DecisionKind = swapped ? 'swap' : 'scale';
      const reason = mode === 'observe' ? Reason.DecisionObserved : swapped ? Reason.VariantSwapped : Reason.Scaled;
      const prefix = mode === 'observe' ? 'observe mode (not applied): ' : paused ? 'paused (not applied): ' : '';
      await this.d.events.record(target, {
        type: 'Normal',
        reason,
        action: mode === 'observe' ? EventAction.Observe : swapped ? EventAction.Swap : EventAction.Scale,
        note: prefix + decision.reason,
      });
      await this.auditDecision(
        isvc,
        now,
        kind,
        { variant: prevVariant, replicas: prevReplicas },
        decision,
        decision.reason,
        input,
        signal,
      );
      if (swapped) mem.lastChangeMs = now;
      log.info('decision', {
        kind,
        mode,
        variant: decision.variant,
        replicas: decision.replicas,
        reason: decision.reason,
      });
      mem.lastDecisionKey = decisionKey;
      mem.lastDecisionTime = nowIso;
      this.d.metrics?.decisions.inc({ kind, mode });
    }
    if (mem.lastFallbackLevel !== undefined && mem.lastFallbackLevel !== signal.fallbackLevel) {
      await this.d.events.record(target, {
        type: signal.available && signal.fallbackLevel === 'primary' ? 'Normal' : 'Warning',
        reason: Reason.CarbonFallback,
        action: EventAction.Fallback,
        note: `carbon signal ${mem.lastFallbackLevel} → ${signal.fallbackLevel}: ${signal.reason}`,
      });
      await this.auditDecision(isvc, now, 'fallback', {}, decision, signal.reason, input, signal);
    }
    mem.lastFallbackLevel = signal.fallbackLevel;
    if (mem.lastMode !== mode) {
      await this.auditDecision(
        isvc,
        now,
        'mode',
        { mode: mem.lastMode },
        decision,
        `mode ${mem.lastMode} → ${mode}`,
        input,
        signal,
        mode,
      );
      await this.d.events.record(target, {
        type: 'Normal',
        reason: Reason.ModeChanged,
        action: EventAction.Apply,
        note: `mode ${mem.lastMode} → ${mode}`,
      });
      mem.lastMode = mode;
    }

    // Status.
    const fresh = this.d.deployments.get(key);
    const obs2 = this.observe(isvc, fresh);
    let servedVariant = isvc.status?.activeVariant;
    if (mode === 'active' && obs2.rolledOut && obs2.variant) servedVariant = obs2.variant;
    if (!servedVariant && mode === 'active' && obs2.variant) servedVariant = obs2.variant;
    const rolling =
      mode === 'active' &&
      !paused &&
      (!obs2.rolledOut || obs2.variant !== decision.variant || obs2.replicas !== decision.replicas);
    const ready =
      mode === 'observe'
        ? {
            ok: true,
            reason: Reason.ObserveMode,
            message: 'observe mode: decisions are reported, the workload is not touched',
          }
        : paused
          ? { ok: true, reason: Reason.Paused, message: 'paused: holding the current variant and replicas' }
          : pending > 0
            ? {
                ok: false,
                reason: Reason.PodsPending,
                message: `${pending} pod(s) Pending: not enough ${resource} free`,
              }
            : rolling
              ? {
                  ok: false,
                  reason: Reason.RollingOut,
                  message: `rolling out ${decision.variant} × ${decision.replicas}`,
                }
              : {
                  ok: true,
                  reason: Reason.RolloutComplete,
                  message: `serving ${decision.variant} × ${decision.replicas}`,
                };
    if (pending > 0) {
      this.d.metrics?.errors.inc({ reason: Reason.PodsPending });
      // Repeats collapse into one Event series (EventRecorder), so a lasting shortage does not flood the API.
      await this.d.events.record(target, {
        type: 'Warning',
        reason: Reason.PodsPending,
        action: EventAction.Scale,
        note: `${pending} pod(s) cannot be scheduled: not enough ${resource} free; planning within ${held + free} GPU(s)`,
      });
    }
    const budgetFrac = spec.slo.degradationBudget?.fraction ?? 0;
    const usedFraction =
      budgetFrac > 0 && mem.budget.servedTotal > 0
        ? Math.min(1, mem.budget.servedDegraded / mem.budget.servedTotal / budgetFrac)
        : 0;
    const status: InferenceServiceStatus = {
      observedGeneration: isvc.metadata.generation,
      ...(servedVariant ? { activeVariant: servedVariant } : {}),
      desiredReplicas: decision.replicas,
      readyReplicas: obs2.ready,
      ...(signal.valueGPerKWh !== undefined
        ? {
            carbon: {
              valueGPerKWh: signal.valueGPerKWh,
              unit: 'gCO2eq/kWh',
              region: spec.carbon.region,
              provider: signal.provider ?? 'unknown',
              signal: `${signal.signal ?? 'average'}/${signal.basis ?? 'direct'}`,
              dataTime: new Date(signal.dataTimeMs ?? now).toISOString(),
              fallbackLevel: signal.fallbackLevel,
            },
          }
        : {}),
      demand: {
        requestsPerSecond: demand.rps,
        source: demand.source,
        sampledAt: new Date(demand.sampledAtMs).toISOString(),
      },
      lastDecision: {
        time: mem.lastDecisionTime ?? nowIso,
        variant: decision.variant,
        replicas: decision.replicas,
        reason: decision.reason,
        applied: mode === 'active' && !paused,
      },
      emissions: {
        rateGPerHour: decision.expectedEmissionsGPerHour ?? 0,
        todayG: mem.todayG,
        day: mem.day,
        estimated: true,
      },
      ...(spec.tier === 'eco' && spec.slo.degradationBudget
        ? { budget: { windowStart: new Date(mem.budget.windowStartMs).toISOString(), usedFraction } }
        : {}),
      conditions: conditionsFor(isvc.status?.conditions ?? [], {
        nowIso,
        ...(isvc.metadata.generation !== undefined ? { generation: isvc.metadata.generation } : {}),
        signal,
        decision,
        ready,
        fullVariant: full.name,
        pendingPods: pending,
        tier: spec.tier,
      }),
    };
    await this.writeStatus(isvc, mem, status);
    this.d.metrics?.observeDecision(isvc, decision, signal);
    if (this.d.metrics && signal.valueGPerKWh !== undefined) {
      // The demand-only baseline: the full variant at the replicas demand alone needs (docs/audit.md).
      const baseReplicas = demandOnlyReplicas(isvc, demand.rps);
      const l = { namespace: isvc.metadata.namespace, name: isvc.metadata.name };
      this.d.metrics.baselineEmissions.set(
        l,
        emissionsRateGPerHour(
          full,
          baseReplicas,
          demand.rps,
          spec.carbon.pue ?? 1,
          signal.valueGPerKWh,
          spec.carbon.embodiedGPerGpuHour ?? 0,
        ),
      );
      this.d.metrics.budgetUsed.set(l, usedFraction);
    }

    const interval = (spec.policy?.intervalSeconds ?? 300) * 1000;
    const next = Math.max(1000, Math.min(interval, decision.nextEvaluationMs - now));
    return { requeueAfterMs: rolling || pending > 0 ? Math.min(next, 5000) : next };
  }

  private async writeStatus(isvc: InferenceService, mem: ServiceMemory, status: InferenceServiceStatus): Promise<void> {
    const now = this.d.now();
    const heartbeat = this.d.statusHeartbeatMs ?? STATUS_HEARTBEAT_MS;
    const due = mem.lastStatusWriteMs === undefined ? false : now - mem.lastStatusWriteMs > heartbeat;
    if (statusEquivalent(isvc.status, status) && !due) return;
    await this.d.client.applyStatus(
      objectPath(Resources.inferenceService, isvc.metadata.name, isvc.metadata.namespace),
      {
        apiVersion: isvc.apiVersion,
        kind: isvc.kind,
        metadata: { name: isvc.metadata.name, namespace: isvc.metadata.namespace },
        status,
      },
    );
    mem.lastStatusWriteMs = now;
  }

  private async auditDecision(
    isvc: InferenceService,
    now: number,
    kind: DecisionKind,
    before: { variant?: string | undefined; replicas?: number | undefined; mode?: string | undefined },
    d: Decision,
    reason: string,
    input: DecisionInput,
    signal: SignalView,
    mode?: string,
  ): Promise<void> {
    if (!this.d.audit) return;
    try {
      const b: { variant?: string; replicas?: number; mode?: string } = {};
      if (before.variant !== undefined) b.variant = before.variant;
      if (before.replicas !== undefined) b.replicas = before.replicas;
      if (before.mode !== undefined) b.mode = before.mode;
      await this.d.audit.writeDecision(
        makeDecisionRecord({
          timeMs: now,
          clusterId: this.d.clusterId,
          operatorVersion: this.d.operatorVersion,
          namespace: isvc.metadata.namespace,
          name: isvc.metadata.name,
          uid: isvc.metadata.uid ?? 'unknown',
          kind,
          before: b,
          after: mode ? { mode } : { variant: d.variant, replicas: d.replicas },
          reason,
          inputs: {
            carbon: {
              ...input.carbon,
              forecast: input.carbon.forecast?.length ?? 0,
              fallbackLevel: signal.fallbackLevel,
            },
            demand: input.demand,
            state: input.state,
            clusterGpuHeadroom: input.clusterGpuHeadroom,
            flags: d.flags,
          },
          ...(signal.valueGPerKWh !== undefined ? { ciGPerKWh: signal.valueGPerKWh } : {}),
        }),
      );
    } catch (e) {
      this.d.log.error('audit decision row not written', { error: (e as Error).message });
      this.d.metrics?.errors.inc({ reason: 'AuditWriteFailed' });
    }
  }

  /** One usage row per service for [fromMs, toMs): called by the accounting timer (leader only). */
  async account(fromMs: number, toMs: number): Promise<number> {
    if (!this.d.audit) return 0;
    let n = 0;
    for (const raw of this.d.isvcs.list()) {
      const isvc = withDefaults(structuredClone(raw) as unknown as InferenceService);
      const key = `${isvc.metadata.namespace}/${isvc.metadata.name}`;
      const signal = this.lastSignal.get(key);
      const demand = this.lastDemand.get(key);
      if (!signal || signal.valueGPerKWh === undefined) continue;
      const dep = this.d.deployments.get(key);
      const obs = this.observe(isvc, dep);
      const full = isvc.spec.variants[0]!;
      const vName = isvc.status?.activeVariant ?? full.name;
      let v;
      try {
        v = variantByName(isvc, vName);
      } catch {
        v = full;
      }
      const rps = demand?.rps ?? 0;
      const secs = (toMs - fromMs) / 1000;
      const util = obs.ready > 0 ? Math.min(1, rps / (obs.ready * v.capacityRps)) : 0;
      const baselineReplicas = demandOnlyReplicas(isvc, rps);
      try {
        const rec = computeUsageRecord({
          intervalStartMs: fromMs,
          intervalEndMs: toMs,
          clusterId: this.d.clusterId,
          operatorVersion: this.d.operatorVersion,
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
          replicas: { desired: obs.replicas, ready: obs.ready, average: obs.ready },
          gpusPerReplica: v.gpusPerReplica,
          power: { idleW: v.powerIdleWatts, busyW: v.powerBusyWatts, utilization: util },
          pue: isvc.spec.carbon.pue ?? 1,
          carbon: {
            valueGPerKWh: signal.valueGPerKWh,
            region: isvc.spec.carbon.region,
            provider: signal.provider ?? 'unknown',
            signal: (signal.signal as 'average' | 'marginal') ?? 'average',
            basis: (signal.basis as 'direct' | 'lifecycle') ?? 'direct',
            dataTimeMs: signal.dataTimeMs ?? toMs,
            estimated: signal.estimated ?? false,
            forecast: false,
            fallbackLevel: fallbackIndex(signal.fallbackLevel),
          },
          embodiedGPerGpuHour: isvc.spec.carbon.embodiedGPerGpuHour ?? 0,
          requests: Math.round(rps * secs),
          inferences: Math.round(rps * secs),
          baseline: {
            replicas: baselineReplicas,
            gpusPerReplica: full.gpusPerReplica,
            power: {
              idleW: full.powerIdleWatts,
              busyW: full.powerBusyWatts,
              utilization: baselineReplicas > 0 ? Math.min(1, rps / (baselineReplicas * full.capacityRps)) : 0,
            },
          },
          degradationBudgetUsed: isvc.status?.budget?.usedFraction ?? 0,
        });
        await this.d.audit.writeUsage(rec);
        n++;
      } catch (e) {
        this.d.log.error('usage row not written', {
          namespace: isvc.metadata.namespace,
          name: isvc.metadata.name,
          error: (e as Error).message,
        });
        this.d.metrics?.errors.inc({ reason: 'AuditWriteFailed' });
      }
    }
    return n;
  }
}

/** Audit rows number the fallback level: 0 primary, 1 a fallback source, 2 last known value, 3 fail-safe. */
export function fallbackIndex(level: string): number {
  if (level === 'primary') return 0;
  if (level.startsWith('fallback:')) return 1;
  if (level === 'last-known') return 2;
  return 3;
}
