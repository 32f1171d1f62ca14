// End to end: a real `carbonscale serve` process, scraped every second by a real Prometheus server (Debian's
// package, located by scripts/setup.d/prometheus.sh) on loopback, read back through PrometheusDemandSource.
import { expect } from 'chai';
import { after, before, describe, it } from 'mocha';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DemandError } from '../../../operator/demand/demand-source.ts';
import { PrometheusDemandSource } from '../../../operator/demand/prometheus-demand-source.ts';
import { MODELS, VARIANTS, inferBody, post } from '../model-server/support.ts';
import { spawnServe } from '../model-server/support-process.ts';
import { findPrometheus, freePort, waitFor } from '../energy/prometheus-process.ts';
import type { ServeProcess } from '../model-server/support-process.ts';

describe('PrometheusDemandSource (real Prometheus scraping a real model server)', function () {
  this.timeout(60_000);
  let dir: string;
  let serve: ServeProcess;
  let prom: ChildProcess | undefined;
  let promUrl: string;
  let promLog = '';

  before(async () => {
    const binary = findPrometheus();
    dir = await mkdtemp(join(tmpdir(), 'cs-prom-'));
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
    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    // The labels a Kubernetes scrape config would attach by relabelling (namespace, inferenceservice).
    await writeFile(
      join(dir, 'prometheus.yml'),
      [
        'global:',
        '  scrape_interval: 1s',
        '  evaluation_interval: 1s',
        'scrape_configs:',
        '  - job_name: model-server',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${serve.port}']`,
        '        labels: { namespace: ml, inferenceservice: digits }',
        '',
      ].join('\n'),
    );
    prom = spawn(
      binary,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        '--storage.tsdb.retention.time=1h',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prom.stderr!.on('data', (c: Buffer) => (promLog += c.toString()));
    await waitFor(
      `prometheus ready at ${promUrl}\n${promLog}`,
      async () => (await fetch(`${promUrl}/-/ready`)).ok,
      20_000,
    );
    await waitFor(
      'the model server target to be up',
      async () => {
        const r = await (await fetch(`${promUrl}/api/v1/query?query=up{job="model-server"}`)).json();
        return (r as { data: { result: { value: [number, string] }[] } }).data.result[0]?.value[1] === '1';
      },
      20_000,
    );
  });

  after(async () => {
    prom?.kill('SIGTERM');
    if (serve && serve.child.exitCode === null) {
      serve.child.kill('SIGTERM');
      await serve.exited;
    }
    if (prom && prom.exitCode === null) await new Promise((r) => prom!.on('exit', r));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reads the request rate, inference rate and served counts by variant', async () => {
    const url = `${serve.url}/v2/models/digits/infer`;
    const rows = [new Array(64).fill(1), new Array(64).fill(2)];
    // Steady load for ~6 s: 10 requests every 250 ms, 2 rows each (about 40 req/s, 80 inferences/s).
    const started = Date.now();
    let sent = 0;
    while (Date.now() - started < 6000) {
      const batch = await Promise.all(Array.from({ length: 10 }, () => post(url, inferBody(rows))));
      for (const r of batch) expect(r.status).to.equal(200);
      sent += batch.length;
      await new Promise((r) => setTimeout(r, 250));
    }
    const clientRps = sent / ((Date.now() - started) / 1000);
    await new Promise((r) => setTimeout(r, 1500)); // one more scrape after the last request
    const source = new PrometheusDemandSource({ url: promUrl });
    const now = Date.now();
    const sample = await source.demand({ namespace: 'ml', name: 'digits' }, 5000, now - 1500);
    console.log(
      `      prometheus: ${sample.requestsPerSecond.toFixed(1)} req/s, ${sample.inferencesPerSecond.toFixed(1)} ` +
        `inferences/s (client sent ${clientRps.toFixed(1)} req/s), served ${JSON.stringify(sample.servedByVariant)}`,
    );
    expect(sample.source).to.equal('prometheus');
    expect(sample.basis).to.equal('measured');
    expect(sample.warnings).to.deep.equal([]);
    expect(sample.requestsPerSecond).to.be.within(clientRps * 0.6, clientRps * 1.4);
    expect(sample.inferencesPerSecond / sample.requestsPerSecond).to.be.closeTo(2, 0.01);
    expect(Object.keys(sample.servedByVariant)).to.deep.equal(['digits-full']);
    expect(sample.servedByVariant['digits-full']).to.be.greaterThan(0);

    // Another InferenceService's matchers find nothing: zero with a warning, not an error.
    const other = await source.demand({ namespace: 'ml', name: 'other' }, 5000, now);
    expect(other.requestsPerSecond).to.equal(0);
    expect(other.warnings[0]).to.match(/no carbonscale_model_requests_total series/);
  });

  it('a bad query or an unreachable server is a DemandError naming it', async () => {
    const bad = new PrometheusDemandSource({ url: promUrl, matchers: () => 'namespace=~"(' });
    let err: unknown;
    await bad.demand({ namespace: 'ml', name: 'digits' }, 5000, Date.now()).catch((e: unknown) => (err = e));
    expect(err).to.be.instanceOf(DemandError);
    expect((err as DemandError).reason).to.equal('query_failed');
    const down = new PrometheusDemandSource({ url: 'http://127.0.0.1:1', timeoutMs: 2000 });
    await down.demand({ namespace: 'ml', name: 'digits' }, 5000, Date.now()).catch((e: unknown) => (err = e));
    expect((err as DemandError).reason).to.equal('unreachable');
    expect((err as Error).message).to.include('http://127.0.0.1:1');
  });
});
