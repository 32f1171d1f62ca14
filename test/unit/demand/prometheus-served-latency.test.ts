// End to end: a real `carbonscale serve` process scraped every second by a real Prometheus, its request-duration
// histogram read back through PrometheusServedLatency over a wall-clock interval: exactly the requests served in
// the interval, and the p50/p95 Prometheus's own histogram_quantile gives over the same bucket increases.
import { expect } from 'chai';
import { after, before, describe, it } from 'mocha';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrometheusServedLatency } from '../../../operator/demand/prometheus-served-latency.ts';
import { startPrometheus, type PrometheusProcess } from '../energy/prometheus-process.ts';
import { MODELS, VARIANTS, inferBody, post } from '../model-server/support.ts';
import { spawnServe, type ServeProcess } from '../model-server/support-process.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const METRIC = 'carbonscale_model_request_duration_seconds';

describe('PrometheusServedLatency (real Prometheus scraping a real model server)', function () {
  this.timeout(90_000);
  let dir: string;
  let serve: ServeProcess;
  let prom: PrometheusProcess;
  const createdMs = Date.now() - 60_000;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cs-latency-'));
    const config = join(dir, 'serve.json');
    await writeFile(
      config,
      JSON.stringify({
        modelName: 'digits',
        host: '127.0.0.1',
        port: 0,
        variants: VARIANTS.map((name) => ({ name, uri: join(MODELS, `${name}.onnx`) })),
      }),
    );
    serve = await spawnServe(config);
    // The labels a Kubernetes scrape config attaches by relabelling (namespace, inferenceservice, pod).
    prom = await startPrometheus([
      {
        job: 'model-server',
        url: `${serve.url}/metrics`,
        labels: { namespace: 'ml', inferenceservice: 'digits', pod: 'digits-0' },
      },
    ]);
  });

  after(async () => {
    await prom?.stop();
    if (serve && serve.child.exitCode === null) {
      serve.child.kill('SIGTERM');
      await serve.exited;
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function promQuery(q: string, atMs: number): Promise<number> {
    const u = `${prom.url}/api/v1/query?query=${encodeURIComponent(q)}&time=${atMs / 1000}`;
    const body = (await (await fetch(u)).json()) as { data: { result: Array<{ value: [number, string] }> } };
    return Number(body.data.result[0]?.value[1]);
  }

  it('the interval holds the requests served in it; p50/p95 match histogram_quantile over the same increases', async () => {
    const url = `${serve.url}/v2/models/digits/infer`;
    const target = { namespace: 'ml', service: 'digits', pods: [{ name: 'digits-0', createdMs }] };
    // Requests before the interval (its series must exist before it starts), then quiet across its start.
    for (let i = 0; i < 5; i++) expect((await post(url, inferBody([new Array(64).fill(i)]))).status).to.equal(200);
    await prom.waitScrapes(3);
    await sleep(2_000);
    const from = Date.now();
    await sleep(1_500);
    for (let i = 0; i < 60; i++) {
      const rows = Array.from({ length: 1 + (i % 8) * 8 }, () => new Array(64).fill(i % 16));
      expect((await post(url, inferBody(rows))).status).to.equal(200);
    }
    await sleep(1_500);
    const to = Date.now();
    await sleep(2_500); // samples after the interval's end are in
    const src = new PrometheusServedLatency({ url: prom.url, maxGapMs: 5_000 });
    const r = await src.latency(target, { wallFromMs: from, wallToMs: to });
    if (!r.measured) throw new Error(r.reason);
    expect(r.source).to.equal('prometheus:carbonscale');
    expect(r.latency.requests).to.equal(60);
    // Prometheus's own quantile over the bucket increases between the two quiet instants (no reset here).
    const sel = `${METRIC}_bucket{namespace="ml",inferenceservice="digits"}`;
    // `offset` in whole seconds lands within 0.5 s of `from`, inside the quiet time around it.
    const span = `${Math.round((to - from) / 1000)}s`;
    const theirs = async (q: number) =>
      promQuery(`histogram_quantile(${q}, sum by (le) (${sel} - ${sel} offset ${span}))`, to);
    expect(r.latency.p50Ms).to.be.closeTo((await theirs(0.5)) * 1000, 1e-6);
    expect(r.latency.p95Ms).to.be.closeTo((await theirs(0.95)) * 1000, 1e-6);
    expect(r.latency.p50Ms).to.be.at.most(r.latency.p95Ms);
  });

  it('a service without the histogram, and an interval with too few requests: unknown, and says why', async () => {
    const src = new PrometheusServedLatency({ url: prom.url, maxGapMs: 5_000 });
    await sleep(5_000); // clear of the previous case's load, with samples on both sides of the window
    const now = Date.now() - 2_000;
    const none = await src.latency(
      { namespace: 'ml', service: 'other', pods: [] },
      { wallFromMs: now - 2_000, wallToMs: now },
    );
    expect(none).to.deep.include({ measured: false });
    expect((none as { reason: string }).reason).to.match(/no request-duration histogram/);
    const quiet = await src.latency(
      { namespace: 'ml', service: 'digits', pods: [{ name: 'digits-0', createdMs }] },
      { wallFromMs: now - 2_000, wallToMs: now },
    );
    expect((quiet as { reason: string }).reason).to.match(/0 requests observed, fewer than the 20/);
  });
});
