// The simulator's input assembly gives the policy what the operator would have: a missing forecast stays missing
// (never the actual in its place: perfect foresight is the oracle's), and the trace hours before the replayed
// slice are the carbon history the signal service would hold at the start.
import { expect } from 'chai';
import type { CarbonTrace } from '../../../operator/carbon/trace-file.ts';
import { CARBON_HISTORY_MS } from '../../../operator/decision/index.ts';
import { defaultVariants } from '../../../operator/simulator/simulate-cli.ts';
import { defaultService, prepare, simInputs } from '../../../operator/simulator/simulate.ts';
import { runCarbonscale } from '../../../operator/simulator/policies.ts';

const H = 3_600_000;
const T0 = Date.UTC(2023, 0, 1);

/** `days` hourly points, a daily shape; the forecast column only on even hours. */
function trace(days: number): CarbonTrace {
  const points = Array.from({ length: days * 24 }, (_, i) => ({
    timeMs: T0 + i * H,
    valueGPerKWh: 300 + 100 * Math.sin((i / 24) * 2 * Math.PI),
    ...(i % 2 === 0 ? { forecastGPerKWh: 310 + 100 * Math.sin((i / 24) * 2 * Math.PI) } : {}),
    estimated: false,
  }));
  return { basis: 'direct', stepMs: H, points, hasForecast: true } as CarbonTrace;
}

describe('simulator input assembly: what the operator would have', () => {
  it('a step without a forecast has none (NaN), and the policy is never handed one for it', () => {
    const t = trace(10);
    const inp = simInputs(t, 'synthetic', 100, { from: T0 + 9 * 24 * H });
    for (let i = 0; i < inp.timesMs.length; i++) {
      const p = t.points.find((x) => x.timeMs === inp.timesMs[i])!;
      if (p.forecastGPerKWh === undefined) expect(Number.isNaN(inp.forecast![i]), `step ${i}`).to.equal(true);
      else expect(inp.forecast![i]).to.equal(p.forecastGPerKWh);
    }
    // The replay runs to its end on the gappy forecast.
    const spec = defaultService({ tier: 'eco', variants: defaultVariants(), meanRps: 100 });
    const run = runCarbonscale(spec, prepare(inp));
    expect(run.timeline.variant.length).to.equal(inp.timesMs.length);
  });

  it('the trace hours before the slice are the carbon history (up to CARBON_HISTORY_MS), none before the first row', () => {
    const t = trace(10);
    const from = T0 + 9 * 24 * H;
    const inp = simInputs(t, 'synthetic', 100, { from });
    expect(inp.intensityPreRoll!.length).to.equal(CARBON_HISTORY_MS / H);
    expect(inp.intensityPreRoll![0]).to.equal(
      t.points.find((p) => p.timeMs === from - CARBON_HISTORY_MS)!.valueGPerKWh,
    );
    expect(inp.intensityPreRoll!.at(-1)).to.equal(t.points.find((p) => p.timeMs === from - H)!.valueGPerKWh);
    expect(simInputs(t, 'synthetic', 100).intensityPreRoll).to.equal(undefined);
  });
});
