// The scrape DemandSource against a real model server's /metrics: exact served counts by variant and the rate
// over the (injected) wall time between two scrapes, whatever the operator's clock says (a replay at 60×).
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'mocha';
import type { ModelServer } from '../../../model-server/model-server.ts';
import { DemandError } from '../../../operator/demand/demand-source.ts';
import { ScrapeDemandSource } from '../../../operator/demand/scrape-demand-source.ts';
import { inferBody, post, startTestServer } from '../model-server/support.ts';

describe('ScrapeDemandSource (real model server)', () => {
  let server: ModelServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server?.shutdown();
  });

  it('reads served counts by variant and the request rate between two scrapes, per wall second', async () => {
    const t0 = Date.now();
    let wall = t0;
    const source = new ScrapeDemandSource({ wallNow: () => wall });
    const target = { namespace: 'ml', name: 'digits', podIps: [`127.0.0.1:${server.port}`] };
    // The operator's clock on a 60× replay of 2023: its spans are 60 times the wall's; the rate must not follow it.
    const replay = (wallMs: number) => Date.parse('2023-01-03T04:00:00Z') + (wallMs - t0) * 60;
    const first = await source.demand(target, 60_000, replay(wall));
    expect(first.source).to.equal('scrape');
    expect(first.basis).to.equal('measured');
    expect(first.requestsPerSecond).to.equal(0);

    const url = `${server.url}/v2/models/digits/infer`;
    for (let i = 0; i < 10; i++)
      expect(
        (await post(url, inferBody([[...new Array(64).fill(i)], new Array(64).fill(1), new Array(64).fill(2)]))).status,
      ).to.equal(200);
    await server.switchVariant('digits-small');
    for (let i = 0; i < 5; i++) expect((await post(url, inferBody([new Array(64).fill(i)]))).status).to.equal(200);

    wall = t0 + 10_000;
    const second = await source.demand(target, 10_000, replay(wall));
    expect(second.servedByVariant).to.deep.equal({ 'digits-full': 30, 'digits-small': 5 });
    expect(second.requestsPerSecond).to.be.closeTo(15 / 10, 1e-9);
    expect(second.inferencesPerSecond).to.be.closeTo(35 / 10, 1e-9);
    expect(second.windowMs).to.equal(10_000);
    expect(second.sampledAtMs).to.equal(replay(wall));
    expect(second.warnings).to.deep.equal([]);
  });

  it('one unreachable pod is a warning; none reachable is a DemandError', async () => {
    const source = new ScrapeDemandSource({ timeoutMs: 2000 });
    const s = await source.demand(
      { namespace: 'ml', name: 'digits', podIps: [`127.0.0.1:${server.port}`, '127.0.0.1:1'] },
      1000,
      Date.now(),
    );
    expect(s.warnings).to.have.length(1);
    expect(s.warnings[0]).to.match(/^pod 127\.0\.0\.1:1: /);
    let err: unknown;
    try {
      await source.demand({ namespace: 'ml', name: 'digits', podIps: ['127.0.0.1:1'] }, 1000, Date.now());
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(DemandError);
    expect((err as DemandError).reason).to.equal('unreachable');
  });

  it('a pod started inside the window counts its requests over the window; each caller gets its own span', async () => {
    // A /metrics endpoint per pod whose counters and whole-second process_start_time_seconds the test sets, as
    // prom-client reports them.
    const metrics = new Map<number, string>();
    const servers: Server[] = [];
    const pod = async (text: string) => {
      const srv = createServer((req, res) => res.end(metrics.get((req.socket.localPort ?? 0) as number) ?? ''));
      await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
      servers.push(srv);
      const port = (srv.address() as { port: number }).port;
      metrics.set(port, text);
      return { addr: `127.0.0.1:${port}`, set: (t: string) => metrics.set(port, t) };
    };
    const text = (requests: number, startS: number) =>
      `carbonscale_model_requests_total{variant="digits-full",code="200",model="digits"} ${requests}\n` +
      `carbonscale_model_inferences_total{variant="digits-full",model="digits"} ${requests}\n` +
      `process_start_time_seconds ${startS}\n`;
    try {
      const t0 = 1_800_000_000_000;
      let wall = t0;
      const source = new ScrapeDemandSource({ wallNow: () => wall });
      const a = await pod(text(0, t0 / 1000 - 100));
      const ns = { namespace: 'ml', name: 'digits' };
      await source.demand({ ...ns, podIps: [a.addr] }, 5000, 0);
      // 5 s later: a served 500; b started 0.6 s ago (reported as a whole second: 1 s ago) and served 60.
      wall = t0 + 5000;
      a.set(text(500, t0 / 1000 - 100));
      const b = await pod(text(60, Math.round((wall - 600) / 1000)));
      const s = await source.demand({ ...ns, podIps: [a.addr, b.addr] }, 5000, 0);
      // 560 requests in the 5 s since the last scrape: 112/s (b over its own "1 s" would add 60/s instead of 12/s).
      expect(s.requestsPerSecond).to.be.closeTo(112, 1e-9);
      expect(s.windowMs).to.equal(5000);
      // Asked again 3 ms later for the same 5 s (a pass closing two intervals): the rate over 5 s, not over 3 ms.
      wall += 3;
      a.set(text(501, t0 / 1000 - 100));
      const again = await source.demand({ ...ns, podIps: [a.addr, b.addr] }, 5000, 1);
      // a from its reading at t0; b started inside the window: its 60 requests over the whole 5 s.
      expect(again.requestsPerSecond).to.be.closeTo(501 / 5.003 + 60 / 5, 1e-9);
      // A caller with a 1 s span (the accountant) meanwhile does not move the 5 s caller's baseline.
      wall += 1000;
      a.set(text(601, t0 / 1000 - 100));
      b.set(text(80, Math.round((t0 + 4400) / 1000)));
      const short = await source.demand({ ...ns, podIps: [a.addr, b.addr] }, 1000, 2);
      expect(short.requestsPerSecond).to.be.closeTo((601 - 501) / 1 + (80 - 60) / 1, 1e-9);
      wall += 4000;
      a.set(text(1001, t0 / 1000 - 100));
      b.set(text(180, Math.round((t0 + 4400) / 1000)));
      const long = await source.demand({ ...ns, podIps: [a.addr, b.addr] }, 5000, 3);
      // Baselines: the readings at the window's start, t0 + 5003 ms (a 501, b 60), not the 1 s caller's.
      expect(long.requestsPerSecond).to.be.closeTo((1001 - 501) / 5 + (180 - 60) / 5, 1e-9);
    } finally {
      for (const srv of servers) srv.close();
    }
  });
});
