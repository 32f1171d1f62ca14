// The kube layer's metrics read back through a real Prometheus (Debian's package, as the demand tests use): a
// controller whose passes make known numbers of apiserver requests (to a local HTTP server) exports requests by
// verb/resource/code and requests per reconcile, and PromQL sees exactly those numbers.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { ControllerBuilder } from '../../../operator/kube/controller.ts';
import { KubeClient } from '../../../operator/kube/kube-client.ts';
import { apiserverRequestMetrics, reconcileMetrics } from '../../../operator/kube/kube-metrics.ts';
import { StoreWriter } from '../../../operator/kube/store.ts';

function findPrometheus(): string {
  const env = process.env['CARBONSCALE_PROMETHEUS'];
  if (env && existsSync(env)) return env;
  for (const dir of (process.env['PATH'] ?? '').split(delimiter))
    if (dir && existsSync(join(dir, 'prometheus'))) return join(dir, 'prometheus');
  throw new Error('prometheus binary not found: run scripts/test.sh (scripts/setup.d/prometheus.sh installs it)');
}

const listen = async (s: Server) => {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as { port: number }).port;
};

async function until(what: string, fn: () => Promise<boolean>, ms = 20_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('kube metrics through a real Prometheus', function () {
  this.timeout(60_000);
  let dir = '';
  let prom: ChildProcess | undefined;
  const servers: Server[] = [];

  after(async () => {
    prom?.kill('SIGTERM');
    if (prom && prom.exitCode === null) await new Promise((r) => prom!.on('exit', r));
    for (const s of servers) s.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('exports apiserver requests by verb, resource and code, and requests per reconcile by controller', async () => {
    const apiserver = createServer((req, res) => {
      const missing = req.url?.includes('/missing');
      res.writeHead(missing ? 404 : 200, { 'content-type': 'application/json' });
      res.end(missing ? '{"kind":"Status","reason":"NotFound"}' : '{}');
    });
    servers.push(apiserver);
    const apiPort = await listen(apiserver);
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${apiPort}`, skipTLSVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const registry = new Registry();
    const client = new KubeClient(kc, { onRequest: apiserverRequestMetrics(registry) });
    const primary = new StoreWriter<{ metadata: { name: string; namespace: string; resourceVersion: string } }>(
      'isvcs',
    );
    let passes = 0;
    const c = new ControllerBuilder<{ metadata: { name: string; namespace: string; resourceVersion: string } }>(
      'isvc',
      {
        onReconciled: reconcileMetrics(registry),
      },
    )
      .for(primary.reader)
      .build(async ({ name }) => {
        if (name === 'quiet') return; // served from caches: no request
        await client.get(`/apis/apps/v1/namespaces/ns/deployments/${name}`);
        await client.getOrNull(`/api/v1/namespaces/ns/services/missing`);
        await client.applyStatus(`/apis/carbonscale.dev/v1alpha1/namespaces/ns/inferenceservices/${name}`, {});
        passes++;
      });
    void c.start();
    primary.apply(
      {
        type: 'Restarted',
        objects: ['a', 'b', 'quiet'].map((name) => ({ metadata: { name, namespace: 'ns', resourceVersion: '1' } })),
        resourceVersion: '1',
      },
      0,
    );
    await until('both busy passes', async () => passes === 2);
    await c.stop();
    client.close();

    const metrics = createServer((_req, res) => {
      void registry.metrics().then((t) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(t);
      });
    });
    servers.push(metrics);
    const metricsPort = await listen(metrics);
    dir = await mkdtemp(join(tmpdir(), 'cs-kube-prom-'));
    const promServer = createServer();
    const promPort = await listen(promServer);
    await new Promise((r) => promServer.close(r));
    await writeFile(
      join(dir, 'prometheus.yml'),
      `global: { scrape_interval: 1s }\nscrape_configs:\n  - job_name: operator\n    static_configs: [{ targets: ['127.0.0.1:${metricsPort}'] }]\n`,
    );
    prom = spawn(
      findPrometheus(),
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      { stdio: 'ignore' },
    );
    const query = async (q: string): Promise<number | undefined> => {
      const r = (await (
        await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(q)}`)
      ).json()) as {
        data: { result: Array<{ value: [number, string] }> };
      };
      const v = r.data.result[0]?.value[1];
      return v === undefined ? undefined : Number(v);
    };
    await until('a scrape of the operator target', async () => (await query('up{job="operator"}')) === 1);
    await until('the request counter', async () => (await query('carbonscale_apiserver_requests_total')) !== undefined);
    expect(await query('carbonscale_apiserver_requests_total{verb="get",resource="deployments",code="200"}')).to.equal(
      2,
    );
    expect(await query('carbonscale_apiserver_requests_total{verb="get",resource="services",code="404"}')).to.equal(2);
    expect(
      await query('carbonscale_apiserver_requests_total{verb="patch",resource="inferenceservices/status",code="200"}'),
    ).to.equal(2);
    expect(await query('carbonscale_reconcile_apiserver_requests_count{controller="isvc"}')).to.equal(3);
    expect(await query('carbonscale_reconcile_apiserver_requests_sum{controller="isvc"}')).to.equal(6);
    expect(
      await query('carbonscale_reconcile_apiserver_requests_bucket{controller="isvc",le="0"}'),
      'the quiet pass made no request',
    ).to.equal(1);
  });
});
