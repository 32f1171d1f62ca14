// Where things live in an audit directory (a PVC in the cluster). Hive-partitioned so DuckDB, pyarrow and
// Spark read `stream=usage/dt=YYYY-MM-DD/*.parquet` with partition columns `stream` and `dt`:
//   stream=usage/dt=2026-11-23/part-000000000001-000000000500.parquet   (first and last stream_seq)
//   manifests/dt=2026-11-23.json                                        (files of the day and their hashes)
//   journal/journal.jsonl                                               (fsync'd records not yet in Parquet)
//   retention.jsonl                                                     (chain anchors of deleted days)
// Schema 1.0.0 directories used the key `kind=`, which Hive readers turned into a column that overwrote the
// decision column `kind`; they are still read (verify, report) and are renamed on the sink's next open.
import path from 'node:path';
import type { StreamKind } from './schema.ts';

export const TMP_SUFFIX = '.tmp';

/** The Hive partition key of the stream directories (ADR 0201). */
export const STREAM_KEY = 'stream';
/** The key of schema 1.0.0 directories, read for compatibility. */
export const LEGACY_STREAM_KEY = 'kind';

export function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** `stream=<kind>`: the stream's top directory, relative to the audit directory. */
export function streamDirName(kind: StreamKind): string {
  return `${STREAM_KEY}=${kind}`;
}

export function legacyStreamDirName(kind: StreamKind): string {
  return `${LEGACY_STREAM_KEY}=${kind}`;
}

export function partitionDir(kind: StreamKind, day: string): string {
  return `${streamDirName(kind)}/dt=${day}`;
}

/** A manifest or file path of a schema 1.0.0 directory (`kind=usage/...`) in today's layout (`stream=usage/...`). */
export function normaliseRelPath(rel: string): string {
  return rel.startsWith(`${LEGACY_STREAM_KEY}=`) ? STREAM_KEY + rel.slice(LEGACY_STREAM_KEY.length) : rel;
}

export function partFileName(firstSeq: number, lastSeq: number): string {
  return `part-${String(firstSeq).padStart(12, '0')}-${String(lastSeq).padStart(12, '0')}.parquet`;
}

const PART_RE = /^part-(\d{12})-(\d{12})\.parquet$/;

export function parsePartFileName(name: string): { firstSeq: number; lastSeq: number } | null {
  const m = PART_RE.exec(name);
  return m ? { firstSeq: Number(m[1]), lastSeq: Number(m[2]) } : null;
}

export function manifestPath(dir: string, day: string): string {
  return path.join(dir, 'manifests', `dt=${day}.json`);
}

export function journalPath(dir: string): string {
  return path.join(dir, 'journal', 'journal.jsonl');
}

export function retentionPath(dir: string): string {
  return path.join(dir, 'retention.jsonl');
}

const DT_RE = /^dt=(\d{4}-\d{2}-\d{2})$/;

export function parseDtDir(name: string): string | null {
  const m = DT_RE.exec(name);
  return m ? (m[1] ?? null) : null;
}
