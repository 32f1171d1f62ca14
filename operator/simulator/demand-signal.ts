// What every simulated policy sees of demand before a step, identical for all of them and identical to what the
// engine derives for carbonscale (decision/demand-forecast.ts `demandOutlook`, the one rule, ADR 0102):
//   current   = the rate measured over the previous step;
//   predicted = the same step one week earlier, scaled by the current level (current / the step before it a week
//               earlier) — seasonal-naive on the weekly cycle; the daily cycle when less than a week is known;
//   plan      = max(current, predicted): the rate replicas are sized for.
// The history starts with the pre-roll (the 8 days before the trace), so the weekly predictor works from step 0.
// Nothing here looks at the step's actual demand.
import { DEMAND_HISTORY_MS, demandOutlook } from '../decision/demand-forecast.ts';
import type { DemandPoint } from '../decision/types.ts';

export interface DemandView {
  current: Float64Array;
  predicted: Float64Array;
  plan: Float64Array;
  /** Steps in a day and in a week at this resolution. */
  day: number;
  week: number;
}

/** @param history measured demand per step, the pre-roll's `preSteps` points first, then one per trace step */
export function demandView(history: readonly DemandPoint[], preSteps: number, stepMs: number): DemandView {
  const n = history.length - preSteps;
  const day = Math.max(1, Math.round(86_400_000 / stepMs));
  const keep = Math.ceil(DEMAND_HISTORY_MS / stepMs) + 1;
  const current = new Float64Array(n);
  const predicted = new Float64Array(n);
  const plan = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    const end = preSteps + t;
    // Without any earlier measurement (no pre-roll), the first step's own rate stands in, as a warm start.
    const past = end > 0 ? history.slice(Math.max(0, end - keep), end) : [history[0]!];
    const start = history[end]!.timeMs;
    const o = demandOutlook(past, start, stepMs, start + stepMs);
    current[t] = o.currentRps;
    predicted[t] = o.predictedRps;
    plan[t] = Math.max(o.currentRps, o.predictedRps);
  }
  return { current, predicted, plan, day, week: 7 * day };
}
