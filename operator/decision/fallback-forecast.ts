// The forecast eco falls back on when the carbon provider gives none: "the usual day, shifted by today's level".
// For a target time t = now + k·step:
//   p(t) = mean of y(t − d·24 h) over the last d = 1..7 days that history holds   (the daily profile)
//   f(t) = p(t) + (now − p(now)) × exp(−(t − now) / τ),   τ = 24 h
// i.e. the recent days' average shape, with today's offset from it fading as the lead time grows (persistence for
// the next hours, the profile further out). Beyond 24 h the forecast repeats itself a day later. With one day of
// history it is yesterday's shape; without one, persistence (f = now). The form and τ were chosen by the 24-h MAE
// on the GB 2023 trace alone (1, 2 or 7 days × τ of 3, 6, 12, 24, 48 h, ∞) and checked on the other four shipped
// traces, held out (ADR 0103; the errors are in docs/results.md).
import type { IntensityPoint } from './types.ts';

export const DAY_MS = 86_400_000;
export const FALLBACK_DECAY_MS = 24 * 3_600_000;
/** Days of history the profile averages over (the policy uses CARBON_HISTORY_MS of history). */
export const FALLBACK_PROFILE_DAYS = 7;
/** Measured intensity history the policy uses: the profile's 7 days and one more for the offset at 24 h lead. */
export const CARBON_HISTORY_MS = (FALLBACK_PROFILE_DAYS + 1) * DAY_MS;

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

/** The daily profile at `t`: the mean of the same time of day over the last 1..7 days before `beforeMs` that the
 *  history holds (undefined when it holds none). */
function profileAt(history: readonly IntensityPoint[], t: number, beforeMs: number, tol: number): number | undefined {
  let sum = 0;
  let n = 0;
  for (let d = 1; d <= FALLBACK_PROFILE_DAYS; d++) {
    const at = t - d * DAY_MS;
    if (at >= beforeMs) continue;
    const v = valueAt(history, at, tol);
    if (v !== undefined) {
      sum += v;
      n++;
    }
  }
  return n > 0 ? sum / n : undefined;
}

/**
 * Builds a forecast for the `horizonMs` after `nowMs` at `stepMs` resolution from measured history.
 * @param history ascending measured points (up to CARBON_HISTORY_MS; at least the last 24 h for a daily shape)
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
  const pNow = profileAt(history, nowMs, nowMs, tol);
  const offset = pNow === undefined ? 0 : nowGPerKWh - pNow;
  const n = Math.floor(horizonMs / stepMs);
  const perDay = Math.round(DAY_MS / stepMs);
  for (let k = 1; k <= n; k++) {
    const t = nowMs + k * stepMs;
    const lead = t - nowMs;
    let v: number;
    if (lead <= DAY_MS) {
      // The profile from measured days only (at lead 24 h, a day back from t is now itself, not history).
      const base = profileAt(history, t, nowMs, tol);
      v = base === undefined || pNow === undefined ? nowGPerKWh : base + offset * Math.exp(-lead / FALLBACK_DECAY_MS);
    } else v = out[k - 1 - perDay]?.valueGPerKWh ?? nowGPerKWh;
    out.push({ timeMs: t, valueGPerKWh: v < 0 ? 0 : v });
  }
  return out;
}
