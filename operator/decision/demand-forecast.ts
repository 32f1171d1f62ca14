// The demand outlook the engine hands decide(): the current rate, the prediction for the interval being planned
// and the rest of the budget window, all derived from the service's measured demand history by ONE rule, so the
// operator (history kept per service) and the simulator (history replayed from a trace) predict the same way.
// ADR 0102 says why this rule, how much history it needs (DEMAND_HISTORY_MS) and how it degrades with less.
//
// Seasonal-naive on the weekly cycle, scaled to today's level:
//   current   c  = the latest measured point (the last completed interval)
//   scale     s  = c / h(t_c − L)                 (1 when that reference is 0 or unknown)
//   demand(t)    = h(t − L) × s                   for the interval being planned and every later one
// with lag L = one week when the history reaches back a week (plus one interval), else one day (the daily
// shape, repeated as often as needed), else none: a flat forecast at the current rate (persistence).
import type { DemandPoint } from './types.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;

/** How far back the outlook ever looks (ADR 0102): a week and a day for the weekly rule and the measurement of its
 *  error over the last day, plus an hour so that one more interval (of up to an hour) is always there: keep every
 *  point younger than this. Older points are ignored. */
export const DEMAND_HISTORY_MS = WEEK_MS + DAY_MS + HOUR_MS;

export type DemandBasis = 'week' | 'day' | 'current' | 'none';

export interface DemandOutlook {
  /** The latest measured rate, requests/s (0 without history). */
  currentRps: number;
  /** Expected mean rate over the interval being planned, requests/s. */
  predictedRps: number;
  /** Expected rate per later interval up to `untilMs`, ascending, equal intervals in a row as one point with its
   *  `untilMs` (empty with basis 'current' or 'none'). */
  forecast: DemandPoint[];
  /** Which rule made it: the weekly or daily seasonal-naive, persistence of the current rate, or no history. */
  basis: DemandBasis;
}

/**
 * Rate of the latest point at or before `t`, if it is less than `maxSpanMs` old at `t` (a point holds for its
 * interval; a longer gap means nothing was measured then). `points` ascending by time.
 */
export function rateAt(points: readonly DemandPoint[], t: number, maxSpanMs: number): number | undefined {
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
  return t - p.timeMs < maxSpanMs ? p.rps : undefined;
}

/** A history point's reach: its interval, or an hour when the caller keeps hourly buckets of older data. */
export function pointSpanMs(intervalMs: number): number {
  return Math.max(intervalMs, HOUR_MS);
}

/**
 * The outlook for the interval starting at `intervalStartMs` and every later interval before `untilMs`.
 * @param history measured mean rates, one point per interval (timeMs = the interval's start), ascending, all
 *   before `intervalStartMs`
 */
export function demandOutlook(
  history: readonly DemandPoint[],
  intervalStartMs: number,
  intervalMs: number,
  untilMs: number,
): DemandOutlook {
  const last = history[history.length - 1];
  if (!last) return { currentRps: 0, predictedRps: 0, forecast: [], basis: 'none' };
  const span = pointSpanMs(intervalMs);
  const current = last.rps;
  for (const lag of [WEEK_MS, DAY_MS]) {
    const ref = rateAt(history, last.timeMs - lag, span);
    const same = seasonalAt(history, intervalStartMs, lag, last.timeMs, span);
    if (ref === undefined || same === undefined) continue;
    const scale = ref > 0 ? current / ref : 1;
    const forecast: DemandPoint[] = [];
    for (let t = intervalStartMs + intervalMs; t < untilMs; t += intervalMs) {
      const h = seasonalAt(history, t, lag, last.timeMs, span);
      // A gap in the history leaves a gap in the forecast: decide() then counts the predicted rate there.
      if (h === undefined) continue;
      const rps = h * scale;
      // Intervals that read the same history point give the same rate: one point holds them all (a run).
      const run = forecast[forecast.length - 1];
      if (run && run.untilMs === t && run.rps === rps) run.untilMs = t + intervalMs;
      else forecast.push({ timeMs: t, rps, untilMs: t + intervalMs });
    }
    return { currentRps: current, predictedRps: same * scale, forecast, basis: lag === WEEK_MS ? 'week' : 'day' };
  }
  return { currentRps: current, predictedRps: current, forecast: [], basis: 'current' };
}

