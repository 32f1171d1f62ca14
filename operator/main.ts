// `carbonscale operator`: wiring only. The caches, the two controllers (InferenceService, CarbonSource) with their
// declared triggers, the carbon signal poller, the accountant and the audit sink are runnables of one manager
// (kube/manager.ts): caches and the health server run on every replica, the rest only while this replica leads.
// One clock (clock.ts) drives all of it; the embedded default replays a trace on an accelerated one.
//   - with --kubeconfig / $KUBECONFIG, or in a pod (in-cluster), against that cluster;
//   - with --embedded, or with no cluster configuration at all, against a local cluster it starts itself
//     (local-cluster/embedded-cluster.ts: 3 fake GPU nodes × 8 GPUs, a replayed real trace, two example services).
// The command itself — flags, which cluster, the output and the ordered stop — is main-job/main-job.ts.
import { Registry, collectDefaultMetrics } from 'prom-client';
import winston from 'winston';
import { CarbonSignalService } from './carbon/signal-service.ts';
import { loadTrace, EMBEDDED_TRACE_FILE } from './carbon/trace-provider.ts';
import { operatorWallClock, replayClock, onEveryBoundary, wallClock, type OperatorClock } from './clock.ts';
import { carbonHistoryStore } from './kube/carbon-history-store.ts';
import { carbonSourceReadings } from './kube/carbon-source-readings.ts';
import { childWriter } from './kube/child-writer.ts';
import { BackgroundEvents } from './kube/background-events.ts';
import { EventRecorder } from './kube/events.ts';
import { installCrds as installCrdsWith } from './kube/install-crds.ts';
import { KubeClient } from './kube/kube-client.ts';
import type { KubeObject } from './kube/kube-client.ts';
import type { KubeConfig } from './kube/kube-config.ts';
import { apiserverRequestMetrics, reconcileMetrics } from './kube/kube-metrics.ts';
import { Manager, cacheRunnable, runnable } from './kube/manager.ts';
import type { ReconcileReport } from './kube/controller.ts';
import { serviceStateStore } from './kube/service-state-store.ts';
import { Accountant } from './reconciler/accounting.ts';
import { OperatorMetrics } from './reconciler/metrics.ts';
import { Reconciler } from './reconciler/reconciler.ts';
import { replayStartFor } from './replay-start.ts';
import { tapAudit, type AuditTap } from './live-view/audit-tap.ts';
import { auditRunnable } from './wiring/audit-runnable.ts';
import { cachePort, makeCaches, type Caches } from './wiring/caches.ts';
import { carbonSourceController, SourceRegistry } from './wiring/carbon-source-controller.ts';
import { API_VERSION, KIND } from './api/types.ts';
import { attestorRunnable } from './wiring/attestor-runnable.ts';
import { demandPort, podIpAddress } from './wiring/demand-port.ts';
import type { AttestationFlags } from './wiring/meter-flags.ts';
import { meterPort, type EnergyDefaults } from './wiring/meter-port.ts';
import type { OperatorFlags } from './wiring/flags.ts';
import { startHealthServer } from './wiring/health-server.ts';
import {
  inferenceServiceController,
  servicesOfPair,
  servicesUsingSource,
} from './wiring/inference-service-controller.ts';
import { signalPoller } from './wiring/signal-poller.ts';
import { signalPort, type TrackedSignalPort } from './wiring/signal-port.ts';

export const OPERATOR_VERSION = '0.1.0';
/** The embedded default replays its trace at one trace hour per wall minute. */
export const EMBEDDED_SPEEDUP = 60;
const STATUS_HEARTBEAT_MS = 15 * 60_000;
const POLL_TICK_MS = 10_000;
/** How long the ordered stop waits for Events still on their way, before the client closes. */
const EVENT_DRAIN_MS = 5_000;

