// `carbonscale operator`: wires the caches, the work queue, the carbon signal, demand, policy, audit and the
// health/metrics server, then reconciles while it holds the leader lease.
//   - with --kubeconfig / $KUBECONFIG, or in a pod (in-cluster), against that cluster;
//   - with --embedded, or with no cluster configuration at all, against a local control plane it starts itself
//     (3 fake GPU nodes × 8 GPUs, the CRDs, a replayed real carbon trace and the example services).
import { readFileSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { Registry, collectDefaultMetrics } from 'prom-client';
import winston from 'winston';
import type { InferenceService } from './api/types.ts';
import { renderCrds } from './api/crds.ts';
import { load as loadYamlRaw, loadAll as loadAllYamlRaw } from 'js-yaml';
import { CarbonSignalService } from './carbon/signal-service.ts';
import { createProvider } from './carbon/create-provider.ts';
import { validateCarbonSourceSpec } from './carbon/config.ts';
import { credentialsFromEnv, type Credentials } from './carbon/secret.ts';
import { startPolling } from './carbon/polling-schedule.ts';
import { decide } from './decision/index.ts';
import {
  StaticDemandSource,
  TraceDemandSource,
  PrometheusDemandSource,
  ScrapeDemandSource,
  hourlyCountsToRps,
  type DemandSource,
} from './demand/index.ts';
import { MemoryAuditSink, type AuditSink } from './audit/sink.ts';
import { ParquetAuditSink } from './audit/parquet-sink.ts';
import { EventRecorder } from './kube/events.ts';
import { KubeClient, objectPath, Resources, type KubeObject } from './kube/kube-client.ts';
import { LeaderElector } from './kube/leader-election.ts';
import { Reflector } from './kube/reflector.ts';
import { WorkQueue } from './kube/work-queue.ts';
import { OperatorMetrics } from './reconciler/metrics.ts';
import { Reconciler, type DemandReading, type SignalPort } from './reconciler/reconciler.ts';
import type { SignalView } from './reconciler/pure.ts';
import { Label, MODEL_SERVER_PORT } from './constants.ts';

export const OPERATOR_VERSION = '0.1.0';
const ROOT = resolve(import.meta.dirname, '..');

export interface OperatorOptions {
  kc: k8s.KubeConfig;
  namespace: string;
  leaderElect: boolean;
  identity: string;
  healthAddr: string;
  auditDir?: string;
  clusterId: string;
  logLevel: string;
  modelServerImage?: string;
  accountingIntervalMs: number;
  now?: () => number;
  /** Count writes (tests). */
  onWrite?: (method: string, path: string) => void;
}

export interface RunningOperator {
  stop(): Promise<void>;
  healthPort: number;
  client: KubeClient;
  reconciler: Reconciler;
  signals: CarbonSignalService;
  done: Promise<number>;
}

function makeLogger(level: string) {
  return winston.createLogger({
    level,
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Console()],
  });
}

