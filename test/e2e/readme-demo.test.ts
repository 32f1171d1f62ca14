// The README's demo, run as its section "What you will see in the demo" tells a new user: `./scripts/run.sh`
// (with --duration, so it ends), then each command of that section as written, the embedded state directory
// (~/.cache/carbonscale/embedded) moved to a temporary one and report.html's CSV beside it. It checks what the
// README promises: the kubeconfig at the stable path, `kubectl get cisvc -w` watching both services, `-o wide`
// with the budget and reason columns, `describe` with the conditions, a clean stop that leaves nothing pending,
// `audit verify` OK, the report page written — and, from the audit trail, that the eco service swapped to the
// smaller variant on the accelerated clock while premium stayed on the full one.
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readAuditFile } from '../../operator/audit/parquet-file.ts';
import { scanPartFiles } from '../../operator/audit/part-files.ts';
import type { Row } from '../../operator/audit/schema.ts';
import { nodeAuditFs } from '../../operator/audit/audit-fs.ts';
import { readmeCommands, ROOT } from '../unit/docs/readme-commands.ts';
import { k8sBinDir } from '../unit/install/tools.ts';

const SECTION = 'What you will see in the demo';
const STATE = '~/.cache/carbonscale/embedded';
/** Long enough for the control plane's start and the morning peak (trace 07:00, minute 3 of the replay). */
const DURATION = '6m';

interface Shell {
  code: number | null;
  out: string;
}

