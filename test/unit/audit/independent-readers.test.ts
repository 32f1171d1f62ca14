// Auditors read the files with their own tools: the same sums from pyarrow and DuckDB as the operator's own
// in-memory totals, the schema they see is the documented one, and the hash chain recomputes in Python.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import winston from 'winston';
import { ParquetAuditSink } from '../../../operator/audit/parquet-sink.ts';
import { columnsOf, fileMetadata, type ColumnType } from '../../../operator/audit/schema.ts';
import { MemoryAuditSink } from '../../../operator/audit/sink.ts';
import { computeUsageRecord } from '../../../operator/audit/usage.ts';
import { verifyAuditDir } from '../../../operator/audit/verify.ts';
import { readers } from '../../fixtures/audit/python.ts';
import { decisionRecord, usageInput } from '../../fixtures/audit/usage-fixtures.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const SUMMED = [
  'energy_it_kwh',
  'energy_facility_kwh',
  'operational_co2e_g',
  'embodied_co2e_g',
  'total_co2e_g',
] as const;
type Sums = Record<(typeof SUMMED)[number] | 'rows', number>;
interface ReaderOutput {
  pyarrow: Record<string, Sums>;
  duckdb: Record<string, Sums & { dt_min: string; dt_max: string }>;
  pyarrow_schema: [string, string][];
  duckdb_schema: [string, string][];
  metadata: Record<string, string>;
  files: number;
}

const PYARROW_TYPE: Record<ColumnType, string> = {
  string: 'string',
  double: 'double',
  int32: 'int32',
  int64: 'int64',
  bool: 'bool',
  timestamp: 'timestamp[ms, tz=UTC]',
};
const DUCKDB_TYPE: Record<ColumnType, string> = {
  string: 'VARCHAR',
  double: 'DOUBLE',
  int32: 'INTEGER',
  int64: 'BIGINT',
  bool: 'BOOLEAN',
  timestamp: 'TIMESTAMP',
};

/** The column tables of docs/audit.md, section by section. */
function documentedColumns(stream: 'usage' | 'decision'): { name: string; type: string; nullable: boolean }[] {
  const md = readFileSync(path.join(ROOT, 'docs/audit.md'), 'utf8');
  const start = md.indexOf(`### ${stream} columns`);
  expect(start, `docs/audit.md has a "### ${stream} columns" section`).to.be.greaterThan(-1);
  const rest = md.slice(start).split('\n').slice(1);
  const rows: { name: string; type: string; nullable: boolean }[] = [];
  for (const line of rest) {
    if (line.startsWith('#')) break;
    const m = /^\|\s*`([a-z0-9_]+)`\s*\|\s*([a-z0-9]+)\s*\|\s*(yes|no)\s*\|/.exec(line);
    if (m) rows.push({ name: m[1] as string, type: m[2] as string, nullable: m[3] === 'yes' });
  }
  return rows;
}

function relClose(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b), 1e-300);
}

