// The journal: JSON lines, fsync'd before a write is acknowledged. Compaction (after a rotation, and at open)
// replaces it atomically by a checkpoint line followed by the rows not yet in a final Parquet file. The
// checkpoint of a stream is the seq and row_hash of the last row that IS in a final file (renamed and fsync'd):
// the journal is never compacted past a row that only it holds (ADR 0201). Journals written before schema 2.0.0
// put the seq of their last pending row in the checkpoint instead; recovery reads both (recovery.ts).
import { rowHash, STREAMS, timeColumnOf, type StreamKind } from './schema.ts';
import type { ChainedRow } from './sink.ts';

export interface Checkpoint {
  checkpoint: Record<StreamKind, { seq: number; hash: string }>;
}

export interface JournalRow {
  kind: StreamKind;
  /** The row; with `slim`, only its chain, id, time and schema-version columns (the rest is in `text`). */
  row: ChainedRow;
  /** 1-based line of the journal file (for error messages). */
  line: number;
  /** With `slim`: the row's JSON, as journaled. */
  text?: string;
}

/** The columns recovery reads of a journal row; the sink keeps the rest as text (pending-rows.ts). */
const SLIM_COLUMNS = ['stream_seq', 'prev_hash', 'row_hash', 'record_id', 'schema_version'] as const;

/**
 * Parses a journal. A torn last line (no newline) was never acknowledged and is ignored; anything else bad is an
 * error. Every row's hash is checked on the whole row. With `slim` (recovery at a restart, where the journal can
 * hold 64 MiB of pending rows), each row keeps its JSON text and only the columns recovery reads, so the rows are
 * not all held as objects at once (issue 15: a restart at 2,000 services peaked at 1.5 GiB).
 */
export function parseJournal(
  text: string,
  file: string,
  o: { slim?: boolean } = {},
): { checkpoint: Checkpoint['checkpoint'] | null; rows: JournalRow[] } {
  const lines = text.split('\n');
  lines.pop(); // '' after the final newline, or a torn tail
  let checkpoint: Checkpoint['checkpoint'] | null = null;
  const rows: JournalRow[] = [];
  lines.forEach((line, i) => {
    if (line === '') return;
    let obj: { checkpoint?: Checkpoint['checkpoint']; k?: StreamKind; r?: ChainedRow };
    try {
      obj = JSON.parse(line);
    } catch {
      throw new Error(`journal ${file} line ${i + 1}: not JSON (corrupt journal)`);
    }
    if (obj.checkpoint) {
      if (i !== 0) throw new Error(`journal ${file} line ${i + 1}: a checkpoint after the first line`);
      checkpoint = obj.checkpoint;
      return;
    }
    if (!obj.k || !obj.r || !STREAMS.includes(obj.k)) throw new Error(`journal ${file} line ${i + 1}: no kind/row`);
    if (rowHash(obj.k, obj.r) !== obj.r.row_hash) throw new Error(`journal ${file} line ${i + 1}: row_hash mismatch`);
    if (!o.slim) return void rows.push({ kind: obj.k, row: obj.r, line: i + 1 });
    const slim: Record<string, unknown> = {};
    for (const c of [...SLIM_COLUMNS, timeColumnOf(obj.k)]) if (c in obj.r) slim[c] = obj.r[c];
    rows.push({ kind: obj.k, row: slim as ChainedRow, line: i + 1, text: rowText(line, obj.k, obj.r) });
  });
  return { checkpoint, rows };
}

/**
 * The row's JSON as the sink wrote it (`{"k":KIND,"r":ROW}`), copied out of the journal text so that the whole
 * text is not kept alive by a slice of it; another layout (a journal written by hand) is serialised again.
 */
function rowText(line: string, kind: StreamKind, row: ChainedRow): string {
  const prefix = `{"k":${JSON.stringify(kind)},"r":`;
  if (line.startsWith(prefix) && line.endsWith('}')) return Buffer.from(line.slice(prefix.length, -1)).toString();
  return JSON.stringify(row);
}
