// The Reconciler with fake ports (fake-cluster.ts): every phase runs for real — the engine, rendering, the
// subset test, status and conditions, Events, audit rows, the books store — only the cluster is in memory.
import { Writable } from 'node:stream';
import { expect } from 'chai';
import { Registry } from 'prom-client';
import winston from 'winston';
import { OperatorMetrics } from '../../../operator/reconciler/metrics.ts';
import { Reconciler } from '../../../operator/reconciler/reconciler.ts';
import { FakeCluster, HOUR, service, spellForecast } from './fake-cluster.ts';

const KEY = 'ns/svc';
const MIN = 60_000;

/** Passes as the controller makes them: the requeue, plus extra passes (events) in between. */
async function run(fc: FakeCluster, r: ReturnType<FakeCluster['reconciler']>, ms: number, extraPerInterval = 2) {
  const end = fc.now + ms;
  while (fc.now < end) {
    const res = await r.reconcile(KEY);
    for (let i = 0; i < extraPerInterval; i++) await r.reconcile(KEY);
    const next = (res && res.requeueAfterMs) || 1000;
    fc.now = Math.min(end, fc.now + next);
  }
}

/** A service with two days of clean-grid history, the signal at 100 gCO2eq/kWh now. */
function cleanHistory(): FakeCluster {
  const fc = new FakeCluster();
  fc.add(service('svc'));
  for (let h = -48; h < 0; h++) fc.signal.set(100 + ((h + 48) % 24), fc.now + h * HOUR);
  fc.signal.set(100, fc.now);
  return fc;
}

function cm(fc: FakeCluster) {
  return fc.objects.get('ConfigMap/ns/svc-carbonscale') as { data: Record<string, string> } | undefined;
}