/** h(t − m·lag) for the smallest m ≥ 1 that lands at or before the latest point (the cycle repeated forward). */
function seasonalAt(
  history: readonly DemandPoint[],
  t: number,
  lag: number,
  lastMs: number,
  span: number,
): number | undefined {
  const m = Math.max(1, Math.ceil((t - lastMs) / lag));
  return rateAt(history, t - m * lag, span);
}

/**
 * Requests expected from `fromMs` to `toMs`: the predicted rate until `firstEndMs` (the end of the interval being
 * planned), then each forecast point over its interval (or to its `untilMs`), and the predicted rate wherever no
 * point covers.
 */
export function expectedRequests(
  predictedRps: number,
  forecast: readonly DemandPoint[] | undefined,
  fromMs: number,
  firstEndMs: number,
  toMs: number,
  intervalMs: number,
): number {
  if (!(toMs > fromMs)) return 0;
  const headEnd = Math.max(fromMs, Math.min(firstEndMs, toMs));
  let sum = (headEnd - fromMs) * predictedRps;
  let covered = headEnd;
  for (const p of forecast ?? []) {
    const a = Math.max(p.timeMs, covered);
    const b = Math.min(p.untilMs ?? p.timeMs + intervalMs, toMs);
    if (b <= a) continue;
    sum += (a - covered) * predictedRps + (b - a) * p.rps;
    covered = b;
  }
  if (toMs > covered) sum += (toMs - covered) * predictedRps;
  return sum / 1000;
}

/**
 * How much the outlook's rule over-forecast the last day, measured on the history: the requests it would have
 * predicted 24 h ago for the 24 h up to the latest point (same lag, scaled to the level it saw then), against those
 * measured, as a share of the prediction; 0 when it under-forecast (more demand never overruns a budget). 1 when
 * the history is too short to measure it (the policy then counts no future demand). The budget counts the rest of
 * the window's forecast at (1 − this) of its value (ADR 0103).
 */
export function overForecastShare(history: readonly DemandPoint[], intervalMs: number, basis: DemandBasis): number {
  const lag = basis === 'week' ? WEEK_MS : basis === 'day' ? DAY_MS : undefined;
  const last = history[history.length - 1];
  if (lag === undefined || !last) return 1;
  const span = pointSpanMs(intervalMs);
  const end = last.timeMs + intervalMs;
  const from = end - DAY_MS;
  const level = rateAt(history, from - intervalMs, span);
  const ref = rateAt(history, from - intervalMs - lag, span);
  if (level === undefined || ref === undefined) return 1;
  const scale = ref > 0 ? level / ref : 1;
  let predicted = 0;
  let measured = 0;
  for (let t = from; t < end; t += intervalMs) {
    const h = rateAt(history, t - lag, span);
    const m = rateAt(history, t, span);
    if (h === undefined || m === undefined) return 1;
    predicted += h * scale;
    measured += m;
  }
  if (!(predicted > 0)) return measured > 0 ? 0 : 1;
  return Math.min(1, Math.max(0, (predicted - measured) / predicted));
}

/**
 * How much the outlook's rule under-forecast single intervals over the last day, measured on the history: each
 * interval predicted as the engine would have at its start (same lag, scaled by the interval before it); the worst
 * shortfall, as a share of its prediction (clamped to 1). 0 for an exact predictor; 1 when the history is too short
 * to measure it. A degraded interval is budgeted at its expected requests × (1 + this): a burst while degraded is
 * what pushes a window over its budget, and the worst one seen is the assumption-free margin (ADR 0103).
 */
export function underForecastShare(history: readonly DemandPoint[], intervalMs: number, basis: DemandBasis): number {
  const lag = basis === 'week' ? WEEK_MS : basis === 'day' ? DAY_MS : undefined;
  const last = history[history.length - 1];
  if (lag === undefined || !last) return 1;
  const span = pointSpanMs(intervalMs);
  let predicted = 0;
  let worst = 0;
  for (let t = last.timeMs + intervalMs - DAY_MS; t <= last.timeMs; t += intervalMs) {
    const m = rateAt(history, t, span);
    const level = rateAt(history, t - intervalMs, span);
    const ref = rateAt(history, t - intervalMs - lag, span);
    const same = rateAt(history, t - lag, span);
    if (m === undefined || level === undefined || ref === undefined || same === undefined) return 1;
    const p = same * (ref > 0 ? level / ref : 1);
    predicted += p;
    if (m > p) worst = Math.max(worst, p > 0 ? (m - p) / p : 1);
  }
  if (!(predicted > 0)) return worst > 0 ? 1 : 0;
  return Math.min(1, worst);
}