export interface OperatorOptions {
  kc: KubeConfig;
  namespace: string;
  leaderElect: boolean;
  identity: string;
  healthAddr: string;
  auditDir?: string;
  clusterId: string;
  logLevel: string;
  modelServerImage?: string;
  accountingIntervalMs: number;
  /** The operator's clock (default the wall clock); `now` alone shifts the wall clock (tests). */
  clock?: OperatorClock;
  now?: () => number;
  reconcileConcurrency?: number;
  reconcileQps?: number;
  reconcileBurst?: number;
  kubeApiQps?: number;
  kubeApiBurst?: number;
  env?: NodeJS.ProcessEnv;
  /** Count writes (tests). */
  onWrite?: (method: string, path: string) => void;
  /** Called after every reconcile pass, with its controller and key (tests, besides the metrics). */
  onReconciled?: (r: ReconcileReport) => void;
  /** The log (default JSON lines on stdout at logLevel); the main job passes the one --log-format asks for. */
  logger?: winston.Logger;
  /** Sees every audit record once the sink acknowledged it (the live view). */
  auditTap?: AuditTap;
  /** Where a pod's model server answers (default its pod IP and port 8080; the embedded demo: a local process). */
  podAddress?: (pod: KubeObject) => string | undefined;
  /** Energy meters for services whose spec names none (default: profile, the estimate). */
  energy?: EnergyDefaults;
  /** Sign attestations of the audit directory (needs auditDir). */
  attestation?: AttestationFlags;
}

export interface RunningOperator {
  stop(): Promise<void>;
  healthPort: number;
  client: KubeClient;
  reconciler: Reconciler;
  signals: CarbonSignalService;
  clock: OperatorClock;
  /** 0 after stop(), 1 after lost leadership. */
  done: Promise<number>;
}

function makeLogger(level: string) {
  return winston.createLogger({
    level,
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Console()],
  });
}

function clockOf(o: OperatorOptions): OperatorClock {
  if (o.clock) return o.clock;
  return o.now ? { ...operatorWallClock(), now: o.now } : operatorWallClock();
}

type KLog = (level: 'info' | 'warn' | 'error', msg: string, meta?: Record<string, unknown>) => void;

/** The parts every replica runs: client, caches, carbon signal, the reconciler and its ports. */
interface Core {
  o: OperatorOptions;
  clock: OperatorClock;
  log: winston.Logger;
  klog: KLog;
  registry: Registry;
  metrics: OperatorMetrics;
  reconciled: (r: ReconcileReport) => void;
  client: KubeClient;
  caches: Caches;
  sources: SourceRegistry;
  signals: CarbonSignalService;
  port: TrackedSignalPort;
  reconciler: Reconciler;
  /** The passes' Events, recorded in the background: drained before the client closes. */
  events: BackgroundEvents;
  /** Whether this replica leads (set once the manager exists). */
  leader: { is: () => boolean };
}

function buildCore(o: OperatorOptions): Core {
  const clock = clockOf(o);
  const log = o.logger ?? makeLogger(o.logLevel);
  const klog: KLog = (level, msg, meta) => log.log(level, msg, meta);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const client = new KubeClient(o.kc, {
    onRequest: apiserverRequestMetrics(registry),
    ...(o.onWrite ? { onWrite: o.onWrite } : {}),
    ...(o.kubeApiQps ? { qps: o.kubeApiQps } : {}),
    ...(o.kubeApiBurst ? { burst: o.kubeApiBurst } : {}),
  });
  const caches = makeCaches(client, klog);
  const cache = cachePort(caches);
  const leader = { is: () => false };
  const sources = new SourceRegistry(caches.carbonSources);
  const signals = new CarbonSignalService({
    now: () => clock.now(),
    registry,
    logger: log,
    historyStore: carbonHistoryStore({
      client,
      namespace: o.namespace,
      configMap: (name) => caches.configMaps.get(`${o.namespace}/${name}`),
      isLeader: () => leader.is(),
    }),
  });
  const port = signalPort(signals, sources);
  const metrics = new OperatorMetrics(registry);
  // Events are judged by the apiserver and kubectl in real time (their age, their TTL): the wall clock. Recorded in
  // the background, so a pass never waits for one (kube/background-events.ts).
  const events = new BackgroundEvents(new EventRecorder(client, { clock: wallClock, instance: o.identity }), {
    log: klog,
    onNotRecorded: () => metrics.errors.inc({ reason: 'EventNotRecorded' }),
  });
  const ports = {
    cache,
    writes: childWriter(client),
    events,
    signals: port,
    demand: demandPort(clock, cache.podsOf, o.podAddress),
    states: serviceStateStore(client, cache.configMap),
    clock,
    meters: meterPort({
      clock,
      energy: o.energy ?? { source: 'profile', maxGapMs: 90_000 },
      address: o.podAddress ?? podIpAddress,
    }),
  };
  const options = {
    clusterId: o.clusterId,
    operatorVersion: OPERATOR_VERSION,
    statusHeartbeatMs: STATUS_HEARTBEAT_MS,
    accountingIntervalMs: o.accountingIntervalMs,
    ...(o.modelServerImage ? { modelServerImage: o.modelServerImage } : {}),
    ...(clock.replay ? { clockSpeedup: clock.speedup } : {}),
  };
  const reconciler = new Reconciler(ports, options, log, metrics);
  const reconciled = reconcileMetrics(registry);
  return {
    o,
    clock,
    log,
    klog,
    registry,
    metrics,
    reconciled,
    client,
    caches,
    sources,
    signals,
    port,
    reconciler,
    events,
    leader,
  };
}

