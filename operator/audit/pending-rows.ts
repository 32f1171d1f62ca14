// The rows of one stream that are journaled but not yet in a final Parquet file, held as their JSON text,
// compressed in chunks. A row as a JavaScript object took about 5 KB of heap (some 60 columns, its strings apart),
// its JSON about 2 KB; rows wait up to an hour or maxPendingBytes (64 MiB of JSON) for their rotation, so at 2,000
// services the pending JSON was a third of the operator's heap (issue 15, a heap snapshot at 2,000 services).
// Every CHUNK_ROWS rows are sealed into one raw-deflate buffer (JSON rows are alike: about a tenth of the size);
// the newest rows stay text. Rows are parsed again one at a time when a rotation writes them, so the Parquet file
// gets exactly what recovery after a restart would give it (the journal is JSON too). The day and schema version
// of each row are kept beside it, because a rotation splits the rows by them. The journal on disk stays the record
// of durability: this is only what a rotation reads.
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { dayOf } from './layout.ts';
import { timeColumnOf, versionOfRow, type SchemaVersion, type StreamKind } from './schema.ts';
import type { ChainedRow } from './sink.ts';

const DAY_MS = 86_400_000;
/** Rows per sealed chunk: big enough to compress well, small enough that the unsealed tail stays small. */
export const CHUNK_ROWS = 256;

export class PendingRows {
  private readonly kind: StreamKind;
  /** Sealed chunks, oldest first: CHUNK_ROWS rows each, their JSON joined by newlines, raw-deflated. */
  private sealed: Buffer[] = [];
  /** Rows of sealed[0] already dropped (always 0 when nothing is sealed: then `open` is sliced instead). */
  private skip = 0;
  /** The newest rows, not sealed yet. */
  private open: string[] = [];
  /** The last chunk inflated (a rotation reads the rows in order: each chunk is inflated once). */
  private cache: { chunk: Buffer; rows: string[] } | undefined;
  /** Per pending row: UTC day (days since the epoch), schema version (one of a few shared strings), JSON length. */
  private days: number[] = [];
  private versions: SchemaVersion[] = [];
  private lengths: number[] = [];
  private jsonBytes = 0;

  constructor(kind: StreamKind, rows: Iterable<ChainedRow> = []) {
    this.kind = kind;
    for (const r of rows) this.push(r);
  }

  get length(): number {
    return this.days.length;
  }

  /** Characters of JSON held (what maxPendingBytes bounds), whether sealed or not. */
  get bytes(): number {
    return this.jsonBytes;
  }

  /** Adds a row; `text` is its JSON when the caller has it already. */
  push(row: ChainedRow, text: string = JSON.stringify(row)): void {
    // JSON.stringify escapes newlines inside strings, so a newline can only come from a caller's bad text.
    if (text.includes('\n')) throw new Error('pending row text holds a newline: not one JSON value');
    this.open.push(text);
    this.days.push(Math.floor((row[timeColumnOf(this.kind)] as number) / DAY_MS));
    this.versions.push(versionOfRow(row));
    this.lengths.push(text.length);
    this.jsonBytes += text.length;
    if (this.open.length === CHUNK_ROWS) {
      this.sealed.push(deflateRawSync(this.open.join('\n')));
      this.open = [];
    }
  }

  /** The row at `i`, parsed anew (a fresh object each call). */
  row(i: number): ChainedRow {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) throw new RangeError(`pending row ${i} of ${this.length}`);
    return JSON.parse(this.text(i)) as ChainedRow;
  }

  private text(i: number): string {
    const j = i + this.skip;
    const c = Math.floor(j / CHUNK_ROWS);
    if (c >= this.sealed.length) return this.open[j - this.sealed.length * CHUNK_ROWS]!;
    const chunk = this.sealed[c]!;
    if (this.cache?.chunk !== chunk) this.cache = { chunk, rows: inflateRawSync(chunk).toString('utf8').split('\n') };
    return this.cache.rows[j % CHUNK_ROWS]!;
  }

  /** UTC day (YYYY-MM-DD) and schema version of the row at `i`: the file it goes to. */
  fileOf(i: number): { day: string; version: SchemaVersion } {
    return { day: dayOf(this.days[i]! * DAY_MS), version: this.versions[i]! };
  }

  /** How many rows from the first go to the first row's file (same day, same schema version). */
  firstFileLength(): number {
    return this.fileLengthAt(0);
  }

  /** How many rows from `i` on go to the file of the row at `i` (same day, same schema version). */
  fileLengthAt(i: number): number {
    if (i >= this.length) return 0;
    const d = this.days[i];
    const v = this.versions[i];
    let n = i;
    while (n < this.length && this.days[n] === d && this.versions[n] === v) n++;
    return n - i;
  }

  /** The rows [0, n), parsed one at a time as they are read. */
  head(n: number): Generator<ChainedRow> {
    return this.rows(0, n);
  }

  /** The rows [from, from + n), parsed one at a time as they are read. */
  *rows(from: number, n: number): Generator<ChainedRow> {
    for (let i = from; i < from + n; i++) yield this.row(i);
  }

  /**
   * The JSON text of the rows [from, from + n), as pushed: what a Parquet encoder in another thread is sent
   * (text crosses a thread boundary as one copy; an object would be cloned field by field).
   */
  *texts(from: number, n: number): Generator<string> {
    if (from < 0 || from + n > this.length) throw new RangeError(`pending rows ${from}+${n} of ${this.length}`);
    for (let i = from; i < from + n; i++) yield this.text(i);
  }

  /** Forgets the first n rows (they are in a final file now). */
  dropFirst(n: number): void {
    n = Math.min(n, this.length);
    for (let i = 0; i < n; i++) this.jsonBytes -= this.lengths[i]!;
    this.days = this.days.slice(n);
    this.versions = this.versions.slice(n);
    this.lengths = this.lengths.slice(n);
    this.skip += n;
    while (this.sealed.length > 0 && this.skip >= CHUNK_ROWS) {
      this.sealed.shift();
      this.skip -= CHUNK_ROWS;
    }
    if (this.sealed.length === 0 && this.skip > 0) {
      this.open = this.open.slice(this.skip);
      this.skip = 0;
    }
    if (this.cache && !this.sealed.includes(this.cache.chunk)) this.cache = undefined;
  }

  /** The UTC days (YYYY-MM-DD) that rows are pending for. */
  pendingDays(): Set<string> {
    return new Set([...new Set(this.days)].map((d) => dayOf(d * DAY_MS)));
  }

  /** The first row, parsed (undefined when none is pending). */
  first(): ChainedRow | undefined {
    return this.length ? this.row(0) : undefined;
  }

  /** Journal lines of every pending row, in order, as the sink appends them. */
  *journalLines(): Generator<string> {
    for (let i = 0; i < this.length; i++) yield `{"k":${JSON.stringify(this.kind)},"r":${this.text(i)}}\n`;
  }

  /** Bytes this holds for its rows' text: sealed chunks plus the unsealed tail (for the memory bench). */
  heldBytes(): number {
    return this.sealed.reduce((s, b) => s + b.length, 0) + this.open.reduce((s, t) => s + t.length, 0);
  }
}
