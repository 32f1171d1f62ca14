// The policy's view of the carbon signal: the forecast it ranks by (the provider's, extended or replaced by the
// history-based fallback) and whether now is a high-carbon hour (which unlocks the relaxed latency ceiling; the
// reason names the line when eco spends budget below it).
import { budgetWindowMs } from './budget-window.ts';
import { MS_PER_HOUR } from './energy-model.ts';
import { buildFallbackForecast, DAY_MS } from './fallback-forecast.ts';
import type { DecisionInput, IntensityPoint } from './types.ts';

export interface CarbonView {
  /** Future points (after now), hourly where built, reaching at least a day or the budget window. */
  forecast: IntensityPoint[];
  /** The forecast was built from history (no provider forecast, or the carbon layer said so). */
  fallback: boolean;
}

/** The given forecast (future points only), extended or replaced by the history-based fallback. */
export function carbonView(input: DecisionInput, now: number): CarbonView {
  const given = (input.carbon.forecast ?? []).filter((p) => p.timeMs > now);
  const history = input.carbon.history ?? [];
  const I = input.carbon.nowGPerKWh!;
  const step = MS_PER_HOUR;
  const budget = input.slo.degradationBudget;
  // Look as far as the budget window can reach (a day, or up to a week), and at least a day (the plan's horizon).
  const horizon = Math.max(DAY_MS, budget ? budgetWindowMs(budget.window) : DAY_MS);
  const flagged = input.carbon.forecastIsFallback === true;
  if (given.length === 0) return { forecast: buildFallbackForecast(history, now, I, horizon, step), fallback: true };
  const last = given[given.length - 1]!;
  if (last.timeMs >= now + horizon - step) return { forecast: given, fallback: flagged };
  const ext = buildFallbackForecast(
    history.concat(given),
    last.timeMs,
    last.valueGPerKWh,
    now + horizon - last.timeMs,
    step,
  );
  return { forecast: given.concat(ext), fallback: flagged };
}

/** How an intensity compares with the high-carbon line, and what it was compared with (for the reason's words). */
export interface CarbonLevel {
  high: boolean;
  /** 'mean': the mean of the last 24 h of values; 'median': the median of the provider forecast's next 24 h; 'none':
   *  neither was available (never high-carbon). */
  basis: 'mean' | 'median' | 'none';
  /** The value compared with, gCO2eq/kWh (absent for 'none'). */
  reference?: number;
}

/**
 * The one high-carbon test (the relaxed latency ceiling's hours): intensity `I` at time `t` is high-carbon when at
 * or above the mean of `I` and the values of the 24 h before `t` in `before` (ascending; the measured history);
 * with under 12 of them, at or above the median of the provider forecast for the 24 h after `t`; with neither, not
 * high-carbon (the strict ceiling holds). Takes a time, not "now", so a later time can be judged on the values the
 * policy has for it.
 */
export function carbonLevel(
  before: readonly IntensityPoint[],
  t: number,
  I: number,
  providerForecast: readonly IntensityPoint[],
): CarbonLevel {
  let sum = I;
  let n = 1;
  for (let i = lastBefore(before, t); i >= 0; i--) {
    const p = before[i]!;
    if (p.timeMs < t - DAY_MS + 1) break;
    sum += p.valueGPerKWh;
    n++;
  }
  // Relative tolerance: a flat series must count as "at the mean" whatever the summation order.
  if (n >= 12) return { high: I >= (sum / n) * (1 - 1e-9), basis: 'mean', reference: sum / n };
  const next: number[] = [];
  for (const p of providerForecast) if (p.timeMs > t && p.timeMs <= t + DAY_MS) next.push(p.valueGPerKWh);
  if (next.length === 0) return { high: false, basis: 'none' };
  next.sort((a, b) => a - b);
  const median = next[Math.floor(next.length / 2)]!;
  return { high: I >= median, basis: 'median', reference: median };
}

/** Index of the last point strictly before t (−1 if none). */
function lastBefore(points: readonly IntensityPoint[], t: number): number {
  let lo = 0;
  let hi = points.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (points[mid]!.timeMs < t) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** Time-weighted mean intensity over [a, b): each point holds until the next (the last for an hour); where no
 *  point covers, `fallback` (the current intensity: persistence). */
export function meanIntensity(points: readonly IntensityPoint[], a: number, b: number, fallback: number): number {
  if (!(b > a)) return fallback;
  let sum = 0;
  let covered = a;
  for (let i = firstEnding(points, a); i < points.length; i++) {
    const p = points[i]!;
    if (p.timeMs >= b) break;
    const end = Math.min(points[i + 1]?.timeMs ?? p.timeMs + MS_PER_HOUR, b);
    const from = Math.max(p.timeMs, covered);
    if (end <= from) continue;
    sum += (from - covered) * fallback + (end - from) * p.valueGPerKWh;
    covered = end;
  }
  sum += (b - covered) * fallback;
  return sum / (b - a);
}

/** Index of the last point at or before t (0 if none): where a walk over [t, …) starts. */
function firstEnding(points: readonly IntensityPoint[], t: number): number {
  let lo = 0;
  let hi = points.length - 1;
  let found = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (points[mid]!.timeMs <= t) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}
