// kill -9 at random points while a child process writes and rotates, and at injected points of recovery itself
// (the journal replay and its compaction at open, a rotation's Parquet rename and manifest update, the journal
// compaction after a rotation), also several times in a row: after every restart no acknowledged record is lost,
// none is duplicated, every final-named file opens, and the chain verifies.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import winston from 'winston';
import { ParquetAuditSink } from '../../../operator/audit/parquet-sink.ts';
import { readAuditFile } from '../../../operator/audit/parquet-file.ts';
import { verifyAuditDir } from '../../../operator/audit/verify.ts';
import { listAuditFiles, listTmpFiles } from '../../fixtures/audit/audit-dir.ts';
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
  mode: 'run' | 'close' | 'open',
  killAfterMs?: number,
  env: Record<string, string> = {},
): Promise<{ lastAcked: number; killed: boolean; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, dir, String(start), String(end), mode], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
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
      for (const f of await listTmpFiles(dir)) if (f.endsWith('.parquet.tmp')) killedMidParquet++;
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

/** One start of the writer: write records [acked, acked + count), or only open; optionally killed at `crashAt`. */
interface Step {
  mode: 'run' | 'open';
  count?: number;
  /** CRASH_AT of the writer (test/fixtures/audit/crash-writer.ts); the step must end by that kill. */
  crashAt?: string;
  /** maxRowsPerFile: large to keep rows in the journal only, small to rotate often. */
  maxRows?: number;
  /** encodeInChildAboveRows: 0 makes every rotation encode in a child process, outside the sink's lock. */
  childAbove?: number;
}

const NO_ROTATION = 1_000_000;

const SCENARIOS: { title: string; steps: Step[] }[] = [
  {
    // The loss of issue 16: recovery compacted the journal past rows that were in no final file, so the next
    // recovery skipped them as "already in Parquet".
    title: 'stop without close, then kill -9 right after two recoveries compacted the journal',
    steps: [
      { mode: 'run', count: 40, maxRows: NO_ROTATION },
      { mode: 'open', crashAt: 'after:rename:journal.jsonl.tmp:1' },
      { mode: 'run', count: 20, maxRows: NO_ROTATION },
      { mode: 'open', crashAt: 'after:fsyncDir:journal:1' },
      { mode: 'open' },
    ],
  },
  {
    title: 'kill -9 during the replay, before the compacted journal replaces the old one (three times in a row)',
    steps: [
      { mode: 'run', count: 30, maxRows: NO_ROTATION },
      { mode: 'open', crashAt: 'before:writeFileDurable:journal.jsonl.tmp:1' },
      { mode: 'open', crashAt: 'before:rename:journal.jsonl.tmp:1' },
      { mode: 'open', crashAt: 'after:rename:journal.jsonl.tmp:1' },
      { mode: 'run', count: 10, maxRows: NO_ROTATION },
    ],
  },
  {
    title:
      'kill -9 during the first rotation after a recovery: before and after the Parquet rename, before the manifest',
    steps: [
      { mode: 'run', count: 24, maxRows: NO_ROTATION },
      { mode: 'run', count: 100, maxRows: 13, crashAt: 'before:rename:.parquet.tmp:1' },
      { mode: 'run', count: 100, maxRows: 13, crashAt: 'after:rename:.parquet.tmp:1' },
      { mode: 'run', count: 100, maxRows: 13, crashAt: 'before:rename:.json.tmp:1' },
      { mode: 'run', count: 8, maxRows: 13 },
    ],
  },
  {
    title: 'kill -9 during the journal compaction after a rotation: before the temp write, before and after its rename',
    steps: [
      { mode: 'run', count: 100, maxRows: 13, crashAt: 'before:writeFileDurable:journal.jsonl.tmp:2' },
      { mode: 'run', count: 100, maxRows: 13, crashAt: 'before:rename:journal.jsonl.tmp:2' },
      { mode: 'run', count: 100, maxRows: 13, crashAt: 'after:rename:journal.jsonl.tmp:3' },
      { mode: 'open', crashAt: 'after:rename:journal.jsonl.tmp:1' },
      { mode: 'run', count: 12, maxRows: 13 },
    ],
  },
  {
    // Rotations that encode in a child process while new records are journaled (what 2,000 services do): the
    // commit of a rotation then follows appends it did not plan for.
    title:
      'kill -9 while rotations encode in a child process: as encoding starts, before and after the rename, in the compaction',
    steps: [
      // Each point is in the first rotation of its run (the 13th row starts it; later ones depend on timing).
      // Journal compaction 1 is the recovery's at open, 2 the first rotation's.
      { mode: 'run', count: 100, maxRows: 13, childAbove: 0, crashAt: 'after:probeWritable:stream=usage:1' },
      { mode: 'run', count: 100, maxRows: 13, childAbove: 0, crashAt: 'before:rename:.parquet.tmp:1' },
      { mode: 'run', count: 100, maxRows: 13, childAbove: 0, crashAt: 'after:rename:.parquet.tmp:1' },
      { mode: 'run', count: 100, maxRows: 13, childAbove: 0, crashAt: 'before:rename:journal.jsonl.tmp:2' },
      { mode: 'run', count: 40, maxRows: 13, childAbove: 0 },
    ],
  },
];

describe('audit recovery survives kill -9 at every step of recovery itself', function () {
  this.timeout(180_000);
  const logger = winston.createLogger({ silent: true });

  for (const sc of SCENARIOS) {
    it(sc.title, async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'audit-recovery-'));
      try {
        let acked = 0;
        for (const [i, step] of sc.steps.entries()) {
          const env: Record<string, string> = { WRITER_MAX_ROWS: String(step.maxRows ?? 13) };
          if (step.crashAt) env.CRASH_AT = step.crashAt;
          if (step.childAbove !== undefined) env.WRITER_CHILD_ABOVE_ROWS = String(step.childAbove);
          const end = acked + (step.count ?? 0);
          const run = await runWriter(dir, acked, end, step.mode, undefined, env);
          expect(run.killed, `step ${i} (${step.crashAt ?? 'no crash'}) ended by the injected kill`).to.equal(
            step.crashAt !== undefined,
          );
          acked = Math.max(acked, run.lastAcked + 1);
        }
        // What the steps left, as an auditor finds it before the operator starts again: every acknowledged row is
        // in a final file or the journal, and verify counts the journal's rows as pending.
        const before = await verifyAuditDir(dir);
        expect(before.problems, 'verify before the last restart').to.deep.equal([]);
        expect(before.rows.usage + before.journalRows.usage, 'acknowledged rows in files + journal').to.be.at.least(
          acked,
        );

        const sink = await ParquetAuditSink.open(dir, { now: () => 0, tickMs: 0, logger, dedupRowsOnOpen: 1 });
        await sink.close();
        const ids = await listUsageIds(dir);
        expect(new Set(ids).size, 'no duplicated record').to.equal(ids.length);
        expect(ids.length, 'no acknowledged record lost').to.be.at.least(acked);
        expect(ids, 'records 0..n-1 in order').to.deep.equal(ids.map((_, k) => idOf(k)));
        const v = await verifyAuditDir(dir);
        expect(v.problems).to.deep.equal([]);
        expect(v.journalRows).to.deep.equal({ usage: 0, decision: 0 });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});

async function listUsageIds(dir: string): Promise<string[]> {
  const ids: string[] = [];
  for (const f of await listAuditFiles(dir))
    if (f.kind === 'usage') ids.push(...(await readAuditFile(f.file)).rows.map((r) => String(r.record_id)));
  return ids;
}
