// Opening an audit directory after any stop (clean close, Ctrl-C, kill -9, power loss): what is already in final
// Parquet files, what only the journal holds, where each stream's hash chain continues. Every step is safe to
// interrupt: recovery only deletes unfinished temp files, renames whole directories, rewrites files atomically
// (temp, fsync, rename, fsync dir), and compacts the journal only past rows that are in final files (ADR 0201).
import path from 'node:path';
import type { AuditFs } from './audit-fs.ts';
import { parseJournal, type Checkpoint, type JournalRow } from './journal.ts';
import { legacyStreamDirName, streamDirName, TMP_SUFFIX } from './layout.ts';
import { addToManifest, readManifest, rewriteLegacyManifests, type ManifestEntry } from './manifest.ts';
import { readAuditFile, sha256File } from './parquet-file.ts';
import { scanPartFiles, seqInFiles, type PartFile } from './part-files.ts';
import { GENESIS_HASH, STREAMS, type StreamKind } from './schema.ts';
import type { ChainedRow } from './sink.ts';

export interface ChainHead {
  seq: number;
  hash: string;
}

export interface StreamReplay extends ChainHead {
  /** Journal rows in no final file: they go to Parquet at the next rotation (slim rows with their JSON text). */
  pending: { row: ChainedRow; text: string }[];
}

/**
 * Where a stream's journal rows continue the chain, and which of them are not yet in a final file. `cp` is the
 * journal's checkpoint: the last row in a final file (schema 2.0.0), or, in journals of earlier versions, the last
 * journaled row (their pending rows precede it). Throws, naming the journal line, when the rows do not chain.
 */
export function replayStream(
  kind: StreamKind,
  rows: readonly JournalRow[],
  cp: ChainHead | undefined,
  files: readonly PartFile[],
  filesHead: ChainHead | null,
  journalFile: string,
): StreamReplay {
  const first = rows[0];
  if (!first) return { ...furthest(cp ?? null, filesHead), pending: [] };
  const broken = (r: JournalRow, what: string): Error =>
    new Error(`journal ${journalFile} line ${r.line}: ${kind} row ${r.row.stream_seq} ${what} (chain broken)`);
  if (cp && first.row.stream_seq <= cp.seq) {
    const at = rows.find((r) => r.row.stream_seq === cp.seq);
    if (!at || at.row.row_hash !== cp.hash)
      throw broken(first, `precedes the checkpoint ${cp.seq}, which no row matches`);
  } else if (cp) {
    if (first.row.stream_seq !== cp.seq + 1 || first.row.prev_hash !== cp.hash)
      throw broken(first, `does not follow the checkpoint ${cp.seq}`);
  } else if (first.row.stream_seq === 1) {
    if (first.row.prev_hash !== GENESIS_HASH) throw broken(first, 'is the first row but has a prev_hash');
  } else if (!filesHead || first.row.stream_seq > filesHead.seq + 1) {
    throw broken(first, `does not follow the stored rows (last ${filesHead?.seq ?? 0})`);
  }
  for (let i = 1; i < rows.length; i++) {
    const prev = (rows[i - 1] as JournalRow).row;
    const r = rows[i] as JournalRow;
    if (r.row.stream_seq !== prev.stream_seq + 1 || r.row.prev_hash !== prev.row_hash)
      throw broken(r, `does not follow row ${prev.stream_seq}`);
  }
  const last = (rows[rows.length - 1] as JournalRow).row;
  const pending = rows
    .filter((r) => !seqInFiles(files, r.row.stream_seq))
    .map((r) => ({ row: r.row, text: r.text ?? JSON.stringify(r.row) }));
  return { ...furthest({ seq: last.stream_seq, hash: last.row_hash }, filesHead), pending };
}

function furthest(a: ChainHead | null, b: ChainHead | null): ChainHead {
  if (a && b) return a.seq >= b.seq ? a : b;
  return a ?? b ?? { seq: 0, hash: GENESIS_HASH };
}

/** The checkpoint compaction writes: the chain position just before the first pending row (all before it is final). */
export function checkpointOf(head: ChainHead, firstPending: ChainedRow | undefined): ChainHead {
  return firstPending
    ? { seq: firstPending.stream_seq - 1, hash: firstPending.prev_hash }
    : { seq: head.seq, hash: head.hash };
}

