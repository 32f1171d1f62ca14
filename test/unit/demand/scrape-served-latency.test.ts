// Served latency from the pods' own /metrics: a real model server's request-duration histogram read at two
// accounting boundaries gives the interval's p50/p95 from exactly the requests served between them; pods that
// restart, start inside the interval, have no histogram yet, or run another runtime follow the served counts'
// rules. Through the real Accountant: a served load gives usage rows with latency_p95_ms and slo_met, an idle
// interval leaves both null, and slo_met is judged against the relaxed ceiling when the decision used it.
import { expect } from 'chai';
import { after, before, describe, it } from 'mocha';
import { createServer, type Server } from 'node:http';
import type { ModelServer } from '../../../model-server/model-server.ts';
import { ScrapeServedLatency } from '../../../operator/demand/scrape-served-latency.ts';
import type { ServedLatencySource } from '../../../operator/demand/served-latency.ts';
import type { KubeObject } from '../../../operator/kube/kube-client.ts';
import { Accountant } from '../../../operator/reconciler/accounting.ts';
import type { MeterPort } from '../../../operator/reconciler/meter-port.ts';
import { inferBody, post, startTestServer } from '../model-server/support.ts';
import { FakeCluster, service } from '../reconciler/fake-cluster.ts';

const MIN = 60_000;
const BOUNDS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, Infinity];

function readyPod(name: string, sinceMs: number): KubeObject {
  return {
    metadata: {
      name,
      namespace: 'ns',
      uid: `uid-${name}`,
      creationTimestamp: new Date(sinceMs - 5_000).toISOString(),
      labels: { 'carbonscale.dev/inference-service': 'a' },
    },
    status: { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date(sinceMs).toISOString() }] },
  } as KubeObject;
}

/** A /metrics text with one histogram (per-bucket counts, seconds bounds of model-server/metrics.ts). */
function histogramText(perBucket: number[], startS: number, metric = 'carbonscale_model_request_duration_seconds') {
  let c = 0;
  const lines = BOUNDS_S.map((le, i) => {
    c += perBucket[i] ?? 0;
    return `${metric}_bucket{le="${le === Infinity ? '+Inf' : le}",variant="digits-full",model="digits"} ${c}`;
  });
  return [
    ...lines,
    `${metric}_count{variant="digits-full",model="digits"} ${c}`,
    `process_start_time_seconds ${startS}`,
  ]
    .join('\n')
    .concat('\n');
}

