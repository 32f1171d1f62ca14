// The scrape DemandSource against a real model server's /metrics: exact served counts by variant and the rate
// over the (injected) time between two scrapes.
import { expect } from 'chai';
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

  it('reads served counts by variant and the request rate between two scrapes', async () => {
    const source = new ScrapeDemandSource();
    const target = { namespace: 'ml', name: 'digits', podIps: [`127.0.0.1:${server.port}`] };
    const t0 = Date.now();
    const first = await source.demand(target, 60_000, t0);
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

    const second = await source.demand(target, 60_000, t0 + 10_000);
    expect(second.servedByVariant).to.deep.equal({ 'digits-full': 30, 'digits-small': 5 });
    expect(second.requestsPerSecond).to.be.closeTo(15 / 10, 1e-9);
    expect(second.inferencesPerSecond).to.be.closeTo(35 / 10, 1e-9);
    expect(second.windowMs).to.equal(10_000);
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
});