/** Pending rows as compaction needs them: the first one, and every one as its journal line. */
export interface PendingJournal {
  first(): ChainedRow | undefined;
  journalLines(): Iterable<string>;
}

/**
 * The journal text after compaction: the checkpoint line, then every pending row in stream order, in pieces of
 * about 1 MiB (a journal can hold 64 MiB of pending rows; joined into one string it was, with its lines, a
 * quarter of a restart's peak memory). `out.bytes` holds the UTF-8 length once the pieces have all been read.
 */
export function* compactedJournal(
  streams: Record<StreamKind, { head: ChainHead; pending: PendingJournal }>,
  out: { bytes: number } = { bytes: 0 },
): Generator<string> {
  const cp: Checkpoint = {
    checkpoint: {
      usage: checkpointOf(streams.usage.head, streams.usage.pending.first()),
      decision: checkpointOf(streams.decision.head, streams.decision.pending.first()),
    },
  };
  out.bytes = 0;
  let piece = JSON.stringify(cp) + '\n';
  for (const kind of STREAMS)
    for (const line of streams[kind].pending.journalLines()) {
      piece += line;
      if (piece.length >= 1 << 20) {
        out.bytes += Buffer.byteLength(piece, 'utf8');
        yield piece;
        piece = '';
      }
    }
  out.bytes += Buffer.byteLength(piece, 'utf8');
  yield piece;
}

/**
 * Renames the `kind=` stream directories of schema 1.0.0 to `stream=`. Manifests are rewritten first, so an
 * interruption leaves paths that the readers map either way (layout.normaliseRelPath) and the next open finishes.
 */
export async function migrateLegacyLayout(fs: AuditFs, dir: string): Promise<boolean> {
  let legacy = false;
  for (const kind of STREAMS) if (await fs.exists(path.join(dir, legacyStreamDirName(kind)))) legacy = true;
  if (!legacy) return false;
  await rewriteLegacyManifests(fs, dir);
  for (const kind of STREAMS) {
    const from = path.join(dir, legacyStreamDirName(kind));
    const to = path.join(dir, streamDirName(kind));
    if (!(await fs.exists(from))) continue;
    if (!(await fs.exists(to))) {
      await fs.rename(from, to);
      continue;
    }
    // Both exist (an interrupted earlier migration cannot leave this; a copied-in directory can): move day by day.
    for (const dt of await fs.readdir(from)) {
      const src = path.join(from, dt);
      const dst = path.join(to, dt);
      if (!(await fs.exists(dst))) {
        await fs.rename(src, dst);
        continue;
      }
      for (const name of await fs.readdir(src)) {
        if (await fs.exists(path.join(dst, name)))
          throw new Error(
            `audit directory ${dir}: ${dt}/${name} exists under both ${streamDirName(kind)} and ${legacyStreamDirName(kind)}`,
          );
        await fs.rename(path.join(src, name), path.join(dst, name));
      }
      await fs.fsyncDir(dst);
      await fs.rmdir(src);
    }
    await fs.rmdir(from);
  }
  await fs.fsyncDir(dir);
  return true;
}

/** Deletes unfinished temp files: a Parquet file never renamed (its rows are still in the journal), a manifest or journal replacement never renamed. */
export async function removeTempFiles(fs: AuditFs, dir: string, tmp: readonly string[]): Promise<void> {
  for (const f of tmp) await fs.unlink(f);
  for (const name of await fs.readdir(path.join(dir, 'manifests')))
    if (name.endsWith(TMP_SUFFIX)) await fs.unlink(path.join(dir, 'manifests', name));
  for (const name of await fs.readdir(path.join(dir, 'journal')))
    if (name.endsWith(TMP_SUFFIX)) await fs.unlink(path.join(dir, 'journal', name));
}

export interface RecoveredDir {
  parts: Record<StreamKind, PartFile[]>;
  streams: Record<StreamKind, StreamReplay>;
  /** Record ids of the journal and of the newest files, oldest first, for dedup. */
  ids: string[];
  /** Bytes of the journal up to its last whole line (a torn tail after it was never acknowledged). */
  journalWholeBytes: number;
}

