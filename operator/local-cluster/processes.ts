// Child processes of the local control plane: started with their logs in files, stopped with SIGTERM then
// SIGKILL, and killed synchronously if this process exits for any reason (Ctrl-C, uncaught error), so no
// etcd or kube-apiserver outlives its test run.
// Each child runs in its own process group, so a terminal's Ctrl-C (SIGINT to the foreground group) reaches this
// process only: the main job then stops in order (work, audit sink, then these processes; operator/shutdown.ts).
// Out of the terminal's group, a child would outlive a kill -9 of this process; a watchdog beside it (a shell
// reading a pipe that only this process holds open) kills the child's group when the pipe closes, which the
// kernel does however this process ends.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Duplex } from 'node:stream';
import { signalsClaimed } from '../shutdown.ts';

const live = new Set<ChildProcess>();
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const c of live) {
      try {
        c.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      // The main job's ordered stop owns the signals (it stops these processes last); tests and tools do not.
      if (signalsClaimed()) return;
      for (const c of live) c.kill('SIGKILL');
      process.exit(sig === 'SIGINT' ? 130 : sig === 'SIGTERM' ? 143 : 129);
    });
  }
}

/**
 * `sh -c WATCHDOG name bin args...`: starts the watchdog on fd 3 (the pipe to this process), then becomes the
 * binary (exec keeps the pid, so signals and exit codes are the binary's). When the pipe closes, the watchdog
 * kills the whole group: the binary if it still runs, and itself. The group id stays allocated while the
 * watchdog lives, so the kill can never hit an unrelated process that reused the pid.
 */
const WATCHDOG = `sh -c 'cat >/dev/null; kill -KILL -"$0"' "$$" <&3 >/dev/null 2>&1 & exec "$@" 3<&-`;

export class ManagedProcess {
  readonly name: string;
  readonly logFile: string;
  private child: ChildProcess;
  private exited: Promise<number | null>;
  exitCode: number | null | undefined;

  constructor(name: string, bin: string, args: string[], logFile: string, env?: NodeJS.ProcessEnv) {
    installExitHooks();
    this.name = name;
    this.logFile = logFile;
    const fd = openSync(logFile, 'a');
    this.child = spawn('/bin/sh', ['-c', WATCHDOG, name, bin, ...args], {
      stdio: ['ignore', fd, fd, 'pipe'],
      env: env ?? process.env,
      detached: true,
    });
    closeSync(fd);
    const lifeline = this.child.stdio[3] as Duplex | null;
    lifeline?.on('error', () => undefined);
    live.add(this.child);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code) => {
        live.delete(this.child);
        lifeline?.destroy(); // the watchdog sees the pipe close and ends itself
        this.exitCode = code;
        resolve(code);
      });
      this.child.once('error', () => {
        live.delete(this.child);
        lifeline?.destroy();
        this.exitCode = -1;
        resolve(-1);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  logTail(lines = 30): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Sends a signal without waiting (e.g. SIGSTOP/SIGCONT to simulate an unresponsive apiserver). */
  signal(sig: NodeJS.Signals): void {
    if (this.running) this.child.kill(sig);
  }

  async stop(graceMs = 5000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGCONT');
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number, onFail?: () => string) {
  const deadline = Date.now() + timeoutMs;
  let lastErr = '';
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (e) {
      if ((e as Error).name === 'FatalStartError') throw e;
      lastErr = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? ` (last error: ${lastErr})` : ''}` +
      (onFail ? `\n${onFail()}` : ''),
  );
}
