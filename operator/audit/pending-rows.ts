// The rows of one stream that are journaled but not yet in a final Parquet file, held as their JSON text. A row
// as a JavaScript object took about 5 KB of heap (some 60 columns, its strings apart), its JSON about 1.2 KB: at
// 2,000 services the pending rows of an hour were the operator's largest share of memory (issue 15). Rows are
// parsed again one at a time when a rotation writes them, so the Parquet file gets exactly what recovery after a
// restart would give it (the journal is JSON too). The day and schema version of each row are kept beside the
// text, because a rotation splits the rows by them.
import { dayOf } from './layout.ts';
import { timeColumnOf, versionOfRow, type SchemaVersion, type StreamKind } from './schema.ts';
import type { ChainedRow } from './sink.ts';

const DAY_MS = 86_400_000;

export class PendingRows {
  private readonly kind: StreamKind;
  private texts: string[] = [];
  /** UTC day of each row (days since the epoch): its file's partition. */
  private days: number[] = [];
  /** Schema version of each row (one of a few strings, shared). */
  private versions: SchemaVersion[] = [];
  private jsonBytes = 0;

  constructor(kind: StreamKind, rows: Iterable<ChainedRow> = []) {
    this.kind = kind;
    for (const r of rows) this.push(r);
  }

  get length(): number {
    return this.texts.length;
  }

  /** Characters of JSON held (what maxPendingBytes bounds). */
  get bytes(): number {
    return this.jsonBytes;
  }

  /** Adds a row; `text` is its JSON when the caller has it already. */
  push(row: ChainedRow, text: string = JSON.stringify(row)): void {
    this.texts.push(text);
    this.days.push(Math.floor((row[timeColumnOf(this.kind)] as number) / DAY_MS));
    this.versions.push(versionOfRow(row));
    this.jsonBytes += text.length;
  }

  /** The row at `i`, parsed anew (a fresh object each call). */
  row(i: number): ChainedRow {
    const t = this.texts[i];
    if (t === undefined) throw new RangeError(`pending row ${i} of ${this.texts.length}`);
    return JSON.parse(t) as ChainedRow;
  }

  /** UTC day (YYYY-MM-DD) and schema version of the row at `i`: the file it goes to. */
  fileOf(i: number): { day: string; version: SchemaVersion } {
    return { day: dayOf(this.days[i]! * DAY_MS), version: this.versions[i]! };
  }

  /** How many rows from the first go to the first row's file (same day, same schema version). */
  firstFileLength(): number {
    if (this.texts.length === 0) return 0;
    const d = this.days[0];
    const v = this.versions[0];
    let n = 0;
    while (n < this.texts.length && this.days[n] === d && this.versions[n] === v) n++;
    return n;
  }

  /** The rows [0, n), parsed one at a time as they are read. */
  *head(n: number): Generator<ChainedRow> {
    for (let i = 0; i < n; i++) yield this.row(i);
  }

  /** Forgets the first n rows (they are in a final file now). */
  dropFirst(n: number): void {
    for (let i = 0; i < n; i++) this.jsonBytes -= this.texts[i]!.length;
    this.texts = this.texts.slice(n);
    this.days = this.days.slice(n);
    this.versions = this.versions.slice(n);
  }

  /** The UTC days (YYYY-MM-DD) that rows are pending for. */
  pendingDays(): Set<string> {
    return new Set([...new Set(this.days)].map((d) => dayOf(d * DAY_MS)));
  }

  /** The first row, parsed (undefined when none is pending). */
  first(): ChainedRow | undefined {
    return this.texts.length ? this.row(0) : undefined;
  }

  /** Journal lines of every pending row, in order, as the sink appends them. */
  *journalLines(): Generator<string> {
    for (const t of this.texts) yield `{"k":${JSON.stringify(this.kind)},"r":${t}}\n`;
  }
}