/** Reads what a stop left behind. Writes nothing but temp-file removal and the legacy rename. */
export async function recoverAuditDir(
  fs: AuditFs,
  dir: string,
  journalFile: string,
  dedupRowsOnOpen: number,
): Promise<RecoveredDir> {
  await migrateLegacyLayout(fs, dir);
  const scan = await scanPartFiles(fs, dir);
  await removeTempFiles(fs, dir, scan.tmp);
  const text = (await fs.exists(journalFile)) ? (await fs.readFile(journalFile)).toString('utf8') : '';
  const journal = parseJournal(text, journalFile, { slim: true });
  const journalWholeBytes = Buffer.byteLength(text.slice(0, text.lastIndexOf('\n') + 1), 'utf8');
  const ids: string[] = [];
  const streams = {} as Record<StreamKind, StreamReplay>;
  for (const kind of STREAMS) {
    const newest = await newestIds(scan.parts[kind], dedupRowsOnOpen);
    ids.push(...newest.ids);
    const rows = journal.rows.filter((r) => r.kind === kind);
    streams[kind] = replayStream(kind, rows, journal.checkpoint?.[kind], scan.parts[kind], newest.head, journalFile);
    for (const r of rows) ids.push(r.row.record_id);
  }
  await repairManifests(fs, dir, scan.parts, journal.rows);
  return { parts: scan.parts, streams, ids, journalWholeBytes };
}

/** Ids of the newest files (at least `minRows` rows, oldest first) and the last stored row of the stream. */
async function newestIds(
  parts: readonly PartFile[],
  minRows: number,
): Promise<{ ids: string[]; head: ChainHead | null }> {
  const ids: string[] = [];
  let head: ChainHead | null = null;
  let loaded = 0;
  for (let i = parts.length - 1; i >= 0 && (loaded < minRows || head === null); i--) {
    const { rows } = await readAuditFile((parts[i] as PartFile).abs, ['record_id', 'stream_seq', 'row_hash']);
    const last = rows[rows.length - 1];
    if (head === null && last) head = { seq: Number(last.stream_seq), hash: String(last.row_hash) };
    for (let j = rows.length - 1; j >= 0; j--) ids.push(String(rows[j]?.record_id));
    loaded += rows.length;
  }
  return { ids: ids.reverse(), head };
}

/** A crash between a file's rename and its manifest update leaves a final file its manifest does not list yet. */
async function repairManifests(
  fs: AuditFs,
  dir: string,
  parts: Record<StreamKind, PartFile[]>,
  journalRows: readonly JournalRow[],
): Promise<void> {
  // Only files a recent rotation may have written: those holding journal rows, and the newest of each stream.
  const candidates = new Set<PartFile>();
  for (const kind of STREAMS) {
    const ps = parts[kind];
    const newest = ps[ps.length - 1];
    if (newest) candidates.add(newest);
    for (const r of journalRows) {
      if (r.kind !== kind) continue;
      const f = ps.find((p) => p.firstSeq <= r.row.stream_seq && r.row.stream_seq <= p.lastSeq);
      if (f) candidates.add(f);
    }
  }
  const byDay = new Map<string, PartFile[]>();
  for (const p of candidates) byDay.set(p.day, [...(byDay.get(p.day) ?? []), p]);
  for (const [day, files] of byDay) {
    const listed = new Set(((await readManifest(fs, dir, day))?.files ?? []).map((f) => f.path));
    const missing: ManifestEntry[] = [];
    for (const p of files.filter((q) => !listed.has(q.rel))) missing.push(await manifestEntryOf(fs, p));
    if (missing.length > 0) await addToManifest(fs, dir, day, missing);
  }
}

export async function manifestEntryOf(fs: AuditFs, p: PartFile): Promise<ManifestEntry> {
  const { rows } = await readAuditFile(p.abs, ['prev_hash', 'row_hash']);
  return {
    kind: p.kind,
    path: p.rel,
    sha256: await sha256File(p.abs),
    bytes: await fs.size(p.abs),
    rows: rows.length,
    first_seq: p.firstSeq,
    last_seq: p.lastSeq,
    first_prev_hash: String(rows[0]?.prev_hash ?? ''),
    last_row_hash: String(rows[rows.length - 1]?.row_hash ?? ''),
  };
}
