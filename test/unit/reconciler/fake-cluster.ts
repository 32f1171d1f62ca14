// Fakes for the Reconciler's ports (reconciler/ports.ts): an in-memory "cluster" that stores what the pass applies
// and serves it back as the caches would, a carbon signal the test sets, demand at a rate the test sets, a state
// store, an event list and the real in-memory audit sink. No apiserver, no network.
import winston from 'winston';
import type { InferenceServiceStatus, RawInferenceService } from '../../../operator/api/types.ts';
import { MemoryAuditSink } from '../../../operator/audit/sink.ts';
import type { IntensityPoint } from '../../../operator/decision/types.ts';
import type { KubeObject } from '../../../operator/kube/kube-client.ts';
import type { Ports } from '../../../operator/reconciler/pass-context.ts';
import { Reconciler } from '../../../operator/reconciler/reconciler.ts';
import type { ChildKind } from '../../../operator/reconciler/ports.ts';
import { decodeState, encodeState } from '../../../operator/reconciler/service-state.ts';
import type { SignalView } from '../../../operator/reconciler/signal-view.ts';

export const HOUR = 3_600_000;
/** 2026-03-02 04:00 UTC: early in a UTC day, so a daily budget has hours ahead. */
export const T0 = Date.UTC(2026, 2, 2, 4);

export function variant(name: string, quality: number, capacityRps: number, extra: Record<string, unknown> = {}) {
  return {
    name,
    model: { uri: `file:///models/${name}.onnx` },
    quality,
    capacityRps,
    latencyP95Ms: 20,
    gpusPerReplica: 1,
    powerBusyWatts: quality > 0.95 ? 300 : 150,
    powerIdleWatts: quality > 0.95 ? 80 : 60,
    ...extra,
  };
}

export function service(name: string, over: Record<string, unknown> = {}): RawInferenceService {
  const tier = (over.tier as string) ?? 'eco';
  return {
    apiVersion: 'carbonscale.dev/v1alpha1',
    kind: 'InferenceService',
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, generation: 1 },
    spec: {
      tier: tier as 'eco',
      variants:
        tier === 'premium' ? [variant('full', 0.97, 100)] : [variant('full', 0.97, 100), variant('small', 0.93, 200)],
      replicas: { min: 1, max: 8 },
      slo:
        tier === 'premium'
          ? { latencyP95Ms: 100 }
          : {
              latencyP95Ms: 100,
              qualityFloor: 0.9,
              relaxedLatencyP95Ms: 200,
              degradationBudget: { fraction: 0.3, window: 'day' },
            },
      carbon: { region: 'TEST', sourceRef: 'src', pue: 1.2 },
      demand: { source: 'static', staticRps: 150 },
      policy: { intervalSeconds: 300, minDwellSeconds: 0 },
      ...over,
    } as RawInferenceService['spec'],
  };
}

export interface Write {
  kind: ChildKind | 'status' | 'state';
  name: string;
}

/** A settable carbon signal, on a clock: the value holds from `fromMs` (a trace row); history accumulates. */
export class FakeSignal {
  valueGPerKWh = 100;
  pending = false;
  level = 'primary';
  dataTimeMs = 0;
  history: IntensityPoint[] = [];
  /** The provider's forecast (future points), or null for none. */
  forecast: IntensityPoint[] | null = null;
  refreshes = 0;
  set(v: number, atMs: number): void {
    this.valueGPerKWh = v;
    this.dataTimeMs = atMs;
    this.history.push({ timeMs: atMs, valueGPerKWh: v });
  }
  view(): SignalView {
    if (this.pending)
      return {
        available: false,
        pending: true,
        forecast: null,
        fallbackLevel: 'none',
        reason: 'not yet',
        summary: 'not yet',
        conditionReason: 'SignalPending',
      };
    return {
      available: this.level !== 'fail-safe',
      pending: false,
      valueGPerKWh: this.valueGPerKWh,
      provider: 'fake',
      signal: 'average',
      basis: 'direct',
      dataTimeMs: this.dataTimeMs,
      estimated: false,
      isForecast: false,
      forecast: this.forecast,
      fallbackLevel: this.level,
      reason: `fake signal at ${this.valueGPerKWh}`,
      summary: 'fake signal',
      conditionReason: 'SignalFromPrimary',
    };
  }
}

export class FakeCluster {
  now = T0;
  isvcs = new Map<string, RawInferenceService>();
  objects = new Map<string, KubeObject>();
  pods = new Map<string, KubeObject>();
  states = new Map<string, string>();
  writes: Write[] = [];
  events: Array<{ reason: string; note: string; name: string }> = [];
  signal = new FakeSignal();
  rps = 150;
  /** Ready replicas follow spec.replicas at once (a kubelet that is never late) unless false. */
  autoReady = true;
  nodesGpus = 64;
  audit = new MemoryAuditSink();
  failAudit = false;

  key(kind: string, ns: string, name: string): string {
    return `${kind}/${ns}/${name}`;
  }

