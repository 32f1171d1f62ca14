// The demo's load generator, on a worker thread of the main job (its own event loop, so the operator's passes
// and Parquet writes do not delay requests and the latencies it measures are the servers'). Open loop: each
// service gets `rps` requests per second spread over its endpoints (round robin, as a Service would), on
// keep-alive raw-socket connections (model-server/load-generator.ts: a light client on a 2-core machine). A
// request finding every connection of its endpoint busy is counted as failed, never queued without bound.
import { parentPort } from 'node:worker_threads';
import { Connection } from '../../model-server/load-generator.ts';

export interface LoadTarget {
  service: string;
  model: string;
  rps: number;
  endpoints: string[];
}

export type ToWorker = { type: 'targets'; targets: LoadTarget[]; bodies?: string[] } | { type: 'stop' };

export interface LoadStats {
  service: string;
  requests: number;
  failed: number;
  p95Ms: number | null;
  seconds: number;
}

export type FromWorker = { type: 'stats'; stats: LoadStats[] } | { type: 'stopped' };

const TICK_MS = 20;
const REPORT_MS = 2000;
// Open loop at up to MAX_DEMO_RPS: enough connections that a slow moment (a busy machine) is measured as latency.
const CONNECTIONS_PER_ENDPOINT = 32;

interface Pool {
  idle: Connection[];
  open: number;
}

interface ServiceLoad {
  target: LoadTarget;
  due: number;
  next: number;
  latencies: number[];
  requests: number;
  failed: number;
}

const pools = new Map<string, Pool>();
const services = new Map<string, ServiceLoad>();
let bodies: Buffer[] = [];
let lastTick = performance.now();
let lastReport = performance.now();
let bodyIndex = 0;

function requestFor(model: string, body: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(
      `POST /v2/models/${model}/infer HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n` +
        `content-length: ${body.length}\r\n\r\n`,
      'latin1',
    ),
    body,
  ]);
}

function poolOf(endpoint: string): Pool {
  let p = pools.get(endpoint);
  if (!p) pools.set(endpoint, (p = { idle: [], open: 0 }));
  return p;
}

function send(svc: ServiceLoad, endpoint: string): void {
  const pool = poolOf(endpoint);
  let conn = pool.idle.pop();
  if (!conn) {
    if (pool.open >= CONNECTIONS_PER_ENDPOINT) {
      svc.requests++;
      svc.failed++;
      return;
    }
    const [host, port] = endpoint.split(':') as [string, string];
    conn = new Connection(host, Number(port));
    pool.open++;
  }
  const c = conn;
  const body = bodies[bodyIndex++ % bodies.length]!;
  const started = performance.now();
  c.send(requestFor(svc.target.model, body)).then(
    (status) => {
      svc.requests++;
      if (status !== 200) svc.failed++;
      svc.latencies.push(performance.now() - started);
      pool.idle.push(c);
    },
    () => {
      svc.requests++;
      svc.failed++;
      pool.open--;
      c.close();
    },
  );
}

function tick(): void {
  const now = performance.now();
  const dt = (now - lastTick) / 1000;
  lastTick = now;
  for (const svc of services.values()) {
    const eps = svc.target.endpoints;
    if (eps.length === 0 || bodies.length === 0) continue;
    // At most one second of backlog: a stalled thread does not burst afterwards.
    svc.due = Math.min(svc.due + svc.target.rps * dt, Math.max(1, svc.target.rps));
    while (svc.due >= 1) {
      svc.due -= 1;
      send(svc, eps[svc.next++ % eps.length]!);
    }
  }
  if (now - lastReport >= REPORT_MS) report(now);
}

function report(now: number): void {
  const seconds = (now - lastReport) / 1000;
  lastReport = now;
  const stats: LoadStats[] = [];
  for (const svc of services.values()) {
    const l = svc.latencies.sort((a, b) => a - b);
    stats.push({
      service: svc.target.service,
      requests: svc.requests,
      failed: svc.failed,
      p95Ms: l.length > 0 ? l[Math.min(l.length - 1, Math.ceil(0.95 * l.length) - 1)]! : null,
      seconds,
    });
    svc.latencies = [];
    svc.requests = 0;
    svc.failed = 0;
  }
  parentPort?.postMessage({ type: 'stats', stats } satisfies FromWorker);
}

function setTargets(targets: LoadTarget[]): void {
  const seen = new Set<string>();
  for (const t of targets) {
    seen.add(t.service);
    const cur = services.get(t.service);
    if (cur) cur.target = t;
    else services.set(t.service, { target: t, due: 0, next: 0, latencies: [], requests: 0, failed: 0 });
  }
  for (const k of [...services.keys()]) if (!seen.has(k)) services.delete(k);
  // Connections to endpoints no longer listed are closed (their server is gone or going).
  const live = new Set(targets.flatMap((t) => t.endpoints));
  for (const [ep, pool] of pools)
    if (!live.has(ep)) {
      for (const c of pool.idle) c.close();
      pools.delete(ep);
    }
}

const timer = setInterval(tick, TICK_MS);
parentPort?.on('message', (m: ToWorker) => {
  if (m.type === 'targets') {
    if (m.bodies) bodies = m.bodies.map((b) => Buffer.from(b));
    setTargets(m.targets);
  } else {
    clearInterval(timer);
    for (const pool of pools.values()) for (const c of pool.idle) c.close();
    parentPort?.postMessage({ type: 'stopped' } satisfies FromWorker);
    parentPort?.close();
  }
});
