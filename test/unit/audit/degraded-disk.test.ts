// Disk full or read-only: the sink keeps accepting records into a bounded buffer, says so (health, callback,
// metrics, logs), writes them when it can, and names every record it had to drop.
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import winston from 'winston';
import { ParquetAuditSink } from '../../../operator/audit/parquet-sink.ts';
import { readAuditFile } from '../../../operator/audit/parquet-file.ts';
import type { Row } from '../../../operator/audit/schema.ts';
import type { AuditHealth } from '../../../operator/audit/sink.ts';
import { verifyAuditDir } from '../../../operator/audit/verify.ts';
import { listAuditFiles } from '../../fixtures/audit/audit-dir.ts';
import { faultyFs } from '../../fixtures/audit/faulty-fs.ts';
import { usageRecord } from '../../fixtures/audit/usage-fixtures.ts';

function capturingLogger(): { logger: winston.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      cb();
    },
  });
  return {
    logger: winston.createLogger({
      format: winston.format.json(),
      transports: [new winston.transports.Stream({ stream })],
    }),
    lines,
  };
}

async function readAll(dir: string): Promise<{ usage: Row[]; decision: Row[] }> {
  const out: { usage: Row[]; decision: Row[] } = { usage: [], decision: [] };
  for (const f of await listAuditFiles(dir)) out[f.kind].push(...(await readAuditFile(f.file)).rows);
  return out;
}

async function metric(reg: Registry, name: string): Promise<number> {
  const m = (await reg.getMetricsAsJSON()).find((x) => x.name === name);
  return Number(m?.values[0]?.value ?? NaN);
}

