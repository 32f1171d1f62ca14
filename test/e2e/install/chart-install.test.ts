// The install paths against a real control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok GPU
// nodes), one control plane for the whole file, steps in order:
//   helm lint → helm template passes kubectl apply --dry-run=server → helm install creates everything →
//   the operator, started from the Dockerfile's operator stage replayed into a folder, runs with the chart's
//   ServiceAccount (a real TokenRequest token) and reconciles the examples onto the GPU nodes → everything the
//   operator does not need is refused → helm upgrade rolls the operator → helm uninstall leaves only the CRDs and
//   the audit PVC → the plain manifests install the same objects.
import { expect } from 'chai';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { ManagedProcess, freePort } from '../../../operator/local-cluster/processes.ts';
import { statusOf, useControlPlane, waitFor } from '../../support/cluster.ts';
import { CHART, ROOT, helmBin, kubectlBin, run, type RunResult } from '../../unit/install/tools.ts';
import { buildImageFolders, localCommand, type BuiltImage } from './image-folder.ts';

const NS = 'carbonscale-system';
const RELEASE = 'carbonscale';
const SA = 'carbonscale'; // fullname of release "carbonscale"
const GPU_NODES = ['gpu-0', 'gpu-1', 'gpu-2'];

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } } & Record<
  string,
  unknown
