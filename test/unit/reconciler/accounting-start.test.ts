// Where accounting starts after a restart (operator/reconciler/accounting-start.ts), through the real Reconciler and
// Accountant over the fake ports: an operator killed after its first apply of a new service's Deployment and before
// its first status write must, once restarted, account from the service's first interval — the same rows, by
// record id, as an operator that never stopped — and must not rewrite the Deployment to do so.
import { expect } from 'chai';
import { describe, it } from 'mocha';
import { withDefaults } from '../../../operator/api/defaults.ts';
import { Annotation } from '../../../operator/constants.ts';
import type { KubeObject } from '../../../operator/kube/kube-client.ts';
import { accountingSinceAnnotation, accountingStart } from '../../../operator/reconciler/accounting-start.ts';
import { Accountant } from '../../../operator/reconciler/accounting.ts';
import type { Reconciler } from '../../../operator/reconciler/reconciler.ts';
import { FakeCluster, HOUR, service, T0 } from './fake-cluster.ts';

const MIN = 60_000;
const KEY = 'ns/a';

/** A pod of service `a`, Ready from `readySinceMs`. */
function readyPod(name: string, readySinceMs: number): KubeObject {
  return {
    metadata: {
      name,
      namespace: 'ns',
      uid: `uid-${name}`,
      creationTimestamp: new Date(readySinceMs - 5_000).toISOString(),
      labels: { 'carbonscale.dev/inference-service': 'a' },
    },
    status: {
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date(readySinceMs).toISOString() }],
    },
  } as KubeObject;
}

/** A new (premium: its decision stands) service, first seen 20 s into an interval. */
function fresh(): FakeCluster {
  const c = new FakeCluster();
  c.now = T0 + 20_000;
  c.add(service('a', { tier: 'premium' }));
  return c;
}

/** The process dies at its first status write: the apply before it went through, nothing after it did. */
function killedAtStatusWrite(r: Reconciler): void {
  r.ctx.ports.writes = {
    ...r.ctx.ports.writes,
    applyStatus: async () => {
      throw new Error('killed (-9) before the first status write');
    },
  };
}

const starts = (c: FakeCluster) => c.audit.rows.usage.map((u) => u.interval_start as number);

describe('accounting start: a restart before the first status write leaves no gap', () => {
  it('the restarted operator accounts from the first interval after the first apply, the same rows as one that never stopped', async () => {
    // The operator that never stopped: a pass, then accounting at every minute boundary.
    const ref = fresh();
    const r0 = ref.reconciler();
    await r0.reconcile(KEY);
    ref.pods.set('p1', readyPod('a-1', T0 + 40_000));
    const a0 = new Accountant(r0.ctx);
    for (let t = T0 + MIN; t <= T0 + 5 * MIN; t += MIN) {
      ref.now = t;
      await r0.reconcile(KEY);
      await a0.accountDue(t);
    }

    const c = fresh();
    const r1 = c.reconciler();
    killedAtStatusWrite(r1);
    let killed: unknown;
    await r1.reconcile(KEY).catch((e: unknown) => (killed = e));
    expect(String(killed)).to.match(/killed/);
    expect(c.deployment(KEY), 'the first apply reached the cluster').to.not.equal(undefined);
    expect(c.isvcs.get(KEY)!.status, 'no status was written').to.equal(undefined);
    c.pods.set('p1', readyPod('a-1', T0 + 40_000));
    // Down until 10 s past the fifth boundary; then a fresh process with empty memory, the same cluster and sink.
    c.now = T0 + 5 * MIN + 10_000;
    c.writes = [];
    const r2 = c.reconciler();
    await r2.reconcile(KEY);
    await new Accountant(r2.ctx).accountDue(c.now);

    expect(starts(c)).to.deep.equal([T0 + MIN, T0 + 2 * MIN, T0 + 3 * MIN, T0 + 4 * MIN]);
    expect(c.audit.rows.usage.map((u) => u.record_id)).to.deep.equal(ref.audit.rows.usage.map((u) => u.record_id));
    // The replica ran through those intervals: their energy is in the trail, not lost with the process.
    for (const u of c.audit.rows.usage) expect(u.replicas_avg, `replicas_avg from ${u.interval_start}`).to.equal(1);
    expect(
      c.writes.filter((w) => w.kind === 'Deployment'),
      'Deployment writes after the restart',
    ).to.deep.equal([]);
  });

  it('rows the killed process wrote before dying are not written twice (record ids), and the rest follow on', async () => {
    const c = fresh();
    const r1 = c.reconciler();
    // Every status write of the first process fails (the apiserver refuses them), the accounting runs.
    killedAtStatusWrite(r1);
    await r1.reconcile(KEY).catch(() => undefined);
    c.pods.set('p1', readyPod('a-1', T0 + 40_000));
    const a1 = new Accountant(r1.ctx);
    for (let t = T0 + MIN; t <= T0 + 3 * MIN; t += MIN) {
      c.now = t;
      await r1.reconcile(KEY).catch(() => undefined);
      await a1.accountDue(t);
    }
    expect(starts(c)).to.deep.equal([T0 + MIN, T0 + 2 * MIN]);
    c.now = T0 + 6 * MIN;
    const r2 = c.reconciler();
    await r2.reconcile(KEY);
    await new Accountant(r2.ctx).accountDue(c.now);
    expect(starts(c)).to.deep.equal([1, 2, 3, 4, 5].map((k) => T0 + k * MIN));
  });

  it('a restart with status continues from status.emissions.until and leaves the Deployment as it is', async () => {
    const c = fresh();
    const r1 = c.reconciler();
    await r1.reconcile(KEY);
    const since = (c.deployment(KEY)!.metadata!.annotations ?? {})[Annotation.accountingSince];
    expect(since).to.equal(new Date(T0 + MIN).toISOString());
    c.now = T0 + 30 * MIN;
    c.writes = [];
    const r2 = c.reconciler();
    await r2.reconcile(KEY);
    expect(c.writes.filter((w) => w.kind === 'Deployment')).to.deep.equal([]);
    expect((c.deployment(KEY)!.metadata!.annotations ?? {})[Annotation.accountingSince]).to.equal(since);
    expect(r2.ctx.usage.get(KEY)!.accountingSinceMs).to.equal(T0 + MIN);
  });
});

