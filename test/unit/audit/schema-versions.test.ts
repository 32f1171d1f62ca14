// A trail that spans the upgrade from schema 1.0.0: a 1.0.0 directory (`kind=` layout, a 1.0.0 file, a journal
// whose checkpoint counted its pending rows) opened by today's sink keeps every row, writes the replayed 1.0.0
// rows to a 1.0.0 file and new rows to a 2.0.0 file, and the whole trail verifies in the operator and in Python.
// And the 2.0.0 nulls (no intensity, embodied not counted) reach DuckDB as nulls, not zeros.
import { expect } from 'chai';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import winston from 'winston';
import { nodeAuditFs } from '../../../operator/audit/audit-fs.ts';
import { partFileName } from '../../../operator/audit/layout.ts';
import { addToManifest } from '../../../operator/audit/manifest.ts';
import { sha256File, writeParquetAtomically } from '../../../operator/audit/parquet-file.ts';
import { ParquetAuditSink } from '../../../operator/audit/parquet-sink.ts';
import { manifestEntryOf } from '../../../operator/audit/recovery.ts';
import { columnsOf, GENESIS_HASH, type Row } from '../../../operator/audit/schema.ts';
import { chainRow, type ChainedRow } from '../../../operator/audit/sink.ts';
import {
  computeUsageRecord,
  METHODOLOGY_VERSION,
  SCHEMA_VERSION,
  type UsageRecord,
} from '../../../operator/audit/usage.ts';
import { verifyAuditDir } from '../../../operator/audit/verify.ts';
import { listAuditFiles } from '../../fixtures/audit/audit-dir.ts';
import { python, readers } from '../../fixtures/audit/python.ts';
import { usageInput, usageRecord } from '../../fixtures/audit/usage-fixtures.ts';

const silent = winston.createLogger({ silent: true });
const INTERVAL = 600_000;

/** A usage record as schema 1.0.0 wrote it: its columns only, its versions. */
function v1Record(r: UsageRecord): Row {
  const out: Row = {};
  for (const col of columnsOf('usage', '1.0.0'))
    if (col.name in r) out[col.name] = (r as unknown as Row)[col.name] ?? null;
  out.schema_version = '1.0.0';
  out.methodology_version = 'carbonscale-sci-1';
  return out;
}

