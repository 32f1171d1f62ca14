import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../operator/simulator/simulate-cli.ts';

/** Runs main() while collecting what it prints (console is swapped for the call only, not mocked module-wide). */
async function capture(argv: string[]): Promise<{ rc: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  console.error = (...a: unknown[]) => void err.push(a.join(' '));
  try {
    const rc = await main(argv);
    return { rc, out: out.join('\n'), err: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}

describe('carbonscale simulate (CLI)', function () {
  this.timeout(30_000);
  const trace = 'data/carbon/GB_2023_hourly.csv';
  const month = ['--from', '2023-02-01', '--to', '2023-03-01'];

  it('prints JSON for both tiers with --json and writes a readable SVG with --plot', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-sim-'));
    try {
      const svg = join(dir, 'plot.svg');
      const r = await capture(['--trace', trace, ...month, '--json', '--plot', svg]);
      expect(r.rc, r.err).to.equal(0);
      const j = JSON.parse(r.out) as { steps: number; eco: { summary: { savingVs: Record<string, number> } } };
      expect(j.steps).to.equal(28 * 24);
      expect(j.eco.summary.savingVs['demand-only']).to.be.a('number');
      const text = readFileSync(svg, 'utf8');
      expect(text).to.match(/^<svg /);
      expect(text).to.contain('Grid carbon intensity');
      expect(text).to.contain('<polyline');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prints one table per tier by default', async () => {
    const r = await capture(['--trace', trace, ...month, '--no-oracle', '--tier', 'eco']);
    expect(r.rc).to.equal(0);
    expect(r.out).to.contain('(b) demand-only');
    expect(r.out).to.contain('(c) threshold');
    expect(r.out).to.match(/carbonscale saves/);
  });

  it('replays finer than the trace with --step-minutes', async () => {
    const r = await capture([
      '--trace',
      trace,
      '--from',
      '2023-02-01',
      '--to',
      '2023-02-08',
      '--step-minutes',
      '30',
      '--json',
    ]);
    expect(r.rc, r.err).to.equal(0);
    const j = JSON.parse(r.out) as { steps: number; eco: { runs: { carbonscale: { requests: number } } } };
    expect(j.steps).to.equal(7 * 48);
    // Same mean demand (1 req/s) over the same week, whatever the step.
    expect(j.eco.runs.carbonscale.requests).to.be.closeTo(7 * 86_400, 1e-3);
    expect((await capture(['--trace', trace, '--step-minutes', '7'])).err).to.match(/--step-minutes/);
  });

  it('rejects bad options naming the flag', async () => {
    expect((await capture(['--trace', trace, '--budget', '2'])).err).to.match(/--budget/);
    expect((await capture(['--trace', trace, '--tier', 'gold'])).rc).to.equal(2);
    expect((await capture([])).err).to.match(/--trace: required/);
    expect((await capture(['--trace', trace, '--from', 'yesterday'])).err).to.match(/--from/);
  });
});
