// The audit sink's metrics reach the operator's registry (what /metrics serves), and stay there when the leader
// loses the lease and gains it again in the same process: the runnable opens a new sink each time, and a second
// registration of the same names must neither throw nor push the trail into memory-only mode.
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import winston from 'winston';
import { ParquetAuditSink } from '../../../operator/audit/parquet-sink.ts';
import { wallClock } from '../../../operator/clock.ts';
import { auditRunnable } from '../../../operator/wiring/audit-runnable.ts';
import { usageRecord } from '../../fixtures/audit/usage-fixtures.ts';

const AUDIT_METRICS = [
  'carbonscale_audit_buffered_records',
  'carbonscale_audit_dropped_records_total',
  'carbonscale_audit_healthy',
  'carbonscale_audit_rows_total',
  'carbonscale_audit_write_errors_total',
];

describe('audit runnable: the sink metrics on the operator registry', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'audit-runnable-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('registers every audit metric, and a second leadership term reuses them (rows counted across both)', async () => {
    const registry = new Registry();
    const log = winston.createLogger({ silent: true });
    const a = auditRunnable({
      dir,
      clock: wallClock,
      log,
      clusterId: 'c',
      operatorVersion: 'test',
      dedupRowsOnOpen: 100,
      registry,
      onOpen: () => undefined,
    });
    for (const term of [0, 1]) {
      await a.start();
      const sink = a.sink();
      expect(sink, `term ${term}: the Parquet sink, not the memory fallback`).to.be.instanceOf(ParquetAuditSink);
      await sink!.writeUsage(usageRecord(0, term));
      await a.stop();
    }
    const text = await registry.metrics();
    for (const name of AUDIT_METRICS) expect(text, name).to.match(new RegExp(`^${name}(\\{| )`, 'm'));
    expect(text).to.match(/^carbonscale_audit_rows_total\{kind="usage"\} 2$/m);
    expect(text).to.match(/^carbonscale_audit_healthy 1$/m);
  });

  it('without a registry the sink still opens (tests and tools that serve no /metrics)', async () => {
    const a = auditRunnable({
      dir,
      clock: wallClock,
      log: winston.createLogger({ silent: true }),
      clusterId: 'c',
      operatorVersion: 'test',
      dedupRowsOnOpen: 100,
      onOpen: () => undefined,
    });
    await a.start();
    expect(a.sink()).to.be.instanceOf(ParquetAuditSink);
    await a.stop();
  });
});
