import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNamespace, useControlPlane, waitFor } from '../../support/cluster.ts';
import {
  admin,
  applyObj,
  getIsvc,
  isvc,
  listEvents,
  morningClock,
  runOperator,
  setupCrds,
  traceSource,
  writeTrace,
} from '../../support/operator-fixtures.ts';
import { objectPath, Resources } from '../../../operator/kube/kube-client.ts';
import type { RunningOperator } from '../../../operator/main.ts';
import type { ReconcileReport } from '../../../operator/kube/controller.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */

describe('controller against a real kube-apiserver', () => {
  const cluster = useControlPlane();
  let dir = '';
  let trace: { file: string; startMs: number };
  let op: RunningOperator | undefined;

  before(async function () {
    this.timeout(60_000);
    await setupCrds(cluster().kc);
    // Node objects with GPU capacity (no kubelet in this tier): the policy plans only what can be scheduled.
    await cluster().cp.createGpuNodes([
      { name: 'gpu-0', gpus: 16 },
      { name: 'gpu-1', gpus: 16 },
    ]);
    dir = mkdtempSync(join(tmpdir(), 'cs-trace-'));
    trace = writeTrace(dir);
    // Clean now (hour 10), a dirty spell ahead at hours 30-32 in the forecast.
    await applyObj(cluster().kc, traceSource('test-source', trace.file, Date.now(), 10));
  });
  after(async () => {
    await op?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    await op?.stop();
    op = undefined;
  });

  const dep = (ns: string, name: string) =>
    admin(cluster().kc).getOrNull<any>(objectPath(Resources.deployment, name, ns));

  it('creates the Deployment, Service and ConfigMap with the variant, replicas, GPUs and owner, fills status, applies updates', async function () {
    this.timeout(60_000);
    const { kc } = cluster();
    const ns = await createNamespace(cluster().core, 'create');
    op = await runOperator(kc);
    await applyObj(kc, isvc('svc', ns));
    const d = await waitFor('the Deployment', () => dep(ns, 'svc'), { show: () => getIsvc(kc, ns, 'svc') });
    const owner = await getIsvc(kc, ns, 'svc');
    expect(d.metadata.ownerReferences[0]).to.include({
      kind: 'InferenceService',
      name: 'svc',
      uid: owner.metadata.uid,
      controller: true,
    });
    const c = d.spec.template.spec.containers[0];
    expect(c.resources.requests['nvidia.com/gpu']).to.equal('1');
    expect(d.spec.strategy.rollingUpdate.maxUnavailable).to.equal(0);
    expect(d.spec.replicas).to.be.at.least(2); // 150 req/s at 100 req/s per replica needs ≥ 2
    const cm = await admin(kc).get<any>(objectPath(Resources.configMap, 'svc-carbonscale', ns));
    expect(cm.data['active-variant']).to.equal('full');
    expect(JSON.parse(cm.data['server.json']).variants.map((v: any) => v.name)).to.deep.equal(['full', 'small']);
    const svc = await admin(kc).get<any>(objectPath(Resources.service, 'svc', ns));
    expect(svc.spec.selector).to.deep.equal({ 'carbonscale.dev/inference-service': 'svc' });
    const st = await waitFor('status with the carbon signal', async () => {
      const s = (await getIsvc(kc, ns, 'svc')).status;
      return s?.lastDecision && s.carbon ? s : undefined;
    });
    expect(st.observedGeneration).to.equal(1);
    expect(st.carbon.unit).to.equal('gCO2eq/kWh');
    expect(st.carbon.valueGPerKWh).to.equal(110); // trace hour 10: 100 + 10
    expect(st.conditions.map((x: any) => x.type)).to.include.members([
      'Ready',
      'CarbonSignalAvailable',
      'SLOAtRisk',
      'BudgetExhausted',
      'Degraded',
    ]);
    expect(st.lastDecision.reason).to.match(/gCO2\/kWh/);

    // Update: more demand → more replicas, and the generation is observed.
    await applyObj(kc, isvc('svc', ns, { demand: { source: 'static', staticRps: 500 } }));
    await waitFor(
      'replicas to follow the new demand',
      async () => ((await dep(ns, 'svc')).spec.replicas >= 6 ? true : undefined),
      {
        show: () => dep(ns, 'svc'),
      },
    );
    await waitFor('observedGeneration 2', async () => (await getIsvc(kc, ns, 'svc')).status?.observedGeneration === 2);
  });

  it('restores fields someone edited on the Deployment (drift)', async function () {
    this.timeout(60_000);
    const { kc } = cluster();
    const ns = await createNamespace(cluster().core, 'drift');
    op = await runOperator(kc);
    await applyObj(kc, isvc('svc', ns));
    const d = await waitFor('the Deployment', () => dep(ns, 'svc'));
    const want = d.spec.replicas;
    await admin(kc).mergePatch(objectPath(Resources.deployment, 'svc', ns), {
      spec: {
        replicas: want + 5,
        template: { spec: { containers: [{ name: 'model-server', image: 'evil/image:1' }] } },
      },
    });
    await waitFor(
      'the operator to restore replicas and image',
      async () => {
        const x = await dep(ns, 'svc');
        return x.spec.replicas === want && x.spec.template.spec.containers[0].image !== 'evil/image:1';
      },
      { show: () => dep(ns, 'svc') },
    );
    const evs = await waitFor('a DriftCorrected Event', async () =>
      (await listEvents(kc, ns)).find((e) => e.reason === 'DriftCorrected'),
    );
    expect(evs.regarding.name).to.equal('svc');
  });

  it('observe mode changes nothing but status and Events', async function () {
    this.timeout(60_000);
    const { kc } = cluster();
    const ns = await createNamespace(cluster().core, 'observe');
    op = await runOperator(kc);
    await applyObj(kc, isvc('svc', ns, { policy: { mode: 'observe', intervalSeconds: 10 } }));
    const st = await waitFor('status with a decision', async () => (await getIsvc(kc, ns, 'svc')).status?.lastDecision);
    expect(st.applied).to.equal(false);
    const ev = await waitFor('a DecisionObserved Event', async () =>
      (await listEvents(kc, ns)).find((e) => e.reason === 'DecisionObserved'),
    );
    expect(ev.note).to.match(/^observe mode \(not applied\)/);
    await new Promise((r) => setTimeout(r, 2000));
    expect(await dep(ns, 'svc')).to.equal(null);
    expect(await admin(kc).getOrNull(objectPath(Resources.service, 'svc', ns))).to.equal(null);
    expect(await admin(kc).getOrNull(objectPath(Resources.configMap, 'svc-carbonscale', ns))).to.equal(null);
  });

  it('a premium service keeps the full variant and an eco service swaps when the grid turns dirty', async function () {
    this.timeout(90_000);
    const { kc } = cluster();
    const ns = await createNamespace(cluster().core, 'carbon');
    const now = morningClock();
    op = await runOperator(kc, { now });
    await applyObj(kc, isvc('eco', ns));
    await applyObj(kc, isvc('prem', ns, { tier: 'premium' }));
    await waitFor('both Deployments', async () => (await dep(ns, 'eco')) && (await dep(ns, 'prem')));
    const cm = () => admin(kc).get<any>(objectPath(Resources.configMap, 'eco-carbonscale', ns));
    expect((await cm()).data['active-variant']).to.equal('full');
    // The grid turns dirty: move the replay to the dirty spell (hour 30 of the trace).
    await applyObj(kc, traceSource('test-source', trace.file, now(), 30));
    await waitFor(
      'eco to switch to the smaller variant in place',
      async () => (await cm()).data['active-variant'] === 'small',
      {
        timeoutMs: 40_000,
        show: () => getIsvc(kc, ns, 'eco'),
      },
    );
    const prem = await admin(kc).get<any>(objectPath(Resources.configMap, 'prem-carbonscale', ns));
    expect(prem.data['active-variant']).to.equal('full');
    const ecoSt = (await getIsvc(kc, ns, 'eco')).status;
    expect(ecoSt.lastDecision.variant).to.equal('small');
    expect(ecoSt.lastDecision.reason).to.match(/900 gCO2\/kWh/);
    const premSt = (await getIsvc(kc, ns, 'prem')).status;
    expect(premSt.lastDecision.variant).to.equal('full');
    const ev = (await listEvents(kc, ns)).find((e) => e.reason === 'VariantSwapped' && e.regarding.name === 'eco');
    expect(ev, 'a VariantSwapped Event for eco').to.not.equal(undefined);
    await applyObj(kc, traceSource('test-source', trace.file, Date.now(), 10));
  });

  it('a restarted operator converges without duplicates', async function () {
    this.timeout(60_000);
    const { kc } = cluster();
    const ns = await createNamespace(cluster().core, 'restart');
    op = await runOperator(kc);
    await applyObj(kc, isvc('a', ns));
    await applyObj(kc, isvc('b', ns, { tier: 'premium' }));
    // Stop as soon as the first child exists: mid-way through the pass.
    await waitFor('a first child', async () => (await dep(ns, 'a')) || (await dep(ns, 'b')), { intervalMs: 20 });
    await op.stop();
    op = await runOperator(kc);
    await waitFor('both Deployments and statuses', async () => {
      const [a, b] = [await getIsvc(kc, ns, 'a'), await getIsvc(kc, ns, 'b')];
      return (await dep(ns, 'a')) && (await dep(ns, 'b')) && a.status?.lastDecision && b.status?.lastDecision;
    });
    const deps = await admin(kc).list<any>(`/apis/apps/v1/namespaces/${ns}/deployments`);
    expect(deps.items.map((d) => d.metadata.name).sort()).to.deep.equal(['a', 'b']);
    const svcs = await admin(kc).list<any>(`/api/v1/namespaces/${ns}/services`);
    expect(svcs.items.map((d) => d.metadata.name).sort()).to.deep.equal(['a', 'b']);
  });

  it('rides out a 10 s API server outage without restarting, and its caches resync', async function () {
    this.timeout(120_000);
    const { kc, cp } = cluster();
    const ns = await createNamespace(cluster().core, 'outage');
    op = await runOperator(kc);
    await applyObj(kc, isvc('before', ns));
    await waitFor('the first Deployment', () => dep(ns, 'before'));
    await cp.stopApiserver();
    await new Promise((r) => setTimeout(r, 10_000));
    await cp.restartApiserver();
    // Created after the outage: only a resynced cache can see it.
    await applyObj(kc, isvc('after', ns));
    await waitFor('the Deployment of a service created after the outage', () => dep(ns, 'after'), {
      timeoutMs: 60_000,
    });
    const health = await fetch(`http://127.0.0.1:${op.healthPort}/readyz`);
    expect(health.status).to.equal(200);
  });

  it('makes zero writes over a minute at steady state', async function () {
    this.timeout(150_000);
    const { kc } = cluster();
    const ns = await createNamespace(cluster().core, 'steady');
    let writes: string[] = [];
    let passes: ReconcileReport[] = [];
    op = await runOperator(kc, {
      onWrite: (m, p) => writes.push(`${m} ${p}`),
      onReconciled: (r) => passes.push(r),
    });
    await applyObj(kc, isvc('svc', ns));
    await applyObj(kc, isvc('prem', ns, { tier: 'premium' }));
    await waitFor(
      'status',
      async () =>
        (await getIsvc(kc, ns, 'svc')).status?.lastDecision && (await getIsvc(kc, ns, 'prem')).status?.lastDecision,
    );
    // Let the first passes settle (status written, events recorded), then count.
    await new Promise((r) => setTimeout(r, 15_000));
    writes = [];
    passes = [];
    const rvBefore = (await getIsvc(kc, ns, 'svc')).metadata.resourceVersion;
    await new Promise((r) => setTimeout(r, 60_000));
    // Passes keep coming (no kubelet in this tier: the rollout never completes, so every 5 s), and each is quiet:
    // everything it reads comes from a watch cache, so it sends the apiserver no request at all.
    const mine = passes.filter((r) => r.controller === 'inferenceservice' && r.key.startsWith(`${ns}/`));
    expect(mine.length, 'passes during the quiet minute').to.be.at.least(4);
    expect(
      mine.filter((r) => r.requests.total > 0).map((r) => `${r.key}: ${JSON.stringify(r.requests)}`),
    ).to.deep.equal([]);
    expect(
      writes.filter((w) => w.includes(`/namespaces/${ns}/`)),
      'writes during the quiet minute',
    ).to.deep.equal([]);
    expect((await getIsvc(kc, ns, 'svc')).metadata.resourceVersion).to.equal(rvBefore);
  });
});
