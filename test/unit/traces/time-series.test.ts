// The shared time-series rules on random series (fast-check): whatever rows are removed from a regular series,
// the step is still found (as long as most neighbours remain), every gap is reported exactly (span and size) or
// filled exactly as asked, and a row moved off the grid is the row named.
import { expect } from 'chai';
import fc from 'fast-check';
import { regularise } from '../../../operator/traces/time-series.ts';
import type { TimedRow } from '../../../operator/traces/time-series.ts';
import { TraceFormatError } from '../../../operator/traces/trace-format-error.ts';

const hooks = {
  same: (a: number, b: number) => a === b,
  fill: (a: number, b: number, k: number, n: number, mode: 'hold' | 'linear') =>
    mode === 'hold' ? a : a + ((b - a) * k) / (n + 1),
};
const T0 = Date.UTC(2023, 0, 1);

function rowsOf(steps: number[], stepMs: number): TimedRow<number>[] {
  return steps.map((k, i) => ({ timeMs: T0 + k * stepMs, at: { file: 'f', line: i + 2 }, item: k * 10 }));
}

/**
 * Kept step indices: 0 and n−1 always; of every ten steps, any of the 4th to 6th may be missing (runs of up to
 * three), so most neighbours stay one step apart and the step stays the most common difference.
 */
const series = fc
  .record({
    n: fc.integer({ min: 8, max: 120 }),
    stepMs: fc.constantFrom(600_000, 900_000, 3_600_000),
    seed: fc.array(fc.boolean(), { minLength: 120, maxLength: 120 }),
  })
  .map(({ n, stepMs, seed }) => {
    const keep = Array.from({ length: n }, (_, k) => k === n - 1 || k % 10 < 3 || k % 10 > 5 || seed[k]!);
    return { n, stepMs, kept: keep.flatMap((ok, k) => (ok ? [k] : [])) };
  });

describe('time-series rules (property)', () => {
  it('gaps: rejected with the exact span by default, filled exactly when asked, nothing else changed', () => {
    fc.assert(
      fc.property(series, ({ n, stepMs, kept }) => {
        const rows = rowsOf(kept, stepMs);
        const missing = n - kept.length;
        const firstGap = kept.findIndex((k, i) => i > 0 && k - kept[i - 1]! > 1);
        if (missing === 0) {
          const s = regularise(rows, {}, hooks);
          expect(s.rows.map((r) => r.timeMs)).to.deep.equal(rows.map((r) => r.timeMs));
          return;
        }
        try {
          regularise(rows, {}, hooks);
          expect.fail('a gap must be an error');
        } catch (e) {
          expect(e).to.be.instanceOf(TraceFormatError);
          const steps = kept[firstGap]! - kept[firstGap - 1]! - 1;
          expect((e as TraceFormatError).line).to.equal(firstGap + 2);
          expect((e as Error).message).to.include(`: gap: ${steps} missing`);
        }
        const s = regularise(rows, { gapFill: 'linear', maxGapMs: n * stepMs }, hooks);
        expect(s.stepMs).to.equal(stepMs);
        expect(s.filledSteps).to.equal(missing);
        expect(s.rows).to.have.length(n);
        s.rows.forEach((r, k) => {
          expect(r.timeMs).to.equal(T0 + k * stepMs);
          expect(r.item).to.be.closeTo(k * 10, 1e-9); // linear through a linear series is exact
          expect(r.filled).to.equal(!kept.includes(k));
        });
        expect(s.gaps.reduce((a, g) => a + g.steps, 0)).to.equal(missing);
      }),
      { numRuns: 150 },
    );
  });

  it('a row moved off the grid is the one named, whatever the step', () => {
    fc.assert(
      fc.property(fc.integer({ min: 6, max: 60 }), fc.constantFrom(600_000, 3_600_000), fc.nat(), (n, stepMs, pick) => {
        const rows = rowsOf(
          Array.from({ length: n }, (_, k) => k),
          stepMs,
        );
        const i = 1 + (pick % (n - 2));
        rows[i]!.timeMs += stepMs / 2;
        try {
          regularise(rows, { gapFill: 'hold' }, hooks);
          expect.fail('off the grid must be an error');
        } catch (e) {
          expect((e as TraceFormatError).line).to.equal(i + 2);
          expect((e as Error).message).to.match(/off the trace's/);
        }
      }),
      { numRuns: 100 },
    );
  });
});
