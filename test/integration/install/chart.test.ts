// Fast checks of the Helm chart through the pinned helm binary: lint, the values schema's rejections (each naming
// the key), what the default render contains (least-privilege RBAC, hardened pod), the CRD copy and the plain
// manifests being in sync.
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parsePricingPlan } from '../../../operator/billing/pricing-plan.ts';
import { parseFlags } from '../../../operator/wiring/flags.ts';
import { CHART, ROOT, helmBin, run } from '../../unit/install/tools.ts';

type Obj = Record<string, unknown> & { kind: string; metadata: { name: string; namespace?: string } };

const BAD = join(import.meta.dirname, 'bad-values');

describe('install: Helm chart (helm lint / helm template)', function () {
  this.timeout(60_000);
  let helm = '';
  before(() => {
    const h = helmBin();
    // This tier runs after scripts/build-k8s-binaries.sh, so helm must be there.
    if (!h) throw new Error('no helm binary: set KUBEBUILDER_ASSETS or run scripts/build-k8s-binaries.sh');
    helm = h;
  });

  function template(args: string[] = []): Obj[] {
    const r = run(helm, ['template', 'cs', CHART, '--namespace', 'carbonscale-system', ...args]);
    if (r.code !== 0) throw new Error(`helm template ${args.join(' ')} failed: ${r.stderr}`);
    return k8s.loadAllYaml(r.stdout).filter((d): d is Obj => !!d && typeof d === 'object' && 'kind' in d);
  }
  const find = (objs: Obj[], kind: string) => objs.filter((o) => o.kind === kind);

  it('helm lint --strict is clean (no warnings, no errors)', () => {
    const r = run(helm, ['lint', '--strict', CHART]);
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.not.match(/\[(WARNING|ERROR)\]/);
    expect(r.stdout).to.match(/1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  const badFiles = readdirSync(BAD).filter((f) => f.endsWith('.yaml'));
  it('ships at least 8 bad values files', () => expect(badFiles.length).to.be.at.least(8));
  for (const f of badFiles) {
    it(`rejects bad values ${f} with a message naming the key`, () => {
      const text = readFileSync(join(BAD, f), 'utf8');
      const expected = /^# expect: (\S+)/.exec(text)?.[1];
      expect(expected, `${f} must start with "# expect: /path/of/the/key"`).to.be.a('string');
      const r = run(helm, ['template', 'cs', CHART, '-f', join(BAD, f)]);
      expect(r.code, `helm accepted ${f}`).to.not.equal(0);
      expect(r.stderr).to.include("values don't meet the specifications of the schema");
      expect(r.stderr).to.include(`'${expected}'`);
    });
  }

  it('a CarbonSource whose Secret is outside the release namespace fails, naming the field', () => {
    const r = run(helm, [
      'template',
      'cs',
      CHART,
      '-n',
      'carbonscale-system',
      '--set',
      'carbon.sources[0].name=em',
      '--set',
      'carbon.sources[0].spec.provider=electricityMaps',
      '--set',
      'carbon.sources[0].spec.credentialsSecretRef.name=em-token',
      '--set',
      'carbon.sources[0].spec.credentialsSecretRef.namespace=default',
    ]);
    expect(r.code).to.not.equal(0);
    expect(r.stderr).to.include('carbon.sources[name=em].spec.credentialsSecretRef.namespace');
  });

  it('the ClusterRole grants exactly the API calls the operator makes, and the Role only Leases and Secret get', () => {
    const objs = template();
    const [cr] = find(objs, 'ClusterRole') as Array<Obj & { rules: k8s.V1PolicyRule[] }>;
    const [role] = find(objs, 'Role') as Array<Obj & { rules: k8s.V1PolicyRule[] }>;
    const flatten = (rules: k8s.V1PolicyRule[]) =>
      rules
        .flatMap((r) =>
          (r.apiGroups ?? []).flatMap((g) =>
            (r.resources ?? []).flatMap((res) => r.verbs.map((v) => `${g || 'core'}/${res}:${v}`)),
          ),
        )
        .sort();
    const x = (g: string, res: string[], verbs: string[]) => res.flatMap((r) => verbs.map((v) => `${g}/${r}:${v}`));
    expect(flatten(cr!.rules)).to.deep.equal(
      [
        ...x('carbonscale.dev', ['inferenceservices', 'carbonsources'], ['get', 'list', 'watch']),
        ...x('carbonscale.dev', ['inferenceservices/status', 'carbonsources/status'], ['get', 'patch', 'update']),
        ...x('apps', ['deployments'], ['get', 'list', 'watch', 'create', 'patch', 'update']),
        ...x('core', ['services', 'configmaps'], ['get', 'list', 'watch', 'create', 'patch', 'update']),
        ...x('core', ['pods', 'nodes'], ['get', 'list', 'watch']),
        ...x('events.k8s.io', ['events'], ['create', 'patch']),
        ...x('core', ['events'], ['patch']),
      ].sort(),
    );
    expect(role!.metadata.namespace).to.equal('carbonscale-system');
    expect(flatten(role!.rules)).to.deep.equal(
      [
        'coordination.k8s.io/leases:create',
        'coordination.k8s.io/leases:get',
        'coordination.k8s.io/leases:update',
        'core/secrets:get',
      ].sort(),
    );
    const [crb] = find(objs, 'ClusterRoleBinding') as Array<Obj & { subjects: k8s.RbacV1Subject[] }>;
    expect(crb!.subjects).to.deep.equal([
      { kind: 'ServiceAccount', name: 'cs-carbonscale', namespace: 'carbonscale-system' },
    ]);
  });

  it('the operator pod is non-root, read-only, drops all capabilities, seccomp RuntimeDefault, with probes and limits', () => {
    const [dep] = find(template(), 'Deployment') as Array<Obj & { spec: k8s.V1DeploymentSpec }>;
    const pod = dep!.spec.template.spec!;
    const c = pod.containers[0]!;
    expect(pod.securityContext).to.include({ runAsNonRoot: true, runAsUser: 65532 });
    expect(pod.securityContext?.seccompProfile?.type).to.equal('RuntimeDefault');
    expect(c.securityContext).to.include({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      runAsNonRoot: true,
    });
    expect(c.securityContext?.capabilities?.drop).to.deep.equal(['ALL']);
    expect(c.securityContext?.capabilities?.add).to.equal(undefined);
    expect(c.livenessProbe?.httpGet?.path).to.equal('/healthz');
    expect(c.readinessProbe?.httpGet?.path).to.equal('/readyz');
    expect(c.resources?.requests).to.have.keys('cpu', 'memory');
    expect(c.resources?.limits).to.have.keys('cpu', 'memory');
    expect(c.args?.[0]).to.equal('operator');
    expect(c.args).to.include('--leader-elect=true');
    expect(pod.topologySpreadConstraints?.[0]?.topologyKey).to.equal('kubernetes.io/hostname');
    expect(c.env?.some((e) => e.name === 'POD_NAMESPACE')).to.equal(true);
  });

  it('a PodDisruptionBudget exists only with more than one replica', () => {
    expect(find(template(), 'PodDisruptionBudget')).to.have.length(0);
    const two = template(['--set', 'replicaCount=2']);
    expect(find(two, 'PodDisruptionBudget')).to.have.length(1);
    expect((find(two, 'Deployment')[0] as Obj & { spec: { replicas: number } }).spec.replicas).to.equal(2);
  });

  it('audit storage: a kept PVC by default, an existing claim, or an emptyDir, chosen in values', () => {
    const claimOf = (objs: Obj[]) =>
      (find(objs, 'Deployment')[0] as Obj & { spec: k8s.V1DeploymentSpec }).spec.template.spec!.volumes!.find(
        (v) => v.name === 'audit',
      )!;
    const def = template();
    const [pvc] = find(def, 'PersistentVolumeClaim');
    expect((pvc!.metadata as { annotations?: Record<string, string> }).annotations).to.deep.equal({
      'helm.sh/resource-policy': 'keep',
    });
    expect(claimOf(def).persistentVolumeClaim?.claimName).to.equal(pvc!.metadata.name);
    const existing = template(['--set', 'audit.storage=existingClaim', '--set', 'audit.existingClaim=my-audit']);
    expect(find(existing, 'PersistentVolumeClaim')).to.have.length(0);
    expect(claimOf(existing).persistentVolumeClaim?.claimName).to.equal('my-audit');
    const trial = template(['--set', 'audit.storage=emptyDir']);
    expect(find(trial, 'PersistentVolumeClaim')).to.have.length(0);
    expect(claimOf(trial).emptyDir).to.not.equal(undefined);
  });

  it('optional objects: ServiceMonitor, NetworkPolicy, dashboard, CarbonSources with Secret references', () => {
    const def = template();
    expect(find(def, 'ServiceMonitor')).to.have.length(0);
    expect(find(def, 'NetworkPolicy')).to.have.length(0);
    const dash = find(def, 'ConfigMap')[0] as Obj & { data: Record<string, string> };
    const dashboard = JSON.parse(dash.data['carbonscale.json']!) as { panels: Array<{ title: string }> };
    const titles = dashboard.panels.map((p) => p.title.toLowerCase()).join(' | ');
    for (const topic of ['intensity per region', 'variant', 'replicas', 'baseline', 'budget', 'reconcile'])
      expect(titles).to.include(topic);
    const all = template([
      '--set',
      'serviceMonitor.enabled=true',
      '--set',
      'networkPolicy.enabled=true',
      '--set',
      'carbon.sources[0].name=em',
      '--set',
      'carbon.sources[0].spec.provider=electricityMaps',
      '--set',
      'carbon.sources[0].spec.credentialsSecretRef.name=em-token',
      '--set',
      'carbon.credentialsEnv[0].env=WT_USER',
      '--set',
      'carbon.credentialsEnv[0].secretName=wt',
      '--set',
      'carbon.credentialsEnv[0].secretKey=username',
    ]);
    expect(find(all, 'ServiceMonitor')).to.have.length(1);
    expect(find(all, 'NetworkPolicy')).to.have.length(1);
    const [src] = find(all, 'CarbonSource') as Array<Obj & { spec: { credentialsSecretRef: Record<string, string> } }>;
    expect(src!.spec.credentialsSecretRef).to.deep.equal({ name: 'em-token', namespace: 'carbonscale-system' });
    const c = (find(all, 'Deployment')[0] as Obj & { spec: k8s.V1DeploymentSpec }).spec.template.spec!.containers[0]!;
    expect(c.env?.find((e) => e.name === 'WT_USER')?.valueFrom?.secretKeyRef).to.deep.equal({
      name: 'wt',
      key: 'username',
    });
  });

  it('energy and attestation values become operator flags the operator parses; the key Secret by name only', () => {
    type Pod = { containers: k8s.V1Container[]; volumes: k8s.V1Volume[] };
    const pod = (objs: Obj[]) =>
      (find(objs, 'Deployment')[0] as unknown as { spec: { template: { spec: Pod } } }).spec.template.spec;
    const plan = {
      name: 'standard-2026',
      currency: 'EUR',
      basis: 'per_1k_inferences',
      prices: { premium: 0.5, eco: 0.5 },
      ecoDiscount: { rule: 'fixed', percent: 10 },
    };
    // Defaults: the profile estimate, no attestor; a plan alone is not mounted (only the attestor reads it).
    const plain = template(['--set-json', `pricing.plan=${JSON.stringify(plan)}`]);
    const plainArgs = pod(plain).containers[0]!.args!;
    expect(parseFlags(plainArgs.slice(1), {}).meters).to.deep.equal({
      energySource: 'profile',
      energyMaxGapMs: 90_000,
    });
    expect(plainArgs.filter((a) => /^--(attestation|pricing)/.test(a))).to.deep.equal([]);
    expect(pod(plain).volumes.map((v) => v.name)).to.not.include('pricing-plan');

    const objs = template([
      '--set',
      'energy.source=dcgm',
      '--set',
      'energy.prometheusUrl=http://prometheus.monitoring:9090',
      '--set',
      'attestation.enabled=true',
      '--set',
      'attestation.keySecret.name=attest-key',
      '--set-json',
      `pricing.plan=${JSON.stringify(plan)}`,
    ]);
    const spec = pod(objs);
    const args = spec.containers[0]!.args!;
    expect(parseFlags(args.slice(1), {}).meters).to.deep.equal({
      energySource: 'dcgm',
      energyPrometheusUrl: 'http://prometheus.monitoring:9090',
      energyMaxGapMs: 90_000,
      attestation: {
        keySecret: 'attest-key',
        keySecretKey: 'ed25519.pem',
        publicKeysConfigMap: 'cs-carbonscale-attestation-keys',
        periods: ['day', 'month'],
        pricingPlanFile: '/etc/carbonscale/pricing/plan.json',
      },
    });
    // The key is never mounted or put in the environment: the operator GETs the Secret by name each pass.
    expect(JSON.stringify(spec)).to.not.include('secretKeyRef":{"name":"attest-key');
    expect(spec.volumes.filter((v) => v.secret)).to.deep.equal([]);
    // The plan is mounted from the ConfigMap the chart renders, and that ConfigMap holds a valid plan.
    const vol = spec.volumes.find((v) => v.name === 'pricing-plan');
    const cm = find(objs, 'ConfigMap').find((c) => c.metadata.name === vol?.configMap?.name) as
      (Obj & { data: Record<string, string> }) | undefined;
    expect(cm, `ConfigMap ${vol?.configMap?.name} rendered`).to.not.equal(undefined);
    expect(parsePricingPlan(cm!.data['plan.json']!, 'plan.json').name).to.equal('standard-2026');
    expect(spec.containers[0]!.volumeMounts!.find((m) => m.name === 'pricing-plan')?.mountPath).to.equal(
      '/etc/carbonscale/pricing',
    );
    // The Role names the keyring ConfigMap; Secrets stay get-only (by name, no list/watch).
    const [role] = find(objs, 'Role') as Array<Obj & { rules: k8s.V1PolicyRule[] }>;
    expect(role!.rules).to.deep.include({
      apiGroups: [''],
      resources: ['configmaps'],
      resourceNames: ['cs-carbonscale-attestation-keys'],
      verbs: ['get', 'patch'],
    });
    expect(role!.rules.filter((r) => r.resources?.includes('secrets')).flatMap((r) => r.verbs)).to.deep.equal(['get']);
  });

  it("the chart's crds/ is identical to the repository's generated crds/", () => {
    const a = readdirSync(join(ROOT, 'crds')).sort();
    const b = readdirSync(join(CHART, 'crds')).sort();
    expect(b).to.deep.equal(a);
    for (const f of a)
      expect(
        readFileSync(join(CHART, 'crds', f), 'utf8'),
        `charts/carbonscale/crds/${f} differs from crds/${f}`,
      ).to.equal(readFileSync(join(ROOT, 'crds', f), 'utf8'));
  });

  it('deploy/install.yaml is what scripts/render-manifests.sh renders from the chart', () => {
    const r = run('bash', ['scripts/render-manifests.sh', '--stdout'], { env: { ...process.env, HELM: helm } });
    expect(r.code, r.stderr).to.equal(0);
    const onDisk = readFileSync(join(ROOT, 'deploy', 'install.yaml'), 'utf8');
    expect(onDisk === r.stdout, 'deploy/install.yaml is stale: run scripts/render-manifests.sh').to.equal(true);
  });

  it('deploy/install-trial.yaml is the render with audit.storage=emptyDir: no claim, the trail in an emptyDir', () => {
    const r = run('bash', ['scripts/render-manifests.sh', '--stdout-trial'], { env: { ...process.env, HELM: helm } });
    expect(r.code, r.stderr).to.equal(0);
    const onDisk = readFileSync(join(ROOT, 'deploy', 'install-trial.yaml'), 'utf8');
    expect(onDisk === r.stdout, 'deploy/install-trial.yaml is stale: run scripts/render-manifests.sh').to.equal(true);
    const objs = k8s.loadAllYaml(onDisk).filter((d): d is Obj => !!d && typeof d === 'object' && 'kind' in d);
    expect(find(objs, 'PersistentVolumeClaim')).to.deep.equal([]);
    const dep = find(objs, 'Deployment')[0] as unknown as { spec: { template: { spec: { volumes: k8s.V1Volume[] } } } };
    expect(dep.spec.template.spec.volumes.find((v) => v.name === 'audit')?.emptyDir).to.not.equal(undefined);
  });
});
