// Shared plumbing for the provider emulators: a node:http server on 127.0.0.1:0, a request counter per path,
// the real traces in data/carbon as the data, and switchable faults for the bad-input tests. Each emulator file
// (electricity-maps.ts, watt-time.ts, …) implements its provider's routes field by field and cites the doc.
// Transport faults (status, HTML, redirects, encodings, echoed credentials) are applied here for every emulator;
// payload faults (a value, a shifted time, another region, no current point) by each emulator in its own shape.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { parseCarbonTrace } from '../../operator/carbon/trace-file.ts';
import type { CarbonTrace, EmissionBasis, TracePoint } from '../../operator/carbon/trace-file.ts';

export type Fault =
  | { kind: 'malformed-json' }
  | { kind: 'html-200' }
  | { kind: 'status'; status: number; retryAfter?: string; body?: string }
  | { kind: 'hang' }
  | { kind: 'slow-loris'; intervalMs?: number }
  | { kind: 'huge'; bytes: number }
  /** A 3xx with a Location; `echoCredential` appends the request's credential header to the Location path. */
  | { kind: 'redirect'; status: number; location: string; echoCredential?: boolean }
  /** An answer that echoes the request's credentials (headers, decoded Basic login, URL) in its body and headers,
   * as misconfigured gateways and debug error pages do. */
  | { kind: 'echo-credentials'; status: number; format: 'json' | 'html' | 'text' }
  /** The normal answer, prefixed with a UTF-8 byte-order mark. */
  | { kind: 'bom' }
  /** `Content-Encoding: gzip` over bytes that are not gzip. */
  | { kind: 'bad-gzip' }
  /** The normal answer with a byte that is not UTF-8 inside a string. */
  | { kind: 'bad-utf8' }
  /** Payload-level faults, applied by each emulator to its own shape. */
  | { kind: 'missing-field' }
  | { kind: 'value'; value: unknown }
  | { kind: 'wrong-units' }
  | { kind: 'data-as-object' }
  | { kind: 'no-content' }
  /** Every time in the answer moved by `ms` (a day ahead: a reading dated in the future). */
  | { kind: 'shift-time'; ms: number }
  /** The answer names another region than the one asked for, in the provider's identity field. */
  | { kind: 'wrong-region'; region: string }
  /** The answer holds only points after now (the current one is missing). */
  | { kind: 'no-current' };

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler = (req: IncomingMessage, url: URL, fault: Fault | undefined) => Reply;

export interface Emulator {
  url: string;
  /** Requests served, per path (`/v3/carbon-intensity/latest` …), faults included. */
  readonly requests: Map<string, number>;
  count(path: string): number;
  total(): number;
  /** Switches a fault on for the next `times` requests (default: until cleared). `paths` limits it. */
  fault(f: Fault, opts?: { times?: number; paths?: string[] }): void;
  clearFault(): void;
  close(): Promise<void>;
}

const DATA_DIR = fileURLToPath(new URL('../../data/carbon/', import.meta.url));
const traces = new Map<string, CarbonTrace>();

/** A trace from data/carbon (the copies in the project, never ../shared). */
export function trace(file: string, basis: EmissionBasis = 'direct'): CarbonTrace {
  const k = `${basis}:${file}`;
  let t = traces.get(k);
  if (!t) {
    t = parseCarbonTrace(readFileSync(DATA_DIR + file, 'utf8'), file, { basis });
    traces.set(k, t);
  }
  return t;
}

/** The row whose interval contains `ms`, or undefined outside the trace. */
export function pointAt(t: CarbonTrace, ms: number): TracePoint | undefined {
  const i = Math.floor((ms - t.points[0]!.timeMs) / t.stepMs);
  return i >= 0 && i < t.points.length ? t.points[i] : undefined;
}

export function pointsBetween(t: CarbonTrace, fromMs: number, toMs: number): TracePoint[] {
  return t.points.filter((p) => p.timeMs >= fromMs && p.timeMs < toMs);
}

export const HOUR = 3_600_000;
export const floorTo = (ms: number, step: number) => Math.floor(ms / step) * step;

/** The credentials a request carried, as an upstream that echoes them would show them. */
function echoed(req: IncomingMessage, url: URL): { lines: string[]; credential: string } {
  const lines = [`GET ${url.pathname}${url.search}`];
  for (const [k, v] of Object.entries(req.headers)) lines.push(`${k}: ${String(v)}`);
  const auth = req.headers.authorization ?? '';
  const basic = /^Basic\s+(.+)$/i.exec(auth);
  if (basic) lines.push(`login: ${Buffer.from(basic[1]!, 'base64').toString('utf8')}`);
  const bearer = /^Bearer\s+(.+)$/i.exec(auth);
  const credential = String(req.headers['auth-token'] ?? bearer?.[1] ?? basic?.[1] ?? '');
  return { lines, credential };
}

function echoCredentials(req: IncomingMessage, url: URL, res: ServerResponse, f: Fault & { kind: 'echo-credentials' }) {
  const { lines, credential } = echoed(req, url);
  const headers = {
    'x-echo-credential': credential,
    'www-authenticate': `Bearer realm="api", error="invalid_token", error_description="rejected ${credential}"`,
  };
  if (f.format === 'json') {
    res.writeHead(f.status, { 'content-type': 'application/json', ...headers });
    return res.end(JSON.stringify({ status: 'error', message: `rejected: ${lines.join(' | ')}`, request: lines }));
  }
  if (f.format === 'html') {
    res.writeHead(f.status, { 'content-type': 'text/html', ...headers });
    return res.end(`<!DOCTYPE html><html><body><h1>Error ${f.status}</h1><pre>${lines.join('\n')}</pre></body></html>`);
  }
  res.writeHead(f.status, { 'content-type': 'text/plain', ...headers });
  return res.end(lines.join('\n'));
}

