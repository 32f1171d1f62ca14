// The reader examples of docs/audit.md, run as written with DuckDB and pyarrow against a trail whose decisions
// are known: counting swaps gives the real number (the partition key `stream=` no longer hides the decision
// column `kind`). A schema 1.0.0 directory (`kind=`) shows the old wrong answer, and the sink's migration on
// open fixes it.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { cp, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import winston from 'winston';
import { makeDecisionRecord, type DecisionKind } from '../../../operator/audit/decision.ts';
import { ParquetAuditSink } from '../../../operator/audit/parquet-sink.ts';
import { verifyAuditDir } from '../../../operator/audit/verify.ts';
import { python } from '../../fixtures/audit/python.ts';
import { usageRecord, YEAR_START_MS } from '../../fixtures/audit/usage-fixtures.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');

/** The fenced block that follows `<!-- example: NAME -->` in docs/audit.md. */
function example(name: string): string {
  const md = readFileSync(path.join(ROOT, 'docs/audit.md'), 'utf8');
  const m = new RegExp(`<!-- example: ${name} -->\\n\`\`\`[a-z]*\\n([\\s\\S]*?)\`\`\``).exec(md);
  expect(m, `docs/audit.md has the example ${name}`).to.not.equal(null);
  return (m as RegExpExecArray)[1] as string;
}

/** Runs SQL in DuckDB (from the test venv) with AUDIT replaced by the directory; returns the rows. */
function duckdb(sql: string, dir: string): unknown[][] {
  const code = `
import duckdb, json, sys
rows = duckdb.connect().execute(sys.argv[1]).fetchall()
print(json.dumps([[v if isinstance(v, (int, float, str)) or v is None else str(v) for v in r] for r in rows]))
`;
  return JSON.parse(python(code, [sql.replace(/AUDIT/g, dir)])) as unknown[][];
}

const KINDS: DecisionKind[] = ['scale', 'swap', 'scale', 'fallback', 'swap', 'mode', 'swap', 'scale'];

describe('docs/audit.md reader examples give the right answer in DuckDB and pyarrow', function () {
  this.timeout(120_000);
  let dir: string;
  const swapsBySvc = new Map<string, number>();
  let usageRows = 0;
  let decisionRows = 0;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'audit-examples-'));
    let now = YEAR_START_MS;
    const sink = await ParquetAuditSink.open(dir, {
      now: () => now,
      tickMs: 0,
      logger: winston.createLogger({ silent: true }),
    });
    // 3 services, 10-minute intervals for 4 h (hourly files); decisions of every kind, 3 of them swaps per cycle.
    for (let i = 0; i < 24; i++) {
      now = YEAR_START_MS + (i + 1) * 600_000 + 1000;
      for (let s = 0; s < 3; s++) await sink.writeUsage(usageRecord(s, i, 600_000));
      usageRows += 3;
      const kind = KINDS[i % KINDS.length] as DecisionKind;
      const svc = i % 3;
      await sink.writeDecision(
        makeDecisionRecord({
          timeMs: YEAR_START_MS + i * 600_000 + 5000,
          clusterId: 'test-cluster',
          operatorVersion: '0.1.0',
          namespace: `ns-${svc}`,
          name: `svc-${svc}`,
          uid: `uid-${svc}`,
          kind,
          before: { variant: 'full', replicas: 2 },
          after: { variant: kind === 'swap' ? 'small' : 'full', replicas: kind === 'scale' ? 3 : 2 },
          reason: `a ${kind} decision`,
          inputs: {},
        }),
      );
      decisionRows++;
      if (kind === 'swap') swapsBySvc.set(`ns-${svc}/svc-${svc}`, (swapsBySvc.get(`ns-${svc}/svc-${svc}`) ?? 0) + 1);
    }
    await sink.close();
    expect((await verifyAuditDir(dir)).problems).to.deep.equal([]);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const totalSwaps = (): number => [...swapsBySvc.values()].reduce((a, b) => a + b, 0);

  it('DuckDB: swaps per service equal the swap decisions written', () => {
    const rows = duckdb(example('duckdb-swaps'), dir);
    expect(new Map(rows.map((r) => [`${r[0]}/${r[1]}`, r[2]]))).to.deep.equal(swapsBySvc);
    expect(totalSwaps()).to.equal(9);
  });

  it('DuckDB: both streams at once, the partition column `stream` beside the decision column `kind`', () => {
    const rows = duckdb(example('duckdb-both-streams'), dir);
    expect(rows).to.deep.equal([
      ['decision', totalSwaps(), decisionRows],
      ['usage', 0, usageRows],
    ]);
  });

  it('DuckDB: energy and emissions per service, one row per service', () => {
    const rows = duckdb(example('duckdb-usage'), dir);
    expect(rows.map((r) => `${r[0]}/${r[1]}`)).to.deep.equal(['ns-0/svc-0', 'ns-1/svc-1', 'ns-2/svc-2']);
    for (const r of rows) expect(Number(r[2])).to.be.greaterThan(0);
  });

  it('pyarrow: the dataset example counts the swaps', () => {
    const out = python(`${example('pyarrow-swaps').replace(/AUDIT/g, dir)}\nprint(swaps)`);
    expect(Number(out.trim())).to.equal(totalSwaps());
  });

  it('a schema 1.0.0 layout (kind=) hides the decision kind; the sink renames it on open and the count is right', async () => {
    const legacy = await mkdtemp(path.join(os.tmpdir(), 'audit-legacy-'));
    try {
      await cp(dir, legacy, { recursive: true });
      for (const s of ['usage', 'decision'])
        await rename(path.join(legacy, `stream=${s}`), path.join(legacy, `kind=${s}`));
      const old = `select count(*) from read_parquet('AUDIT/kind=decision/*/*.parquet', hive_partitioning = true) where kind = 'swap'`;
      expect(duckdb(old, legacy), 'the 1.0.0 wrong answer').to.deep.equal([[0]]);
      expect((await verifyAuditDir(legacy)).problems, 'verify reads the 1.0.0 layout').to.deep.equal([]);
      const sink = await ParquetAuditSink.open(legacy, { tickMs: 0, logger: winston.createLogger({ silent: true }) });
      await sink.close();
      expect((await readdir(legacy)).filter((n) => n.includes('='))).to.deep.equal(['stream=decision', 'stream=usage']);
      const manifests = await readdir(path.join(legacy, 'manifests'));
      for (const m of manifests)
        expect(readFileSync(path.join(legacy, 'manifests', m), 'utf8')).to.not.include('kind=');
      expect(duckdb(example('duckdb-swaps'), legacy).reduce((a, r) => a + Number(r[2]), 0)).to.equal(totalSwaps());
      expect((await verifyAuditDir(legacy)).problems).to.deep.equal([]);
    } finally {
      await rm(legacy, { recursive: true, force: true });
    }
  });
});