describe('ScrapeServedLatency', function () {
  this.timeout(60_000);
  let server: ModelServer;
  const stubs: Server[] = [];
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    for (const s of stubs) s.close();
    await server?.shutdown();
  });

  /** A pod's /metrics endpoint whose text the test sets. */
  async function stub(text: string): Promise<{ addr: string; set: (t: string) => void }> {
    let body = text;
    const srv = createServer((_req, res) => res.end(body));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    stubs.push(srv);
    return { addr: `127.0.0.1:${(srv.address() as { port: number }).port}`, set: (t) => (body = t) };
  }

  it('a real model server: the interval holds exactly the requests served in it, p95 within the slowest round trip', async () => {
    const src = new ScrapeServedLatency();
    const t = {
      namespace: 'ml',
      service: 'digits',
      pods: [{ name: 'p1' }],
      addresses: new Map([['p1', `127.0.0.1:${server.port}`]]),
    };
    // Requests before the first boundary are not the interval's.
    const url = `${server.url}/v2/models/digits/infer`;
    for (let i = 0; i < 5; i++) expect((await post(url, inferBody([new Array(64).fill(i)]))).status).to.equal(200);
    await src.atBoundary(t, 0);
    let slowest = 0;
    for (let i = 0; i < 40; i++) {
      const t0 = performance.now();
      expect((await post(url, inferBody([new Array(64).fill(i)]))).status).to.equal(200);
      slowest = Math.max(slowest, performance.now() - t0);
    }
    await src.atBoundary(t, MIN);
    const r = await src.latency(t, { fromMs: 0, toMs: MIN, wallFromMs: Date.now() - 1000 });
    if (!r.measured) throw new Error(r.reason);
    expect(r.source).to.equal('scrape:carbonscale');
    expect(r.latency.requests).to.equal(40);
    expect(r.latency.p50Ms).to.be.at.most(r.latency.p95Ms);
    expect(r.latency.p95Ms).to.be.greaterThan(0);
    // The server's duration is inside the client's round trip; the estimate is within the bucket holding it.
    const bound = BOUNDS_S.find((b) => b * 1000 >= slowest)!;
    expect(r.latency.p95Ms).to.be.at.most(bound * 1000);
  });

  it('restart, a pod started inside the interval, no histogram yet, another runtime, a pod that ended', async () => {
    const startS = 1_800_000_000;
    const wallFromMs = startS * 1000 + 10_000;
    const a = await stub(histogramText([100], startS));
    const b = await stub('process_start_time_seconds 1800000000\n'); // answered, nothing observed yet
    const src = new ScrapeServedLatency();
    const t = (names: string[], ended: string[] = []) => ({
      namespace: 'ml',
      service: 'digits',
      pods: names.map((name) => ({ name, ...(ended.includes(name) ? { endMs: wallFromMs + 1 } : {}) })),
      addresses: new Map(
        names.map((n) => [n, n === 'a' ? a.addr : n === 'b' ? b.addr : n === 'c' ? c.addr : '127.0.0.1:1']),
      ),
    });
    const c = await stub(''); // set below: starts after the first boundary
    await src.atBoundary(t(['a', 'b']), 0);
    // a: 30 more, all in (5 ms, 10 ms]; b: its first 10 in (1 ms, 2.5 ms]; c: started 2 s after the boundary, 20.
    a.set(histogramText([100, 0, 0, 0, 30], startS));
    b.set(histogramText([0, 0, 10], startS));
    c.set(histogramText([0, 0, 0, 20], startS + 12));
    await src.atBoundary(t(['a', 'b', 'c']), MIN);
    const r = await src.latency(t(['a', 'b', 'c']), { fromMs: 0, toMs: MIN, wallFromMs });
    if (!r.measured) throw new Error(r.reason);
    expect(r.latency.requests).to.equal(60);
    // rank 30 of 60: 10 ≤ 2.5 ms, 20 in (2.5, 5]: the last of the 20, at 5 ms.
    expect(r.latency.p50Ms).to.be.closeTo(5, 1e-9);
    // rank 57: 27 into a's 30 in (5, 10] ms.
    expect(r.latency.p95Ms).to.be.closeTo(5 + 5 * (27 / 30), 1e-9);

    // a restarts inside the next interval (new start time, counts from 0): unknown, not the post-restart remainder.
    a.set(histogramText([0, 0, 0, 0, 40], startS + 100));
    await src.atBoundary(t(['a', 'b', 'c']), 2 * MIN);
    const restarted = await src.latency(t(['a', 'b', 'c']), { fromMs: MIN, toMs: 2 * MIN, wallFromMs });
    expect(restarted).to.deep.include({ measured: false });
    expect((restarted as { reason: string }).reason).to.match(/pod ml\/a: restarted inside the interval/);

    // Another runtime's pod (no carbonscale histogram) and a pod that ended inside the interval.
    a.set('vllm:request_success_total 5\nprocess_start_time_seconds 1800000100\n');
    await src.atBoundary(t(['a']), 3 * MIN);
    await src.atBoundary(t(['a']), 4 * MIN);
    const other = await src.latency(t(['a']), { fromMs: 3 * MIN, toMs: 4 * MIN, wallFromMs });
    expect((other as { reason: string }).reason).to.match(/no request-duration histogram/);
    const gone = await src.latency(t(['a', 'z'], ['z']), { fromMs: 3 * MIN, toMs: 4 * MIN, wallFromMs });
    expect((gone as { reason: string }).reason).to.match(/pod ml\/z: ended inside the interval/);
  });
});

/** A meter port on the fake clock (wall = clock) with only a latency source. */
function meters(c: FakeCluster, latency: ServedLatencySource, address: () => string | undefined): MeterPort {
  return {
    energy: () => ({
      name: 'profile',
      settleMs: 0,
      measure: async () => ({ measured: false, source: 'profile', reason: 'profile' }),
    }),
    counts: () => undefined,
    latency: () => latency,
    address,
    toWall: (ms) => ms,
    toClock: (ms) => ms,
    wallNow: () => c.now,
  };
}