/** Transport faults that replace the answer; returns true when the fault answered. */
function transportFault(req: IncomingMessage, url: URL, res: ServerResponse, f: Fault | undefined): boolean {
  if (f?.kind === 'echo-credentials') {
    echoCredentials(req, url, res, f);
    return true;
  }
  if (f?.kind === 'redirect') {
    const extra = f.echoCredential ? `/${encodeURIComponent(echoed(req, url).credential)}` : '';
    res.writeHead(f.status, { location: `${f.location}${extra}`, 'content-type': 'text/html' });
    res.end(`<html><body>Moved to <a href="${f.location}${extra}">here</a></body></html>`);
    return true;
  }
  return false;
}

/** Encoding faults applied to the normal answer's bytes. */
function encode(text: string, f: Fault | undefined): { bytes: Buffer; headers: Record<string, string> } {
  if (f?.kind === 'bom') return { bytes: Buffer.from(`\uFEFF${text}`, 'utf8'), headers: {} };
  if (f?.kind === 'bad-gzip')
    return { bytes: Buffer.from('this is not gzip data'), headers: { 'content-encoding': 'gzip' } };
  if (f?.kind === 'bad-utf8') {
    const i = text.indexOf('"', 1);
    const b = Buffer.from(text, 'utf8');
    return {
      bytes: i > 0 ? Buffer.concat([b.subarray(0, i + 1), Buffer.from([0xff, 0xfe]), b.subarray(i + 1)]) : b,
      headers: {},
    };
  }
  return { bytes: Buffer.from(text, 'utf8'), headers: {} };
}

export async function startEmulator(handler: Handler): Promise<Emulator> {
  const requests = new Map<string, number>();
  let fault: { f: Fault; left: number; paths?: string[] } | undefined;
  const open = new Set<ServerResponse>();
  const timers = new Set<NodeJS.Timeout>();

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.set(url.pathname, (requests.get(url.pathname) ?? 0) + 1);
    let f: Fault | undefined;
    if (fault && fault.left > 0 && (!fault.paths || fault.paths.some((p) => url.pathname.startsWith(p)))) {
      f = fault.f;
      fault.left--;
    }
    open.add(res);
    res.on('close', () => open.delete(res));
    if (transportFault(req, url, res, f)) return;
    switch (f?.kind) {
      case 'hang':
        return; // never answer: the client's deadline must end it
      case 'slow-loris': {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"data": [');
        const t = setInterval(() => res.write(' '), f.intervalMs ?? 20);
        timers.add(t);
        res.on('close', () => clearInterval(t));
        return;
      }
      case 'html-200':
        res.writeHead(200, { 'content-type': 'text/html' });
        return res.end('<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>');
      case 'malformed-json':
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end('{"zone": "DE", "carbonIntensity": 301, "datetime": "2023-');
      case 'huge': {
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = `{"pad":"${'x'.repeat(64 * 1024)}"},`;
        let sent = 0;
        res.write('[');
        const pump = () => {
          while (sent < f.bytes) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end('{}]');
        };
        pump();
        res.on('error', () => undefined);
        return;
      }
      case 'status':
        res.writeHead(f.status, {
          'content-type': 'application/json',
          ...(f.retryAfter !== undefined ? { 'retry-after': f.retryAfter } : {}),
        });
        return res.end(f.body ?? JSON.stringify({ status: 'error', message: `emulated ${f.status}` }));
      // Not answers of their own: transportFault has answered the first two already, encode() changes the normal
      // answer's bytes for the next three, each emulator's handler applies the payload faults to its own shape, and
      // without a fault the handler answers normally.
      case 'echo-credentials':
      case 'redirect':
      case 'bom':
      case 'bad-gzip':
      case 'bad-utf8':
      case 'missing-field':
      case 'value':
      case 'wrong-units':
      case 'data-as-object':
      case 'no-content':
      case 'shift-time':
      case 'wrong-region':
      case 'no-current':
      case undefined:
        break;
    }
    let reply: Reply;
    try {
      reply = handler(req, url, f);
    } catch (e) {
      reply = { status: 500, body: { message: (e as Error).message } };
    }
    if (reply.body === undefined) {
      res.writeHead(reply.status, reply.headers);
      return res.end();
    }
    const { bytes, headers } = encode(JSON.stringify(reply.body), f);
    res.writeHead(reply.status, { 'content-type': 'application/json', ...headers, ...reply.headers });
    res.end(bytes);
  });
  server.on('clientError', (_e, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    count: (p) => requests.get(p) ?? 0,
    total: () => [...requests.values()].reduce((a, b) => a + b, 0),
    fault(f, opts = {}) {
      fault = { f, left: opts.times ?? Infinity, ...(opts.paths ? { paths: opts.paths } : {}) };
    },
    clearFault() {
      fault = undefined;
    },
    async close() {
      for (const t of timers) clearInterval(t);
      for (const r of open) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A time to serve, after a `shift-time` fault. */
export function shifted(ms: number, f: Fault | undefined): number {
  return f?.kind === 'shift-time' ? ms + f.ms : ms;
}

/** The region name to serve in an identity field, after a `wrong-region` fault. */
export function regionFor<T>(asked: T, f: Fault | undefined): T | string {
  return f?.kind === 'wrong-region' ? f.region : asked;
}

/** Value to serve, after a `value` or `missing-field` fault: `undefined` means drop the field. */
export function faulted(value: number, f: Fault | undefined): unknown {
  if (f?.kind === 'value') return f.value;
  if (f?.kind === 'missing-field') return undefined;
  return value;
}

export function unauthorized(message: string): Reply {
  return { status: 401, body: { status: 'error', message } };
}
