import { expect } from 'chai';
import {
  compacted,
  emptyLedger,
  intervalsToClose,
  RAW_KEEP_MS,
  withGap,
  withPoint,
} from '../../../operator/reconciler/demand-ledger.ts';
import { DEMAND_HISTORY_MS } from '../../../operator/decision/demand-forecast.ts';

const H = 3_600_000;
const T = Date.UTC(2026, 2, 2, 10); // on an hour

describe('demand ledger (the engine demand history per service)', () => {
  it('a fresh ledger with a past-capable source backfills: hours first, then the raw window at interval resolution', () => {
    const l = emptyLedger(300_000);
    const spans = intervalsToClose(l, T + 1000, DEMAND_HISTORY_MS);
    const hourly = spans.filter((s) => s.toMs - s.fromMs === H);
    const raw = spans.filter((s) => s.toMs - s.fromMs === 300_000);
    expect(hourly.length).to.equal(DEMAND_HISTORY_MS / H - RAW_KEEP_MS / H);
    expect(raw.length).to.equal(RAW_KEEP_MS / 300_000);
    expect(spans[spans.length - 1]).to.deep.equal({ fromMs: T - 300_000, toMs: T });
    for (let i = 1; i < spans.length; i++)
      expect(spans[i]!.fromMs, `span ${i} follows the one before`).to.equal(spans[i - 1]!.toMs);
  });

  it('a source that cannot answer for the past gets the interval just ended; later passes close what ended since', () => {
    let l = emptyLedger(300_000);
    expect(intervalsToClose(l, T + 1000, 0)).to.deep.equal([{ fromMs: T - 300_000, toMs: T }]);
    l = withPoint(l, { fromMs: T - 300_000, toMs: T }, 5);
    expect(intervalsToClose(l, T + 299_000, 0)).to.deep.equal([]);
    expect(intervalsToClose(l, T + 900_001, 0)).to.deep.equal([
      { fromMs: T, toMs: T + 300_000 },
      { fromMs: T + 300_000, toMs: T + 600_000 },
      { fromMs: T + 600_000, toMs: T + 900_000 },
    ]);
    l = withGap(l, { fromMs: T, toMs: T + 300_000 });
    expect(l.points).to.have.length(1);
    expect(l.closedUntilMs).to.equal(T + 300_000);
  });

  it('compaction folds points older than the raw window into hourly time-weighted means and drops what the outlook never reads', () => {
    let l = emptyLedger(1_800_000); // half-hour intervals
    for (let t = T - 9 * 24 * H; t < T; t += 1_800_000)
      l = withPoint(l, { fromMs: t, toMs: t + 1_800_000 }, (t / 1_800_000) % 2 ? 10 : 30);
    const c = compacted(l, T);
    const old = c.points.filter((p) => p.timeMs < T - RAW_KEEP_MS);
    expect(old.every((p) => p.timeMs % H === 0)).to.equal(true);
    expect(old.every((p) => Math.abs(p.rps - 20) < 1e-9)).to.equal(true); // the mean of 10 and 30
    expect(c.points[0]!.timeMs).to.be.at.least(T - DEMAND_HISTORY_MS - H);
    expect(c.points.filter((p) => p.timeMs >= T - RAW_KEEP_MS)).to.have.length(RAW_KEEP_MS / 1_800_000);
    expect(compacted(c, T)).to.deep.equal(c); // idempotent
    // ... and an hour already compacted keeps its object (no copy of the week per pass), a re-bucketed one does not.
    const again = compacted(c, T + H);
    const at = (pts: typeof c.points, t: number) => pts.filter((p) => p.timeMs === t);
    const h = T - 2 * 24 * H;
    expect(at(again.points, h)[0]).to.equal(at(c.points, h)[0]);
    const folded = T - RAW_KEEP_MS; // an hour of raw points an hour ago, folded only now
    expect(at(c.points, folded)).to.have.length(1);
    expect(at(c.points, folded)[0]!.rps).to.not.be.closeTo(20, 1e-9);
    expect(at(again.points, folded)).to.have.length(1);
    expect(at(again.points, folded)[0]!.rps).to.be.closeTo(20, 1e-9);
  });

  it('with hour-long intervals nothing is bucketed: one point per interval', () => {
    let l = emptyLedger(H);
    for (let t = T - 48 * H; t < T; t += H) l = withPoint(l, { fromMs: t, toMs: t + H }, t / H);
    expect(compacted(l, T).points).to.have.length(48);
  });
});
