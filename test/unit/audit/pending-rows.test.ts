// Pending rows are held as JSON text, compressed in chunks of CHUNK_ROWS; these pin that what a rotation and a compaction get back is the row as
// journaled, split by day and schema version, and that the byte count (maxPendingBytes) follows pushes and drops.
import { expect } from 'chai';
import { CHUNK_ROWS, PendingRows } from '../../../operator/audit/pending-rows.ts';
import type { ChainedRow } from '../../../operator/audit/sink.ts';

const DAY = 86_400_000;
const T = Date.UTC(2026, 11, 3);
const row = (seq: number, t: number, version = '2.0.0'): ChainedRow =>
  ({
    stream_seq: seq,
    prev_hash: `h${seq - 1}`,
    row_hash: `h${seq}`,
    record_id: `r${seq}`,
    interval_start: t,
    schema_version: version,
    energy_kwh: 0.1 + seq / 3,
    note: null,
  }) as unknown as ChainedRow;

describe('audit: pending rows as JSON text', () => {
  it('gives back each row as journaled, and journal lines as the sink appends them', () => {
    const rows = [row(1, T), row(2, T + 1000)];
    const p = new PendingRows('usage', rows);
    expect(p.length).to.equal(2);
    expect(p.row(1)).to.deep.equal(rows[1]);
    expect([...p.head(2)]).to.deep.equal(rows);
    expect(p.first()).to.deep.equal(rows[0]);
    expect([...p.journalLines()]).to.deep.equal(rows.map((r) => JSON.stringify({ k: 'usage', r }) + '\n'));
    expect(() => p.row(2)).to.throw(RangeError);
  });

  it('splits by UTC day and schema version, in order', () => {
    const rows = [row(1, T - 1), row(2, T), row(3, T + DAY - 1), row(4, T + DAY - 1, '1.0.0')];
    const p = new PendingRows('usage', rows);
    expect(p.fileOf(0)).to.deep.equal({ day: '2026-12-02', version: '2.0.0' });
    expect(p.firstFileLength()).to.equal(1);
    // The files a rotation plans before it drops anything: lengths from any row on, and their text as pushed.
    expect([0, 1, 2, 3, 4].map((i) => p.fileLengthAt(i))).to.deep.equal([1, 2, 1, 1, 0]);
    expect([...p.texts(1, 2)]).to.deep.equal(rows.slice(1, 3).map((r) => JSON.stringify(r)));
    expect([...p.rows(3, 1)]).to.deep.equal([rows[3]]);
    expect(() => [...p.texts(3, 2)]).to.throw(RangeError);
    p.dropFirst(1);
    expect(p.fileOf(0).day).to.equal('2026-12-03');
    expect(p.firstFileLength()).to.equal(2);
    expect([...p.pendingDays()]).to.deep.equal(['2026-12-03']);
    p.dropFirst(2);
    expect(p.fileOf(0)).to.deep.equal({ day: '2026-12-03', version: '1.0.0' });
    expect(p.firstFileLength()).to.equal(1);
  });

  it('counts the JSON it holds, and nothing after every row is dropped', () => {
    const p = new PendingRows('decision');
    const r = { ...row(1, 0), time: T } as ChainedRow;
    p.push(r);
    expect(p.bytes).to.equal(JSON.stringify(r).length);
    p.dropFirst(1);
    expect(p.bytes).to.equal(0);
    expect(p.first()).to.equal(undefined);
    expect(p.firstFileLength()).to.equal(0);
    expect([...p.pendingDays()]).to.deep.equal([]);
  });

  it('gives back every row across sealed chunks, also after drops that end inside a chunk or in the tail', () => {
    const rows = Array.from({ length: CHUNK_ROWS * 3 + 17 }, (_, i) => row(i + 1, T + i));
    const p = new PendingRows('usage', rows);
    const all = () => [...p.head(p.length)];
    expect(all()).to.deep.equal(rows);
    expect(p.row(CHUNK_ROWS)).to.deep.equal(rows[CHUNK_ROWS]);
    let from = 0;
    for (const n of [1, CHUNK_ROWS - 2, CHUNK_ROWS, 3, CHUNK_ROWS + 5]) {
      p.dropFirst(n);
      from += n;
      expect(p.length).to.equal(rows.length - from);
      expect(p.first(), `after dropping ${from}`).to.deep.equal(rows[from]);
      expect(all()).to.deep.equal(rows.slice(from));
      expect(p.bytes).to.equal(rows.slice(from).reduce((s, r) => s + JSON.stringify(r).length, 0));
    }
    expect([...p.journalLines()]).to.deep.equal(rows.slice(from).map((r) => JSON.stringify({ k: 'usage', r }) + '\n'));
    p.push(rows[0]!);
    expect(p.row(p.length - 1)).to.deep.equal(rows[0]);
    p.dropFirst(p.length);
    expect(p.length).to.equal(0);
    expect(p.bytes).to.equal(0);
  });

  it('holds sealed rows in a fraction of their JSON, and refuses text that is not one JSON line', () => {
    const wide = (i: number) =>
      ({
        ...row(i, T + i * 60_000),
        namespace: `team-${i % 7}`,
        name: `svc-${i % 40}`,
        uid: `0f8e2c1a-${String(i % 40).padStart(4, '0')}-4b1e-9d3c-5a6f7e8d9c0b`,
        variant: i % 3 ? 'full' : 'int8',
        carbon_intensity_g_per_kwh: 200 + (i % 50),
        grid_zone: 'GB',
        methodology_version: 'carbonscale-sci-5',
      }) as unknown as ChainedRow;
    const p = new PendingRows(
      'usage',
      Array.from({ length: CHUNK_ROWS * 4 }, (_, i) => wide(i + 1)),
    );
    expect(p.heldBytes()).to.be.below(p.bytes / 4);
    expect(() => p.push(row(9, T), '{"a":1}\n{"b":2}')).to.throw(/newline/);
  });
});
