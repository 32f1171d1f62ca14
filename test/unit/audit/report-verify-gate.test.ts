// `audit report` verifies first: it refuses a trail that does not verify (exit 1, the problems on stderr, no
// output written), reports one with --allow-unverified under a loud warning, and says how many rows are still
// pending in the journal (not in its totals).
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import winston from 'winston';
import { ParquetAuditSink } from '../../../operator/audit/parquet-sink.ts';
import { usageRecord, YEAR_START_MS } from '../../fixtures/audit/usage-fixtures.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const INTERVAL = 600_000;

function report(dir: string, ...args: string[]) {
  const csv = path.join(dir, '..', `${path.basename(dir)}.csv`);
  const r = spawnSync(
    process.execPath,
    [path.join(ROOT, 'operator/cli.ts'), 'audit', 'report', dir, '--csv', csv, ...args],
    {
      encoding: 'utf8',
    },
  );
  return { ...r, csv };
}

describe('audit report verifies the trail first', function () {
  this.timeout(60_000);
  let dir: string;
  let sink: ParquetAuditSink | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'audit-gate-'));
    let now = YEAR_START_MS;
    const s = await ParquetAuditSink.open(dir, {
      now: () => now,
      tickMs: 0,
      logger: winston.createLogger({ silent: true }),
    });
    for (let i = 0; i < 18; i++) {
      now = YEAR_START_MS + (i + 1) * INTERVAL + 1000; // hourly files
      await s.writeUsage(usageRecord(0, i, INTERVAL));
    }
    await s.close();
  });
  afterEach(async () => {
    await sink?.close();
    sink = undefined;
    await rm(dir, { recursive: true, force: true });
    await rm(`${dir}.csv`, { force: true });
  });

  it('reports a clean trail without a warning', () => {
    const r = report(dir);
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stderr).to.not.include('WARNING');
    expect(r.stdout).to.not.include('WARNING');
    expect(existsSync(r.csv)).to.equal(true);
  });

  it('refuses a trail with a file removed, naming the problem, and writes nothing', async () => {
    const day = path.join(dir, 'stream=usage', 'dt=2023-01-01');
    await unlink(path.join(day, (await readdir(day)).sort()[1] as string));
    const r = report(dir);
    expect(r.status).to.equal(1);
    expect(r.stderr).to.match(/^MISSING_FILE\tusage\tstream=usage\/dt=2023-01-01\//m);
    expect(r.stderr).to.include('refusing to report on a trail that does not verify');
    expect(r.stderr).to.include('--allow-unverified');
    expect(r.stdout).to.equal('');
    expect(existsSync(r.csv)).to.equal(false);
  });

  it('with --allow-unverified, reports under a warning on stderr and at the top of the table', async () => {
    const day = path.join(dir, 'stream=usage', 'dt=2023-01-01');
    await unlink(path.join(day, (await readdir(day)).sort()[1] as string));
    const r = report(dir, '--allow-unverified');
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stderr).to.match(/^WARNING: audit verify found \d+ problem\(s\) \(.*1 missing_file.*\)/m);
    expect(r.stdout.split('\n')[0]).to.match(/^WARNING: .*UNVERIFIED/);
    expect(existsSync(r.csv)).to.equal(true);
  });

  it('says how many rows are pending in the journal and leaves them out of the totals', async () => {
    sink = await ParquetAuditSink.open(dir, {
      now: () => 0,
      tickMs: 0,
      logger: winston.createLogger({ silent: true }),
    });
    for (let i = 18; i < 21; i++) await sink.writeUsage(usageRecord(0, i, INTERVAL)); // journaled, not rotated
    const r = report(dir);
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.include('3 rows pending in journal/ (3 usage, 0 decision)');
    expect(r.stdout).to.match(/2023-01-01\s+ns-0\s+svc-0/);
    const csv = readFileSync(r.csv, 'utf8').trim().split('\n');
    expect(csv[1]?.split(',')[3], 'intervals in the totals').to.equal('18');
  });
});
