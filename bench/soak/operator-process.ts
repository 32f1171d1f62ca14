// The operator as a black box: `node operator/cli.ts operator …` in a process of its own, driven only by its CLI
// flags, read only through its /metrics and /readyz endpoints, its JSON log lines and /proc (RSS, sockets). So the
// soak keeps measuring the same things while the operator's internals change underneath it.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../../operator/local-cluster/processes.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(ROOT, 'operator/cli.ts');

export interface OperatorProcessOptions {
  kubeconfig: string;
  /** Lease holder identity (POD_NAME, as the chart sets it). */
  identity: string;
  namespace: string;
  leaderElect: boolean;
  auditDir?: string;
  /** Where stdout and stderr go (JSON log lines). */
  logFile: string;
  /** More CLI flags (`--reconcile-concurrency 8`, `--clock-start …`). */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** The operator's cli.ts (default this checkout's): measure another build, e.g. a clean export of a commit. */
  cli?: string;
}

export interface MemoryFigures {
  /** VmRSS, MiB (measured, /proc/PID/status). */
  rssMiB: number;
  /** VmHWM: the peak resident set since the process started, MiB. */
  peakRssMiB: number;
}

export class OperatorProcess {
  readonly opts: OperatorProcessOptions;
  metricsPort = 0;
  private child?: ChildProcess;
  private exitedP: Promise<{ code: number | null; signal: string | null }> = Promise.resolve({
    code: null,
    signal: null,
  });
  /** Wall time (ms) of the latest start. */
  startedAt = 0;
  starts = 0;

