// The quantile of an interval's bucket increases by histogram_quantile's rule, and what is unknown stays unknown:
// interpolation within a bucket, the first bucket from 0, the +Inf bucket, empty and non-monotonic buckets, a
// reset between two readings, too few requests; and slo_met against the ceiling in force.
import { expect } from 'chai';
import { describe, it } from 'mocha';
import {
  bucketDelta,
  histogramQuantile,
  parseLe,
  sumByLe,
  type Bucket,
} from '../../../operator/demand/histogram-quantile.ts';
import { latencyFromBuckets, MIN_LATENCY_REQUESTS } from '../../../operator/demand/served-latency.ts';
import { sloMetOf } from '../../../operator/audit/rows-from-pass.ts';

/** Cumulative buckets from per-bucket counts (bounds in seconds, the last +Inf). */
function cumulative(bounds: number[], perBucket: number[]): Bucket[] {
  let c = 0;
  return bounds.map((le, i) => ({ le, count: (c += perBucket[i]!) }));
}

const B = [0.1, 0.2, 0.5, Infinity];

describe('histogramQuantile (PromQL histogram_quantile rule)', () => {
  it('interpolates linearly inside the bucket the rank falls in', () => {
    // 10 ≤ 0.1 s, 20 in (0.1, 0.2], 60 in (0.2, 0.5], 10 above. p50: rank 50, 20 into the 60 of (0.2, 0.5].
    const b = cumulative(B, [10, 20, 60, 10]);
    const p50 = histogramQuantile(0.5, b);
    expect(p50).to.not.be.a('string');
    const q = p50 as Exclude<typeof p50, string>;
    expect(q.ms).to.be.closeTo((0.2 + 0.3 * (20 / 60)) * 1000, 1e-9);
    expect([q.lowerMs, q.upperMs]).to.deep.equal([200, 500]);
  });

  it('the first bucket runs from 0', () => {
    const q = histogramQuantile(0.25, cumulative(B, [40, 40, 20, 0])) as { ms: number; lowerMs: number };
    // rank 25 of 100, inside the first bucket's 40: 0.1 × 25/40.
    expect(q.ms).to.be.closeTo(100 * (25 / 40), 1e-9);
    expect(q.lowerMs).to.equal(0);
  });

  it('a rank in the +Inf bucket gives the largest finite bound, with the true value above it', () => {
    const q = histogramQuantile(0.95, cumulative(B, [10, 20, 60, 10])) as { ms: number; upperMs: number };
    expect(q.ms).to.equal(500);
    expect(q.upperMs).to.equal(Infinity);
  });

  it('no observations, no +Inf bucket, no finite bucket: no quantile, and says which', () => {
    expect(histogramQuantile(0.5, cumulative(B, [0, 0, 0, 0]))).to.match(/no observations/);
    expect(histogramQuantile(0.5, cumulative([0.1, 0.2], [3, 4]))).to.match(/no \+Inf bucket/);
    expect(histogramQuantile(0.5, [{ le: Infinity, count: 4 }])).to.match(/no finite bucket/);
    expect(histogramQuantile(1, cumulative(B, [1, 1, 1, 1]))).to.match(/0 < q < 1/);
  });

  it('empty buckets in between are skipped; unsorted and non-monotonic input is put in order', () => {
    // All 30 observations in (0.2, 0.5]: the empty buckets before it contribute no rank.
    const q = histogramQuantile(0.5, cumulative(B, [0, 0, 30, 0]).reverse()) as { ms: number };
    expect(q.ms).to.be.closeTo(200 + 300 * (15 / 30), 1e-9);
    // A cumulative count that dips (float noise in a sum) is raised to the one before it.
    const dip = [
      { le: 0.1, count: 10 },
      { le: 0.2, count: 9.999 },
      { le: 0.5, count: 20 },
      { le: Infinity, count: 20 },
    ];
    const d = histogramQuantile(0.5, dip) as { ms: number };
    expect(d.ms).to.be.closeTo(100, 1e-9);
  });
});

