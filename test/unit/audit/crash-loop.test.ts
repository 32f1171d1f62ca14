// kill -9 at random points while a child process writes and rotates: after every restart no acknowledged record
// is lost, none is duplicated, every final-named file opens, and the chain verifies.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import winston from 'winston';
import { ParquetAuditSink } from '../../../operator/audit/parquet-sink.ts';
import { readAuditFile } from '../../../operator/audit/parquet-file.ts';
import { verifyAuditDir } from '../../../operator/audit/verify.ts';
import { listAuditFiles } from '../../fixtures/audit/audit-dir.ts';
import { readers } from '../../fixtures/audit/python.ts';
import { usageRecord } from '../../fixtures/audit/usage-fixtures.ts';

const WRITER = path.join(import.meta.dirname, '../../fixtures/audit/crash-writer.ts');
const KILLS = 24;
const INTERVAL_MS = 5 * 60_000;
const idOf = (idx: number): string => usageRecord(idx % 4, Math.floor(idx / 4), INTERVAL_MS).record_id;

/** Deterministic PRNG (mulberry32), so a failing kill schedule can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs the writer; kills it with SIGKILL `killAfterMs` after it is ready (or lets it finish). Returns the last acked index. */
function runWriter(
  dir: string,
  start: number,
  end: number,
  mode: 'run' | 'close',
  killAfterMs?: number,
): Promise<{ lastAcked: number; killed: boolean; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, dir, String(start), String(end), mode], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (killAfterMs !== undefined && !timer && out.includes('READY\n')) {
        timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (signal !== 'SIGKILL' && code !== 0) return reject(new Error(`writer exited ${code}: ${err}`));
      const acks = [...out.matchAll(/^A (\d+)$/gm)].map((m) => Number(m[1]));
      resolve({
        lastAcked: acks.length ? (acks[acks.length - 1] as number) : start - 1,
        killed: signal === 'SIGKILL',
        out,
      });
    });
  });
}

/** Every stored usage record id, in stream order. Every final-named file must open; final files are immutable, so each is read once. */
const idsByFile = new Map<string, string[]>();
async function storedUsageIds(dir: string): Promise<string[]> {
  const ids: string[] = [];
  for (const f of await listAuditFiles(dir)) {
    let fileIds = idsByFile.get(f.file);
    if (!fileIds) {
      const { rows } = await readAuditFile(f.file); // throws if a final-named file is incomplete
      fileIds = rows.map((r) => String(r.record_id));
      idsByFile.set(f.file, fileIds);
    }
    if (f.kind === 'usage') ids.push(...fileIds);
  }
  return ids;
}

describe('audit sink survives kill -9 during writing and rotation', function () {
  this.timeout(120_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'audit-crash-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it(`loses and duplicates nothing over ${KILLS} random kill points`, async () => {
    const random = rng(20261123);
    const logger = winston.createLogger({ silent: true });
    let acked = 0; // records 0..acked-1 were acknowledged to the writer
    let killedMidParquet = 0;
    let killedWithPendingJournal = 0;
    for (let k = 0; k < KILLS; k++) {
      const run = await runWriter(dir, acked, acked + 100_000, 'run', Math.floor(random() * 250));
      expect(run.killed, `run ${k} was killed`).to.equal(true);
      acked = Math.max(acked, run.lastAcked + 1);
      // What the kill left behind (for the summary): a half-written Parquet temp file, or rows only in the journal.
      for (const f of await listTmp(dir)) if (f.endsWith('.parquet.tmp')) killedMidParquet++;
      const journal = await readFile(path.join(dir, 'journal', 'journal.jsonl'), 'utf8').catch(() => '');
      if (journal.split('\n').filter((l) => l.startsWith('{"k"')).length > 0) killedWithPendingJournal++;

      // Restart: open (replays the journal), then close (rotates everything into Parquet).
      const sink = await ParquetAuditSink.open(dir, { now: () => 0, tickMs: 0, logger, dedupRowsOnOpen: 1 });
      await sink.close();
      const ids = await storedUsageIds(dir);
      expect(new Set(ids).size, `restart ${k}: duplicated records`).to.equal(ids.length);
      expect(ids.length, `restart ${k}: lost acknowledged records`).to.be.at.least(acked);
      // Stored records are exactly 0..n-1 in order: acknowledged ones plus any journaled but not yet acknowledged.
      expect(ids, `restart ${k}: records in order`).to.deep.equal(ids.map((_, i) => idOf(i)));
      const v = await verifyAuditDir(dir);
      expect(v.problems, `restart ${k}: verify`).to.deep.equal([]);
    }
    // Last run: the writer re-sends from its last acknowledgement (idempotent) to a fixed end and closes.
    const total = acked + 37;
    const last = await runWriter(dir, acked, total, 'close');
    expect(last.out).to.include('CLOSED');
    const ids = await storedUsageIds(dir);
    expect(ids).to.deep.equal(Array.from({ length: total }, (_, i) => idOf(i)));
    const chain = readers<Record<'usage' | 'decision', { rows: number; bad: number[] }>>('chain', dir);
    expect(chain.usage).to.deep.include({ rows: total, bad: [] });
    expect(chain.decision.bad).to.deep.equal([]);
    console.log(
      `      ${KILLS} kills: ${acked} records acknowledged; ${killedMidParquet} kills left a half-written Parquet temp file, ${killedWithPendingJournal} left journaled rows to replay`,
    );
  });
});

async function listTmp(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const kind of ['kind=usage', 'kind=decision']) {
    let days: string[] = [];
    try {
      days = await readdir(path.join(dir, kind));
    } catch {
      continue;
    }
    for (const d of days) for (const n of await readdir(path.join(dir, kind, d))) if (n.endsWith('.tmp')) out.push(n);
  }
  return out;
}
