// The embedded default's files at one stable place for the run: the kubeconfig (so `KUBECONFIG=… kubectl` works
// with the same path every time), the audit trail (kept across runs: a restart appends, `audit verify` checks it
// all), the JSON log of the live view and the local model servers' files. Default
// $CARBONSCALE_CACHE/embedded (~/.cache/carbonscale/embedded), or $CARBONSCALE_EMBEDDED_DIR. One run holds it at a
// time (run.pid); a second run at once gets a directory of its own and says so.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface StateDir {
  dir: string;
  kubeconfig: string;
  auditDir: string;
  logFile: string;
  podsDir: string;
  /** Set when the usual directory was held by another live run. */
  note?: string;
  release(): void;
}

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CARBONSCALE_EMBEDDED_DIR) return env.CARBONSCALE_EMBEDDED_DIR;
  return join(env.CARBONSCALE_CACHE ?? join(homedir(), '.cache', 'carbonscale'), 'embedded');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function holder(dir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dir, 'run.pid'), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function claimStateDir(base: string = defaultStateDir()): StateDir {
  let dir = base;
  let note: string | undefined;
  const held = existsSync(base) ? holder(base) : undefined;
  if (held !== undefined) {
    dir = join(base, `run-${process.pid}`);
    note = `${base} is in use by another embedded run (pid ${held}); this run uses ${dir}`;
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'run.pid'), `${process.pid}\n`);
  const kubeconfig = join(dir, 'kubeconfig');
  return {
    dir,
    kubeconfig,
    auditDir: join(dir, 'audit'),
    logFile: join(dir, 'operator.log'),
    podsDir: join(dir, 'pods'),
    ...(note ? { note } : {}),
    release() {
      // The kubeconfig points at a control plane that is gone: remove it rather than leave a trap.
      rmSync(kubeconfig, { force: true });
      rmSync(join(dir, 'pods'), { recursive: true, force: true });
      if (holder(dir) === undefined) rmSync(join(dir, 'run.pid'), { force: true });
    },
  };
}