export async function startOperator(o: OperatorOptions): Promise<RunningOperator> {
  const now = o.now ?? Date.now;
  const log = makeLogger(o.logLevel);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = new OperatorMetrics(registry);
  const client = new KubeClient(o.kc, o.onWrite ? { onWrite: o.onWrite } : {});
  const rlog = (level: 'info' | 'warn', msg: string, meta?: Record<string, unknown>) => log.log(level, msg, meta);

  // eslint-disable-next-line prefer-const -- assigned after the reflectors that enqueue into it
  let queue: WorkQueue | undefined;
  let elector: LeaderElector | undefined;
  const enqueue = (key: string) => queue?.add(key);
  const isvcs = new Reflector<KubeObject>(client, Resources.inferenceService, { onChange: enqueue, log: rlog, now });
  // Owned children: a change to a Deployment wakes its InferenceService (same namespace/name).
  const deployments = new Reflector<KubeObject>(client, Resources.deployment, {
    labelSelector: `${Label.managedBy}=carbonscale`,
    onChange: enqueue,
    log: rlog,
    now,
  });
  const pods = new Reflector<KubeObject>(client, Resources.pod, {
    onChange: (key) => {
      const p = pods.get(key);
      const svc = p?.metadata?.labels?.[Label.service];
      if (svc) enqueue(`${key.split('/')[0]}/${svc}`); // pod key is namespace/pod; the service shares the namespace
    },
    log: rlog,
    now,
  });
  const nodes = new Reflector<KubeObject>(client, Resources.node, { onChange: () => undefined, log: rlog, now });

  // Carbon signal.
  const signals = new CarbonSignalService({
    now,
    registry,
    logger: log,
    onChange: (ch) => {
      for (const i of isvcs.list()) {
        const s = (i as unknown as InferenceService).spec;
        if ((s?.carbon?.sourceRef ?? 'default') === ch.sourceName && s?.carbon?.region === ch.region)
          enqueue(keyOfObj(i));
      }
    },
  });
  const sourceErrors = new Map<string, string>();
  const loadSource = async (name: string) => {
    const obj = carbonSources.get(name);
    if (!obj) {
      signals.removeSource(name);
      return;
    }
    const { spec, errors } = validateCarbonSourceSpec(obj.spec);
    if (!spec) {
      sourceErrors.set(name, errors.join('; '));
      log.warn('CarbonSource is invalid', { carbonSource: name, errors });
      await writeSourceStatus(obj, false, 'InvalidSpec', errors.join('; '));
      return;
    }
    let creds: Credentials | undefined;
    try {
      creds = await resolveCredentials(client, spec, o.namespace);
    } catch (e) {
      const msg = `credentials: ${(e as Error).message}`;
      sourceErrors.set(name, msg);
      await writeSourceStatus(obj, false, 'CredentialsUnavailable', msg);
      return;
    }
    if (spec.trace && !spec.trace.file.startsWith('/')) spec.trace.file = join(ROOT, spec.trace.file);
    signals.setSource(name, spec, createProvider(spec, creds, { now }));
    sourceErrors.delete(name);
    await writeSourceStatus(obj, true, 'Valid', `provider ${spec.provider}`);
    void signals.refresh(now()).then(() => {
      for (const i of isvcs.list()) enqueue(keyOfObj(i));
    });
  };
  const writeSourceStatus = async (obj: KubeObject, ok: boolean, reason: string, message: string) => {
    const conds = ((obj.status as { conditions?: Array<Record<string, unknown>> })?.conditions ?? []).find(
      (c) => c.type === 'Valid',
    );
    if (conds && conds.status === (ok ? 'True' : 'False') && conds.message === message) return;
    if (!elector || elector.isLeader)
      try {
        await client.applyStatus(objectPath(Resources.carbonSource, obj.metadata!.name!), {
          apiVersion: 'carbonscale.dev/v1alpha1',
          kind: 'CarbonSource',
          metadata: { name: obj.metadata!.name },
          status: {
            observedGeneration: obj.metadata?.generation,
            conditions: [
              {
                type: 'Valid',
                status: ok ? 'True' : 'False',
                reason,
                message,
                lastTransitionTime: new Date(now()).toISOString(),
              },
            ],
          },
        });
      } catch (e) {
        log.warn('could not write CarbonSource status', {
          carbonSource: obj.metadata?.name,
          error: (e as Error).message,
        });
      }
  };
  const carbonSources: Reflector<KubeObject> = new Reflector<KubeObject>(client, Resources.carbonSource, {
    onChange: (name) =>
      void loadSource(name).catch((e) => log.error('loading CarbonSource failed', { name, error: String(e) })),
    log: rlog,
    now,
  });
  const signalPort: SignalPort = {
    register: (s, r) => signals.register(s, r),
    unregister: (s, r) => signals.unregister(s, r),
    get: (s, r): SignalView => {
      if (!carbonSources.get(s)) {
        return {
          available: false,
          forecast: null,
          fallbackLevel: 'none',
          reason: `CarbonSource ${s} does not exist: create it, or set spec.carbon.sourceRef`,
          conditionReason: 'SourceNotFound',
        };
      }
      if (sourceErrors.has(s)) {
        return {
          available: false,
          forecast: null,
          fallbackLevel: 'none',
          reason: `CarbonSource ${s} is invalid: ${sourceErrors.get(s)}`,
          conditionReason: 'NoSignal',
        };
      }
      const sig = signals.get(s, r);
      const v: SignalView = {
        available: sig.available,
        forecast: sig.forecast ? sig.forecast.map((p) => ({ timeMs: p.timeMs, valueGPerKWh: p.valueGPerKWh })) : null,
        fallbackLevel: sig.fallbackLevel,
        reason: sig.reason,
        conditionReason: sig.conditionReason,
      };
      if (sig.reading) {
        v.valueGPerKWh = sig.reading.valueGPerKWh;
        v.provider = sig.reading.provider;
        v.signal = sig.reading.signal;
        v.basis = sig.reading.basis;
        v.dataTimeMs = sig.reading.timeMs;
        v.estimated = sig.reading.estimated;
      }
      return v;
    },
  };

  // Demand: one source object per service (scrape keeps per-pod counters between calls).
  const demandSources = new Map<string, { spec: string; src: DemandSource }>();
  const demand = async (isvc: InferenceService, nowMs: number): Promise<DemandReading> => {
    const key = `${isvc.metadata.namespace}/${isvc.metadata.name}`;
    const d = isvc.spec.demand ?? { source: 'scrape' };
    const specKey = JSON.stringify(d);
    let entry = demandSources.get(key);
    if (!entry || entry.spec !== specKey) {
      entry = { spec: specKey, src: makeDemandSource(d, nowMs) };
      demandSources.set(key, entry);
    }
    const podIps = pods
      .list()
      .filter(
        (p) =>
          p.metadata?.namespace === isvc.metadata.namespace &&
          p.metadata?.labels?.[Label.service] === isvc.metadata.name,
      )
      .map((p) => (p.status as { podIP?: string })?.podIP)
      .filter((x): x is string => !!x)
      .map((ip) => `${ip}:${MODEL_SERVER_PORT}`);
    const windowMs = Math.min(300_000, (isvc.spec.policy?.intervalSeconds ?? 300) * 1000);
    const s = await entry.src.demand(
      { namespace: isvc.metadata.namespace, name: isvc.metadata.name, podIps },
      windowMs,
      nowMs,
    );
    return { rps: s.requestsPerSecond, source: s.source, sampledAtMs: s.sampledAtMs };
  };

  // The audit directory is opened by the leader only (in startActing): a standby replaying the journal of a
  // shared volume while the leader appends to it could duplicate records.
  let audit: AuditSink | undefined;

  const events = new EventRecorder(client, { now, instance: o.identity });
  const reconciler = new Reconciler({
    client,
    isvcs,
    deployments,
    pods,
    nodes,
    signals: signalPort,
    demand,
    decide,
    events,
    metrics,
    now,
    log,
    clusterId: o.clusterId,
    operatorVersion: OPERATOR_VERSION,
    ...(o.modelServerImage ? { modelServerImage: o.modelServerImage } : {}),
  });
  queue = new WorkQueue(
    async (key) => {
      metrics.queueDepth.set(queue!.depth);
      try {
        const r = await reconciler.reconcile(key);
        metrics.reconciles.inc({ result: 'ok' });
        return r;
      } catch (e) {
        metrics.reconciles.inc({ result: 'error' });
        throw e;
      }
    },
    {
      onError: (key, err, retry) => {
        metrics.errors.inc({ reason: (err as Error).name === 'TerminalError' ? 'TerminalError' : 'ReconcileError' });
        log.warn('reconcile failed', { key, error: (err as Error).message, retryInMs: retry });
      },
    },
  );

  const reflectors = [carbonSources, isvcs, deployments, pods, nodes];
  for (const r of reflectors) r.start();

  // Health: liveness fails when a cache has heard nothing for far longer than a watch may stay silent.
  const STALE_MS = 10 * 60_000;
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (url === '/healthz') {
      const stale = reflectors
        .filter((r) => r.synced && now() - r.lastActivityMs > STALE_MS)
        .map((r) => r.resource.plural);
      res.writeHead(stale.length ? 500 : 200, { 'content-type': 'text/plain' });
      res.end(stale.length ? `stale caches: ${stale.join(', ')}\n` : 'ok\n');
    } else if (url === '/readyz') {
      const unsynced = reflectors.filter((r) => !r.synced).map((r) => r.resource.plural);
      res.writeHead(unsynced.length ? 503 : 200, { 'content-type': 'text/plain' });
      res.end(unsynced.length ? `caches not synced: ${unsynced.join(', ')}\n` : 'ok\n');
    } else if (url === '/metrics') {
      for (const r of reflectors)
        metrics.staleness.set({ resource: r.resource.plural }, r.synced ? (now() - r.lastActivityMs) / 1000 : -1);
      metrics.queueDepth.set(queue!.depth);
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(text);
        },
        () => {
          res.writeHead(500);
          res.end();
        },
      );
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  const [host, portS] = splitAddr(o.healthAddr);
  await new Promise<void>((r) => server.listen(Number(portS), host, r));
  const healthPort = (server.address() as { port: number }).port;
  log.info('health and metrics listening', { addr: `${host}:${healthPort}` });

  await Promise.all(reflectors.map((r) => r.waitForSync()));
  log.info('caches synced; watching InferenceServices and CarbonSources', {
    inferenceServices: isvcs.list().length,
    carbonSources: carbonSources.list().length,
  });

  const polling = startPolling(signals, { now, onError: (e) => log.warn('carbon poll failed', { error: String(e) }) });
  let accounting: NodeJS.Timeout | undefined;
  let lastAccount = now();
  const startActing = async () => {
    try {
      audit = o.auditDir ? await ParquetAuditSink.open(o.auditDir, { now }) : new MemoryAuditSink();
    } catch (e) {
      // Never crash on the audit trail: keep operating, say so, and account in memory.
      log.error('audit directory unusable; records are held in memory only', {
        dir: o.auditDir,
        error: (e as Error).message,
      });
      audit = new MemoryAuditSink();
    }
    reconciler.setAudit(audit);
    queue!.start();
    for (const i of isvcs.list()) enqueue(keyOfObj(i));
    accounting = setInterval(() => {
      const t = now();
      void reconciler.account(lastAccount, t).catch((e) => log.error('accounting failed', { error: String(e) }));
      lastAccount = t;
    }, o.accountingIntervalMs);
    accounting.unref();
  };

  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    polling.stop();
    if (accounting) clearInterval(accounting);
    await elector?.stop();
    await queue!.stop();
    for (const r of reflectors) r.stop();
    await audit?.close();
    await new Promise<void>((r) => server.close(() => r()));
    server.closeAllConnections?.();
    resolveDone(0);
  };

  if (o.leaderElect) {
    elector = new LeaderElector(client, {
      namespace: o.namespace,
      name: 'carbonscale-operator',
      identity: o.identity,
      now,
      log: rlog,
      onStartedLeading: () => void startActing(),
      onStoppedLeading: () => {
        // Stop acting at once and exit: a fresh process rejoins as a standby.
        log.error('lost leadership: exiting');
        void stop().then(() => resolveDone(1));
      },
    });
    elector.start();
    log.info('waiting for the leader lease (standby keeps warm caches)', { identity: o.identity });
  } else await startActing();

  return { stop, healthPort, client, reconciler, signals, done };
}