describe('audit sink on a disk that refuses writes', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'audit-degraded-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('buffers on a full disk, raises the condition, and writes everything in order once space returns', async () => {
    const fs = faultyFs();
    const events: [string, AuditHealth][] = [];
    const registry = new Registry();
    const { logger } = capturingLogger();
    const sink = await ParquetAuditSink.open(dir, {
      fs,
      tickMs: 0,
      registry,
      logger,
      now: () => 0,
      onHealthChange: (h, e) => events.push([e, h]),
    });
    for (let i = 0; i < 5; i++) await sink.writeUsage(usageRecord(0, i));
    fs.failWith = 'ENOSPC';
    for (let i = 5; i < 15; i++) await sink.writeUsage(usageRecord(0, i)); // resolves: the operator keeps running
    const h = sink.health();
    expect(h).to.deep.include({ ok: false, buffered: 10, dropped: 0 });
    expect(h.lastError).to.match(/ENOSPC/);
    expect(events.map((e) => e[0])).to.deep.equal(['degraded']);
    expect(await metric(registry, 'carbonscale_audit_buffered_records')).to.equal(10);
    expect(await metric(registry, 'carbonscale_audit_healthy')).to.equal(0);
    expect(await metric(registry, 'carbonscale_audit_write_errors_total')).to.be.at.least(10);

    fs.failWith = null;
    await sink.tick();
    expect(sink.health()).to.deep.include({ ok: true, buffered: 0, dropped: 0 });
    expect(events.map((e) => e[0])).to.deep.equal(['degraded', 'recovered']);
    await sink.close();
    const rows = await readAll(dir);
    expect(rows.usage.map((r) => r.record_id)).to.deep.equal(
      Array.from({ length: 15 }, (_, i) => usageRecord(0, i).record_id),
    );
    expect((await verifyAuditDir(dir)).problems).to.deep.equal([]);
    // The torn half-line the full disk left in the journal was cut off: reopening replays cleanly.
    const again = await ParquetAuditSink.open(dir, { tickMs: 0, logger, now: () => 0 });
    await again.close();
  });

  it('on a read-only disk, drops beyond the bound naming each record, and records the drop in the trail', async () => {
    const fs = faultyFs();
    const { logger, lines } = capturingLogger();
    const registry = new Registry();
    const events: string[] = [];
    const sink = await ParquetAuditSink.open(dir, {
      fs,
      tickMs: 0,
      logger,
      registry,
      maxBuffered: 4,
      now: () => 0,
      onHealthChange: (_h, e) => events.push(e),
    });
    await sink.writeUsage(usageRecord(1, 0));
    fs.failWith = 'EROFS';
    for (let i = 1; i <= 7; i++) await sink.writeUsage(usageRecord(1, i));
    const dropped = [5, 6, 7].map((i) => usageRecord(1, i).record_id);
    expect(sink.health()).to.deep.include({ ok: false, buffered: 4, dropped: 3 });
    expect(events).to.include('dropped');
    expect(await metric(registry, 'carbonscale_audit_dropped_records_total')).to.equal(3);
    const dropLogs = lines.filter((l) => String(l.message).startsWith('audit record dropped'));
    expect(dropLogs.map((l) => l.record_id)).to.deep.equal(dropped);
    expect(dropLogs[0]).to.include({ namespace: 'ns-1', name: 'svc-1', level: 'error' });

    fs.failWith = null;
    await sink.writeUsage(usageRecord(1, 7)); // a dropped record sent again is accepted, not taken for a duplicate
    await sink.close();
    const rows = await readAll(dir);
    expect(rows.usage.map((r) => r.record_id)).to.deep.equal(
      [0, 1, 2, 3, 4, 7].map((i) => usageRecord(1, i).record_id),
    );
    const drop = rows.decision.find((r) => r.kind === 'audit_drop');
    expect(drop, 'an audit_drop decision row').to.not.equal(undefined);
    expect(JSON.parse(String(drop?.inputs_json)).dropped_record_ids).to.deep.equal(dropped);
    // The chain is whole, but the service's time is not: verify reports the dropped intervals 5 and 6 as one gap
    // (7 was sent again), and says the sink recorded the drop.
    const problems = (await verifyAuditDir(dir)).problems;
    expect(problems.map((p) => [p.kind, p.service, p.seq])).to.deep.equal([
      ['time_gap', 'ns-1/svc-1 (uid 00000000-0000-4000-8000-000000000001)', 6],
    ]);
    expect(problems[0]?.message).to.include('no row for 2023-01-01T00:05:00.000Z..2023-01-01T00:07:00.000Z (2.0 min)');
    expect(problems[0]?.message).to.match(
      /the sink recorded dropping 2 row\(s\) of this gap .*audit_drop, decision seq 1\)/,
    );
    expect(sink.health()).to.deep.include({ ok: true, dropped: 3 }); // recovered, and the drops are never forgotten
  });

  it('closing while the disk still refuses writes names and counts every record it could not keep', async () => {
    const fs = faultyFs();
    const { logger, lines } = capturingLogger();
    const registry = new Registry();
    const events: string[] = [];
    const sink = await ParquetAuditSink.open(dir, {
      fs,
      tickMs: 0,
      logger,
      registry,
      now: () => 0,
      onHealthChange: (_h, e) => events.push(e),
    });
    await sink.writeUsage(usageRecord(2, 0));
    fs.failWith = 'ENOSPC';
    for (let i = 1; i <= 3; i++) await sink.writeUsage(usageRecord(2, i));
    await sink.close();
    const lost = lines.filter((l) => String(l.message).startsWith('audit record lost at close'));
    expect(lost.map((l) => l.record_id)).to.deep.equal([1, 2, 3].map((i) => usageRecord(2, i).record_id));
    expect(sink.health()).to.deep.include({ buffered: 0, dropped: 3 });
    expect(await metric(registry, 'carbonscale_audit_dropped_records_total')).to.equal(3);
    expect(events).to.deep.equal(['degraded', 'dropped']);
    // What was durable before the disk filled is still there for the next start.
    fs.failWith = null;
    const again = await ParquetAuditSink.open(dir, { tickMs: 0, logger, now: () => 0 });
    await again.close();
    expect((await readAll(dir)).usage.map((r) => r.record_id)).to.deep.equal([usageRecord(2, 0).record_id]);
  });
});
