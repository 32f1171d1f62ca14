// A closed-loop HTTP/1.1 load generator for the profiler and the bench: `concurrency` keep-alive connections each
// send the next request as soon as the previous answer arrives, for `durationMs`. It writes pre-encoded requests
// on raw sockets and reads only the status line and Content-Length, because on a small machine the client shares
// the CPU with the server it measures: node:http's client costs about as much per request as the server does
// (docs/model-server.md, "Performance"), so a heavy client would measure itself. Responses must carry
// Content-Length (the model server always sends it); anything else counts as a failure and the connection is
// replaced.
import { connect } from 'node:net';
import type { Socket } from 'node:net';

export interface LoadResult {
  requests: number;
  failures: number;
  elapsedMs: number;
  /** Sorted per-request latencies, ms. */
  latenciesMs: number[];
  /** Responses by HTTP status ("error" for a connection that failed or an unparseable response). */
  statuses: Record<string, number>;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/** One keep-alive connection that answers one request at a time. */
export class Connection {
  private socket: Socket | undefined;
  private buf: Buffer = Buffer.alloc(0);
  private waiting: { resolve: (status: number) => void; reject: (e: Error) => void } | undefined;

  private readonly host: string;
  private readonly port: number;

  constructor(host: string, port: number) {
    this.host = host;
    this.port = port;
  }

  private open(): Socket {
    const s = connect({ host: this.host, port: this.port, noDelay: true });
    s.on('data', (c: Buffer) => this.onData(c));
    const drop = (err?: Error) => {
      // A socket this connection already let go of (close(), fail()) has nothing left to settle.
      if (this.socket !== s) return;
      this.socket = undefined;
      this.buf = Buffer.alloc(0);
      const w = this.waiting;
      this.waiting = undefined;
      w?.reject(err ?? new Error('connection closed before the response'));
    };
    s.on('error', drop);
    s.on('close', () => drop());
    this.socket = s;
    return s;
  }

  send(request: Buffer): Promise<number> {
    const s = this.socket ?? this.open();
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      s.write(request);
    });
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const end = this.buf.indexOf(HEADER_END);
    if (end < 0) return;
    const head = this.buf.toString('latin1', 0, end);
    const status = Number(head.slice(9, 12));
    const m = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
    if (!m || !Number.isInteger(status)) {
      this.fail(new Error(`unparseable response (no status or Content-Length): ${head.split('\r\n')[0]}`));
      return;
    }
    const total = end + HEADER_END.length + Number(m[1]);
    if (this.buf.length < total) return;
    this.buf = this.buf.subarray(total);
    const w = this.waiting;
    this.waiting = undefined;
    if (/\r\nconnection:[ \t]*close/i.test(head)) this.close();
    w?.resolve(status);
  }

  private fail(err: Error): void {
    const w = this.waiting;
    this.waiting = undefined;
    this.close();
    w?.reject(err);
  }

  close(): void {
    const s = this.socket;
    this.socket = undefined;
    this.buf = Buffer.alloc(0);
    s?.destroy();
  }
}

export async function runLoad(opts: {
  url: string;
  bodies: Buffer[];
  concurrency: number;
  durationMs: number;
}): Promise<LoadResult> {
  const u = new URL(opts.url);
  if (u.protocol !== 'http:') throw new Error(`runLoad: only http:// URLs are supported, got ${opts.url}`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = Number(u.port || 80);
  const requests = opts.bodies.map((body) =>
    Buffer.concat([
      Buffer.from(
        `POST ${u.pathname}${u.search} HTTP/1.1\r\nhost: ${u.host}\r\ncontent-type: application/json\r\n` +
          `content-length: ${body.length}\r\n\r\n`,
        'latin1',
      ),
      body,
    ]),
  );
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let failures = 0;
  let next = 0;
  const t0 = performance.now();
  async function worker(): Promise<void> {
    const conn = new Connection(host, port);
    try {
      while (performance.now() - t0 < opts.durationMs) {
        const request = requests[next++ % requests.length]!;
        const s = performance.now();
        let key: string;
        try {
          const status = await conn.send(request);
          key = String(status);
          if (status !== 200) failures++;
        } catch {
          key = 'error';
          failures++;
        }
        statuses[key] = (statuses[key] ?? 0) + 1;
        latencies.push(performance.now() - s);
      }
    } finally {
      conn.close();
    }
  }
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  const elapsedMs = performance.now() - t0;
  latencies.sort((a, b) => a - b);
  return { requests: latencies.length, failures, elapsedMs, latenciesMs: latencies, statuses };
}