function keyOfObj(o: KubeObject): string {
  return `${o.metadata?.namespace}/${o.metadata?.name}`;
}

function splitAddr(a: string): [string, string] {
  const i = a.lastIndexOf(':');
  return [a.slice(0, i) || '0.0.0.0', a.slice(i + 1)];
}

function makeDemandSource(d: InferenceService['spec']['demand'], nowMs: number): DemandSource {
  switch (d.source) {
    case 'static':
      return new StaticDemandSource({ requestsPerSecond: d.staticRps ?? 0 });
    case 'trace': {
      const file = d.trace!.file.startsWith('/') ? d.trace!.file : join(ROOT, d.trace!.file);
      const text = readFileSync(file, 'utf8');
      const header = text
        .slice(0, text.indexOf('\n'))
        .split(',')
        .map((h) => h.trim());
      const column = header[header.length - 1]!;
      const series = hourlyCountsToRps(text, column);
      const peak = Math.max(...series);
      const scaled = series.map((v) => (peak > 0 ? (v * d.trace!.peakRps) / peak : 0));
      const start = new Date(nowMs);
      return new TraceDemandSource({
        hourlyRequestsPerSecond: scaled,
        startMs: Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate()),
        label: d.trace!.file,
      });
    }
    case 'prometheus':
      return new PrometheusDemandSource({ url: d.prometheusUrl! });
    default:
      return new ScrapeDemandSource({ port: MODEL_SERVER_PORT });
  }
}