describe('bucket increases between two readings', () => {
  it('are the per-bound differences; a bound that appears later counts from 0', () => {
    const a = cumulative(B, [5, 5, 0, 0]);
    const b = cumulative(B, [7, 9, 4, 1]);
    expect(bucketDelta(a, b)).to.deep.equal(cumulative(B, [2, 4, 4, 1]));
    expect(bucketDelta([], b)).to.deep.equal(b);
  });

  it('a count that fell (the process restarted) is no increase at all', () => {
    expect(bucketDelta(cumulative(B, [50, 0, 0, 0]), cumulative(B, [3, 0, 0, 0]))).to.equal(undefined);
    // A reading that lost a bound is not the same histogram.
    expect(bucketDelta(cumulative(B, [1, 1, 1, 1]), cumulative([0.1, Infinity], [2, 3]))).to.equal(undefined);
  });

  it('sum by le over pods; le labels as Prometheus writes them', () => {
    const s = sumByLe([cumulative(B, [1, 0, 0, 0]), cumulative(B, [0, 2, 0, 3])]);
    expect(s).to.deep.equal(cumulative(B, [1, 2, 0, 3]));
    expect([
      parseLe('+Inf'),
      parseLe('0.005'),
      parseLe('1e-3'),
      parseLe('x'),
      parseLe(''),
      parseLe(undefined),
    ]).to.deep.equal([Infinity, 0.005, 0.001, NaN, NaN, NaN]);
  });
});

describe('latencyFromBuckets', () => {
  it(`needs ${MIN_LATENCY_REQUESTS} requests for a p95: one fewer is unknown, with the count in the reason`, () => {
    const few = latencyFromBuckets(cumulative(B, [MIN_LATENCY_REQUESTS - 1, 0, 0, 0]), 'scrape:carbonscale');
    expect(few).to.deep.include({ measured: false });
    expect((few as { reason: string }).reason).to.contain(`${MIN_LATENCY_REQUESTS - 1} requests observed`);
    const enough = latencyFromBuckets(cumulative(B, [MIN_LATENCY_REQUESTS, 0, 0, 0]), 'scrape:carbonscale');
    expect(enough.measured).to.equal(true);
  });

  it('gives p50 and p95 and, for a p95 in the +Inf bucket, the bound it is above', () => {
    const r = latencyFromBuckets(cumulative(B, [10, 20, 60, 10]), 's');
    if (!r.measured) throw new Error(r.reason);
    expect(r.latency.requests).to.equal(100);
    expect(r.latency.p50Ms).to.be.closeTo(300, 1e-9);
    expect(r.latency.p95Ms).to.equal(500);
    expect(r.latency.p95AboveMs).to.equal(500);
    const inside = latencyFromBuckets(cumulative(B, [10, 20, 70, 0]), 's');
    if (!inside.measured) throw new Error(inside.reason);
    expect(inside.latency.p95AboveMs).to.equal(undefined);
    // rank 95 is 65 into the 70 of (0.2, 0.5].
    expect(inside.latency.p95Ms).to.be.closeTo(200 + 300 * (65 / 70), 1e-9);
  });
});

describe('sloMetOf: the measured p95 against the ceiling in force', () => {
  const slo = { latencyP95Ms: 100, relaxedLatencyP95Ms: 200 };
  const at = (p95Ms: number, p95AboveMs?: number) => ({
    p50Ms: p95Ms / 2,
    p95Ms,
    requests: 100,
    ...(p95AboveMs !== undefined ? { p95AboveMs } : {}),
  });

  it('the strict ceiling, or the relaxed one when the decisions used it', () => {
    expect(sloMetOf(slo, at(100), false)).to.equal(true);
    expect(sloMetOf(slo, at(150), false)).to.equal(false);
    expect(sloMetOf(slo, at(150), true)).to.equal(true);
    expect(sloMetOf(slo, at(201), true)).to.equal(false);
    // No relaxed ceiling (premium): the flag cannot loosen it.
    expect(sloMetOf({ latencyP95Ms: 100 }, at(150), true)).to.equal(false);
  });

  it('ceiling changed inside the interval: known only where both agree', () => {
    expect(sloMetOf(slo, at(90), undefined)).to.equal(true);
    expect(sloMetOf(slo, at(150), undefined)).to.equal(undefined);
    expect(sloMetOf(slo, at(250), undefined)).to.equal(false);
  });

  it('a p95 above the largest finite bound is a miss only when that bound reaches the ceiling', () => {
    expect(sloMetOf(slo, at(5000, 5000), false)).to.equal(false);
    expect(sloMetOf({ latencyP95Ms: 10_000 }, at(5000, 5000), false)).to.equal(undefined);
  });

  it('no latency: unknown', () => {
    expect(sloMetOf(slo, undefined, false)).to.equal(undefined);
  });
});
