// The degradation budget's books and the one definition of "budget used" (ADR 0101). The engine books requests
// here before every decision; the reason text, the status, the metric and the audit column all show budgetUsed()
// of these books, so they cannot disagree.
import { budgetWindowMs, windowStartFor } from './budget-window.ts';
import type { BudgetState, DemandPoint } from './types.ts';

/** Empty books for the window holding `now`. */
export function emptyBudget(now: number, window: 'day' | 'week'): BudgetState {
  return { windowStartMs: windowStartFor(now, window), servedTotal: 0, servedDegraded: 0 };
}

/**
 * Books the requests served from `fromMs` to `toMs` into `budget` (a new object; the input is not changed).
 * Rates come from the demand history (the point covering each moment; past the last point, the last point's
 * rate: the workload kept serving while nobody measured). Requests count as degraded when `degraded` (the
 * standing plan ran a variant other than the full one). Requests of a window that has closed are dropped with
 * it: the books roll to the window holding `toMs` (windowStartFor, the one window rule).
 */
export function bookRequests(
  budget: BudgetState,
  window: 'day' | 'week',
  history: readonly DemandPoint[],
  fromMs: number,
  toMs: number,
  degraded: boolean,
): BudgetState {
  const start = windowStartFor(toMs, window);
  const out: BudgetState =
    start === budget.windowStartMs ? { ...budget } : { windowStartMs: start, servedTotal: 0, servedDegraded: 0 };
  const a0 = Math.max(fromMs, start);
  if (!(toMs > a0)) return out;
  const requests = requestsServed(history, a0, toMs);
  out.servedTotal += requests;
  if (degraded) out.servedDegraded += requests;
  return out;
}

/** Requests served over [a, b) by the measured rates: each point's rate holds until the next point (through a gap
 *  in the measurements too: the workload kept serving), the last one until b; before the first point, its rate. */
export function requestsServed(history: readonly DemandPoint[], a: number, b: number): number {
  if (history.length === 0 || !(b > a)) return 0;
  let sum = 0;
  let t = a;
  for (let i = Math.max(0, indexAtOrBefore(history, a)); t < b && i < history.length; i++) {
    const next = history[i + 1];
    const end = next ? Math.min(next.timeMs, b) : b;
    if (end > t) {
      sum += (end - t) * history[i]!.rps;
      t = end;
    }
  }
  return sum / 1000;
}

function indexAtOrBefore(points: readonly DemandPoint[], t: number): number {
  let lo = 0;
  let hi = points.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (points[mid]!.timeMs <= t) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/**
 * "Budget used": degraded requests so far as a fraction of the window's allowance, the allowance being `fraction`
 * of the requests the window will hold: those served so far plus `expectedRestRequests` (the demand outlook for
 * the rest of the window). Estimated until the window closes; exact at its end, where the rest is 0. 0 without a
 * budget; 1 when something was degraded against an allowance of nothing.
 */
export function budgetUsed(budget: BudgetState, fraction: number, expectedRestRequests: number): number {
  if (!(fraction > 0)) return 0;
  const allowance = fraction * (budget.servedTotal + Math.max(0, expectedRestRequests));
  if (allowance <= 0) return budget.servedDegraded > 0 ? 1 : 0;
  return budget.servedDegraded / allowance;
}

/** End of the window that starts at `windowStartMs`. */
export function windowEndFor(windowStartMs: number, window: 'day' | 'week'): number {
  return windowStartMs + budgetWindowMs(window);
}