/** The two controllers, each with its queue and its triggers (wiring/*-controller.ts). */
function buildControllers(c: Core) {
  const { o, caches } = c;
  let wakeSignal: (keys: Iterable<string>) => void = () => {};
  const onReconciled = both(c.reconciled, o.onReconciled);
  const isvc = inferenceServiceController(
    caches,
    c.reconciler,
    {
      concurrency: o.reconcileConcurrency ?? 4,
      ratePerSecond: o.reconcileQps ?? 20,
      burst: o.reconcileBurst ?? 50,
      clock: c.clock,
      log: c.klog,
      onReconciled,
    },
    (emit) => {
      wakeSignal = emit;
      return () => (wakeSignal = () => {});
    },
  );
  const source = carbonSourceController(
    {
      client: c.client,
      carbonSources: caches.carbonSources,
      signals: c.signals,
      clock: c.clock,
      operatorNamespace: o.namespace,
      env: o.env ?? process.env,
      wake: (name) => wakeSignal(servicesUsingSource(caches, name)),
      log: c.klog,
      onReconciled,
    },
    c.sources,
  );
  return { isvc, source, wake: (keys: Iterable<string>) => wakeSignal(keys) };
}

/** Caches on every replica; the audit sink, poller, controllers and accountant only while leading. */
function buildManager(c: Core, ctl: ReturnType<typeof buildControllers>): Manager {
  const { o, clock, caches } = c;
  const manager = new Manager({
    client: c.client,
    ...(o.leaderElect
      ? {
          leaderElection: {
            namespace: o.namespace,
            name: 'carbonscale-operator',
            identity: o.identity,
            clock: wallClock,
          },
        }
      : {}),
    beforeLeading: () => Promise.all(caches.all.map((r) => r.waitForSync())).then(() => undefined),
    log: c.klog,
  });
  c.leader.is = () => manager.isLeader;
  const readings = carbonSourceReadings(c.client, {
    onError: (e) => c.log.warn('CarbonSource status: readings not written', { error: String(e) }),
    stored: (name) => caches.carbonSources.get(name),
  });
  manager.add(...caches.all.map(cacheRunnable));
  // Leader-only, in start order; they stop in reverse (the audit sink closes last).
  manager.add(
    auditRunnable({
      ...(o.auditDir ? { dir: o.auditDir } : {}),
      clock,
      log: c.log,
      clusterId: o.clusterId,
      operatorVersion: OPERATOR_VERSION,
      dedupRowsOnOpen: 100_000,
      registry: c.registry,
      onOpen: (sink) => c.reconciler.setAudit(sink && o.auditTap ? tapAudit(sink, o.auditTap) : sink),
    }),
    // Stops after the poller (reverse order): what the last poll noted is written before the client closes.
    runnable(
      'carbonsource readings',
      true,
      () => undefined,
      () => readings.flush(),
    ),
    signalPoller({
      signals: c.signals,
      port: c.port,
      clock,
      tickMs: Math.max(POLL_TICK_MS, 50 * clock.speedup),
      keysFor: (s, r) => servicesOfPair(caches, s, r),
      wake: ctl.wake,
      onError: (e) => c.log.warn('carbon poll failed', { error: String(e) }),
      onChanged: readings.note,
    }),
    runnable(
      'carbonsource controller',
      true,
      () => void ctl.source.start(),
      () => ctl.source.stop(),
    ),
    runnable(
      'inferenceservice controller',
      true,
      () => void ctl.isvc.start(),
      () => ctl.isvc.stop(),
    ),
    accountingRunnable(new Accountant(c.reconciler.ctx), clock, o.accountingIntervalMs, c.log),
    ...attestorOf(c),
  );
  return manager;
}

