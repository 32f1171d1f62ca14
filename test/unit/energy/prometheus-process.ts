// A real Prometheus server (Debian's package, installed by scripts/setup.d/prometheus.sh) on loopback for the
// energy tests: scrape jobs given as static targets, a 1 s scrape interval, torn down in after hooks.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export function findPrometheus(): string {
  const env = process.env['CARBONSCALE_PROMETHEUS'];
  if (env && existsSync(env)) return env;
  for (const dir of (process.env['PATH'] ?? '').split(delimiter))
    if (dir && existsSync(join(dir, 'prometheus'))) return join(dir, 'prometheus');
  throw new Error(
    "prometheus binary not found: run scripts/test.sh (scripts/setup.d/prometheus.sh installs Debian's `prometheus`), or set CARBONSCALE_PROMETHEUS",
  );
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

export async function waitFor(what: string, fn: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export interface ScrapeTarget {
  job: string;
  /** http://host:port/path */
  url: string;
  labels?: Record<string, string>;
}

export interface PrometheusProcess {
  url: string;
  stop(): Promise<void>;
  /** Waits until every job has been scraped successfully at least `n` times. */
  waitScrapes(n: number, timeoutMs?: number): Promise<void>;
}

export async function startPrometheus(targets: ScrapeTarget[], scrapeIntervalS = 1): Promise<PrometheusProcess> {
  const binary = findPrometheus();
  const dir = await mkdtemp(join(tmpdir(), 'cs-energy-prom-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const jobs = [...new Set(targets.map((t) => t.job))];
  const cfg = [
    'global:',
    `  scrape_interval: ${scrapeIntervalS}s`,
    `  scrape_timeout: ${scrapeIntervalS}s`,
    'scrape_configs:',
  ];
  for (const job of jobs) {
    cfg.push(`  - job_name: ${job}`, '    static_configs:');
    for (const t of targets.filter((x) => x.job === job)) {
      const u = new URL(t.url);
      const labels = { ...(t.labels ?? {}), __metrics_path__: u.pathname };
      cfg.push(`      - targets: ['${u.host}']`, `        labels: ${JSON.stringify(labels)}`);
    }
  }
  await writeFile(join(dir, 'prometheus.yml'), cfg.join('\n') + '\n');
  let log = '';
  const child: ChildProcess = spawn(
    binary,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=1h',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr!.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-20_000)));
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(`prometheus ready at ${url}`, async () => (await fetch(`${url}/-/ready`)).ok, 20_000);
  } catch (e) {
    await stop();
    throw new Error(`${(e as Error).message}\n${log}`);
  }
  const waitScrapes = async (n: number, timeoutMs = 20_000) => {
    await waitFor(
      `${n} successful scrapes of every target (${jobs.join(', ')})`,
      async () => {
        const q = encodeURIComponent(`count_over_time(up[1h])`);
        const r = (await (await fetch(`${url}/api/v1/query?query=${q}`)).json()) as {
          data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
        };
        const res = r.data.result;
        return res.length >= targets.length && res.every((x) => Number(x.value[1]) >= n);
      },
      timeoutMs,
    );
  };
  return { url, stop, waitScrapes };
}
