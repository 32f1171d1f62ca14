// A closed-loop HTTP load generator for the profiler and the bench: `concurrency` workers each send the next
// request as soon as the previous answer arrives, over keep-alive connections, for `durationMs`.
import { Agent, request } from 'node:http';

export interface LoadResult {
  requests: number;
  failures: number;
  elapsedMs: number;
  /** Sorted per-request latencies, ms. */
  latenciesMs: number[];
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export async function runLoad(opts: {
  url: string;
  bodies: Buffer[];
  concurrency: number;
  durationMs: number;
}): Promise<LoadResult> {
  const u = new URL(opts.url);
  const agent = new Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const latencies: number[] = [];
  let failures = 0;
  let next = 0;
  const t0 = performance.now();
  const one = (body: Buffer) =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        {
          agent,
          host: u.hostname,
          port: u.port,
          path: u.pathname,
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': body.length },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  async function worker(): Promise<void> {
    while (performance.now() - t0 < opts.durationMs) {
      const body = opts.bodies[next++ % opts.bodies.length]!;
      const s = performance.now();
      try {
        const status = await one(body);
        if (status !== 200) failures++;
      } catch {
        failures++;
      }
      latencies.push(performance.now() - s);
    }
  }
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  const elapsedMs = performance.now() - t0;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { requests: latencies.length, failures, elapsedMs, latenciesMs: latencies };
}