export async function startOperator(o: OperatorOptions): Promise<RunningOperator> {
  const core = buildCore(o);
  const ctl = buildControllers(core);
  const health = await startHealthServer({
    addr: o.healthAddr,
    registry: core.registry,
    caches: core.caches.all,
    beforeMetrics: () => core.metrics.queueDepth.set(ctl.isvc.depth),
  });
  core.log.info('health and metrics listening', { port: health.port });
  const manager = buildManager(core, ctl);
  await manager.start();
  await Promise.all(core.caches.all.map((c) => c.waitForSync()));
  core.log.info('caches synced', {
    inferenceServices: core.caches.isvcs.list().length,
    carbonSources: core.caches.carbonSources.list().length,
  });
  if (o.leaderElect)
    core.log.info('campaigning for the leader lease (a standby keeps warm caches)', { identity: o.identity });
  const closeAll = async () => {
    await health.close();
    await core.events.drain(EVENT_DRAIN_MS);
    core.client.close();
  };
  const stop = async () => {
    await manager.stop();
    await closeAll();
  };
  const done = manager.done.then(async (code) => (await closeAll(), code));
  const { client, reconciler, signals, clock } = core;
  return { stop, healthPort: health.port, client, reconciler, signals, clock, done };
}

/** The attestor, leader only, stopped before the audit sink closes (wiring/attestor-runnable.ts). */
function attestorOf(c: Core) {
  const { o } = c;
  if (!o.attestation) return [];
  if (!o.auditDir) {
    c.log.warn('--attestation-key-secret needs --audit-dir: nothing is attested');
    return [];
  }
  const byUid = (uid: string) => c.caches.isvcs.list().find((x) => x.metadata?.uid === uid);
  return [
    attestorRunnable({
      dir: o.auditDir,
      clock: c.clock,
      client: c.client,
      namespace: o.namespace,
      flags: o.attestation,
      operatorVersion: OPERATOR_VERSION,
      sloOf: (uid) => (byUid(uid)?.spec as { slo?: { latencyP95Ms?: number } } | undefined)?.slo?.latencyP95Ms,
      serviceOf: (uid) => {
        const x = byUid(uid);
        return x?.metadata?.name && x.metadata.namespace
          ? { namespace: x.metadata.namespace, name: x.metadata.name, apiVersion: API_VERSION, kind: KIND }
          : undefined;
      },
      events: c.reconciler.ctx.ports.events,
      log: c.log,
    }),
  ];
}

function both<T>(a: (x: T) => void, b?: (x: T) => void): (x: T) => void {
  return b ? (x) => (a(x), b(x)) : a;
}

/** Usage rows at every accounting boundary on the clock (leader only). */
function accountingRunnable(a: Accountant, clock: OperatorClock, periodMs: number, log: winston.Logger) {
  let cancel: (() => void) | undefined;
  let running: Promise<unknown> = Promise.resolve();
  return runnable(
    'accountant',
    true,
    () => {
      cancel = onEveryBoundary(clock, periodMs, (t) => {
        running = running
          .then(() => a.accountDue(t))
          .catch((e: unknown) => log.error('accounting failed', { error: String(e) }));
      });
    },
    async () => {
      cancel?.();
      await running;
    },
  );
}

/** Installs the CRDs (server-side apply) and waits until they are served. */
export async function installCrds(kc: KubeConfig): Promise<void> {
  const client = new KubeClient(kc);
  try {
    await installCrdsWith(client);
  } finally {
    client.close();
  }
}

/** The clock: the wall clock, or a replay (the embedded default: EMBEDDED_SPEEDUP from a rule over its trace). */
export function clockFor(f: OperatorFlags, embedded: boolean): OperatorClock {
  const speedup = f.clockSpeedup ?? (embedded ? EMBEDDED_SPEEDUP : 1);
  if (speedup === 1 && f.clockStart === undefined) return operatorWallClock();
  const start =
    f.clockStart === undefined || f.clockStart === 'auto'
      ? replayStartFor(loadTrace(f.clockTrace ?? EMBEDDED_TRACE_FILE).points)
      : f.clockStart;
  return replayClock(start, speedup);
}