>;
const idOf = (o: Obj) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('e2e: install with Helm and plain manifests, least privilege, the image command', function () {
  this.timeout(180_000);
  const cluster = useControlPlane({ full: true });
  const work = mkdtempSync(join(tmpdir(), 'carbonscale-install-'));
  let helm = '';
  let kubectl = '';
  let images: Record<string, BuiltImage> = {};
  let operator: ManagedProcess | undefined;
  let healthPort = 0;
  let helmManifest: Obj[] = [];
  let helmClusterRole: unknown;

  const env = () => ({ ...process.env, KUBECONFIG: cluster().cp.kubeconfigPath });
  const sh = (bin: string, args: string[], input?: string): RunResult =>
    run(bin, args, { env: env(), ...(input !== undefined ? { input } : {}) });
  const ok = (r: RunResult, what: string) => {
    expect(r.code, `${what}:\n${r.stdout}\n${r.stderr}`).to.equal(0);
    return r.stdout;
  };
  const docs = (yaml: string) =>
    k8s.loadAllYaml(yaml).filter((d): d is Obj => !!d && typeof d === 'object' && 'kind' in d);

  before(async function () {
    this.timeout(300_000);
    const h = helmBin();
    const k = kubectlBin();
    if (!h || !k) throw new Error('helm/kubectl not found: export KUBEBUILDER_ASSETS (scripts/build-k8s-binaries.sh)');
    helm = h;
    kubectl = k;
    await cluster().cp.createGpuNodes(GPU_NODES.map((name) => ({ name, gpus: 8 })));
    // A volume for the audit claim to bind to (the control plane has no storage provisioner).
    await cluster().core.createPersistentVolume({
      body: {
        metadata: { name: 'audit-pv' },
        spec: {
          capacity: { storage: '5Gi' },
          accessModes: ['ReadWriteOnce'],
          hostPath: { path: join(work, 'audit-pv') },
          persistentVolumeReclaimPolicy: 'Retain',
        },
      },
    });
    images = buildImageFolders(['operator', 'model-server'], join(work, 'images'));
  });

  after(async function () {
    // The two replayed images hold ~40k files (node_modules): deleting them takes a while on a busy disk.
    this.timeout(180_000);
    await operator?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('helm lint is clean', () => {
    const out = ok(sh(helm, ['lint', '--strict', CHART]), 'helm lint');
    expect(out).to.not.match(/\[(WARNING|ERROR)\]/);
  });

  it('helm template output (CRDs included) passes kubectl apply --dry-run=server', () => {
    const rendered = ok(
      sh(helm, [
        'template',
        RELEASE,
        CHART,
        '--namespace',
        'default',
        '--include-crds',
        '--set',
        'networkPolicy.enabled=true',
      ]),
      'helm template',
    );
    const out = ok(sh(kubectl, ['apply', '--dry-run=server', '-f', '-'], rendered), 'kubectl apply --dry-run=server');
    for (const kind of ['customresourcedefinition', 'clusterrole', 'role', 'deployment', 'service', 'networkpolicy'])
      expect(out).to.match(new RegExp(`^${kind}[./]\\S+ (created|configured|unchanged) \\(server dry run\\)$`, 'm'));
  });

  it('helm install creates every object of the chart, and the operator Deployment becomes available', () => {
    const installed = ok(
      sh(helm, ['install', RELEASE, CHART, '-n', NS, '--create-namespace', '--wait', '--timeout', '120s']),
      'helm install',
    );
    // NOTES.txt tells the user what to do next: check the rollout, add a carbon source, declare a service, CRDs.
    const notes = installed.slice(installed.indexOf('NOTES:'));
    for (const next of [
      `rollout status deployment/carbonscale`,
      'kubectl get carbonsources',
      'examples/eco.yaml',
      'PersistentVolumeClaim carbonscale-audit (kept by `helm uninstall`)',
      'kubectl apply --server-side -f charts/carbonscale/crds/',
    ])
      expect(notes).to.include(next);
    process.stdout.write(
      `      helm install NOTES (first lines):\n${notes
        .split('\n')
        .slice(0, 6)
        .map((l) => `        ${l}`)
        .join('\n')}\n`,
    );
    helmManifest = docs(ok(sh(helm, ['get', 'manifest', RELEASE, '-n', NS]), 'helm get manifest'));
    const kinds = new Set(helmManifest.map((o) => o.kind));
    for (const k of [
      'ServiceAccount',
      'ClusterRole',
      'ClusterRoleBinding',
      'Role',
      'RoleBinding',
      'Deployment',
      'Service',
      'PersistentVolumeClaim',
      'ConfigMap',
    ])
      expect(kinds, k).to.include(k);
    for (const o of helmManifest) {
      const ns = o.metadata.namespace ? ['-n', o.metadata.namespace] : [];
      ok(sh(kubectl, ['get', o.kind.toLowerCase(), o.metadata.name, ...ns]), `get ${idOf(o)}`);
    }
    for (const crd of ['inferenceservices.carbonscale.dev', 'carbonsources.carbonscale.dev'])
      ok(sh(kubectl, ['wait', '--for=condition=Established', `crd/${crd}`, '--timeout=30s']), crd);
    helmClusterRole = (helmManifest.find((o) => o.kind === 'ClusterRole') as Obj).rules;
  });

  it('the operator (the image command, from the replayed operator stage) runs with the chart ServiceAccount token and reconciles the examples onto the GPU nodes', async function () {
    this.timeout(240_000);
    const { cp, core, apps, kc } = cluster();
    const { path: saKubeconfig } = await cp.serviceAccountConfig(NS, SA);
    healthPort = await freePort();
    const cmd = localCommand(images.operator!, [
      ...images.operator!.cmd,
      '--kubeconfig',
      saKubeconfig,
      '--namespace',
      NS,
      '--leader-elect=true',
      `--health-addr=127.0.0.1:${healthPort}`,
      `--audit-dir=${join(work, 'audit')}`,
      '--accounting-interval-seconds=5',
    ]);
    const { KUBECONFIG: _k, KUBERNETES_SERVICE_HOST: _h, ...cleanEnv } = process.env;
    operator = new ManagedProcess('operator', cmd.bin, cmd.args, join(work, 'operator.log'), {
      ...cleanEnv,
      POD_NAME: 'operator-under-test',
    });
    const show = async () => operator!.logTail(20);
    await waitFor(
      'operator /readyz 200 (every cache listed and watched under the chart RBAC)',
      async () =>
        operator!.running
          ? (await httpGet(healthPort, '/readyz')).status === 200
          : Promise.reject(new Error(operator!.logTail(20))),
      { timeoutMs: 60_000, show },
    );
    for (const ns of ['digits', 'trial']) await core.createNamespace({ body: { metadata: { name: ns } } });
    ok(sh(kubectl, ['apply', '-f', join(ROOT, 'examples', 'carbon-source-default.yaml')]), 'default CarbonSource');
    // Every provider's example (their Secrets live in carbonscale-system): the API accepts them all.
    for (const f of readdirSync(join(ROOT, 'examples', 'carbon-sources')).filter((x) => x.endsWith('.yaml')))
      ok(sh(kubectl, ['apply', '-f', join(ROOT, 'examples', 'carbon-sources', f)]), f);
    ok(sh(kubectl, ['apply', '-n', 'digits', '-f', join(ROOT, 'examples', 'premium.yaml')]), 'premium.yaml');
    ok(sh(kubectl, ['apply', '-n', 'digits', '-f', join(ROOT, 'examples', 'eco.yaml')]), 'eco.yaml');
    ok(sh(kubectl, ['apply', '-n', 'trial', '-f', join(ROOT, 'examples', 'observe-trial.yaml')]), 'observe-trial.yaml');

    for (const name of ['digits-premium', 'digits-eco']) {
      const pods = await waitFor(
        `${name}: a Deployment whose pods all run on the GPU nodes`,
        async () => {
          const dep = await apps.readNamespacedDeployment({ name, namespace: 'digits' });
          const want = dep.spec?.replicas ?? 0;
          const items = (
            await core.listNamespacedPod({
              namespace: 'digits',
              labelSelector: `carbonscale.dev/inference-service=${name}`,
            })
          ).items;
          const running = items.filter((p) => p.status?.phase === 'Running');
          return want > 0 && running.length === want && items.length === want ? running : undefined;
        },
        { timeoutMs: 120_000, show: async () => ({ log: operator!.logTail(15) }) },
      );
      for (const p of pods) {
        expect(GPU_NODES).to.include(p.spec?.nodeName);
        expect(p.spec?.containers[0]?.resources?.limits?.['nvidia.com/gpu']).to.equal('1');
      }
    }
    const premium = await apps.readNamespacedDeployment({ name: 'digits-premium', namespace: 'digits' });
    expect(premium.spec?.replicas).to.be.at.least(2); // replicas.min of the premium example

    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    const status = async (ns: string, name: string) =>
      (
        (await custom.getNamespacedCustomObject({
          group: 'carbonscale.dev',
          version: 'v1alpha1',
          namespace: ns,
          plural: 'inferenceservices',
          name,
        })) as {
          status?: { conditions?: Array<{ type: string; status: string; reason: string }> };
        }
      ).status;
    const ready = await waitFor('observe-mode trial: Ready/ObserveMode', async () =>
      (await status('trial', 'digits-trial'))?.conditions?.find(
        (c) => c.type === 'Ready' && c.reason === 'ObserveMode',
      ),
    );
    expect(ready.status).to.equal('True');
    const trialDeps = await apps.listNamespacedDeployment({ namespace: 'trial' });
    expect(trialDeps.items, 'observe mode never touches the workload').to.have.length(0);

    // Secret get through the Role: the Electricity Maps source resolves its credentials (polling then fails
    // offline, which is not what this checks).
    const valid = await waitFor('CarbonSource electricity-maps: Valid=True (its Secret was read)', async () => {
      const cs = (await custom.getClusterCustomObject({
        group: 'carbonscale.dev',
        version: 'v1alpha1',
        plural: 'carbonsources',
        name: 'electricity-maps',
      })) as {
        status?: { conditions?: Array<{ type: string; status: string; message: string }> };
      };
      return cs.status?.conditions?.find((c) => c.type === 'Valid');
    });
    expect(valid.status, valid.message).to.equal('True');
    // carbonsources/status patch through the ClusterRole: the default source shows the reading the services use.
    const reading = await waitFor('CarbonSource default: status.readings for region DE', async () => {
      const cs = (await custom.getClusterCustomObject({
        group: 'carbonscale.dev',
        version: 'v1alpha1',
        plural: 'carbonsources',
        name: 'default',
      })) as { status?: { readings?: Array<{ region: string; valueGPerKWh: number; unit: string }> } };
      return cs.status?.readings?.find((r) => r.region === 'DE');
    });
    expect(reading.unit).to.equal('gCO2eq/kWh');
    expect(reading.valueGPerKWh).to.be.above(0);

    // The Lease in its own namespace, and Events (events.k8s.io) about the services.
    const lease = await kc
      .makeApiClient(k8s.CoordinationV1Api)
      .readNamespacedLease({ name: 'carbonscale-operator', namespace: NS });
    expect(lease.spec?.holderIdentity).to.equal('operator-under-test');
    const events = await kc.makeApiClient(k8s.EventsV1Api).listNamespacedEvent({ namespace: 'digits' });
    expect(
      events.items.some(
        (e) => e.reportingController?.includes('carbonscale') || e.regarding?.kind === 'InferenceService',
      ),
    ).to.equal(true);

    // Nothing it attempted was refused: no 403 for its identity in the API server's audit log, none in its log.
    const user = `system:serviceaccount:${NS}:${SA}`;
    const refused = cp
      .auditEvents()
      .filter(
        (e) =>
          (e.user as { username?: string })?.username === user && (e.responseStatus as { code?: number })?.code === 403,
      );
    expect(refused.map((e) => `${e.verb} ${e.requestURI}`)).to.deep.equal([]);
    expect(operator.logTail(100000)).to.not.match(/forbidden/i);
  });

  it('the model server command starts from the replayed model-server stage (onnxruntime-node for linux/x64 only)', async () => {
    const img = images['model-server']!;
    const bins = join(img.dir, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6');
    expect(readdirSync(bins)).to.deep.equal(['linux']);
    expect(readdirSync(join(bins, 'linux'))).to.deep.equal(['x64']);
    expect(readdirSync(join(images.operator!.dir, 'node_modules'))).to.not.include('onnxruntime-node');
    const port = await freePort();
    const cmd = localCommand(img, [
      ...img.cmd.map((a) => (a.startsWith('/app/') ? join(img.dir, a.slice(5)) : a)),
      '--port',
      String(port),
    ]);
    const server = new ManagedProcess('model-server', cmd.bin, cmd.args, join(work, 'model-server.log'));
    try {
      await waitFor(
        'model server /v2/health/live 200',
        async () =>
          server.running
            ? (await httpGet(port, '/v2/health/live')).status === 200
            : Promise.reject(new Error(server.logTail(10))),
        { timeoutMs: 30_000, show: async () => server.logTail(10) },
      );
      const meta = await httpGet(port, '/v2/models/digits');
      expect(meta.status, meta.body).to.equal(200);
    } finally {
      await server.stop();
    }
  });

  it('the chart identity is refused everything the operator does not need', async () => {
    const { cp, kc } = cluster();
    const { kc: sa } = await cp.serviceAccountConfig(NS, SA);
    const core = sa.makeApiClient(k8s.CoreV1Api);
    const apps = sa.makeApiClient(k8s.AppsV1Api);
    const coord = sa.makeApiClient(k8s.CoordinationV1Api);
    const rbac = sa.makeApiClient(k8s.RbacAuthorizationV1Api);
    const custom = sa.makeApiClient(k8s.CustomObjectsApi);
    // A Lease in another namespace, made by the admin, for the cross-namespace update attempt.
    await kc
      .makeApiClient(k8s.CoordinationV1Api)
      .createNamespacedLease({ namespace: 'default', body: { metadata: { name: 'someone-else' }, spec: {} } });
    const forbidden: Array<[string, () => Promise<unknown>]> = [
      ['list secrets in its own namespace', () => core.listNamespacedSecret({ namespace: NS })],
      ['list secrets cluster-wide', () => core.listSecretForAllNamespaces()],
      [
        'get a secret in another namespace',
        () => core.readNamespacedSecret({ name: 'anything', namespace: 'default' }),
      ],
      ['create a secret', () => core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'x' } } })],
      ['delete pods', () => core.deleteNamespacedPod({ name: 'anything', namespace: 'digits' })],
      [
        'create pods',
        () =>
          core.createNamespacedPod({
            namespace: 'digits',
            body: { metadata: { name: 'x' }, spec: { containers: [{ name: 'x', image: 'x' }] } },
          }),
      ],
      ['pods/exec', () => core.connectPostNamespacedPodExec({ name: 'anything', namespace: 'digits', command: 'sh' })],
      ['delete deployments', () => apps.deleteNamespacedDeployment({ name: 'digits-eco', namespace: 'digits' })],
      [
        'update a lease in another namespace',
        async () => {
          const l = await kc
            .makeApiClient(k8s.CoordinationV1Api)
            .readNamespacedLease({ name: 'someone-else', namespace: 'default' });
          return coord.replaceNamespacedLease({ name: 'someone-else', namespace: 'default', body: l });
        },
      ],
      [
        'create a lease in another namespace',
        () => coord.createNamespacedLease({ namespace: 'default', body: { metadata: { name: 'x' } } }),
      ],
      ['list leases cluster-wide', () => coord.listLeaseForAllNamespaces()],
      ['delete its own lease', () => coord.deleteNamespacedLease({ name: 'carbonscale-operator', namespace: NS })],
      ['patch nodes', () => core.patchNode({ name: 'gpu-0', body: { metadata: { labels: { x: 'y' } } } })],
      ['delete services', () => core.deleteNamespacedService({ name: 'digits-eco', namespace: 'digits' })],
      [
        'delete configmaps',
        () => core.deleteNamespacedConfigMap({ name: 'digits-eco-carbonscale', namespace: 'digits' }),
      ],
      [
        'create InferenceServices',
        () =>
          custom.createNamespacedCustomObject({
            group: 'carbonscale.dev',
            version: 'v1alpha1',
            namespace: 'digits',
            plural: 'inferenceservices',
            body: {
              apiVersion: 'carbonscale.dev/v1alpha1',
              kind: 'InferenceService',
              metadata: { name: 'x' },
              spec: {},
            },
          }),
      ],
      [
        'delete InferenceServices',
        () =>
          custom.deleteNamespacedCustomObject({
            group: 'carbonscale.dev',
            version: 'v1alpha1',
            namespace: 'digits',
            plural: 'inferenceservices',
            name: 'digits-eco',
          }),
      ],
      [
        'delete CarbonSources',
        () =>
          custom.deleteClusterCustomObject({
            group: 'carbonscale.dev',
            version: 'v1alpha1',
            plural: 'carbonsources',
            name: 'default',
          }),
      ],
      [
        'create ClusterRoleBindings',
        () =>
          rbac.createClusterRoleBinding({
            body: {
              metadata: { name: 'x' },
              roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
              subjects: [],
            },
          }),
      ],
      [
        'request tokens for ServiceAccounts',
        () => core.createNamespacedServiceAccountToken({ name: SA, namespace: NS, body: { spec: { audiences: [] } } }),
      ],
      ['create namespaces', () => core.createNamespace({ body: { metadata: { name: 'x' } } })],
      [
        'core/v1 events create',
        () =>
          core.createNamespacedEvent({ namespace: 'digits', body: { metadata: { name: 'x' }, involvedObject: {} } }),
      ],
    ];
    const allowed: string[] = [];
    for (const [what, call] of forbidden) {
      try {
        await call();
        allowed.push(`${what}: succeeded`);
      } catch (e) {
        if (statusOf(e) !== 403) allowed.push(`${what}: HTTP ${statusOf(e)} (${(e as Error).message.slice(0, 120)})`);
      }
    }
    expect(allowed, 'each of these must be refused with 403').to.deep.equal([]);
    expect(forbidden.length).to.be.at.least(20);
  });

  it('helm upgrade with changed values rolls the operator (and adds a PDB at 2 replicas)', async () => {
    const { apps, kc } = cluster();
    const name = SA;
    const before = await apps.readNamespacedDeployment({ name, namespace: NS });
    ok(
      sh(helm, [
        'upgrade',
        RELEASE,
        CHART,
        '-n',
        NS,
        '--set',
        'logLevel=debug',
        '--set',
        'replicaCount=2',
        '--wait',
        '--timeout',
        '120s',
      ]),
      'helm upgrade',
    );
    const after = await apps.readNamespacedDeployment({ name, namespace: NS });
    expect(after.metadata?.generation).to.be.greaterThan(before.metadata?.generation ?? 0);
    expect(after.spec?.template.spec?.containers[0]?.args).to.include('--log-level=debug');
    const rs = await apps.listNamespacedReplicaSet({
      namespace: NS,
      labelSelector: 'app.kubernetes.io/instance=carbonscale',
    });
    const active = rs.items.filter((r) => (r.status?.replicas ?? 0) > 0);
    expect(rs.items.length, 'a new ReplicaSet').to.be.at.least(2);
    expect(active).to.have.length(1);
    expect(active[0]!.spec?.template?.spec?.containers[0]?.args).to.include('--log-level=debug');
    expect(after.status?.readyReplicas).to.equal(2);
    const pdb = await kc.makeApiClient(k8s.PolicyV1Api).readNamespacedPodDisruptionBudget({ name, namespace: NS });
    expect(pdb.spec?.minAvailable).to.equal(1);
  });

  it('helm uninstall leaves no orphans besides the CRDs and the audit PVC', async () => {
    await operator?.stop();
    operator = undefined;
    const { core } = cluster();
    ok(sh(helm, ['uninstall', RELEASE, '-n', NS, '--wait', '--timeout', '60s']), 'helm uninstall');
    const left: string[] = [];
    for (const o of helmManifest) {
      const ns = o.metadata.namespace ? ['-n', o.metadata.namespace] : [];
      if (sh(kubectl, ['get', o.kind.toLowerCase(), o.metadata.name, ...ns]).code === 0) left.push(idOf(o));
    }
    expect(left).to.deep.equal([`PersistentVolumeClaim/${NS}/carbonscale-audit`]);
    // Nothing else labelled with the release, of any kind, remains (pods and ReplicaSets included).
    await waitFor(
      'the operator pods are gone',
      async () =>
        (await core.listNamespacedPod({ namespace: NS, labelSelector: 'app.kubernetes.io/instance=carbonscale' })).items
          .length === 0,
    );
    const kinds = ok(sh(kubectl, ['api-resources', '--verbs=list', '-o', 'name']), 'api-resources')
      .split('\n')
      .filter((r) => r && !r.startsWith('events') && !r.includes('componentstatuses'));
    const labelled = ok(
      sh(kubectl, ['get', kinds.join(','), '-A', '-l', 'app.kubernetes.io/instance=carbonscale', '-o', 'name']),
      'get all labelled',
    )
      .split('\n')
      .filter(Boolean);
    expect(labelled).to.deep.equal(['persistentvolumeclaim/carbonscale-audit']);
    for (const crd of ['inferenceservices.carbonscale.dev', 'carbonsources.carbonscale.dev'])
      ok(sh(kubectl, ['get', 'crd', crd]), `CRD ${crd} kept`);
  });

  it('the plain manifests (deploy/install.yaml) install the same objects as the chart', () => {
    const file = join(ROOT, 'deploy', 'install.yaml');
    const plain = docs(readFileSync(file, 'utf8'));
    ok(sh(kubectl, ['apply', '--server-side', '--force-conflicts', '-f', file]), 'kubectl apply deploy/install.yaml');
    const crds = readdirSync(join(CHART, 'crds')).map(
      (f) => `CustomResourceDefinition//${docs(readFileSync(join(CHART, 'crds', f), 'utf8'))[0]!.metadata.name}`,
    );
    expect(plain.map(idOf).sort()).to.deep.equal([...helmManifest.map(idOf), ...crds, `Namespace//${NS}`].sort());
    for (const o of plain) {
      const ns = o.metadata.namespace ? ['-n', o.metadata.namespace] : [];
      const live = JSON.parse(
        ok(sh(kubectl, ['get', o.kind.toLowerCase(), o.metadata.name, ...ns, '-o', 'json']), idOf(o)),
      ) as Obj;
      if (o.kind === 'ClusterRole') expect(live.rules).to.deep.equal(helmClusterRole);
    }
  });
});