  constructor(opts: OperatorProcessOptions) {
    this.opts = opts;
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  get exited(): Promise<{ code: number | null; signal: string | null }> {
    return this.exitedP;
  }

  async start(): Promise<void> {
    if (this.running) throw new Error(`operator ${this.opts.identity} is already running`);
    this.metricsPort = await freePort();
    const o = this.opts;
    const args = [
      // Node flags for the operator alone (e.g. `--cpu-prof --heapsnapshot-signal=SIGUSR2`): NODE_OPTIONS would
      // also reach the harness and the control plane's helpers.
      ...(process.env.SOAK_OPERATOR_NODE_FLAGS?.split(/\s+/).filter(Boolean) ?? []),
      o.cli ?? CLI,
      'operator',
      '--kubeconfig',
      o.kubeconfig,
      '--namespace',
      o.namespace,
      `--leader-elect=${o.leaderElect}`,
      '--health-addr',
      `127.0.0.1:${this.metricsPort}`,
      '--log-level',
      'info',
      ...(o.auditDir ? ['--audit-dir', o.auditDir] : []),
      ...(o.args ?? []),
      // Operator flags for every operator the soak starts (e.g. `--kube-api-qps 100`), after the scenario's own.
      ...(process.env.SOAK_OPERATOR_ARGS?.split(/\s+/).filter(Boolean) ?? []),
    ];
    const fd = openSync(o.logFile, 'a');
    this.child = spawn(process.execPath, args, {
      stdio: ['ignore', fd, fd],
      env: { ...process.env, ...o.env, POD_NAME: o.identity, KUBECONFIG: o.kubeconfig },
    });
    closeSync(fd);
    const child = this.child;
    this.exitedP = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    this.startedAt = Date.now();
    this.starts++;
  }

  /** Waits until /readyz answers 200 (every cache listed), or the process exits (an error with its log tail). */
  async waitReady(timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`operator ${this.opts.identity} exited before ready:\n${this.logTail(20)}`);
      const r = await this.http('/readyz').catch(() => undefined);
      if (r?.status === 200) return;
      await sleep(250);
    }
    throw new Error(`operator ${this.opts.identity} not ready after ${timeoutMs} ms:\n${this.logTail(20)}`);
  }

  /** /readyz as it answers now (status and body), or undefined when nothing answers. */
  readyz(): Promise<{ status: number; body: string } | undefined> {
    return this.http('/readyz').catch(() => undefined);
  }

  private async http(p: string): Promise<{ status: number; body: string }> {
    const res = await fetch(`http://127.0.0.1:${this.metricsPort}${p}`, { signal: AbortSignal.timeout(10_000) });
    return { status: res.status, body: await res.text() };
  }

  /** The /metrics text as samples: `name{labels}` → value (labels as printed). */
  async metrics(): Promise<Map<string, number>> {
    const { body } = await this.http('/metrics');
    return parsePrometheusText(body);
  }

  async metricsText(): Promise<string> {
    return (await this.http('/metrics')).body;
  }

  memory(): MemoryFigures | undefined {
    const pid = this.pid;
    if (!pid) return undefined;
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
    return { rssMiB: kb('VmRSS') / 1024, peakRssMiB: kb('VmHWM') / 1024 };
  }

  /**
   * The resident set by kind of mapping (/proc/PID/smaps), MiB: file-backed (the node binary, libraries), the brk
   * heap (glibc malloc's main arena) and other anonymous memory (V8's heap pages, malloc's thread arenas, buffers).
   */
  rssByMapping(): { files: number; brk: number; anonymous: number } | undefined {
    const pid = this.pid;
    if (!pid) return undefined;
    const out = { files: 0, brk: 0, anonymous: 0 };
    let kind: keyof typeof out = 'anonymous';
    for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
      const m = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
      if (m) kind = m[1]!.startsWith('/') ? 'files' : m[1] === '[heap]' ? 'brk' : 'anonymous';
      else if (line.startsWith('Rss:')) out[kind] += Number(line.split(/\s+/)[1]) / 1024;
    }
    return out;
  }

  /** CPU seconds (user + system) the process has used so far, from /proc/PID/stat. */
  cpuSeconds(): number | undefined {
    const pid = this.pid;
    if (!pid) return undefined;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  }

  /** Established TCP connections of this process to 127.0.0.1:port (the apiserver): its socket inodes in /proc/net/tcp. */
  connectionsTo(port: number): number {
    return this.connectionIdsTo(port).size;
  }

  /** Socket inodes of those connections: a new id between two samples is a new connection (a TLS handshake). */
  connectionIdsTo(port: number): Set<string> {
    const pid = this.pid;
    if (!pid) return new Set();
    return establishedTo(pid, port);
  }

  /** Sends a signal without waiting (SIGTERM starts the ordered stop; SIGSTOP/SIGCONT freeze and thaw). */
  signal(sig: NodeJS.Signals): void {
    if (this.running) this.child!.kill(sig);
  }

  /** kill -9: no shutdown path runs. */
  async kill9(): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGKILL');
    await this.exitedP;
  }

  /** SIGTERM and wait (the ordered stop); SIGKILL after `graceMs`. */
  async stop(graceMs = 30_000): Promise<{ code: number | null; signal: string | null }> {
    if (!this.running) return this.exitedP;
    this.child!.kill('SIGTERM');
    const t = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    const r = await this.exitedP;
    clearTimeout(t);
    return r;
  }

  log(): string {
    try {
      return readFileSync(this.opts.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  logTail(lines = 30): string {
    return this.log().split('\n').slice(-lines).join('\n');
  }

  /** JSON log lines (winston's format), newest last; lines that are not JSON are skipped. */
  logLines(): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = [];
    for (const l of this.log().split('\n')) {
      if (!l.startsWith('{')) continue;
      try {
        out.push(JSON.parse(l) as Record<string, unknown>);
      } catch {
        // a line cut by kill -9
      }
    }
    return out;
  }
}

export function parsePrometheusText(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    m.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return m;
}

/** Sum of the samples of a metric whose labels contain every `key="value"` given. */
export function sumMetric(m: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  let s = 0;
  for (const [k, v] of m) {
    if (k !== name && !k.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([lk, lv]) => k.includes(`${lk}="${lv}"`))) s += v;
  }
  return s;
}

function establishedTo(pid: number, port: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const l = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const m = /^socket:\[(\d+)\]$/.exec(l);
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const out = new Set<string>();
  for (const table of ['tcp', 'tcp6']) {
    let text = '';
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const row of text.split('\n').slice(1)) {
      const f = row.trim().split(/\s+/);
      if (f.length < 10) continue;
      // f[2] remote address:port, f[3] state (01 = ESTABLISHED), f[9] inode
      if (f[2]!.endsWith(`:${hexPort}`) && f[3] === '01' && inodes.has(f[9]!)) out.add(f[9]!);
    }
  }
  return out;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
