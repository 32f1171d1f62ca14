// Parquet encoding in a child process (parquet-encoder.ts) and the sink's rotations that use it: the file is the
// one the sink's own thread would write, errors keep their errno code, and while a big rotation encodes, new
// records are journaled and acknowledged; nothing is lost or duplicated when it fails or the sink closes.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import winston from 'winston';
import { nodeAuditFs, type AuditFs } from '../../../operator/audit/audit-fs.ts';
import { BATCH_ROWS, encodeInChild, type EncodeJob } from '../../../operator/audit/parquet-encoder.ts';
import { readAuditFile, writeParquetRows } from '../../../operator/audit/parquet-file.ts';
import { ParquetAuditSink } from '../../../operator/audit/parquet-sink.ts';
import { PendingRows } from '../../../operator/audit/pending-rows.ts';
import { chainRow } from '../../../operator/audit/sink.ts';
import { SCHEMA_VERSION } from '../../../operator/audit/usage.ts';
import { verifyAuditDir } from '../../../operator/audit/verify.ts';
import { listAuditFiles, listTmpFiles } from '../../fixtures/audit/audit-dir.ts';
import { usageRecord } from '../../fixtures/audit/usage-fixtures.ts';

const logger = winston.createLogger({ silent: true });

function pendingOf(n: number): PendingRows {
  const p = new PendingRows('usage');
  let hash = '0'.repeat(64);
  for (let i = 0; i < n; i++) {
    const row = chainRow('usage', usageRecord(i % 7, Math.floor(i / 7)), i + 1, hash);
    hash = row.row_hash;
    p.push(row);
  }
  return p;
}

async function storedUsageIds(dir: string): Promise<string[]> {
  const ids: string[] = [];
  for (const f of await listAuditFiles(dir))
    if (f.kind === 'usage') ids.push(...(await readAuditFile(f.file)).rows.map((r) => String(r.record_id)));
  return ids;
}

/** The real file system, with the probe before a usage file's encoding held until `release()`. */
function gatedFs(): { fs: AuditFs; held: Promise<void>; release: () => void; arm: () => void } {
  let armed = false;
  let release!: () => void;
  let reached!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const held = new Promise<void>((r) => (reached = r));
  const fs: AuditFs = {
    ...nodeAuditFs,
    async probeWritable(dir) {
      if (armed && dir.includes('stream=usage')) {
        armed = false;
        reached();
        await gate;
      }
      return nodeAuditFs.probeWritable(dir);
    },
  };
  return { fs, held, release, arm: () => (armed = true) };
}

