// The demand outlook holds equal intervals in a row as one point (a run, `untilMs`): a week at a one-minute
// interval from hourly history is ~170 points, not 10,080. These check that the runs are what the per-interval
// outlook was, and that the requests the budget counts from them are the same.
import { expect } from 'chai';
import { demandOutlook, expectedRequests } from '../../../operator/decision/demand-forecast.ts';
import type { DemandPoint } from '../../../operator/decision/types.ts';

const HOUR = 3_600_000;
const T = Date.UTC(2026, 11, 2, 10, 30);

/** 8 days of hourly history with a daily shape, then the last two hours at the interval (as the ledger keeps it). */
function history(iv: number, seed = 1): DemandPoint[] {
  const pts: DemandPoint[] = [];
  const rawFrom = T - 2 * HOUR;
  for (let t = T - 8 * 24 * HOUR - HOUR; t < rawFrom; t += HOUR)
    pts.push({ timeMs: t, rps: 40 + 30 * Math.sin((t / HOUR / 24) * 2 * Math.PI) + ((t / HOUR) % 7) * seed });
  for (let t = rawFrom; t < T; t += iv) pts.push({ timeMs: t, rps: 50 + ((t / iv) % 5) });
  return pts;
}

/** The runs laid out again as one point per interval. */
function perInterval(runs: readonly DemandPoint[], iv: number): DemandPoint[] {
  const out: DemandPoint[] = [];
  for (const r of runs)
    for (let t = r.timeMs; t < (r.untilMs ?? r.timeMs + iv); t += iv) out.push({ timeMs: t, rps: r.rps });
  return out;
}

describe('demand outlook: runs of equal intervals', () => {
  for (const iv of [60_000, 300_000, HOUR]) {
    it(`at a ${iv / 60_000}-minute interval, runs are contiguous, never two equal in a row, and cover the week`, () => {
      const start = Math.floor(T / iv) * iv;
      const until = start + 7 * 24 * HOUR;
      const o = demandOutlook(history(iv), start, iv, until);
      expect(o.basis).to.equal('week');
      const f = o.forecast;
      // One run per hour of hourly history, one per interval of the raw last two hours it reads a week later.
      expect(f.length).to.be.at.most(7 * 24 + (2 * HOUR) / iv + 2);
      for (let i = 1; i < f.length; i++) {
        expect(f[i]!.timeMs, `run ${i} starts where ${i - 1} ends`).to.equal(f[i - 1]!.untilMs);
        expect(f[i]!.rps, `runs ${i - 1} and ${i} differ`).to.not.equal(f[i - 1]!.rps);
      }
      expect(perInterval(f, iv)).to.have.length((until - start - iv) / iv);
    });

    it(`at a ${iv / 60_000}-minute interval, the requests counted from runs equal those from every interval`, () => {
      const start = Math.floor(T / iv) * iv;
      const until = start + 7 * 24 * HOUR;
      const o = demandOutlook(history(iv, 3), start, iv, until);
      const flat = perInterval(o.forecast, iv);
      for (const [from, to] of [
        [T, until],
        [T + 17 * 60_000, T + 26 * HOUR + 7 * 60_000],
        [start + 3 * iv, start + 4 * iv],
      ] as const) {
        const a = expectedRequests(o.predictedRps, o.forecast, from, start + iv, to, iv);
        const b = expectedRequests(o.predictedRps, flat, from, start + iv, to, iv);
        expect(a).to.be.closeTo(b, Math.abs(b) * 1e-12);
      }
    });
  }
});
