// What every simulated policy sees of demand before a step, identical for all of them:
//   current   = the rate measured over the previous step;
//   predicted = the same step one week earlier, scaled by the current level (current / the step before it a week
//               earlier) — seasonal-naive on the weekly cycle; the daily cycle when less than a week is known;
//   plan      = max(current, predicted): the rate replicas are sized for.
// `preRoll` is the demand before the first step (the 8 days before the trace starts), so the weekly predictor works from step 0.
// Nothing here looks at the step's actual demand.
export interface DemandView {
  current: Float64Array;
  predicted: Float64Array;
  plan: Float64Array;
  /** Steps in a day and in a week at this resolution. */
  day: number;
  week: number;
}

export function demandView(actual: Float64Array, stepMs: number, preRoll?: Float64Array): DemandView {
  const n = actual.length;
  const day = Math.max(1, Math.round(86_400_000 / stepMs));
  const week = 7 * day;
  const pre = preRoll ?? new Float64Array(0);
  const P = pre.length;
  // a(i) for i ≥ -P: demand `i` steps from the first step.
  const a = (i: number): number | undefined => (i >= 0 ? actual[i] : i >= -P ? pre[P + i] : undefined);
  const current = new Float64Array(n);
  const predicted = new Float64Array(n);
  const plan = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    const cur = a(t - 1) ?? actual[0]!;
    let pred = cur;
    for (const lag of [week, day]) {
      const same = a(t - lag);
      const ref = a(t - 1 - lag);
      if (same !== undefined && ref !== undefined) {
        pred = same * (ref > 0 ? cur / ref : 1);
        break;
      }
    }
    current[t] = cur;
    predicted[t] = pred;
    plan[t] = Math.max(cur, pred);
  }
  return { current, predicted, plan, day, week };
}
