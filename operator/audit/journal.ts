// The journal: JSON lines, fsync'd before a write is acknowledged. Compaction (after a rotation, and at open)
// replaces it atomically by a checkpoint line followed by the rows not yet in a final Parquet file. The
// checkpoint of a stream is the seq and row_hash of the last row that IS in a final file (renamed and fsync'd):
// the journal is never compacted past a row that only it holds (ADR 0201). Journals written before schema 2.0.0
// put the seq of their last pending row in the checkpoint instead; recovery reads both (recovery.ts).
import { rowHash, STREAMS, type StreamKind } from './schema.ts';
import type { ChainedRow } from './sink.ts';

export interface Checkpoint {
  checkpoint: Record<StreamKind, { seq: number; hash: string }>;
}

export interface JournalRow {
  kind: StreamKind;
  row: ChainedRow;
  /** 1-based line of the journal file (for error messages). */
  line: number;
}

/** Parses a journal. A torn last line (no newline) was never acknowledged and is ignored; anything else bad is an error. */
export function parseJournal(
  text: string,
  file: string,
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
    rows.push({ kind: obj.k, row: obj.r, line: i + 1 });
  });
  return { checkpoint, rows };
}
