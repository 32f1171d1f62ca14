// Pending rows are held as JSON text; these pin that what a rotation and a compaction get back is the row as
// journaled, split by day and schema version, and that the byte count (maxPendingBytes) follows pushes and drops.
import { expect } from 'chai';
import { PendingRows } from '../../../operator/audit/pending-rows.ts';
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
    const p = new PendingRows('usage', [row(1, T - 1), row(2, T), row(3, T + DAY - 1), row(4, T + DAY - 1, '1.0.0')]);
    expect(p.fileOf(0)).to.deep.equal({ day: '2026-12-02', version: '2.0.0' });
    expect(p.firstFileLength()).to.equal(1);
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
});
