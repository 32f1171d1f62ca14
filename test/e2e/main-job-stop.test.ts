// The main job as its users stop it: `carbonscale operator --embedded --audit-dir DIR` run as a subprocess in
// its own process group (as a terminal runs it), stopped by Ctrl-C (SIGINT to the group), by SIGTERM, by a
// double Ctrl-C and three times by kill -9, restarted on the same audit directory each time. Every row that was
// in the journal (acknowledged) before a stop is in the trail afterwards, a graceful stop leaves nothing pending
// (Parquet written before the control plane went), `audit verify` is clean (no seq gap, no time gap, no
// duplicate) and no control-plane process outlives the job. Driven only by CLI flags and the audit directory,
// so extra output of the main job does not matter.
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { nodeAuditFs } from '../../operator/audit/audit-fs.ts';
import { parseJournal } from '../../operator/audit/journal.ts';
import { journalPath } from '../../operator/audit/layout.ts';
import { readAuditFile } from '../../operator/audit/parquet-file.ts';
import { scanPartFiles } from '../../operator/audit/part-files.ts';
import { STREAMS, type StreamKind } from '../../operator/audit/schema.ts';
import { verifyAuditDir } from '../../operator/audit/verify.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(ROOT, 'operator/cli.ts');

interface Trail {
  files: Record<StreamKind, Set<string>>;
  journal: Record<StreamKind, Set<string>>;
}

/** Record ids in final files and in the journal, per stream (the journal read as recovery reads it). */
async function readTrail(dir: string): Promise<Trail> {
  const t: Trail = {
    files: { usage: new Set(), decision: new Set() },
    journal: { usage: new Set(), decision: new Set() },
  };
  const { parts } = await scanPartFiles(nodeAuditFs, dir);
  for (const kind of STREAMS)
    for (const p of parts[kind])
      for (const r of (await readAuditFile(p.abs)).rows) t.files[kind].add(String(r.record_id));
  let text = '';
  try {
    text = readFileSync(journalPath(dir), 'utf8');
  } catch {
    return t;
  }
  for (const { kind, row } of parseJournal(text, 'journal').rows) t.journal[kind].add(row.record_id);
  return t;
}

const all = (t: Trail, kind: StreamKind): Set<string> => new Set([...t.files[kind], ...t.journal[kind]]);

/** Pids of live processes started by this test's runs (they inherit the marker in their environment). */
function markedPids(marker: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/environ`, 'utf8').includes(marker)) out.push(Number(d));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return out;
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number, log: () => string) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n--- main job output (tail) ---\n${log()}`);
}

describe('e2e: the main job stopped by Ctrl-C, SIGTERM, a double Ctrl-C and kill -9 loses no audit row', function () {
  this.timeout(600_000);
  let work = '';
  let auditDir = '';
  const marker = `CARBONSCALE_STOP_TEST=${process.pid}-${Date.now()}`;
  let job: ChildProcess | undefined;
  let output = '';

  before(() => {
    work = mkdtempSync(path.join(tmpdir(), 'cs-main-stop-'));
    auditDir = path.join(work, 'audit');
  });
  after(() => {
    if (job?.pid && job.exitCode === null && job.signalCode === null) process.kill(-job.pid, 'SIGKILL');
    rmSync(work, { recursive: true, force: true });
  });

  /** Starts the main job in its own process group and waits until it has journaled `rows` more usage rows. */
  async function start(rows: number): Promise<{ exit: Promise<{ code: number | null; signal: string | null }> }> {
    const before = all(await readTrail(auditDir), 'usage').size;
    output = '';
    const [k, v] = marker.split('=') as [string, string];
    job = spawn(
      process.execPath,
      [
        CLI,
        'operator',
        '--embedded',
        '--audit-dir',
        auditDir,
        '--health-addr',
        '127.0.0.1:0',
        '--accounting-interval-seconds',
        '1',
      ],
      // TMPDIR: the control plane's temp dir, left behind by kill -9, goes under the test's dir.
      { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, [k]: v, TMPDIR: work } },
    );
    const child = job;
    const keep = (d: Buffer) => (output = (output + d.toString()).slice(-20_000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    await until(
      `${rows} new usage rows in the audit trail`,
      async () => {
        if (child.exitCode !== null)
          throw new Error(`main job exited early (${child.exitCode}):\n${output.slice(-4000)}`);
        return all(await readTrail(auditDir), 'usage').size >= before + rows;
      },
      150_000,
      () => output.slice(-4000),
    );
    return { exit };
  }

  /** Signals the job's process group, as a terminal does, and checks what the stop left. */
  async function stop(
    run: { exit: Promise<{ code: number | null; signal: string | null }> },
    how: 'SIGINT' | 'SIGTERM' | 'double SIGINT' | 'SIGKILL',
  ): Promise<Trail> {
    const acknowledged = await readTrail(auditDir);
    const pgid = job!.pid!;
    if (how === 'double SIGINT') {
      process.kill(-pgid, 'SIGINT');
      await new Promise((r) => setTimeout(r, 150));
      process.kill(-pgid, 'SIGINT');
    } else process.kill(-pgid, how);
    const ended = await Promise.race([run.exit, new Promise<null>((r) => setTimeout(() => r(null), 90_000))]);
    expect(ended, `main job ended after ${how}\n${output.slice(-3000)}`).to.not.equal(null);
    if (how === 'SIGKILL') expect(ended?.signal).to.equal('SIGKILL');
    else expect(ended?.code, `exit code after ${how}\n${output.slice(-3000)}`).to.equal(how === 'SIGTERM' ? 143 : 130);
    // The watchdogs end the control plane even after a kill -9 of the job.
    await until(
      'no process of the run left',
      () => markedPids(marker).length === 0,
      15_000,
      () =>
        markedPids(marker)
          .map((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' '))
          .join('\n'),
    );
    const after = await readTrail(auditDir);
    for (const kind of STREAMS) {
      const kept = all(after, kind);
      const lost = [...all(acknowledged, kind)].filter((id) => !kept.has(id));
      expect(lost, `${kind} rows acknowledged before ${how} and lost`).to.deep.equal([]);
    }
    if (how === 'SIGINT' || how === 'SIGTERM') {
      // A graceful stop closes the sink before the control plane goes: everything is in Parquet.
      expect(after.journal.usage.size + after.journal.decision.size, `rows left pending after ${how}`).to.equal(0);
    }
    const v = await verifyAuditDir(auditDir);
    expect(v.problems, `audit verify after ${how}`).to.deep.equal([]);
    return after;
  }

  it('keeps every acknowledged row over restarts on one audit directory, and the trail verifies', async () => {
    const stops: ('SIGINT' | 'SIGTERM' | 'double SIGINT' | 'SIGKILL')[] = [
      'SIGINT',
      'SIGKILL',
      'SIGKILL',
      'SIGKILL',
      'SIGTERM',
      'double SIGINT',
    ];
    let trail: Trail | undefined;
    for (const how of stops) trail = await stop(await start(4), how);
    // One last clean start and Ctrl-C writes whatever the double Ctrl-C left in the journal.
    trail = await stop(await start(2), 'SIGINT');
    expect(trail.files.usage.size).to.be.greaterThan(20);
    const cli = spawnSync(process.execPath, [CLI, 'audit', 'verify', auditDir], { encoding: 'utf8' });
    expect(cli.status, cli.stdout + cli.stderr).to.equal(0);
    expect(cli.stdout).to.match(/^OK: .* 0 rows pending in journal\/ .* 0 problems$/m);
  });
});