describe('Parquet encoding in a child process', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'audit-encoder-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the rows and metadata the sink thread would write, across several batches', async () => {
    const n = BATCH_ROWS * 2 + 345;
    const p = pendingOf(n);
    const inChild = path.join(dir, 'child.parquet');
    const inThread = path.join(dir, 'thread.parquet');
    await encodeInChild(
      { kind: 'usage', version: SCHEMA_VERSION, tmpPath: inChild, rowGroupRows: 1_000 },
      p.texts(0, n),
    );
    await writeParquetRows('usage', SCHEMA_VERSION, p.rows(0, n), inThread, 1_000);
    const a = await readAuditFile(inChild);
    const b = await readAuditFile(inThread);
    expect(a.rows).to.have.length(n);
    expect(a.rows).to.deep.equal(b.rows);
    expect(a.metadata).to.deep.equal(b.metadata);
    expect(a.rows.map((r) => r.stream_seq)).to.deep.equal(Array.from({ length: n }, (_, i) => i + 1));
  });

  it('rejects with the errno code when the file cannot be created', async () => {
    const job: EncodeJob = {
      kind: 'usage',
      version: SCHEMA_VERSION,
      tmpPath: path.join(dir, 'no/such/dir/x.tmp'),
      rowGroupRows: 1_000,
    };
    const err = await encodeInChild(job, pendingOf(3).texts(0, 3)).then(
      () => undefined,
      (e: NodeJS.ErrnoException) => e,
    );
    expect(err?.code).to.equal('ENOENT');
    expect(err?.message).to.include('no/such/dir');
  });

  it('rejects, naming the problem, when a row is not JSON', async () => {
    const job: EncodeJob = {
      kind: 'usage',
      version: SCHEMA_VERSION,
      tmpPath: path.join(dir, 'bad.tmp'),
      rowGroupRows: 9,
    };
    const texts = [...pendingOf(2).texts(0, 2), '{"record_id": '];
    const err = await encodeInChild(job, texts).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).to.match(/JSON/);
  });

  it('leaves no encoder process behind when the operator is killed with kill -9 mid-encoding', async () => {
    const script = path.join(import.meta.dirname, '../../fixtures/audit/endless-encode.ts');
    const parent = spawn(process.execPath, [script, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      parent.stdout.on('data', (d: Buffer) => d.toString().includes('READY') && resolve());
      parent.once('exit', (code) => reject(new Error(`endless-encode exited ${code} before READY`)));
    });
    const children = (await readFile(`/proc/${parent.pid}/task/${parent.pid}/children`, 'utf8')).trim().split(' ');
    expect(children, 'the encoder process').to.have.length(1);
    const encoder = Number(children[0]);
    const gone = new Promise((r) => parent.once('exit', r));
    parent.kill('SIGKILL');
    await gone;
    // The encoder sees its channel close and exits; poll (no timing asserted: the test's timeout bounds it).
    // Gone, or a zombie waiting for whoever adopted it to reap it (it has exited either way).
    const alive = async (pid: number): Promise<boolean> => {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
      return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
    };
    while (await alive(encoder)) await new Promise((r) => setTimeout(r, 50));
    expect(await alive(encoder)).to.equal(false);
  });

  it('journals and acknowledges new records while a rotation encodes, then stores every record once', async () => {
    const gate = gatedFs();
    const sink = await ParquetAuditSink.open(dir, {
      now: () => 0,
      tickMs: 0,
      logger,
      fs: gate.fs,
      maxRowsPerFile: 10,
      encodeInChildAboveRows: 0,
    });
    gate.arm();
    const first = Array.from({ length: 12 }, (_, i) => usageRecord(i % 4, Math.floor(i / 4)));
    await Promise.all(first.map((r) => sink.writeUsage(r))); // the 10th starts a rotation, held at its probe
    await gate.held;
    // Held mid-rotation: later writes still resolve (journaled, fsync'd), and no file is published yet.
    const later = Array.from({ length: 8 }, (_, i) => usageRecord((i + 12) % 4, Math.floor((i + 12) / 4)));
    await Promise.all(later.map((r) => sink.writeUsage(r)));
    expect(await listAuditFiles(dir)).to.deep.equal([]);
    const journal = await readFile(path.join(dir, 'journal', 'journal.jsonl'), 'utf8');
    expect(journal.split('\n').filter((l) => l.startsWith('{"k":"usage"'))).to.have.length(20);
    gate.release();
    await sink.close(); // waits for the rotation, then writes the rest
    const ids = await storedUsageIds(dir);
    expect(ids).to.deep.equal([...first, ...later].map((r) => r.record_id));
    expect(await listTmpFiles(dir)).to.deep.equal([]);
    const v = await verifyAuditDir(dir);
    expect(v.problems).to.deep.equal([]);
    expect(v.journalRows).to.deep.equal({ usage: 0, decision: 0 });
  });

  it('keeps every row when a rotation in the background fails, says so, and stores them at the next one', async () => {
    let failNext = false;
    const fs: AuditFs = {
      ...nodeAuditFs,
      async probeWritable(d) {
        if (failNext && d.includes('stream=usage')) {
          failNext = false;
          const e: NodeJS.ErrnoException = new Error('ENOSPC: simulated by the test');
          e.code = 'ENOSPC';
          throw e;
        }
        return nodeAuditFs.probeWritable(d);
      },
    };
    let degraded!: () => void;
    const wentDegraded = new Promise<void>((r) => (degraded = r));
    const sink = await ParquetAuditSink.open(dir, {
      now: () => 0,
      tickMs: 0,
      logger,
      fs,
      maxRowsPerFile: 5,
      encodeInChildAboveRows: 0,
      onHealthChange: (_h, event) => event === 'degraded' && degraded(),
    });
    failNext = true;
    const records = Array.from({ length: 6 }, (_, i) => usageRecord(i % 3, Math.floor(i / 3)));
    for (const r of records.slice(0, 5)) await sink.writeUsage(r); // the 5th starts the rotation that fails
    await wentDegraded;
    expect(sink.health().ok).to.equal(false);
    expect(sink.health().lastError).to.match(/^ENOSPC/);
    expect(await listAuditFiles(dir)).to.deep.equal([]);
    await sink.writeUsage(records[5]!); // due again: this rotation succeeds
    await sink.close();
    expect(sink.health().ok).to.equal(true);
    expect(await storedUsageIds(dir)).to.deep.equal(records.map((r) => r.record_id));
    expect((await verifyAuditDir(dir)).problems).to.deep.equal([]);
  });
});
