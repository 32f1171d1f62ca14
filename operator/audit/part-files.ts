// The final Parquet files of an audit directory, found by name alone: `part-<first seq>-<last seq>.parquet`
// under `stream=<kind>/dt=<day>/` (and, for directories written by schema 1.0.0, `kind=<kind>/dt=<day>/`).
import path from 'node:path';
import type { AuditFs } from './audit-fs.ts';
import {
  legacyStreamDirName,
  parseDtDir,
  parsePartFileName,
  partitionDir,
  streamDirName,
  TMP_SUFFIX,
} from './layout.ts';
import { STREAMS, type StreamKind } from './schema.ts';

export interface PartFile {
  kind: StreamKind;
  day: string;
  /** Relative path in today's layout (`stream=...`), as manifests list it. */
  rel: string;
  /** Where the file is now (differs from `rel` only under a not yet renamed `kind=` directory). */
  abs: string;
  firstSeq: number;
  lastSeq: number;
}

export interface PartScan {
  parts: Record<StreamKind, PartFile[]>;
  /** Unfinished writes (`*.tmp`): their rows are still in the journal. */
  tmp: string[];
  /** Other names under a partition directory (not written by the sink). */
  strays: string[];
}

/** Lists every final file by stream, sorted by first seq. */
export async function scanPartFiles(fs: AuditFs, dir: string): Promise<PartScan> {
  const out: PartScan = { parts: { usage: [], decision: [] }, tmp: [], strays: [] };
  for (const kind of STREAMS) {
    for (const top of [streamDirName(kind), legacyStreamDirName(kind)]) {
      for (const dtName of await fs.readdir(path.join(dir, top))) {
        const day = parseDtDir(dtName);
        if (!day) continue;
        const pdir = path.join(dir, top, dtName);
        for (const name of await fs.readdir(pdir)) {
          const abs = path.join(pdir, name);
          if (name.endsWith(TMP_SUFFIX)) {
            out.tmp.push(abs);
            continue;
          }
          const seqs = parsePartFileName(name);
          if (!seqs) {
            out.strays.push(abs);
            continue;
          }
          out.parts[kind].push({ kind, day, rel: `${partitionDir(kind, day)}/${name}`, abs, ...seqs });
        }
      }
    }
    out.parts[kind].sort((a, b) => a.firstSeq - b.firstSeq || a.rel.localeCompare(b.rel));
  }
  return out;
}

/** True when some final file's seq range holds `seq` (files are sorted by first seq). */
export function seqInFiles(files: readonly PartFile[], seq: number): boolean {
  let lo = 0;
  let hi = files.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const f = files[mid] as PartFile;
    if (seq < f.firstSeq) hi = mid - 1;
    else if (seq > f.lastSeq) lo = mid + 1;
    else return true;
  }
  return false;
}