describe('Reconciler with fake ports', () => {
  it('create: renders the Deployment, Service and model-server ConfigMap, writes status, reports one Scaled decision', async () => {
    const fc = new FakeCluster();
    fc.add(service('svc'));
    const r = fc.reconciler();
    await r.reconcile(KEY);
    const dep = fc.deployment(KEY)!;
    expect((dep.spec as { replicas: number }).replicas).to.be.within(2, 3); // 150 req/s, 100 per replica
    expect(dep.metadata!.annotations!['carbonscale.dev/variant']).to.equal('full');
    expect(cm(fc)!.data['active-variant']).to.equal('full');
    expect(fc.objects.has('Service/ns/svc')).to.equal(true);
    const st = fc.isvcs.get(KEY)!.status!;
    expect(st.lastDecision!.variant).to.equal('full');
    expect(st.carbon!.unit).to.equal('gCO2eq/kWh');
    expect(st.conditions!.find((c) => c.type === 'Ready')!.reason).to.equal('RolloutComplete');
    expect(fc.events.map((e) => e.reason)).to.deep.equal(['Scaled']);
    expect(fc.decisions().map((d) => d.kind)).to.deep.equal(['scale']);
  });

  it('swap: a carbon step swaps once — one VariantSwapped Event and one swap row — whatever the extra passes, while served lags', async () => {
    const fc = cleanHistory();
    const r = fc.reconciler();
    await run(fc, r, 30 * MIN);
    fc.autoReady = false; // the served variant lags the applied one from now on
    fc.signal.set(900, fc.now);
    fc.signal.forecast = spellForecast(fc.now, 3, 900, 100);
    await run(fc, r, 20 * MIN, 2);
    expect(cm(fc)!.data['active-variant']).to.equal('small');
    expect(fc.events.filter((e) => e.reason === 'VariantSwapped')).to.have.length(1);
    expect(fc.decisions('swap')).to.have.length(1);
    expect(fc.isvcs.get(KEY)!.status!.lastDecision!.variant).to.equal('small');
  });

  it('apply: a swap sends its ConfigMap and Deployment updates together; a first create goes in order', async () => {
    const fc = cleanHistory();
    const ports = fc.ports();
    const apply = ports.writes.applyChild;
    // Each request is held for two turns of the event loop: writes sent together overlap, writes in order do not.
    let inFlight = 0;
    const batches: string[][] = [];
    let current: string[] = [];
    ports.writes.applyChild = async (kind, body) => {
      if (inFlight === 0) batches.push((current = []));
      current.push(kind);
      inFlight++;
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      inFlight--;
      return apply(kind, body);
    };
    const r = fc.reconciler(ports);
    await r.reconcile(KEY);
    expect(batches).to.deep.equal([['ConfigMap'], ['Deployment'], ['Service']]);
    batches.length = 0;
    await run(fc, r, 30 * MIN);
    fc.signal.set(900, fc.now);
    fc.signal.forecast = spellForecast(fc.now, 3, 900, 100);
    await run(fc, r, 20 * MIN, 2);
    expect(cm(fc)!.data['active-variant']).to.equal('small');
    expect(batches.map((b) => [...b].sort())).to.deep.include(['ConfigMap', 'Deployment']);
  });

  it('scale: more demand means more replicas at the next interval, and a Scaled Event', async () => {
    const fc = new FakeCluster();
    fc.add(service('svc', { tier: 'premium', slo: { latencyP95Ms: 100 } }));
    const r = fc.reconciler();
    await run(fc, r, 20 * MIN);
    const before = (fc.deployment(KEY)!.spec as { replicas: number }).replicas;
    fc.rps = 600;
    await run(fc, r, 15 * MIN);
    const after = (fc.deployment(KEY)!.spec as { replicas: number }).replicas;
    expect(after).to.be.greaterThan(before);
    expect(fc.events.filter((e) => e.reason === 'Scaled').length).to.be.at.least(2);
  });

  it('drift: an edit to the Deployment is restored and reported once as DriftCorrected', async () => {
    const fc = new FakeCluster();
    fc.add(service('svc'));
    const r = fc.reconciler();
    await run(fc, r, 10 * MIN);
    const dep = fc.deployment(KEY)!;
    const want = (dep.spec as { replicas: number }).replicas;
    (dep.spec as { replicas: number }).replicas = want + 5;
    await r.reconcile(KEY);
    expect((fc.deployment(KEY)!.spec as { replicas: number }).replicas).to.equal(want);
    expect(fc.events.filter((e) => e.reason === 'DriftCorrected')).to.have.length(1);
  });

  it('observe mode: no workload object is written; decisions are reported as observed, not applied', async () => {
    const fc = new FakeCluster();
    fc.add(service('svc', { policy: { mode: 'observe', intervalSeconds: 300, minDwellSeconds: 0 } }));
    const r = fc.reconciler();
    await run(fc, r, 30 * MIN);
    fc.signal.set(900, fc.now);
    await run(fc, r, HOUR);
    expect(fc.writes.filter((w) => w.kind !== 'status' && w.kind !== 'state')).to.deep.equal([]);
    const st = fc.isvcs.get(KEY)!.status!;
    expect(st.lastDecision!.applied).to.equal(false);
    expect(st.conditions!.find((c) => c.type === 'Ready')!.reason).to.equal('ObserveMode');
    expect(fc.events.every((e) => e.reason === 'DecisionObserved')).to.equal(true);
    expect(fc.events.filter((e) => e.note.startsWith('observe mode (not applied)'))).to.have.length(fc.events.length);
  });

  it('pending pods: Ready is False with PodsPending, SLOAtRisk True, and a PodsPending Event', async () => {
    const fc = new FakeCluster();
    fc.add(service('svc'));
    fc.pods.set('p', {
      metadata: { name: 'p', namespace: 'ns', labels: { 'carbonscale.dev/inference-service': 'svc' } },
      spec: { containers: [{ resources: { requests: { 'nvidia.com/gpu': '1' } } }] },
      status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }] },
    });
    const r = fc.reconciler();
    const res = await r.reconcile(KEY);
    const c = fc.isvcs.get(KEY)!.status!.conditions!;
    expect(c.find((x) => x.type === 'Ready')).to.include({ status: 'False', reason: 'PodsPending' });
    expect(c.find((x) => x.type === 'SLOAtRisk')).to.include({ status: 'True', reason: 'GpuLimited' });
    expect(fc.events.map((e) => e.reason)).to.include('PodsPending');
    expect(res && res.requeueAfterMs).to.be.at.most(5000);
  });

  it('audit degradation: a failing audit sink never fails the pass; the workload is still managed; the failure is reported', async () => {
    const fc = new FakeCluster();
    fc.failAudit = true;
    fc.add(service('svc'));
    // The fake cluster's reconciler is silent and has no metrics: this one keeps both, to see the failure reported.
    const lines: Array<{ level: string; message: string; error?: string }> = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()) as (typeof lines)[number]);
        done();
      },
    });
    const log = winston.createLogger({
      format: winston.format.json(),
      transports: [new winston.transports.Stream({ stream })],
    });
    const metrics = new OperatorMetrics(new Registry());
    const options = {
      clusterId: 'test',
      operatorVersion: 'test',
      statusHeartbeatMs: 15 * 60_000,
      accountingIntervalMs: 60_000,
    };
    const r = new Reconciler(fc.ports(), options, log, metrics);
    await r.reconcile(KEY);
    expect(fc.deployment(KEY)).to.not.equal(undefined);
    expect(fc.isvcs.get(KEY)!.status!.lastDecision).to.not.equal(undefined);
    expect(fc.audit.rows.decision).to.have.length(0);
    const failed = lines.filter((l) => l.level === 'error' && / row not written$/.test(l.message));
    expect(failed.map((l) => l.error)).to.include('disk full');
    const counted = (await metrics.errors.get()).values.find((v) => v.labels.reason === 'AuditWriteFailed');
    expect(counted?.value).to.equal(failed.length);
  });

  it('steady state: with unchanged inputs, no write of any kind after the first interval settles', async () => {
    const fc = new FakeCluster();
    fc.add(service('svc', { tier: 'premium', slo: { latencyP95Ms: 100 } }));
    const r = fc.reconciler();
    await run(fc, r, 30 * MIN);
    fc.writes = [];
    await run(fc, r, 3 * HOUR, 3);
    expect(fc.writes).to.deep.equal([]);
  });

  it('steady eco: replans that keep the decision but word it anew (ranks, hours left) write no status and no books', async () => {
    const fc = new FakeCluster();
    fc.add(service('svc'));
    fc.signal.set(100, fc.now);
    // A forecast with a daily shape: each interval's plan ranks now among fewer hours left, so its words move.
    fc.signal.forecast = Array.from({ length: 48 }, (_, h) => ({
      timeMs: fc.now + (h + 1) * HOUR,
      valueGPerKWh: 200 + 100 * Math.sin((h / 24) * 2 * Math.PI),
    }));
    const r = fc.reconciler();
    await run(fc, r, 30 * MIN);
    const reasonBefore = r.memoryOf(KEY)!.state.books.plan!.reason;
    const statusReason = fc.isvcs.get(KEY)!.status!.lastDecision!.reason;
    fc.writes = [];
    await run(fc, r, 2 * HOUR, 2);
    const plan = r.memoryOf(KEY)!.state.books.plan!;
    expect(plan.variant, 'the decision stayed').to.equal('full');
    expect(plan.reason, 'the plan words its figures anew').to.not.equal(reasonBefore);
    expect(fc.writes).to.deep.equal([]);
    expect(
      fc.isvcs.get(KEY)!.status!.lastDecision!.reason,
      'status keeps the reason of the standing decision',
    ).to.equal(statusReason);
  });

  it('no decision before the first carbon signal: nothing is written, the pass comes back soon', async () => {
    const fc = new FakeCluster();
    fc.signal.pending = true;
    fc.add(service('svc'));
    const r = fc.reconciler();
    const res = await r.reconcile(KEY);
    expect(fc.writes).to.deep.equal([]);
    expect(res && res.requeueAfterMs).to.be.at.most(5000);
    fc.signal.pending = false;
    await r.reconcile(KEY);
    expect(fc.deployment(KEY)).to.not.equal(undefined);
  });

  it('restart: a restarted reconciler continues the same books — the same Events, decision rows, plans and budget as one that never stopped', async () => {
    const setup = () => {
      const fc = new FakeCluster();
      fc.add(service('svc'));
      for (let h = -48; h < 0; h++) fc.signal.set(100 + ((h + 48) % 24) * 10, fc.now + h * HOUR);
      fc.signal.set(900, fc.now);
      fc.signal.forecast = spellForecast(fc.now, 3, 900, 100);
      return fc;
    };
    const a = setup();
    const b = setup();
    const ra = a.reconciler();
    let rb = b.reconciler();
    let restartedAt = -1;
    for (let t = 0; t < 3 * HOUR; t += 100_000) {
      a.now = b.now = a.now + (t === 0 ? 0 : 100_000);
      if (t === 35 * 100_000) {
        rb = b.reconciler(); // kill -9 and start again: same cluster and store, empty memory
        restartedAt = b.events.length;
        b.writes = [];
        await rb.reconcile(KEY);
        expect(b.events.length, 'Events on the first pass after the restart').to.equal(restartedAt);
        expect(
          b.writes.filter((w) => w.kind === 'status'),
          'status writes on that pass',
        ).to.deep.equal([]);
      }
      await ra.reconcile(KEY);
      await rb.reconcile(KEY);
    }
    expect(restartedAt).to.be.greaterThan(0);
    expect(b.events).to.deep.equal(a.events);
    expect(b.decisions().map((d) => [d.kind, d.time, d.after_variant, d.after_replicas])).to.deep.equal(
      a.decisions().map((d) => [d.kind, d.time, d.after_variant, d.after_replicas]),
    );
    const [ba, bb] = [ra.memoryOf(KEY)!.state.books, rb.memoryOf(KEY)!.state.books];
    expect(bb.plan!.variant).to.equal(ba.plan!.variant);
    expect(bb.budget.windowStartMs).to.equal(ba.budget.windowStartMs);
    expect(bb.budget.servedTotal).to.be.closeTo(ba.budget.servedTotal, ba.budget.servedTotal * 1e-9);
    expect(bb.budget.servedDegraded).to.be.closeTo(ba.budget.servedDegraded, ba.budget.servedDegraded * 1e-9);
    expect(ba.budget.servedDegraded).to.be.greaterThan(0);
    expect(b.isvcs.get(KEY)!.status!.budget).to.deep.equal(a.isvcs.get(KEY)!.status!.budget);
  });
});