  add(isvc: RawInferenceService): void {
    this.isvcs.set(`${isvc.metadata.namespace}/${isvc.metadata.name}`, structuredClone(isvc));
  }

  /** A spec edit as the API server makes it: the generation moves. */
  edit(key: string, f: (spec: RawInferenceService['spec']) => void): void {
    const o = this.isvcs.get(key)!;
    f(o.spec);
    o.metadata.generation = (o.metadata.generation ?? 1) + 1;
  }

  deployment(key: string): KubeObject | undefined {
    const [ns, name] = key.split('/') as [string, string];
    return this.objects.get(this.key('Deployment', ns, name));
  }

  private applyChild(kind: ChildKind, body: Record<string, unknown>): void {
    const m = body.metadata as { name: string; namespace: string };
    const k = this.key(kind, m.namespace, m.name);
    const prev = this.objects.get(k);
    const obj = structuredClone(body) as KubeObject;
    obj.metadata!.generation = (prev?.metadata?.generation ?? 0) + 1;
    if (kind === 'Deployment') {
      const want = (obj.spec as { replicas: number }).replicas;
      const prevReady = (prev?.status as { readyReplicas?: number } | undefined)?.readyReplicas ?? 0;
      const ready = this.autoReady ? want : prevReady;
      obj.status = {
        observedGeneration: obj.metadata!.generation,
        replicas: ready,
        updatedReplicas: ready,
        readyReplicas: ready,
      };
    }
    this.objects.set(k, obj);
    this.writes.push({ kind, name: m.name });
  }

  ports(): Ports {
    const p: Ports = {
      clock: { now: () => this.now },
      cache: {
        inferenceService: (key) => this.isvcs.get(key),
        inferenceServices: () => [...this.isvcs.values()],
        deployment: (key) => this.deployment(key),
        configMap: (ns, name) => this.objects.get(this.key('ConfigMap', ns, name)),
        service: (key) => {
          const [ns, name] = key.split('/') as [string, string];
          return this.objects.get(this.key('Service', ns, name));
        },
        podsOf: (ns, name) =>
          [...this.pods.values()].filter(
            (x) => x.metadata?.namespace === ns && x.metadata?.labels?.['carbonscale.dev/inference-service'] === name,
          ),
        allPods: () => [...this.pods.values()],
        nodes: () => [
          { metadata: { name: 'n0' }, status: { allocatable: { 'nvidia.com/gpu': String(this.nodesGpus) } } },
        ],
      },
      writes: {
        applyChild: async (kind, body) => this.applyChild(kind, body),
        applyStatus: async (isvc, status: InferenceServiceStatus) => {
          this.isvcs.get(`${isvc.metadata.namespace}/${isvc.metadata.name}`)!.status = structuredClone(status);
          this.writes.push({ kind: 'status', name: isvc.metadata.name });
        },
      },
      events: {
        record: async (t, ev) => {
          this.events.push({ reason: ev.reason, note: ev.note, name: t.name });
        },
      },
      signals: {
        register: () => {},
        unregister: () => {},
        get: () => this.signal.view(),
        refresh: async () => {
          this.signal.refreshes++;
          return this.signal.view();
        },
        history: () => this.signal.history.filter((x) => x.timeMs <= this.now && x.timeMs >= this.now - 48 * HOUR),
      },
      demand: {
        backfillMs: () => 8 * 24 * HOUR,
        read: async () => ({ rps: this.rps, source: 'static' }),
      },
      states: {
        load: (ns, name) => {
          const t = this.states.get(`${ns}/${name}`);
          return t === undefined ? {} : decodeState(t);
        },
        save: async (isvc, state, at) => {
          this.states.set(`${isvc.metadata.namespace}/${isvc.metadata.name}`, encodeState(state, at));
          this.writes.push({ kind: 'state', name: isvc.metadata.name });
        },
      },
      audit: {
        writeDecision: async (r) => {
          if (this.failAudit) throw new Error('disk full');
          await this.audit.writeDecision(r);
        },
        writeUsage: async (r) => {
          if (this.failAudit) throw new Error('disk full');
          await this.audit.writeUsage(r);
        },
      },
    };
    return p;
  }

  readonly options = {
    clusterId: 'test',
    operatorVersion: 'test',
    statusHeartbeatMs: 15 * 60_000,
    accountingIntervalMs: 60_000,
  };

  reconciler(ports: Ports = this.ports()): Reconciler {
    return new Reconciler(ports, this.options, winston.createLogger({ silent: true }));
  }

  decisions(kind?: string) {
    return this.audit.rows.decision.filter((r) => kind === undefined || r.kind === kind);
  }
}

/** A dirty spell: `hours` at `dirty` from `fromMs`, then `clean`, as a provider forecast for a day ahead. */
export function spellForecast(fromMs: number, hours: number, dirty: number, clean: number): IntensityPoint[] {
  return Array.from({ length: 24 }, (_, i) => ({
    timeMs: fromMs + (i + 1) * HOUR,
    valueGPerKWh: i + 1 < hours ? dirty : clean,
  }));
}
