// One manifest per day lists every final file of the day with its SHA-256, so a removed, replaced or swapped
// file is detectable even where the hash chain alone could not tell (the last file of a stream).
import path from 'node:path';
import type { AuditFs } from './audit-fs.ts';
import { LEGACY_STREAM_KEY, manifestPath, normaliseRelPath, TMP_SUFFIX } from './layout.ts';
import type { StreamKind } from './schema.ts';

export interface ManifestEntry {
  kind: StreamKind;
  /** Relative to the audit directory, with forward slashes (`stream=...`; `kind=...` in 1.0.0 manifests, read as `stream=`). */
  path: string;
  sha256: string;
  bytes: number;
  rows: number;
  first_seq: number;
  last_seq: number;
  first_prev_hash: string;
  last_row_hash: string;
}

export interface DayManifest {
  day: string;
  files: ManifestEntry[];
}

/** Reads a day's manifest, with paths in today's layout. */
export async function readManifest(fs: AuditFs, dir: string, day: string): Promise<DayManifest | null> {
  const raw = await readRawManifest(fs, dir, day);
  if (raw) for (const f of raw.files) f.path = normaliseRelPath(String(f.path));
  return raw;
}

async function readRawManifest(fs: AuditFs, dir: string, day: string): Promise<DayManifest | null> {
  const file = manifestPath(dir, day);
  if (!(await fs.exists(file))) return null;
  // What is on disk is checked before it is typed as a manifest: a truncated or hand-edited file is an error here.
  const parsed: unknown = JSON.parse((await fs.readFile(file)).toString('utf8'));
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray((parsed as { files?: unknown }).files))
    throw new Error(`manifest ${file}: no files array`);
  return parsed as DayManifest;
}

async function writeManifest(fs: AuditFs, dir: string, m: DayManifest): Promise<void> {
  const file = manifestPath(dir, m.day);
  await fs.mkdirp(path.dirname(file));
  await fs.writeFileDurable(file + TMP_SUFFIX, JSON.stringify(m, null, 1) + '\n');
  await fs.rename(file + TMP_SUFFIX, file);
  await fs.fsyncDir(path.dirname(file));
}

/** Rewrites every manifest that still lists `kind=` paths (schema 1.0.0) with `stream=` paths, atomically. */
export async function rewriteLegacyManifests(fs: AuditFs, dir: string): Promise<void> {
  for (const name of await fs.readdir(path.join(dir, 'manifests'))) {
    const day = /^dt=(\d{4}-\d{2}-\d{2})\.json$/.exec(name)?.[1];
    if (!day) continue;
    const raw = await readRawManifest(fs, dir, day);
    if (!raw || !raw.files.some((f) => String(f.path).startsWith(`${LEGACY_STREAM_KEY}=`))) continue;
    for (const f of raw.files) f.path = normaliseRelPath(String(f.path));
    await writeManifest(fs, dir, raw);
  }
}

/** Adds entries (only adds: an entry is never removed except by retention) and replaces the file atomically. */
export async function addToManifest(fs: AuditFs, dir: string, day: string, entries: ManifestEntry[]): Promise<void> {
  const current = (await readManifest(fs, dir, day)) ?? { day, files: [] };
  const known = new Set(current.files.map((f) => f.path));
  for (const e of entries) if (!known.has(e.path)) current.files.push(e);
  await writeManifest(fs, dir, current);
}