describe('accounting start: an annotation that cannot be trusted is not used', () => {
  const isvc = withDefaults(service('a'));
  const dep = (value: string, ownerUid = 'uid-a'): KubeObject =>
    ({
      metadata: {
        name: 'a',
        namespace: 'ns',
        annotations: { [Annotation.accountingSince]: value },
        ownerReferences: [{ uid: ownerUid, controller: true }],
      },
    }) as KubeObject;
  const now = T0 + 10 * MIN + 5_000;
  const next = T0 + 11 * MIN;

  it('a valid one of the service’s own Deployment is the start, aligned to the interval', () => {
    expect(accountingStart(isvc, dep(new Date(T0 + MIN).toISOString()), now, MIN)).to.deep.equal({
      fromMs: T0 + MIN,
      basis: 'deployment',
    });
    // Written under a 30 s interval: the next boundary of this one.
    expect(accountingStart(isvc, dep(new Date(T0 + 90_000).toISOString()), now, MIN).fromMs).to.equal(T0 + 2 * MIN);
  });

  for (const [what, d] of [
    ['not a time', dep('yesterday-ish')],
    ['another service’s Deployment (same name, other uid)', dep(new Date(T0).toISOString(), 'uid-old')],
    ['after the clock’s now (a replay started again earlier)', dep(new Date(T0 + HOUR).toISOString())],
  ] as const) {
    it(`${what}: the next boundary, and the reason names the annotation`, () => {
      const s = accountingStart(isvc, d, now, MIN);
      expect(s.fromMs).to.equal(next);
      expect(s.basis).to.equal('new');
      expect(s.distrusted).to.contain(Annotation.accountingSince);
      // The apply replaces it with the service's own start.
      expect(accountingSinceAnnotation(isvc, d, next)).to.deep.equal({
        [Annotation.accountingSince]: new Date(next).toISOString(),
      });
    });
  }

  it('status wins over the annotation; no annotation and no status is a new service', () => {
    const withStatus = withDefaults({
      ...service('a'),
      status: { emissions: { todayG: 1, day: '2026-03-02', until: new Date(T0 + 7 * MIN).toISOString() } },
    } as never);
    expect(accountingStart(withStatus, dep(new Date(T0 + MIN).toISOString()), now, MIN)).to.deep.equal({
      fromMs: T0 + 7 * MIN,
      basis: 'status',
    });
    expect(accountingStart(isvc, undefined, now, MIN)).to.deep.equal({ fromMs: next, basis: 'new' });
  });

  it('a live Deployment applied before the annotation existed is not given one (no write per service, no drift)', () => {
    const old = { metadata: { name: 'a', namespace: 'ns', annotations: { [Annotation.variant]: 'full' } } };
    expect(accountingSinceAnnotation(isvc, old as KubeObject, next)).to.deep.equal({});
    expect(accountingSinceAnnotation(isvc, undefined, next)).to.deep.equal({
      [Annotation.accountingSince]: new Date(next).toISOString(),
    });
  });
});