async function resolveCredentials(
  client: KubeClient,
  spec: NonNullable<ReturnType<typeof validateCarbonSourceSpec>['spec']>,
  operatorNamespace: string,
): Promise<Credentials | undefined> {
  if (spec.credentialsFromEnv) {
    const { credentials, errors } = credentialsFromEnv(spec.credentialsFromEnv, process.env);
    if (errors.length) throw new Error(errors.join('; '));
    return credentials;
  }
  const ref = spec.credentialsSecretRef;
  if (!ref) return undefined;
  const ns = ref.namespace ?? operatorNamespace;
  const secret = await client.get<{ data?: Record<string, string> }>(objectPath(Resources.secret, ref.name, ns));
  const read = (k: string) => {
    const v = secret.data?.[k];
    return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
  };
  const c: Credentials = {};
  const apiKey = read(ref.apiKeyKey ?? 'apiKey');
  const username = read(ref.usernameKey ?? 'username');
  const password = read(ref.passwordKey ?? 'password');
  if (apiKey !== undefined) c.apiKey = apiKey;
  if (username !== undefined) c.username = username;
  if (password !== undefined) c.password = password;
  return c;
}

/** Installs the CRDs (server-side apply) and waits until they are served. */
export async function installCrds(kc: k8s.KubeConfig): Promise<void> {
  const client = new KubeClient(kc);
  const crdRes = {
    group: 'apiextensions.k8s.io',
    version: 'v1',
    plural: 'customresourcedefinitions',
    kind: 'CustomResourceDefinition',
    namespaced: false,
  };
  for (const text of Object.values(renderCrds())) {
    const crd = loadYamlRaw(text) as KubeObject;
    await client.apply(objectPath(crdRes, crd.metadata!.name!), crd);
  }
  for (const text of Object.values(renderCrds())) {
    const crd = loadYamlRaw(text) as KubeObject;
    for (let i = 0; i < 100; i++) {
      const got = await client.get<{ status?: { conditions?: Array<{ type: string; status: string }> } }>(
        objectPath(crdRes, crd.metadata!.name!),
      );
      if (got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Applies every object of a multi-document YAML file (server-side apply, as the given namespace's default). */
export async function applyYamlFile(kc: k8s.KubeConfig, file: string, namespace = 'default'): Promise<string[]> {
  const api = k8s.KubernetesObjectApi.makeApiClient(kc);
  const out: string[] = [];
  for (const doc of loadAllYamlRaw(readFileSync(file, 'utf8')) as k8s.KubernetesObject[]) {
    if (!doc?.kind) continue;
    if (!doc.metadata) doc.metadata = {};
    if (doc.kind !== 'CarbonSource' && !doc.metadata.namespace) doc.metadata.namespace = namespace;
    await api.patch(doc, undefined, undefined, 'carbonscale-embedded', true, k8s.PatchStrategy.ServerSideApply);
    out.push(`${doc.kind}/${doc.metadata.name}`);
  }
  return out;
}

async function embedded(argsLog: string) {
  const { LocalControlPlane } = await import('./local-cluster/control-plane.ts');
  const log = makeLogger(argsLog);
  log.info(
    'no cluster configured: starting an embedded control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok)',
  );
  const cp = await new LocalControlPlane({ full: true, log: (m) => log.info(m) }).start();
  await cp.createGpuNodes(
    [0, 1, 2].map((i) => ({ name: `gpu-node-${i}`, gpus: 8, gpuProduct: 'NVIDIA-A100-SXM4-80GB' })),
  );
  const kc = cp.adminConfig();
  await installCrds(kc);
  const examples = join(ROOT, 'examples', 'embedded');
  const applied: string[] = [];
  for (const f of ['carbon-source.yaml', 'services.yaml']) {
    if (existsSync(join(examples, f))) applied.push(...(await applyYamlFile(kc, join(examples, f))));
  }
  log.info('embedded cluster ready', { kubeconfig: cp.kubeconfigPath, nodes: 3, gpusPerNode: 8, applied });
  log.info(`inspect it with: KUBECONFIG=${cp.kubeconfigPath} kubectl get inferenceservices,deployments,pods -A`);
  return { cp, kc };
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      kubeconfig: { type: 'string' },
      embedded: { type: 'boolean', default: false },
      namespace: { type: 'string' },
      'leader-elect': { type: 'string' },
      'health-addr': { type: 'string', default: '0.0.0.0:8081' },
      'audit-dir': { type: 'string' },
      'cluster-id': { type: 'string' },
      'log-level': { type: 'string', default: process.env.LOG_LEVEL ?? 'info' },
      'model-server-image': { type: 'string' },
      'accounting-interval-seconds': { type: 'string', default: '60' },
      'exit-after-seconds': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(
      'usage: carbonscale operator [--kubeconfig PATH | --embedded] [--namespace NS] [--leader-elect true|false]\n' +
        '  [--health-addr HOST:PORT] [--audit-dir DIR] [--cluster-id ID] [--log-level LEVEL] [--model-server-image IMAGE]\n' +
        '  [--accounting-interval-seconds N]\n' +
        'Without --kubeconfig, $KUBECONFIG or an in-cluster service account, an embedded local cluster is started.',
    );
    return 0;
  }
  const accounting = Number(values['accounting-interval-seconds']);
  if (!(accounting >= 1))
    throw new Error(
      `--accounting-interval-seconds: expected a number >= 1, got ${values['accounting-interval-seconds']}`,
    );
  const le = values['leader-elect'];
  if (le !== undefined && le !== 'true' && le !== 'false')
    throw new Error(`--leader-elect: expected true or false, got ${le}`);

  let kc: k8s.KubeConfig;
  let cp: { stop(): Promise<void> } | undefined;
  const inCluster =
    !!process.env.KUBERNETES_SERVICE_HOST && existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token');
  const kubeconfig = values.kubeconfig ?? process.env.KUBECONFIG;
  if (values.embedded || (!kubeconfig && !inCluster)) {
    const e = await embedded(values['log-level']);
    kc = e.kc;
    cp = e.cp;
  } else {
    kc = new k8s.KubeConfig();
    if (kubeconfig) kc.loadFromFile(kubeconfig);
    else kc.loadFromCluster();
  }
  const namespace =
    values.namespace ??
    process.env.POD_NAMESPACE ??
    (inCluster ? readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8').trim() : 'default');
  const op = await startOperator({
    kc,
    namespace,
    leaderElect: le !== undefined ? le === 'true' : inCluster,
    identity: process.env.POD_NAME ?? `${hostname()}-${process.pid}`,
    healthAddr: values['health-addr'],
    ...(values['audit-dir'] ? { auditDir: values['audit-dir'] } : {}),
    clusterId: values['cluster-id'] ?? process.env.CARBONSCALE_CLUSTER_ID ?? 'local',
    logLevel: values['log-level'],
    ...(values['model-server-image'] ? { modelServerImage: values['model-server-image'] } : {}),
    accountingIntervalMs: accounting * 1000,
  });
  const shutdown = () => void op.stop();
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  if (values['exit-after-seconds']) setTimeout(shutdown, Number(values['exit-after-seconds']) * 1000).unref();
  const code = await op.done;
  await cp?.stop();
  return code;
}
