// The policy's view of the carbon signal: the forecast it ranks by (the provider's, extended or replaced by the
// history-based fallback) and whether now is a high-carbon hour (which unlocks the relaxed latency ceiling).
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

/** High-carbon hour: at or above the mean of the last 24 h of measurements; with under 12 of them, at or above the
 *  median of a provider forecast for the next 24 h; with neither, not high-carbon (the strict ceiling holds). */
export function isHighCarbon(
  input: DecisionInput,
  now: number,
  I: number,
  providerForecast: IntensityPoint[],
): boolean {
  const history = input.carbon.history ?? [];
  let sum = I;
  let n = 1;
  for (let i = history.length - 1; i >= 0; i--) {
    const p = history[i]!;
    if (p.timeMs >= now) continue;
    if (p.timeMs < now - DAY_MS + 1) break;
    sum += p.valueGPerKWh;
    n++;
  }
  // Relative tolerance: a flat series must count as "at the mean" whatever the summation order.
  if (n >= 12) return I >= (sum / n) * (1 - 1e-9);
  const next = providerForecast.filter((p) => p.timeMs <= now + DAY_MS).map((p) => p.valueGPerKWh);
  if (next.length === 0) return false;
  next.sort((a, b) => a - b);
  return I >= next[Math.floor(next.length / 2)]!;
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
