// Record ids recomputed by an auditor: a Python script written from docs/audit.md ("Record ids") alone, reading
// the Parquet files with pyarrow, gets every usage and decision id of a written trail, including decisions whose
// outcome has nulls and non-ASCII variant names, and the sink's own audit_drop row.
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import winston from 'winston';
import { makeDecisionRecord } from '../../../operator/audit/decision.ts';
import { ParquetAuditSink } from '../../../operator/audit/parquet-sink.ts';
import { faultyFs } from '../../fixtures/audit/faulty-fs.ts';
import { python } from '../../fixtures/audit/python.ts';
import { usageRecord, YEAR_START_MS } from '../../fixtures/audit/usage-fixtures.ts';

// The formula of docs/audit.md, in Python, sharing nothing with operator/audit/.
const RECOMPUTE = `
import glob, hashlib, json, os, sys
import pyarrow.parquet as pq
def stable_id(*parts): return hashlib.sha256("\\x00".join(parts).encode("utf-8")).hexdigest()[:32]
def ms(v): return str(int(v.timestamp() * 1000)) if hasattr(v, "timestamp") else str(v)
out = {"usage": [0, 0, []], "decision": [0, 0, []]}
for stream in ("usage", "decision"):
    for f in sorted(glob.glob(os.path.join(sys.argv[1], "stream=" + stream, "dt=*", "*.parquet"))):
        t = pq.read_table(f).to_pylist()
        for r in t:
            if stream == "usage":
                want = "u-" + stable_id(r["cluster_id"], r["uid"], ms(r["interval_start"]), ms(r["interval_end"]))
            else:
                outcome = json.dumps([r["after_variant"], r["after_replicas"], r["after_mode"]], separators=(",", ":"), ensure_ascii=False)
                want = "d-" + stable_id(r["cluster_id"], r["uid"], ms(r["time"]), r["kind"], outcome)
            out[stream][0] += 1
            if want == r["record_id"]: out[stream][1] += 1
            else: out[stream][2].append([r["record_id"], want])
print(json.dumps(out))
`;

describe('record ids recomputed in Python from the documented formula', function () {
  this.timeout(60_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'audit-ids-'));
    const fs = faultyFs();
    let now = YEAR_START_MS;
    const sink = await ParquetAuditSink.open(dir, {
      now: () => now,
      fs,
      tickMs: 0,
      maxBuffered: 1,
      clusterId: 'test-cluster',
      logger: winston.createLogger({ silent: true }),
    });
    for (let i = 0; i < 12; i++) {
      now = YEAR_START_MS + (i + 1) * 600_000;
      for (let s = 0; s < 2; s++) await sink.writeUsage(usageRecord(s, i, 600_000));
    }
    const outcomes = [
      { variant: 'digits-small', replicas: 2 },
      { replicas: 3 },
      { mode: 'observe' },
      { variant: 'modèle-réduit-ß', replicas: 1, mode: 'active' },
      { variant: 'quote"back\\slash', replicas: 0 },
    ];
    for (const [i, after] of outcomes.entries())
      await sink.writeDecision(
        makeDecisionRecord({
          timeMs: YEAR_START_MS + i * 60_000,
          clusterId: 'test-cluster',
          operatorVersion: '0.1.0',
          namespace: 'ns',
          name: 'svc',
          uid: 'uid-1',
          kind: i === 2 ? 'mode' : i === 1 ? 'scale' : 'swap',
          before: {},
          after,
          reason: 'test',
          inputs: {},
        }),
      );
    // Two records dropped on a read-only disk: the sink writes its own audit_drop row once the disk is back.
    fs.failWith = 'EROFS';
    for (let i = 12; i < 14; i++) await sink.writeUsage(usageRecord(0, i, 600_000));
    fs.failWith = null;
    await sink.writeUsage(usageRecord(0, 14, 600_000));
    await sink.close();
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('gives every usage and decision id, the audit_drop row included', () => {
    const out = JSON.parse(python(RECOMPUTE, [dir])) as Record<string, [number, number, string[][]]>;
    expect(out.usage?.[2]).to.deep.equal([]);
    expect(out.decision?.[2]).to.deep.equal([]);
    expect(out.usage?.[0]).to.equal(26); // 24 + one of the two buffered (bound 1) + the last
    expect(out.decision?.[0]).to.equal(6); // 5 decisions + the audit_drop row
  });
});
