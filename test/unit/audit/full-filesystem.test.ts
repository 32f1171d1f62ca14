// Disk full for real (issue 15, fault 9): the audit directory on a tiny tmpfs. The sink buffers what the full
// disk refuses, says so, writes it all once there is room again, and when the buffer bound is hit the drop is
// itself counted and recorded in the trail. Needs root to mount (CI runs it where it can; the same paths are
// covered without root through the AuditFs adapter in degraded-disk.test.ts).
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import winston from 'winston';
import { ParquetAuditSink } from '../../../operator/audit/parquet-sink.ts';
import { readAuditFile } from '../../../operator/audit/parquet-file.ts';
import type { AuditHealth } from '../../../operator/audit/sink.ts';
import { verifyAuditDir } from '../../../operator/audit/verify.ts';
import { listAuditFiles } from '../../fixtures/audit/audit-dir.ts';
import { usageRecord } from '../../fixtures/audit/usage-fixtures.ts';

function tryMount(dir: string, size: string): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('audit sink on a real full filesystem (tmpfs)', function () {
  this.timeout(120_000);
  let mnt: string;
  let mounted = false;
  beforeEach(function () {
    mnt = mkdtempSync(path.join(os.tmpdir(), 'audit-tmpfs-'));
    mounted = tryMount(mnt, '192k');
    if (!mounted) this.skip(); // not root, or no mount in this container
  });
  afterEach(() => {
    if (mounted) execFileSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });

  async function usageIds(dir: string): Promise<string[]> {
    const ids: string[] = [];
    for (const f of await listAuditFiles(dir))
      if (f.kind === 'usage') ids.push(...(await readAuditFile(f.file)).rows.map((r) => String(r.record_id)));
    return ids;
  }

  it('buffers on ENOSPC, then writes every record once the disk has room again; nothing is lost', async () => {
    const events: string[] = [];
    let last: AuditHealth | undefined;
    const sink = await ParquetAuditSink.open(mnt, {
      now: () => 0,
      tickMs: 0,
      maxRowsPerFile: 1_000_000, // keep everything in the journal, so the journal fills the disk
      maxBuffered: 10_000,
      logger: winston.createLogger({ silent: true }),
      onHealthChange: (h, e) => {
        events.push(e);
        last = h;
      },
    });
    let n = 0;
    while (sink.health().ok && n < 2000) await sink.writeUsage(usageRecord(n % 3, Math.floor(n++ / 3)));
    expect(sink.health().ok, 'the disk filled up').to.equal(false);
    expect(sink.health().lastError).to.match(/ENOSPC/);
    for (let i = 0; i < 20; i++) await sink.writeUsage(usageRecord(n % 3, Math.floor(n++ / 3))); // still accepted
    expect(sink.health()).to.deep.include({ ok: false, dropped: 0 });
    expect(sink.health().buffered).to.be.at.least(20);
    expect(events).to.deep.equal(['degraded']);

    execFileSync('mount', ['-o', 'remount,size=16m', mnt]);
    await sink.tick();
    expect(sink.health()).to.deep.include({ ok: true, buffered: 0, dropped: 0 });
    expect(events).to.deep.equal(['degraded', 'recovered']);
    expect(last?.ok).to.equal(true);
    await sink.close();
    const ids = await usageIds(mnt);
    expect(ids).to.deep.equal(Array.from({ length: n }, (_, i) => usageRecord(i % 3, Math.floor(i / 3)).record_id));
    expect((await verifyAuditDir(mnt)).problems).to.deep.equal([]);
  });

  it('beyond the buffer bound, drops are counted, logged and recorded as an audit_drop row once there is room', async () => {
    const sink = await ParquetAuditSink.open(mnt, {
      now: () => 0,
      tickMs: 0,
      maxRowsPerFile: 1_000_000,
      maxBuffered: 5,
      logger: winston.createLogger({ silent: true }),
    });
    let n = 0;
    while (sink.health().ok && n < 2000) await sink.writeUsage(usageRecord(0, n++));
    for (let i = 0; i < 12; i++) await sink.writeUsage(usageRecord(0, n++));
    const h = sink.health();
    expect(h.ok).to.equal(false);
    expect(h.buffered).to.equal(5);
    expect(h.dropped).to.be.greaterThan(0);
    const dropped = h.dropped;
    execFileSync('mount', ['-o', 'remount,size=16m', mnt]);
    await sink.tick();
    await sink.writeUsage(usageRecord(0, n++)); // the service goes on after the drops
    await sink.close();
    const ids = new Set(await usageIds(mnt));
    expect(ids.size).to.equal(n - dropped);
    const v = await verifyAuditDir(mnt);
    // The trail says what it lost: one time gap for the dropped intervals, tied to the sink's audit_drop row.
    expect(v.problems.map((p) => p.kind)).to.deep.equal(['time_gap']);
    expect(v.problems[0]?.message).to.match(new RegExp(`the sink recorded dropping ${dropped} row\\(s\\) of this gap`));
  });

  it('opens a directory on a disk that is still full, keeping the journal it cannot compact, and loses no durable row', async () => {
    const logger = winston.createLogger({ silent: true });
    const first = await ParquetAuditSink.open(mnt, { now: () => 0, tickMs: 0, maxRowsPerFile: 1_000_000, logger });
    let durable = 0;
    while (first.health().ok && durable < 2000) await first.writeUsage(usageRecord(1, durable++));
    durable--; // the write that found the disk full is only buffered: a crash now loses it (health said so)
    // The process dies here (no close). The next start finds a full disk and a journal with every durable row.
    const second = await ParquetAuditSink.open(mnt, { now: () => 0, tickMs: 0, logger });
    expect(second.health().ok, 'opened, degraded').to.equal(false);
    await second.writeUsage(usageRecord(1, durable)); // the lost one, re-accounted: buffered
    execFileSync('mount', ['-o', 'remount,size=16m', mnt]);
    await second.writeUsage(usageRecord(1, durable + 1));
    expect(second.health()).to.deep.include({ ok: true, buffered: 0 });
    await second.close();
    expect(await usageIds(mnt)).to.deep.equal(
      Array.from({ length: durable + 2 }, (_, i) => usageRecord(1, i).record_id),
    );
    expect((await verifyAuditDir(mnt)).problems).to.deep.equal([]);
  });
});