describe('README demo: ./scripts/run.sh and the commands the README shows beside it', function () {
  this.timeout(15 * 60_000);
  const all = readmeCommands();
  const demo = all.filter((c) => c.section === SECTION).map((c) => c.command);
  const runSh = all.find((c) => c.command.startsWith('./scripts/run.sh'))!.command;
  let tmp = '';
  let state = '';
  let job: ChildProcess | undefined;
  let jobOut = '';
  let jobExit: Promise<number | null> = Promise.resolve(null);

  /** One README line in bash at the root, after the section's `export` lines, the state directory moved. */
  const shell = (command: string, timeoutMs = 60_000): Shell => {
    const exports = demo.filter((c) => c.startsWith('export ')).join('; ');
    const line = `${exports}; ${command}`.replaceAll(STATE, state);
    const bin = k8sBinDir()!;
    const r = spawnSync('bash', ['-c', line], {
      cwd: ROOT,
      env: { ...process.env, PATH: `${bin}:${path.dirname(process.execPath)}:${process.env.PATH ?? ''}` },
      encoding: 'utf8',
      timeout: timeoutMs,
    });
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  };

  before(async () => {
    if (!k8sBinDir()) throw new Error('export KUBEBUILDER_ASSETS (scripts/build-k8s-binaries.sh)');
    tmp = mkdtempSync(path.join(tmpdir(), 'readme-demo-'));
    state = path.join(tmp, 'embedded');
    job = spawn('bash', ['-c', `${runSh} --duration ${DURATION} --log-format text`], {
      cwd: ROOT,
      env: { ...process.env, KUBECONFIG: '', CARBONSCALE_EMBEDDED_DIR: state, HEALTH_ADDR: '127.0.0.1:0' },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    job.stdout!.on('data', (d: Buffer) => (jobOut += d.toString()));
    job.stderr!.on('data', (d: Buffer) => (jobOut += d.toString()));
    const j = job;
    jobExit = new Promise((resolve) => j.on('exit', resolve));
    // Ready for the README's kubectl lines once both services are listed through the stable kubeconfig.
    for (let i = 0; i < 180; i++) {
      if (existsSync(path.join(state, 'kubeconfig'))) {
        const r = shell('kubectl get cisvc');
        if (r.code === 0 && r.out.includes('digits-eco') && r.out.includes('digits-premium')) return;
      }
      if (job.exitCode !== null) throw new Error(`run.sh ended early:\n${jobOut}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    throw new Error(`no services listed after 3 minutes:\n${jobOut}`);
  });

  after(() => {
    if (job?.pid && job.exitCode === null) process.kill(-job.pid, 'SIGINT');
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('the section shows the commands this test runs', () => {
    expect(
      demo.some((c) => c.startsWith('export KUBECONFIG=')),
      'export KUBECONFIG',
    ).to.equal(true);
    for (const k of ['kubectl get cisvc -w', 'kubectl get cisvc -o wide', 'kubectl describe cisvc', 'audit verify'])
      expect(
        demo.some((c) => c.includes(k)),
        k,
      ).to.equal(true);
  });

  it('prints the kubeconfig path the README names', () => {
    expect(jobOut).to.contain(path.join(state, 'kubeconfig'));
  });

  it('kubectl get cisvc -w watches both services (still watching when stopped)', () => {
    const cmd = demo.find((c) => c === 'kubectl get cisvc -w')!;
    const r = shell(`timeout 15 ${cmd}`);
    expect(r.code, r.out).to.equal(124);
    expect(r.out)
      .to.match(/digits-eco\s+eco\s/)
      .and.match(/digits-premium\s+premium\s/);
  });

  it('kubectl get cisvc -o wide adds the budget used and the reason', () => {
    const r = shell(demo.find((c) => c.includes('-o wide'))!);
    expect(r.code, r.out).to.equal(0);
    expect(r.out.split('\n')[0])
      .to.match(/BUDGET USED/)
      .and.match(/REASON/);
  });

  it('kubectl describe cisvc digits-eco shows its conditions', () => {
    const r = shell(demo.find((c) => c.startsWith('kubectl describe'))!);
    expect(r.code, r.out).to.equal(0);
    expect(r.out)
      .to.match(/^Name:\s+digits-eco$/m)
      .and.match(/Conditions:[\s\S]*Ready/);
  });

  it('stops by itself after --duration, says where the audit is and how to open the report', async () => {
    const code = await jobExit;
    expect(code, jobOut.slice(-3000)).to.equal(0);
    expect(jobOut)
      .to.contain(`audit files: ${path.join(state, 'audit')}`)
      .and.contain('audit report');
  });

  it('the trail verifies with nothing pending; the report page is written', () => {
    const verify = shell(demo.find((c) => c.includes('audit verify'))!);
    expect(verify.code, verify.out).to.equal(0);
    expect(verify.out).to.match(/^OK: .* 0 rows pending in journal\//m);
    const report = demo.find((c) => c.includes('audit report'))!.replace('report.html', path.join(tmp, 'report.html'));
    const r = shell(`${report} --csv ${path.join(tmp, 'report.csv')}`);
    expect(r.code, r.out).to.equal(0);
    expect(readFileSync(path.join(tmp, 'report.html'), 'utf8')).to.match(/^<!doctype html>/i);
  });

  // The README's promise (its demo timeline): the eco service swaps in the dirty hours within the six minutes.
  it('on the accelerated clock, eco swapped to digits-small; premium never left digits-full', async () => {
    const { parts } = await scanPartFiles(nodeAuditFs, path.join(state, 'audit'));
    const rows = [];
    for (const p of parts.decision) rows.push(...(await readAuditFile(p.abs)).rows);
    const swaps = rows.filter((r) => r.kind === 'swap').sort((a, b) => Number(a.stream_seq) - Number(b.stream_seq));
    const eco = swaps.filter((r) => r.name === 'digits-eco').map((r) => `${r.before_variant}→${r.after_variant}`);
    expect(eco[0], `eco swaps: ${eco.join(', ')}`).to.equal('digits-full→digits-small');
    expect(eco, 'eco swapped back to digits-full').to.include('digits-small→digits-full');
    // Each swap leaves the variant the one before it chose: no swap undone and redone.
    eco.slice(1).forEach((s, i) => expect(s.split('→')[0]).to.equal(eco[i]!.split('→')[1]));
    expect(swaps.filter((r) => r.name === 'digits-premium')).to.deep.equal([]);
  });

  // Issue 16 §3: within five minutes of the start (five trace hours at the demo's 60x), a swap to the smaller
  // variant and one back, and replica changes. Times are the operator clock's (the replayed trace time), so the
  // check does not depend on how fast this machine is.
  it('within five replayed hours of its first decision: a swap down, a swap back, and replica changes', async () => {
    const { parts } = await scanPartFiles(nodeAuditFs, path.join(state, 'audit'));
    const rows: Row[] = [];
    for (const p of parts.decision) rows.push(...(await readAuditFile(p.abs)).rows);
    const at = (r: Row): number => (typeof r.time === 'number' ? r.time : new Date(String(r.time)).getTime());
    const start = Math.min(...rows.map(at));
    const by = start + 5 * 3_600_000;
    const eco = rows.filter((r) => r.name === 'digits-eco' && at(r) <= by);
    const down = eco.find((r) => r.kind === 'swap' && r.after_variant === 'digits-small');
    expect(down, 'a swap to digits-small within five trace hours').to.not.equal(undefined);
    const back = eco.find((r) => r.kind === 'swap' && r.after_variant === 'digits-full' && at(r) > at(down!));
    expect(back, 'a swap back to digits-full within five trace hours').to.not.equal(undefined);
    // A service's first decision row sets its replicas from nothing: not a change in the sense of the demo.
    const first = new Map<string, number>();
    for (const r of rows)
      first.set(String(r.name), Math.min(first.get(String(r.name)) ?? Infinity, Number(r.stream_seq)));
    const scaled = rows.filter(
      (r) =>
        at(r) <= by &&
        Number(r.stream_seq) !== first.get(String(r.name)) &&
        r.before_replicas !== null &&
        r.after_replicas !== null &&
        Number(r.before_replicas) !== Number(r.after_replicas),
    );
    expect(scaled.length, 'replica changes within five trace hours').to.be.greaterThan(0);
  });
});
