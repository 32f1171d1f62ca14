import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import winston from 'winston';
import { ParquetAuditSink } from '../../../operator/audit/parquet-sink.ts';
import { buildReport } from '../../../operator/audit/report.ts';
import type { UsageRecord } from '../../../operator/audit/usage.ts';
import { verifyAuditDir } from '../../../operator/audit/verify.ts';
import { usageRecord } from '../../fixtures/audit/usage-fixtures.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const INTERVAL = 15 * 60_000;
const HOUR = 3_600_000;
const silent = winston.createLogger({ silent: true });

async function writeDays(
  dir: string,
  days: number,
  services: number,
  opts: object = {},
  interval = INTERVAL,
): Promise<UsageRecord[]> {
  let now = 0;
  const sink = await ParquetAuditSink.open(dir, { now: () => now, tickMs: 0, logger: silent, ...opts });
  const all: UsageRecord[] = [];
  for (let i = 0; i < (days * 86_400_000) / interval; i++) {
    const recs = Array.from({ length: services }, (_, s) => usageRecord(s, i, interval));
    now = recs[0]!.interval_end + 1000;
    await Promise.all(recs.map((r) => sink.writeUsage(r)));
    all.push(...recs);
  }
  await sink.close();
  return all;
}

describe('audit report', function () {
  this.timeout(60_000);
  let dir: string;
  let records: UsageRecord[];
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'audit-report-'));
    records = await writeDays(dir, 2, 6);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('sums energy, emissions, baseline, savings, SCI, degraded share and SLO minutes by day, namespace and service', async () => {
    const report = await buildReport(dir);
    expect(report.rows).to.have.length(2 * 6);
    for (const row of report.rows) {
      const mine = records.filter(
        (r) =>
          r.namespace === row.namespace &&
          r.name === row.name &&
          new Date(r.interval_start).toISOString().startsWith(row.day),
      );
      const sum = (f: (r: UsageRecord) => number): number => mine.reduce((a, r) => a + f(r), 0);
      expect(row.intervals).to.equal(mine.length);
      expect(row.energy_facility_kwh).to.be.closeTo(
        sum((r) => r.energy_facility_kwh),
        1e-9,
      );
      expect(row.total_co2e_g).to.be.closeTo(
        sum((r) => r.total_co2e_g ?? NaN),
        1e-6,
      );
      expect(row.baseline_total_co2e_g).to.be.closeTo(
        sum((r) => r.baseline_total_co2e_g ?? NaN),
        1e-6,
      );
      expect(row.savings_co2e_g).to.be.closeTo(row.baseline_total_co2e_g - row.total_co2e_g, 1e-6);
      expect(row.sci_g_per_1k_inferences).to.be.closeTo((row.total_co2e_g / sum((r) => r.inferences)) * 1000, 1e-9);
      const degraded = sum((r) => (r.variant_is_full ? 0 : r.requests)) / sum((r) => r.requests);
      expect(row.degraded_request_share).to.be.closeTo(degraded, 1e-12);
      expect(row.slo_missed_minutes).to.be.closeTo(mine.filter((r) => r.slo_met === false).length * 15, 1e-9);
    }
    // Eco services in this trace run degraded some of the time; premium ones never.
    expect(report.rows.some((r) => (r.degraded_request_share ?? 0) > 0)).to.equal(true);
    expect(report.rows.filter((r) => r.name === 'svc-0').every((r) => r.degraded_request_share === 0)).to.equal(true);
    expect(report.hourly).to.have.length(48);
  });

  it('prints a table, writes CSV and a self-contained HTML page with charts, honouring --namespace and --from/--to', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'audit-report-out-'));
    try {
      const csv = path.join(out, 'r.csv');
      const html = path.join(out, 'r.html');
      const r = spawnSync(
        process.execPath,
        [
          path.join(ROOT, 'operator/cli.ts'),
          'audit',
          'report',
          dir,
          '--namespace',
          'ns-1',
          '--from',
          '2023-01-02T00:00:00Z',
          '--to',
          '2023-01-03T00:00:00Z',
          '--csv',
          csv,
          '--html',
          html,
        ],
        { encoding: 'utf8' },
      );
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout).to.match(/2023-01-02\s+ns-1\s+svc-1/);
      const lines = (await readFile(csv, 'utf8')).trim().split('\n');
      expect(lines[0]).to.match(/^day,namespace,name,intervals,energy_facility_kwh,/);
      expect(lines.slice(1).map((l) => l.split(',').slice(0, 4).join(','))).to.deep.equal(['2023-01-02,ns-1,svc-1,96']);
      const page = await readFile(html, 'utf8');
      expect(page).to.include('<svg').and.include('Emissions vs. baseline').and.include('Carbon intensity by variant');
      expect(page).to.not.match(/<script|src="http/);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it('rejects a bad date with exit code 2 and a message naming the flag', () => {
    const r = spawnSync(
      process.execPath,
      [path.join(ROOT, 'operator/cli.ts'), 'audit', 'report', dir, '--from', 'yesterday-ish'],
      { encoding: 'utf8' },
    );
    expect(r.status).to.equal(2);
    expect(r.stderr).to.include('--from');
  });
});

describe('audit retention', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'audit-retention-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('deletes days past retentionDays, leaves an anchor, and the kept chain still verifies', async () => {
    await writeDays(dir, 5, 2, { retentionDays: 2, rotateIntervalMs: 6 * HOUR }, HOUR);
    const days = (await readdir(path.join(dir, 'stream=usage'))).sort();
    expect(days[0]! >= 'dt=2023-01-03').to.equal(true);
    expect(days[days.length - 1]).to.equal('dt=2023-01-05');
    const anchors = (await readFile(path.join(dir, 'retention.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(anchors.length).to.be.at.least(2);
    const v = await verifyAuditDir(dir);
    expect(v.problems).to.deep.equal([]);
    expect(v.rows.usage).to.equal(days.length * 24 * 2);
  });

  it('deletes the oldest days beyond the size cap', async () => {
    await writeDays(dir, 4, 2, { maxTotalBytes: 1, rotateIntervalMs: 6 * HOUR }, HOUR); // everything but today and pending days is over the cap
    const days = await readdir(path.join(dir, 'stream=usage'));
    expect(days.length).to.be.lessThan(4);
    expect((await verifyAuditDir(dir)).problems).to.deep.equal([]);
  });
});
