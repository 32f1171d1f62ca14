import { expect } from 'chai';
import { LEAD_HOURS, replayStartFor } from '../../../operator/replay-start.ts';
import { loadTrace } from '../../../operator/carbon/trace-provider.ts';

const H = 3_600_000;
const D = 24 * H;

describe('replay start: a rule over the trace, not a date', () => {
  it('starts LEAD_HOURS before the dirtiest hour of the first high-spread day that has two days before it', () => {
    const t0 = Date.UTC(2021, 5, 1);
    // Days 0-4 flat-ish (spread 10), day 5 spread 300 peaking at 18:00, day 6 spread 400.
    const pts = [];
    for (let d = 0; d < 8; d++)
      for (let h = 0; h < 24; h++) {
        const spike = d === 5 ? (h === 18 ? 400 : 100) : d === 6 ? (h === 9 ? 500 : 100) : 100 + (h % 2) * 10;
        pts.push({ timeMs: t0 + d * D + h * H, valueGPerKWh: spike });
      }
    expect(replayStartFor(pts)).to.equal(t0 + 5 * D + (18 - LEAD_HOURS) * H);
    // The rule depends on the trace only: shift the trace by a year, the start shifts with it.
    const shifted = pts.map((p) => ({ ...p, timeMs: p.timeMs + 365 * D }));
    expect(replayStartFor(shifted)).to.equal(replayStartFor(pts) + 365 * D);
  });

  it('on every shipped hourly trace the start has 48 h of trace before it and a dirtier hour within LEAD_HOURS', () => {
    for (const f of [
      'data/carbon/DE-LU_2023_hourly.csv',
      'data/carbon/GB_2023_hourly.csv',
      'data/carbon/US-CAL-CISO_2023_hourly.csv',
    ]) {
      const t = loadTrace(f);
      const s = replayStartFor(t.points);
      expect(s - t.points[0]!.timeMs, f).to.be.at.least(2 * D);
      const at = (ms: number) => t.points.find((p) => p.timeMs === ms)!.valueGPerKWh;
      const ahead = Math.max(...[1, 2, 3].map((h) => at(s + h * H)));
      expect(ahead, f).to.be.greaterThan(at(s));
    }
  });
});