describe('usage rows: measured latency and slo_met through the Accountant', function () {
  this.timeout(60_000);
  let server: ModelServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => server?.shutdown());

  it('a served load gives latency_p50_ms, latency_p95_ms and slo_met; an idle interval leaves them null', async () => {
    const c = new FakeCluster();
    c.add(service('a'));
    const r = c.reconciler();
    const acct = new Accountant(r.ctx);
    c.pods.set('p1', readyPod('a-7d9f-aaaaa', c.now - 3_600_000));
    r.ctx.ports.meters = meters(c, new ScrapeServedLatency(), () => `127.0.0.1:${server.port}`);
    const url = `${server.url}/v2/models/digits/infer`;
    const t0 = c.now;
    await r.reconcile('ns/a');
    await acct.accountDue(c.now); // the first boundary's reading
    for (const load of [30, 0]) {
      for (let i = 0; i < load; i++) expect((await post(url, inferBody([new Array(64).fill(i)]))).status).to.equal(200);
      c.now += MIN;
      await r.reconcile('ns/a');
      await acct.accountDue(c.now);
    }
    const rows = c.audit.rows.usage.filter((x) => Number(x.interval_start) >= t0);
    expect(rows.map((x) => x.interval_start)).to.deep.equal([t0, t0 + MIN]);
    const [served, idle] = rows;
    expect(served!.latency_p95_ms).to.be.a('number');
    expect(served!.latency_p50_ms).to.be.a('number');
    expect(Number(served!.latency_p50_ms)).to.be.at.most(Number(served!.latency_p95_ms));
    // No high-carbon hour on the fake's flat signal: the strict ceiling (100 ms) applies.
    const relaxedUsed = c.audit.rows.decision.some((d) => JSON.parse(String(d.inputs_json)).flags?.relaxedLatency);
    expect(relaxedUsed).to.equal(false);
    expect(served!.slo_met).to.equal(Number(served!.latency_p95_ms) <= 100);
    expect(idle).to.deep.include({ latency_p50_ms: null, latency_p95_ms: null, slo_met: null });
  });
});

describe('usage rows: slo_met against the ceiling in force', () => {
  it('the relaxed ceiling in a high-carbon hour (the decision used it), the strict one otherwise', async () => {
    const c = new FakeCluster();
    c.add(service('a'));
    const r = c.reconciler();
    const acct = new Accountant(r.ctx);
    c.pods.set('p1', readyPod('a-7d9f-aaaaa', c.now - 3_600_000));
    // A p95 of 150 ms: over the strict ceiling (100 ms), within the relaxed one (200 ms).
    const fixed: ServedLatencySource = {
      name: 'fixed',
      settleMs: 0,
      latency: async () => ({ measured: true, source: 'fixed', latency: { p50Ms: 80, p95Ms: 150, requests: 500 } }),
    };
    r.ctx.ports.meters = meters(c, fixed, () => undefined);
    // A clean day behind, then a dirty hour now: a high-carbon hour for the eco service.
    for (let h = 24; h >= 1; h--) c.signal.set(100, c.now - h * 3_600_000);
    c.signal.set(900, c.now);
    const t0 = c.now;
    for (let i = 0; i < 3; i++) {
      await r.reconcile('ns/a');
      c.now += MIN;
      await acct.accountDue(c.now);
    }
    const flags = c.audit.rows.decision.map((d) => JSON.parse(String(d.inputs_json)).flags?.relaxedLatency);
    expect(flags).to.include(true);
    const dirty = c.audit.rows.usage.filter((x) => Number(x.interval_start) >= t0);
    expect(dirty.length).to.equal(3);
    for (const x of dirty) expect(x).to.deep.include({ latency_p95_ms: 150, slo_met: true });
    // The hour turns clean: the next decision (policy.intervalSeconds 300) drops the relaxed ceiling, and the same
    // 150 ms misses the strict one from then on.
    c.signal.set(100, c.now);
    for (let i = 0; i < 7; i++) {
      await r.reconcile('ns/a');
      c.now += MIN;
      await acct.accountDue(c.now);
    }
    expect(r.ctx.usage.get('ns/a')!.workloadLog.at(-1)).to.deep.include({ relaxedLatency: false });
    const last = c.audit.rows.usage.at(-1)!;
    expect(last).to.deep.include({ latency_p95_ms: 150, slo_met: false });
  });
});
