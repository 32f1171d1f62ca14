// `carbonscale audit verify` against an attacker with their own tools (pyarrow rewrites files, rm, mv).
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import winston from 'winston';
import { ParquetAuditSink } from '../../../operator/audit/parquet-sink.ts';
import { verifyAuditDir, type ProblemKind } from '../../../operator/audit/verify.ts';
import { pythonBin } from '../../fixtures/audit/python.ts';
import { decisionRecord, usageRecord } from '../../fixtures/audit/usage-fixtures.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const INTERVAL = 10 * 60_000;

/** Rewrites one Parquet file with pyarrow after applying a row operation, keeping its schema and metadata. */
function rewriteWithPyarrow(file: string, op: 'edit' | 'delete' | 'duplicate', row: number): void {
  const code = `
import sys, pyarrow as pa, pyarrow.parquet as pq, pyarrow.compute as pc
f, op, i = sys.argv[1], sys.argv[2], int(sys.argv[3])
t = pq.read_table(f)
if op == 'edit':
    col = t.column('total_co2e_g').to_pylist(); col[i] = col[i] * 0.5
    t = t.set_column(t.schema.get_field_index('total_co2e_g'), t.schema.field('total_co2e_g'), pa.array(col, pa.float64()))
elif op == 'delete':
    t = pa.concat_tables([t.slice(0, i), t.slice(i + 1)])
else:
    t = pa.concat_tables([t.slice(0, i + 1), t.slice(i, 1), t.slice(i + 1)])
pq.write_table(t, f, compression='snappy')
`;
  execFileSync(pythonBin(), ['-c', code, file, op, String(row)]);
}

describe('audit verify catches tampering', function () {
  this.timeout(60_000);
  let clean: string;
  let work: string;
  const day1 = 'dt=2023-01-01';
  const day2 = 'dt=2023-01-02';

  async function usageFiles(day: string): Promise<string[]> {
    return (await readdir(path.join(work, 'stream=usage', day))).filter((n) => n.endsWith('.parquet')).sort();
  }

  async function problemKinds(): Promise<Set<ProblemKind>> {
    return new Set((await verifyAuditDir(work)).problems.map((p) => p.kind));
  }

  before(async () => {
    clean = await mkdtemp(path.join(os.tmpdir(), 'audit-clean-'));
    let now = 0;
    const sink = await ParquetAuditSink.open(clean, {
      now: () => now,
      tickMs: 0,
      logger: winston.createLogger({ silent: true }),
    });
    // 3 services, 10-minute intervals over two days, hourly files: 24 usage files per day.
    for (let i = 0; i < 288; i++) {
      now = Date.parse('2023-01-01T00:00:00Z') + (i + 1) * INTERVAL + 1000;
      await Promise.all([0, 1, 2].map((s) => sink.writeUsage(usageRecord(s, i, INTERVAL))));
      if (i % 20 === 0) await sink.writeDecision(decisionRecord(1, i, INTERVAL));
    }
    await sink.close();
  });

  beforeEach(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'audit-tamper-'));
    await cp(clean, work, { recursive: true });
    expect((await verifyAuditDir(work)).problems, 'the untouched copy verifies').to.deep.equal([]);
  });

  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  after(async () => {
    await rm(clean, { recursive: true, force: true });
  });

  it('passes an untouched directory through the CLI with exit code 0', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'operator/cli.ts'), 'audit', 'verify', work], {
      encoding: 'utf8',
    });
    expect(r.stdout).to.match(
      /^OK: \d+ files, 864 usage rows, 15 decision rows, 3 services checked for time continuity, 0 rows pending in journal\/ \(0 usage, 0 decision\), 0 problems$/m,
    );
    expect(r.status).to.equal(0);
  });

  it('catches an edited value', async () => {
    const f = path.join(work, 'stream=usage', day1, (await usageFiles(day1))[5] as string);
    rewriteWithPyarrow(f, 'edit', 3);
    const kinds = await problemKinds();
    expect(kinds).to.include('edit');
    expect(kinds).to.include('derived'); // total_co2e_g no longer operational + embodied
    expect(kinds).to.include('file_hash');
  });

  it('catches a deleted row', async () => {
    const f = path.join(work, 'stream=usage', day1, (await usageFiles(day1))[7] as string);
    rewriteWithPyarrow(f, 'delete', 4);
    const v = await verifyAuditDir(work);
    const gap = v.problems.find((p) => p.kind === 'gap');
    expect(gap?.file).to.equal(path.relative(work, f));
    expect(v.problems.map((p) => p.kind)).to.include('file_hash');
  });

  it('catches a duplicated row', async () => {
    const f = path.join(work, 'stream=usage', day2, (await usageFiles(day2))[2] as string);
    rewriteWithPyarrow(f, 'duplicate', 1);
    const v = await verifyAuditDir(work);
    expect(v.problems.filter((p) => p.kind === 'duplicate').length).to.be.at.least(1);
    expect(v.ok).to.equal(false);
  });

  it('catches a removed file, with exit code 1 from the CLI', async () => {
    const name = (await usageFiles(day2))[10] as string;
    await unlink(path.join(work, 'stream=usage', day2, name));
    const kinds = await problemKinds();
    expect(kinds).to.include('missing_file');
    expect(kinds).to.include('gap');
    const r = spawnSync(process.execPath, [path.join(ROOT, 'operator/cli.ts'), 'audit', 'verify', work], {
      encoding: 'utf8',
    });
    expect(r.status).to.equal(1);
    expect(r.stdout).to.include(`MISSING_FILE\tusage\tstream=usage/${day2}/${name}`);
  });

  it('catches the newest file removed together with its manifest entry (the journal checkpoint remembers)', async () => {
    const files = await usageFiles(day2);
    const newest = files[files.length - 1] as string;
    await unlink(path.join(work, 'stream=usage', day2, newest));
    const mf = path.join(work, 'manifests', `${day2}.json`);
    const manifest = JSON.parse(await readFile(mf, 'utf8')) as { files: { path: string }[] };
    manifest.files = manifest.files.filter((f) => !f.path.endsWith(newest));
    await writeFile(mf, JSON.stringify(manifest));
    const v = await verifyAuditDir(work);
    expect(v.problems.map((p) => p.kind)).to.deep.equal(['gap']);
    expect(v.problems[0]?.message).to.match(/checkpoint/);
  });

  it('catches a file swapped between days', async () => {
    const a = path.join(work, 'stream=usage', day1, (await usageFiles(day1))[3] as string);
    const b = path.join(work, 'stream=usage', day2, (await usageFiles(day2))[3] as string);
    await rename(a, a + '.x');
    await rename(b, a);
    await rename(a + '.x', b);
    const kinds = await problemKinds();
    expect(kinds).to.include('file_hash');
    expect(kinds).to.include('wrong_partition');
  });
});
