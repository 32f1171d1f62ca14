// The forecast eco falls back on when the carbon provider gives none: "same hour yesterday, shifted by today's
// level". For a target time t = now + k·step:
//   f(t) = y(t − 24 h) + (now − y(now − 24 h)) × exp(−(t − now) / τ),   τ = 6 h
// i.e. yesterday's daily shape, with today's offset from yesterday decaying as the lead time grows (persistence
// for the next hours, the daily pattern further out). Beyond 24 h the forecast reuses itself a day earlier.
// Without a day of history it degrades to persistence (f = now). Its error on the shipped traces is in
// docs/results.md.
import type { IntensityPoint } from './types.ts';

export const DAY_MS = 86_400_000;
export const FALLBACK_DECAY_MS = 6 * 3_600_000;

/** Value of the last point at or before `t` within `toleranceMs`, or undefined. `points` ascending. */
export function valueAt(points: readonly IntensityPoint[], t: number, toleranceMs: number): number | undefined {
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
  if (found < 0) return undefined;
  const p = points[found]!;
  return t - p.timeMs <= toleranceMs ? p.valueGPerKWh : undefined;
}

/**
 * Builds a forecast for the `horizonMs` after `nowMs` at `stepMs` resolution from measured history.
 * @param history ascending measured points (at least the last 24 h for the daily shape)
 * @param nowGPerKWh the current intensity, gCO2eq/kWh
 */
export function buildFallbackForecast(
  history: readonly IntensityPoint[],
  nowMs: number,
  nowGPerKWh: number,
  horizonMs: number,
  stepMs: number,
): IntensityPoint[] {
  const out: IntensityPoint[] = [];
  if (!(stepMs > 0) || !(horizonMs > 0)) return out;
  const tol = stepMs;
  const yNow = valueAt(history, nowMs - DAY_MS, tol);
  const offset = yNow === undefined ? 0 : nowGPerKWh - yNow;
  const n = Math.floor(horizonMs / stepMs);
  for (let k = 1; k <= n; k++) {
    const t = nowMs + k * stepMs;
    const lead = t - nowMs;
    let base: number | undefined;
    // A day back from t is at or after now only at lead = 24 h: that value is the current one, not history.
    if (lead <= DAY_MS) base = t - DAY_MS >= nowMs ? nowGPerKWh : valueAt(history, t - DAY_MS, tol);
    else {
      // Reuse the forecast one day earlier (its index is k − DAY/step).
      const back = out[k - 1 - Math.round(DAY_MS / stepMs)];
      base = back?.valueGPerKWh;
    }
    const v =
      base === undefined || yNow === undefined
        ? nowGPerKWh
        : lead <= DAY_MS
          ? base + offset * Math.exp(-lead / FALLBACK_DECAY_MS)
          : base;
    out.push({ timeMs: t, valueGPerKWh: v < 0 ? 0 : v });
  }
  return out;
}
