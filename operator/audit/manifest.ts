// One manifest per day lists every final file of the day with its SHA-256, so a removed, replaced or swapped
// file is detectable even where the hash chain alone could not tell (the last file of a stream).
import path from 'node:path';
import type { AuditFs } from './audit-fs.ts';
import { manifestPath, TMP_SUFFIX } from './layout.ts';
import type { StreamKind } from './schema.ts';

export interface ManifestEntry {
  kind: StreamKind;
  /** Relative to the audit directory, with forward slashes. */
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

export async function readManifest(fs: AuditFs, dir: string, day: string): Promise<DayManifest | null> {
  const file = manifestPath(dir, day);
  if (!(await fs.exists(file))) return null;
  const parsed = JSON.parse((await fs.readFile(file)).toString('utf8')) as DayManifest;
  if (!parsed || !Array.isArray(parsed.files)) throw new Error(`manifest ${file}: no files array`);
  return parsed;
}

/** Adds entries (only adds: an entry is never removed except by retention) and replaces the file atomically. */
export async function addToManifest(fs: AuditFs, dir: string, day: string, entries: ManifestEntry[]): Promise<void> {
  const current = (await readManifest(fs, dir, day)) ?? { day, files: [] };
  const known = new Set(current.files.map((f) => f.path));
  for (const e of entries) if (!known.has(e.path)) current.files.push(e);
  const file = manifestPath(dir, day);
  await fs.mkdirp(path.dirname(file));
  await fs.writeFileDurable(file + TMP_SUFFIX, JSON.stringify(current, null, 1) + '\n');
  await fs.rename(file + TMP_SUFFIX, file);
  await fs.fsyncDir(path.dirname(file));
}