describe('audit schema versions: a 1.0.0 trail upgraded in place, and 2.0.0 nulls in independent readers', function () {
  this.timeout(120_000);
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'audit-versions-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps, splits by version and verifies a 1.0.0 directory opened by the 2.0.0 sink', async () => {
    // Rows 1..5 in a 1.0.0 file under kind=usage/, rows 6..8 only in a 1.0.0 journal whose checkpoint is row 8.
    const rows: ChainedRow[] = [];
    let prev = GENESIS_HASH;
    for (let i = 0; i < 8; i++) {
      const row = chainRow('usage', v1Record(usageRecord(0, i, INTERVAL)) as never, i + 1, prev);
      rows.push(row);
      prev = row.row_hash;
    }
    const rel = `kind=usage/dt=2023-01-01/${partFileName(1, 5)}`;
    await mkdir(path.join(dir, 'kind=usage/dt=2023-01-01'), { recursive: true });
    await writeParquetAtomically(
      nodeAuditFs,
      'usage',
      '1.0.0',
      rows.slice(0, 5),
      path.join(dir, rel + '.tmp'),
      path.join(dir, rel),
    );
    await mkdir(path.join(dir, 'manifests'), { recursive: true });
    const entry = await manifestEntryOf(nodeAuditFs, {
      kind: 'usage',
      day: '2023-01-01',
      rel,
      abs: path.join(dir, rel),
      firstSeq: 1,
      lastSeq: 5,
    });
    await addToManifest(nodeAuditFs, dir, '2023-01-01', [entry]);
    expect(entry.sha256).to.equal(await sha256File(path.join(dir, rel)));
    const cp = { checkpoint: { usage: { seq: 8, hash: prev }, decision: { seq: 0, hash: GENESIS_HASH } } };
    const journal = [cp, ...rows.slice(5).map((r) => ({ k: 'usage', r }))].map((l) => JSON.stringify(l)).join('\n');
    await mkdir(path.join(dir, 'journal'));
    await writeFile(path.join(dir, 'journal', 'journal.jsonl'), journal + '\n');
    const before = await verifyAuditDir(dir);
    expect(before.problems, 'the 1.0.0 directory verifies as it is').to.deep.equal([]);
    expect([before.rows.usage, before.journalRows.usage]).to.deep.equal([5, 3]);

    const sink = await ParquetAuditSink.open(dir, { now: () => 0, tickMs: 0, logger: silent });
    for (let i = 8; i < 12; i++) await sink.writeUsage(usageRecord(0, i, INTERVAL));
    await sink.close();

    const files = await listAuditFiles(dir);
    expect(files.map((f) => path.relative(dir, f.file))).to.deep.equal([
      `stream=usage/dt=2023-01-01/${partFileName(1, 5)}`,
      `stream=usage/dt=2023-01-01/${partFileName(6, 8)}`,
      `stream=usage/dt=2023-01-01/${partFileName(9, 12)}`,
    ]);
    const v = await verifyAuditDir(dir);
    expect(v.problems).to.deep.equal([]);
    expect(v.rows.usage).to.equal(12);
    const chain = readers<Record<'usage', { rows: number; bad: number[] }>>('chain', dir);
    expect(chain.usage).to.deep.include({ rows: 12, bad: [] });
    const versions = python(
      `import glob, sys, pyarrow.parquet as pq
for f in sorted(glob.glob(sys.argv[1] + "/stream=usage/*/*.parquet")):
    m = pq.read_metadata(f).metadata
    print(m[b"carbonscale.schema_version"].decode(), m[b"carbonscale.methodology_version"].decode(), pq.read_schema(f).names.count("ci_missing"))`,
      [dir],
    );
    expect(versions.trim().split('\n')).to.deep.equal([
      '1.0.0 carbonscale-sci-1 0',
      '1.0.0 carbonscale-sci-1 0',
      `${SCHEMA_VERSION} ${METHODOLOGY_VERSION} 1`,
    ]);
  });

  it('writes unknown intensity and uncounted embodied as nulls that DuckDB and pyarrow read as nulls', async () => {
    const sink = await ParquetAuditSink.open(dir, { now: () => 0, tickMs: 0, logger: silent });
    await sink.writeUsage(usageRecord(0, 0, INTERVAL));
    const base = usageInput(0, 1, INTERVAL);
    await sink.writeUsage(
      computeUsageRecord({ ...base, carbon: { missing: true, region: 'GB', provider: 'electricitymaps' } }),
    );
    await sink.writeUsage(computeUsageRecord({ ...usageInput(0, 2, INTERVAL), embodiedGPerGpuHour: 0 }));
    await sink.close();
    expect((await verifyAuditDir(dir)).problems).to.deep.equal([]);
    const out = python(
      `import duckdb, json, sys, pyarrow.dataset as ds
q = "select count(*), count(total_co2e_g), count(*) filter (where ci_missing), count(embodied_co2e_g), count(*) filter (where not embodied_counted), sum(energy_facility_kwh) > 0 from read_parquet('" + sys.argv[1] + "/stream=usage/*/*.parquet', hive_partitioning = true)"
t = ds.dataset(sys.argv[1] + "/stream=usage", format="parquet", partitioning="hive").to_table()
print(json.dumps({"duckdb": list(duckdb.connect().execute(q).fetchone()), "pyarrow_null_ci": t.column("ci_g_per_kwh").null_count}))`,
      [dir],
    );
    expect(JSON.parse(out)).to.deep.equal({ duckdb: [3, 2, 1, 2, 1, true], pyarrow_null_ci: 1 });
  });
});
