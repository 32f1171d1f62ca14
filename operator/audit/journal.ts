// The journal: JSON lines, fsync'd before a write is acknowledged. After each rotation it is replaced by a
// checkpoint line (last seq and row_hash per stream) followed by the rows not yet in Parquet.
import { rowHash, STREAMS, type StreamKind } from './schema.ts';
import type { ChainedRow } from './sink.ts';

export interface Checkpoint {
  checkpoint: Record<StreamKind, { seq: number; hash: string }>;
}

/** Parses a journal. A torn last line (no newline) was never acknowledged and is ignored; anything else bad is an error. */
export function parseJournal(
  text: string,
  file: string,
): { checkpoint: Checkpoint['checkpoint'] | null; rows: { kind: StreamKind; row: ChainedRow }[] } {
  const lines = text.split('\n');
  lines.pop(); // '' after the final newline, or a torn tail
  let checkpoint: Checkpoint['checkpoint'] | null = null;
  const rows: { kind: StreamKind; row: ChainedRow }[] = [];
  lines.forEach((line, i) => {
    if (line === '') return;
    let obj: { checkpoint?: Checkpoint['checkpoint']; k?: StreamKind; r?: ChainedRow };
    try {
      obj = JSON.parse(line);
    } catch {
      throw new Error(`journal ${file} line ${i + 1}: not JSON (corrupt journal)`);
    }
    if (obj.checkpoint) {
      checkpoint = obj.checkpoint;
      return;
    }
    if (!obj.k || !obj.r || !STREAMS.includes(obj.k)) throw new Error(`journal ${file} line ${i + 1}: no kind/row`);
    if (rowHash(obj.k, obj.r) !== obj.r.row_hash) throw new Error(`journal ${file} line ${i + 1}: row_hash mismatch`);
    rows.push({ kind: obj.k, row: obj.r });
  });
  return { checkpoint, rows };
}
