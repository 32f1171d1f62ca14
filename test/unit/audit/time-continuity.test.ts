// `audit verify` checks that each service's usage intervals tile time from its first row to its last: every gap
// and every overlap is reported with the service, the span and the rows around it; rows still in the journal
// count (and are reported as pending); a service created again (new uid) is a new timeline.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import winston from 'winston';
import { ParquetAuditSink } from '../../../operator/audit/parquet-sink.ts';
import { computeUsageRecord } from '../../../operator/audit/usage.ts';
import { verifyAuditDir } from '../../../operator/audit/verify.ts';
import { TimeCoverage } from '../../../operator/audit/time-coverage.ts';
import { usageInput, YEAR_START_MS } from '../../fixtures/audit/usage-fixtures.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const MIN = 60_000;
const silent = winston.createLogger({ silent: true });

/** A usage row of service `svc` for [start, end) minutes after 2023-01-01T00:00Z. */
function row(svc: number, startMin: number, endMin: number, uid?: string) {
  return computeUsageRecord(
    usageInput(svc, 0, MIN, {
      intervalStartMs: YEAR_START_MS + startMin * MIN,
      intervalEndMs: YEAR_START_MS + endMin * MIN,
      ...(uid ? { uid } : {}),
    }),
  );
}

describe('audit verify: time continuity per service', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'audit-time-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reports each gap and overlap with the service, the span and the rows around it, and nothing for whole services', async () => {
    const sink = await ParquetAuditSink.open(dir, { now: () => 0, tickMs: 0, logger: silent });
    for (let m = 0; m < 10; m++) await sink.writeUsage(row(0, m, m + 1)); // whole
    for (const m of [0, 1, 2, 5, 6]) await sink.writeUsage(row(1, m, m + 1)); // 3..5 missing
    await sink.writeUsage(row(1, 8, 9)); // 7..8 missing
    await sink.writeUsage(row(1, 8, 10)); // overlaps 8..9
    for (const m of [4, 0, 3, 1, 2]) await sink.writeUsage(row(2, m, m + 1)); // out of order, yet whole
    await sink.close();
    const v = await verifyAuditDir(dir);
    const svc1 = 'ns-1/svc-1 (uid 00000000-0000-4000-8000-000000000001)';
    expect(v.problems.map((p) => [p.kind, p.service, p.seq])).to.deep.equal([
      ['time_gap', svc1, 14],
      ['time_gap', svc1, 16],
      ['time_overlap', svc1, 17],
    ]);
    expect(v.problems[0]?.message).to.equal(
      `usage ${svc1}: no row for 2023-01-01T00:03:00.000Z..2023-01-01T00:05:00.000Z (2.0 min) ` +
        'between row 13 (stream=usage/dt=2023-01-01/part-000000000001-000000000022.parquet, ends 2023-01-01T00:03:00.000Z) ' +
        'and row 14 (stream=usage/dt=2023-01-01/part-000000000001-000000000022.parquet, starts 2023-01-01T00:05:00.000Z)',
    );
    expect(v.problems[2]?.message).to.match(/row 17 \(2023-01-01T00:08:00.000Z..2023-01-01T00:10:00.000Z\) overlaps/);
    expect(v.services).to.equal(3);
    const cli = spawnSync(process.execPath, [path.join(ROOT, 'operator/cli.ts'), 'audit', 'verify', dir], {
      encoding: 'utf8',
    });
    expect(cli.status).to.equal(1);
    expect(cli.stdout).to.include(
      `TIME_GAP\tusage\tstream=usage/dt=2023-01-01/part-000000000001-000000000022.parquet\tusage ${svc1}: no row for`,
    );
    expect(cli.stdout).to.match(/FAILED: 1 files, 22 usage rows, 0 decision rows, 3 services .* 3 problems$/m);
  });

  it('counts rows still in the journal as pending and checks them too: a journaled row closes a gap', async () => {
    const first = await ParquetAuditSink.open(dir, { now: () => 0, tickMs: 0, logger: silent });
    for (const m of [0, 1, 3]) await first.writeUsage(row(0, m, m + 1));
    await first.close(); // in Parquet: 0..2, 3..4; a gap 2..3
    const gap = await verifyAuditDir(dir);
    expect(gap.problems.map((p) => p.kind)).to.deep.equal(['time_gap']);
    const second = await ParquetAuditSink.open(dir, { now: () => 0, tickMs: 0, logger: silent });
    await second.writeUsage(row(0, 2, 3)); // re-accounted after a restart, not yet rotated: only in the journal
    await second.writeUsage(row(0, 4, 5));
    const v = await verifyAuditDir(dir); // the sink is still open, as after a kill -9
    expect(v.problems).to.deep.equal([]);
    expect(v.journalRows).to.deep.equal({ usage: 2, decision: 0 });
    const cli = spawnSync(process.execPath, [path.join(ROOT, 'operator/cli.ts'), 'audit', 'verify', dir], {
      encoding: 'utf8',
    });
    expect(cli.stdout).to.include('2 rows pending in journal/ (2 usage, 0 decision)');
    expect(cli.status).to.equal(0);
    await second.close();
  });

  it('treats a service created again under the same name (new uid) as a new timeline', async () => {
    const sink = await ParquetAuditSink.open(dir, { now: () => 0, tickMs: 0, logger: silent });
    for (let m = 0; m < 3; m++) await sink.writeUsage(row(0, m, m + 1));
    for (let m = 30; m < 33; m++) await sink.writeUsage(row(0, m, m + 1, 'uid-recreated'));
    await sink.close();
    expect((await verifyAuditDir(dir)).problems).to.deep.equal([]);
  });

  it('merges spans in any order: the union decides, each overlap is reported once', () => {
    const c = new TimeCoverage();
    const at = (seq: number) => ({ seq, file: 'f' });
    for (const [s, e, seq] of [
      [10, 20, 1],
      [30, 40, 2],
      [20, 30, 3], // fills the hole: one span 10..40
      [50, 60, 4],
      [35, 55, 5], // overlaps both neighbours, bridges the hole 40..50
      [0, 10, 6],
    ] as const)
      c.add('k', 'svc', s, e, at(seq));
    const problems = c.problems();
    expect(problems.map((p) => [p.kind, p.seq, p.start, p.end])).to.deep.equal([['time_overlap', 5, 35, 55]]);
    c.add('k', 'svc', 70, 80, at(7));
    expect(c.problems().map((p) => [p.kind, p.start, p.end])).to.deep.equal([
      ['time_gap', 60, 70],
      ['time_overlap', 35, 55],
    ]);
  });
});