describe('audit files read by independent readers (pyarrow, DuckDB)', function () {
  this.timeout(120_000);
  let dir: string;
  const totals = new Map<string, Sums>();
  let memory: MemoryAuditSink;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'audit-readers-'));
    // 8 services, 60 s intervals from 2023-01-01 20:00 UTC for 8 h: crosses midnight (two dt partitions),
    // rotates hourly on the injected clock.
    const services = 8;
    const first = 20 * 60;
    const intervals = 8 * 60;
    let now = 0;
    const sink = await ParquetAuditSink.open(dir, {
      now: () => now,
      tickMs: 0,
      logger: winston.createLogger({ silent: true }),
    });
    memory = new MemoryAuditSink();
    for (let i = first; i < first + intervals; i++) {
      const recs = Array.from({ length: services }, (_, s) => computeUsageRecord(usageInput(s, i)));
      now = recs[0]!.interval_end + 2_000;
      await Promise.all(recs.map((r) => sink.writeUsage(r)));
      for (const r of recs) {
        await memory.writeUsage(r);
        const key = `${r.namespace}/${r.name}`;
        const t = totals.get(key) ?? {
          energy_it_kwh: 0,
          energy_facility_kwh: 0,
          operational_co2e_g: 0,
          embodied_co2e_g: 0,
          total_co2e_g: 0,
          rows: 0,
        };
        for (const k of SUMMED) t[k] += r[k] ?? NaN; // the fixtures always carry an intensity and a factor
        t.rows++;
        totals.set(key, t);
      }
      if (i % 90 === 0) await sink.writeDecision(decisionRecord(1, i));
    }
    await sink.close();
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('gives per-service energy and emission sums equal to the operator totals (1e-9 relative), in both readers', () => {
    const out = readers<ReaderOutput>('sums', dir);
    expect(out.files).to.be.greaterThan(8); // hourly rotation, two days
    expect(Object.keys(out.pyarrow).sort()).to.deep.equal([...totals.keys()].sort());
    expect(Object.keys(out.duckdb).sort()).to.deep.equal([...totals.keys()].sort());
    for (const [key, t] of totals) {
      for (const reader of ['pyarrow', 'duckdb'] as const) {
        const got = out[reader][key] as Sums;
        expect(got.rows, `${reader} ${key} rows`).to.equal(t.rows);
        for (const k of SUMMED)
          expect(relClose(got[k], t[k]), `${reader} ${key} ${k}: ${got[k]} vs ${t[k]}`).to.equal(true);
      }
      expect(out.duckdb[key]?.dt_min).to.equal('2023-01-01');
      expect(out.duckdb[key]?.dt_max).to.equal('2023-01-02');
    }
  });

  it('matches the totals of the in-memory sink fed the same records', () => {
    const out = readers<ReaderOutput>('sums', dir);
    const mem = new Map<string, number>();
    for (const r of memory.rows.usage)
      mem.set(`${r.namespace}/${r.name}`, (mem.get(`${r.namespace}/${r.name}`) ?? 0) + Number(r.total_co2e_g));
    for (const [key, v] of mem) expect(relClose(out.pyarrow[key]?.total_co2e_g ?? NaN, v), key).to.equal(true);
  });

  it('shows the schema documented in docs/audit.md, with its versions in the key-value metadata', () => {
    const out = readers<ReaderOutput>('sums', dir);
    const doc = documentedColumns('usage');
    expect(doc.map((c) => c.name)).to.deep.equal(columnsOf('usage').map((c) => c.name));
    expect(doc.map((c) => c.type)).to.deep.equal(columnsOf('usage').map((c) => c.type));
    expect(doc.map((c) => c.nullable)).to.deep.equal(columnsOf('usage').map((c) => c.nullable));
    expect(out.pyarrow_schema).to.deep.equal(doc.map((c) => [c.name, PYARROW_TYPE[c.type as ColumnType]]));
    // DuckDB adds the Hive partition columns from the path; neither name is a column of the files.
    expect(out.duckdb_schema.slice(-2)).to.deep.equal([
      ['dt', 'DATE'],
      ['stream', 'VARCHAR'],
    ]);
    for (const kind of ['usage', 'decision'] as const)
      for (const key of ['dt', 'stream']) expect(columnsOf(kind).map((c) => c.name)).to.not.include(key);
    expect(out.duckdb_schema.slice(0, -2)).to.deep.equal(doc.map((c) => [c.name, DUCKDB_TYPE[c.type as ColumnType]]));
    const decisionDoc = documentedColumns('decision');
    expect(decisionDoc.map((c) => [c.name, c.type, c.nullable])).to.deep.equal(
      columnsOf('decision').map((c) => [c.name, c.type, c.nullable]),
    );
    expect(out.metadata).to.deep.include(fileMetadata('usage'));
    const md = readFileSync(path.join(ROOT, 'docs/audit.md'), 'utf8');
    for (const v of Object.values(fileMetadata('usage'))) expect(md, `docs mention ${v}`).to.include(v);
  });

  it('recomputes the hash chain in Python from the documented canonical form, and verify passes', async () => {
    const chain = readers<Record<'usage' | 'decision', { rows: number; bad: number[] }>>('chain', dir);
    expect(chain.usage.rows).to.equal(memory.rows.usage.length);
    expect(chain.usage.bad).to.deep.equal([]);
    expect(chain.decision.rows).to.be.greaterThan(0);
    expect(chain.decision.bad).to.deep.equal([]);
    const v = await verifyAuditDir(dir);
    expect(v.problems).to.deep.equal([]);
    expect(v.rows.usage).to.equal(memory.rows.usage.length);
  });
});
