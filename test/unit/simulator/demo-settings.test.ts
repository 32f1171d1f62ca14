// The embedded demo's settings in the simulator: 5-minute decisions and a 10-minute dwell on the hourly DE-LU 2023
// trace, from the demo's replay start (operator/replay-start.ts). Twelve decisions share each trace hour, so the
// plan sees tied slots at every interval; it must still degrade in the dirty hours (not defer without end), come
// back, and keep within the budget, both for a service with a week of demand history and for a new one (the
// demo's scraped demand starts with none).
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parseCarbonTrace } from '../../../operator/carbon/trace-file.ts';
import { replayStartFor } from '../../../operator/replay-start.ts';
import { defaultVariants } from '../../../operator/simulator/simulate-cli.ts';
import { parseDemandTrace } from '../../../operator/simulator/demand-trace.ts';
import { prepare, runCarbonscale } from '../../../operator/simulator/policies.ts';
import { defaultService, simInputs } from '../../../operator/simulator/simulate.ts';

const root = new URL('../../../', import.meta.url);
const read = (p: string) => readFileSync(new URL(p, root), 'utf8');
const DAY = 86_400_000;
const STEP = 5 * 60_000;

function runDemo(history: 'week' | 'none') {
  const trace = parseCarbonTrace(read('data/carbon/DE-LU_2023_hourly.csv'), 'DE-LU_2023_hourly.csv');
  const demand = parseDemandTrace(read('data/demand/azure2024_conv_hourly.csv'), 'azure2024_conv_hourly.csv');
  const from = replayStartFor(trace.points);
  // To the end of that UTC day: the budget is judged on whole windows (a slice ending mid-day leaves the window's
  // share of requests not yet served, so its degraded share reads higher than it would at midnight).
  const inp = simInputs(trace, demand, 1, { from, to: Math.ceil((from + 1) / DAY) * DAY }, STEP);
  if (history === 'none') delete inp.demandPreRollRps;
  const spec = defaultService({ tier: 'eco', variants: defaultVariants(new URL('.', root).pathname), meanRps: 1 });
  spec.policy = { ...spec.policy, intervalMs: STEP, minDwellMs: 2 * STEP };
  const run = runCarbonscale(spec, prepare(inp));
  return { inp, run };
}

describe('simulator at the demo’s settings (5-minute decisions on an hourly trace)', function () {
  this.timeout(60_000);
  for (const history of ['week', 'none'] as const) {
    it(`degrades in the dirty hours and comes back, within budget (demand history: ${history})`, () => {
      const { inp, run } = runDemo(history);
      const v = run.timeline.variant;
      const n = v.length;
      // The slice's dirty hours: at or above its upper quartile of intensity.
      const sorted = Array.from(inp.intensity).sort((a, b) => a - b);
      const q3 = sorted[Math.floor(0.75 * (n - 1))]!;
      let dirtyDegraded = 0;
      let degradedI = 0;
      let degraded = 0;
      for (let t = 0; t < n; t++)
        if (v[t] !== 0) {
          degraded++;
          degradedI += inp.intensity[t]!;
          if (inp.intensity[t]! >= q3) dirtyDegraded++;
        }
      expect(dirtyDegraded, 'degraded intervals in the dirty hours').to.be.greaterThan(0);
      // Spent where it saves more: the degraded intervals are dirtier than the slice on average.
      const meanI = inp.intensity.reduce((s, x) => s + x, 0) / n;
      expect(degradedI / degraded).to.be.greaterThan(meanI);
      // And back: the full variant runs again after a degraded interval.
      const firstDeg = v.findIndex((x) => x !== 0);
      expect(
        Array.from(v.slice(firstDeg)).some((x) => x === 0),
        'back to the full variant',
      ).to.equal(true);
      expect(run.metrics.budgetOverruns).to.equal(0);
      // Each swap holds at least the 10-minute dwell (two intervals).
      let last = -Infinity;
      for (let t = 1; t < n; t++)
        if (v[t] !== v[t - 1]) {
          expect(t - last).to.be.at.least(2);
          last = t;
        }
    });
  }
});
