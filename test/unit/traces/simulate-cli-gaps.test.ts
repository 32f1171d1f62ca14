// `carbonscale simulate` on traces with gaps and repeated hours, as a user runs it: without a flag the run stops
// with the reader's message (file, line, span); `--gap-fill` fills the carbon and demand traces and says how much
// it filled, in the table output and in --json; `--collapse-duplicates` drops identical repeats.
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { main } from '../../../operator/simulator/simulate-cli.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/traces/${name}`, import.meta.url));

/** Runs main() while collecting what it prints (console is swapped for the call only). */
async function capture(argv: string[]): Promise<{ rc: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
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

describe('carbonscale simulate: gaps and repeated hours', function () {
  this.timeout(30_000);
  const gap = fixture('gb-2023-01-01-gap-6h.csv');
  const quick = ['--tier', 'eco', '--no-oracle'];

  it('a gap stops the run with the file, line and missing span', async () => {
    const r = await capture(['--trace', gap, ...quick]);
    expect(r.rc).to.equal(1);
    expect(r.out).to.equal('');
    expect(r.err).to.equal(
      'carbonscale simulate: gb-2023-01-01-gap-6h.csv: line 10: gap: 6 missing 1-hour steps from 2023-01-01T08:00Z to 2023-01-01T13:00Z ' +
        '(the row before is line 9 at 2023-01-01T07:00Z); gaps are filled only when asked (gapFill: hold or linear; ' +
        'CLI --gap-fill)',
    );
  });

  it('--gap-fill fills it and prints how many steps were filled (tables and JSON)', async () => {
    const t = await capture(['--trace', gap, ...quick, '--gap-fill', 'hold']);
    expect(t.rc, t.err).to.equal(0);
    expect(t.out.split('\n')[0]).to.equal(
      'gap fill hold (gaps up to 6 h): 6 of 24 60-minute carbon steps filled, 0 demand slots filled',
    );
    expect(t.out).to.contain('eco service, gb-2023-01-01-gap-6h.csv (24 steps of 60 min)');
    const j = await capture(['--trace', gap, ...quick, '--gap-fill', 'linear', '--json']);
    expect(j.rc, j.err).to.equal(0);
    const parsed = JSON.parse(j.out) as { steps: number; filled: { carbonSteps: number; demandSlots: number } };
    expect(parsed.steps).to.equal(24);
    expect(parsed.filled).to.deep.equal({ carbonSteps: 6, demandSlots: 0 });
    const short = await capture(['--trace', gap, ...quick, '--gap-fill', 'linear', '--max-gap-hours', '5']);
    expect(short.rc).to.equal(1);
    expect(short.err).to.match(/line 10: gap: .* is longer than the longest gap filled \(5 h\)/);
  });

  it('fills a demand trace too, and counts its slots', async () => {
    const demand = fixture('azure2024-conv-day0-1-gap.csv');
    const bare = await capture(['--trace', 'data/carbon/GB_2023_hourly.csv', '--demand', demand, ...quick]);
    expect(bare.rc).to.equal(1);
    expect(bare.err).to.match(
      /^carbonscale simulate: azure2024-conv-day0-1-gap\.csv: line 12: gap: 3 missing 1-hour steps/,
    );
    const r = await capture([
      ...['--trace', 'data/carbon/GB_2023_hourly.csv', '--from', '2023-02-01', '--to', '2023-02-08'],
      ...['--demand', demand, ...quick, '--gap-fill', 'hold', '--json'],
    ]);
    expect(r.rc, r.err).to.equal(0);
    expect((JSON.parse(r.out) as { filled: unknown }).filled).to.deep.equal({ carbonSteps: 0, demandSlots: 3 });
  });

  it('a repeated hour is an error naming both lines; --collapse-duplicates drops identical repeats', async () => {
    const dup = fixture('gb-2023-01-01-duplicate-hour.csv');
    const r = await capture(['--trace', dup, ...quick]);
    expect(r.rc).to.equal(1);
    expect(r.err).to.match(
      /^carbonscale simulate: gb-2023-01-01-duplicate-hour\.csv: line 8: timestamp 2023-01-01T05:00Z also appears on line 7/,
    );
    const ok = await capture(['--trace', dup, ...quick, '--collapse-duplicates']);
    expect(ok.rc, ok.err).to.equal(0);
    expect(ok.out).to.contain('(12 steps of 60 min)');
    const bad = await capture(['--trace', dup, '--gap-fill', 'zero']);
    expect(bad).to.include({ rc: 2, err: 'carbonscale simulate: --gap-fill: must be none, hold, linear' });
  });
});
