// Replays a Dockerfile target's steps outside Docker (there is no Docker engine here): every stage it depends
// on gets a folder standing for its /app; RUN commands run there with bash (npm prefers its local cache);
// COPY copies from the repository (minus .dockerignore) or from another stage's folder. The target's folder is
// then what the final image's /app would hold, and its command can be started with the local Node 24.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { parseCopy, parseDockerfile, type Stage } from '../../unit/install/dockerfile.ts';
import { ROOT } from '../../unit/install/tools.ts';

const WORKDIR = '/app';

function ignoredBy(patterns: string[]): (rel: string) => boolean {
  const rules = patterns.map((p) => p.trim()).filter((p) => p && !p.startsWith('#') && !p.startsWith('!'));
  return (rel) =>
    rules.some((r) => {
      if (r.startsWith('**/')) return rel.split('/').includes(r.slice(3));
      if (r.endsWith('/')) return rel === r.slice(0, -1) || rel.startsWith(r);
      if (!/[*?[]/.test(r)) return rel === r;
      // Only root-level globs such as *.md (re-includes, e.g. !data/**/*.md, are in subfolders and unaffected).
      return !rel.includes('/') && new RegExp(`^${r.replace(/\./g, '\\.').replace(/\*/g, '.*')}$`).test(rel);
    });
}

export interface BuiltImage {
  /** Folder standing for the image's /app. */
  dir: string;
  entrypoint: string[];
  cmd: string[];
}

/** Builds `targets` of the repository's Dockerfile into folders under `into`. */
export function buildImageFolders(targets: string[], into: string, log: (m: string) => void = () => {}) {
  const { stages } = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
  const byName = new Map(stages.map((s) => [s.name, s]));
  const ignored = ignoredBy(readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n'));
  const built = new Map<string, string>();
  // How many later steps still need a stage's folder: the last one may take it (rename) instead of copying.
  const uses = new Map<string, number>();
  const deps = (s: Stage): string[] => [
    ...(byName.has(s.from) ? [s.from] : []),
    ...s.instructions
      .filter((i) => i.keyword === 'COPY')
      .map((i) => parseCopy(i.args).from)
      .filter((f): f is string => !!f),
  ];
  const visit = (name: string, seen = new Set<string>()) => {
    if (seen.has(name)) return;
    seen.add(name);
    const s = byName.get(name);
    if (!s) throw new Error(`Dockerfile has no stage ${name}`);
    for (const d of deps(s)) {
      uses.set(d, (uses.get(d) ?? 0) + 1);
      visit(d, seen);
    }
  };
  const seen = new Set<string>();
  for (const t of targets) visit(t, seen);

  const take = (stage: string, src: string, dest: string) => {
    const left = (uses.get(stage) ?? 0) - 1;
    uses.set(stage, left);
    if (left === 0) renameSync(src, dest);
    else cpSync(src, dest, { recursive: true, verbatimSymlinks: true });
  };

  const build = (name: string): string => {
    const done = built.get(name);
    if (done) return done;
    const s = byName.get(name)!;
    const dir = join(into, name);
    if (byName.has(s.from)) take(s.from, build(s.from), dir);
    else mkdirSync(dir, { recursive: true });
    const env: Record<string, string> = {};
    for (const ins of s.instructions) {
      if (ins.keyword === 'WORKDIR' && ins.args !== WORKDIR)
        throw new Error(`Dockerfile line ${ins.line}: the replay supports WORKDIR ${WORKDIR} only`);
      if (ins.keyword === 'ENV') {
        const [k, v] = ins.args.split('=');
        env[k!] = v ?? '';
      }
      if (ins.keyword === 'RUN') {
        const cmd = ins.args.replace(/^(--\S+\s+)+/, '');
        log(`[${name}] RUN ${cmd}`);
        const r = spawnSync('bash', ['-c', cmd], {
          cwd: dir,
          env: { ...process.env, ...env, npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false' },
          encoding: 'utf8',
        });
        if (r.status !== 0) throw new Error(`[${name}] RUN ${cmd} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
      }
      if (ins.keyword === 'COPY') {
        const c = parseCopy(ins.args);
        const destBase = c.dest.startsWith('/') ? join(dir, relative(WORKDIR, c.dest)) : join(dir, c.dest);
        for (const src of c.sources) {
          if (c.from) {
            const from = build(c.from);
            const path = join(from, relative(WORKDIR, src));
            take(c.from, path, c.dest.endsWith('/') ? join(destBase, basename(path)) : destBase);
          } else {
            const path = join(ROOT, src);
            const isDir = statSync(path).isDirectory();
            const dest = isDir || c.dest.endsWith('/') ? (isDir ? destBase : join(destBase, basename(src))) : destBase;
            mkdirSync(isDir ? dest : join(dest, '..'), { recursive: true });
            cpSync(path, dest, {
              recursive: true,
              filter: (p) => !ignored(relative(ROOT, p)) || p === path,
            });
          }
        }
      }
    }
    built.set(name, dir);
    return dir;
  };

  const out: Record<string, BuiltImage> = {};
  for (const t of targets) {
    const s = byName.get(t)!;
    const last = (kw: string) => s.instructions.filter((i) => i.keyword === kw).at(-1)?.args;
    const ep = last('ENTRYPOINT');
    const cmd = last('CMD');
    out[t] = {
      dir: build(t),
      entrypoint: ep ? (JSON.parse(ep) as string[]) : [],
      cmd: cmd ? (JSON.parse(cmd) as string[]) : [],
    };
    if (!existsSync(join(out[t].dir, 'node_modules'))) throw new Error(`${t}: no node_modules after the replay`);
  }
  return out;
}

/** The image's ENTRYPOINT as a local command: /nodejs/bin/node → this Node, /app → the folder. */
export function localCommand(img: BuiltImage, args: string[]): { bin: string; args: string[] } {
  const [bin, ...rest] = [...img.entrypoint, ...args].map((a) =>
    a === '/nodejs/bin/node'
      ? process.execPath
      : a.startsWith(`${WORKDIR}/`)
        ? join(img.dir, a.slice(WORKDIR.length + 1))
        : a,
  );
  return { bin: bin!, args: rest };
}
