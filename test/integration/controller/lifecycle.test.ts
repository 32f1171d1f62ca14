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
import { collectionPath, objectPath, Resources } from '../../../operator/kube/kube-client.ts';
import type { RunningOperator } from '../../../operator/main.ts';
import type { ReconcileReport } from '../../../operator/kube/controller.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */

describe('controller against a real kube-apiserver', () => {
  const cluster = useControlPlane();
  let dir = '';
  let trace: { file: string; startMs: number };
  let op: RunningOperator | undefined;
  // The operator's clock for every test on 'test-source' (see morningClock): on the wall clock, an eco service
  // late in the UTC day rightly spends the rest of the day's budget at once, so these tests failed after ~23:00.
  const morning = morningClock();

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
    await applyObj(cluster().kc, traceSource('test-source', trace.file, morning(), 10));
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
    op = await runOperator(kc, { now: morning });
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
    op = await runOperator(kc, { now: morning });
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
    op = await runOperator(kc, { now: morning });
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
    // The source was anchored on the wall clock (hour 10 now); this operator runs on the morning clock, hours behind
    // it, so without re-anchoring its trace position depends on the time of day CI runs at (after about 14:30 UTC it
    // fell before the trace's start). Clean hour 10 on this test's own clock, the dirty spell ahead as before.
    await applyObj(kc, traceSource('test-source', trace.file, now(), 10));
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
    await applyObj(kc, traceSource('test-source', trace.file, morning(), 10));
  });

  it('a restarted operator converges without duplicates', async function () {
    this.timeout(60_000);
    const { kc } = cluster();
    const ns = await createNamespace(cluster().core, 'restart');
    op = await runOperator(kc, { now: morning });
    await applyObj(kc, isvc('a', ns));
    await applyObj(kc, isvc('b', ns, { tier: 'premium' }));
    // Stop as soon as the first child exists: mid-way through the pass.
    await waitFor('a first child', async () => (await dep(ns, 'a')) || (await dep(ns, 'b')), { intervalMs: 20 });
    await op.stop();
    op = await runOperator(kc, { now: morning });
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
    op = await runOperator(kc, { now: morning });
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
      now: morning,
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

  it('a restart is invisible: same books, same plan, the fallback forecast at once from the carbon history ConfigMap, no Event, no status write', async function () {
    this.timeout(200_000);
    const { kc } = cluster();
    const now = morningClock();
    const trace = writeTrace(mkdtempSync(join(tmpdir(), 'cs-restart-')), 30, 96);
    const anchor = new Date(now() - 10 * 3_600_000 - 30 * 60_000).toISOString();
    await applyObj(kc, {
      apiVersion: 'carbonscale.dev/v1alpha1',
      kind: 'CarbonSource',
      metadata: { name: 'no-forecast' },
      // A source that publishes no forecast: eco plans on the fallback forecast built from measured history.
      spec: {
        provider: 'trace',
        trace: { file: trace.file, anchor, forecast: 'none' },
        pollIntervalSeconds: 10,
        staleAfterSeconds: 86400,
      },
    });
    const ns = await createNamespace(cluster().core, 'restart');
    op = await runOperator(kc, { now });
    // A 20 s interval: the restart below falls inside one, so what it writes is the restart's doing.
    const policy = { intervalSeconds: 20, minDwellSeconds: 0 };
    await applyObj(kc, isvc('eco', ns, { carbon: { region: 'TEST', sourceRef: 'no-forecast', pue: 1.2 }, policy }));
    const key = `${ns}/eco`;
    const before = await waitFor('a plan on the fallback forecast, with its books saved', async () => {
      const st = (await getIsvc(kc, ns, 'eco')).status;
      const cm = await admin(kc).getOrNull<any>(objectPath(Resources.configMap, 'eco-carbonscale-state', ns));
      return st?.lastDecision?.reason?.includes('forecast built from history') && cm ? st : undefined;
    });
    expect(op.reconciler.memoryOf(key)!.state.books.plan!.flags.fallbackForecast).to.equal(true);
    // The leader kept the pair's measured history in the operator's namespace.
    const hist = await admin(kc).list<any>(collectionPath(Resources.configMap, 'default'), {
      labelSelector: 'app.kubernetes.io/component=carbon-history',
    });
    const mine = hist.items.filter(
      (c: any) => c.metadata.annotations['carbonscale.dev/carbon-source'] === 'no-forecast',
    );
    expect(mine).to.have.length(1);
    expect(JSON.parse(mine[0].data['history.json']).points.length).to.be.at.least(24);
    // Stop a few seconds into an interval.
    await new Promise((r) => setTimeout(r, 20_000 - (now() % 20_000) + 3000));
    const booksBefore = structuredClone(op.reconciler.memoryOf(key)!.state.books);
    const eventsBefore = (await listEvents(kc, ns)).length;
    await op.stop();

    const writes: string[] = [];
    op = await runOperator(kc, { now, onWrite: (m, p) => writes.push(`${m} ${p}`) });
    const restarted = await waitFor('the restarted operator to have the service in memory', async () =>
      op!.reconciler.memoryOf(key),
    );
    // Restored, not rebuilt: the same window and counts the first operator had (it books on from there).
    expect(restarted.state.books.budget.windowStartMs).to.equal(booksBefore.budget.windowStartMs);
    expect(restarted.state.books.budget.servedTotal).to.be.at.least(booksBefore.budget.servedTotal * 0.999);
    expect(restarted.state.books.lastChangeMs).to.equal(booksBefore.lastChangeMs);
    // Until the next interval: no status write, no Event (the plan stands, restored).
    await new Promise((r) => setTimeout(r, Math.max(0, 20_000 - (now() % 20_000) - 1500)));
    // Every InferenceService here, this case's and those the other cases left, is steady: none may write. (The
    // CarbonSources' status.readings are the sources' doing, not counted here; restart-accounting.test.ts checks
    // that a restart with unchanged values writes none.)
    expect(
      writes.filter((w) => w.includes('/inferenceservices/') && w.includes('/status')),
      'InferenceService status writes after the restart, within its interval',
    ).to.deep.equal([]);
    const events = await listEvents(kc, ns);
    expect(
      events.slice(eventsBefore).map((e) => `${e.reason}: ${e.note}`),
      'Events after the restart',
    ).to.deep.equal([]);
    const st = (await getIsvc(kc, ns, 'eco')).status;
    expect(st.budget.usedFraction).to.be.closeTo(before.budget.usedFraction, 0.01);
    // The first replan after the restart: the fallback forecast at once (history from the ConfigMap and the seed).
    const plan = await waitFor('a plan made by the restarted operator', async () => {
      const p = op!.reconciler.memoryOf(key)?.state.books.plan;
      return p && p.intervalStartMs > booksBefore.plan!.intervalStartMs ? p : undefined;
    });
    expect(plan.flags.fallbackForecast).to.equal(true);
    expect(plan.flags.noSignal).to.equal(false);
    expect(plan.variant).to.equal(booksBefore.plan!.variant);
    expect(op.signals.history('no-forecast', 'TEST').length).to.be.at.least(24);
  });
});
