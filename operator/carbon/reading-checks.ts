// What makes a reading usable, whatever provider produced it: the shared rules behind every provider's current(),
// forecast() and history() (applied by CheckedProvider, and again by the signal service).
//   - The current value is the latest point at or before now. A later point is a forecast and goes to forecast();
//     it is never taken because the current one is missing (currentIndex).
//   - An observation cannot be dated after now. Clocks differ a little (the operator's host and the provider's),
//     so a point up to CLOCK_SKEW_ALLOWANCE_MS ahead is accepted; anything later is refused as `future-time`. Ages
//     are computed on the injected clock and never negative (ageMs()).
//   - A reading names the region it was asked for, and its value is in range.
import { checkRange } from './payload.ts';
import { CarbonProviderError } from './provider-error.ts';
import type { CarbonReading } from './types.ts';

/**
 * How far ahead of our clock an observation may be dated: NTP keeps hosts within milliseconds, but a badly synced
 * host or provider can be minutes off (issue 15 tests a few minutes of skew). Five minutes tolerates that and is
 * still shorter than the finest interval any provider publishes (WattTime's 5-minute points).
 */
export const CLOCK_SKEW_ALLOWANCE_MS = 5 * 60_000;

const iso = (ms: number) => new Date(ms).toISOString();

function span(ms: number): string {
  const m = Math.round(ms / 60_000);
  return m < 120 ? `${m} min` : `${Math.round(m / 6) / 10} h`;
}

/** now − t, never negative (a point within the skew allowance has age 0). */
export function ageMs(now: number, timeMs: number): number {
  return Math.max(0, now - timeMs);
}

/**
 * Index of the current point among several: the latest at or before `now`, never a later one — not even one
 * within the clock-skew allowance, which would let a 5-minute forecast point pass for the current one (the skew
 * allowance is for a single observation dated a little ahead: checkObservation). Throws no-data naming the path.
 */
export function currentIndex(times: readonly number[], now: number, what: string, path: string): number {
  let best = -1;
  for (let i = 0; i < times.length; i++) if (times[i]! <= now && (best < 0 || times[i]! >= times[best]!)) best = i;
  if (best >= 0) return best;
  if (times.length === 0)
    throw new CarbonProviderError('no-data', `${what}: ${path}: no point in the answer`, { field: path });
  const first = Math.min(...times);
  throw new CarbonProviderError(
    'no-data',
    `${what}: ${path}: no point at or before now (${iso(now)}); the earliest starts ${iso(first)}, ${span(first - now)} ahead: a forecast point is not a current value`,
    { field: path },
  );
}

export interface CheckContext {
  what: string;
  region: string;
  now: number;
}

/** An observed value (current or history): right region, in range, not dated in the future. */
export function checkObservation(r: CarbonReading, c: CheckContext, path: string): CarbonReading {
  if (r.region !== c.region)
    throw new CarbonProviderError(
      'wrong-region',
      `${c.what}: ${path}.region: the reading is for '${r.region}', not for '${c.region}' as asked: not used`,
      { field: `${path}.region` },
    );
  checkRange(r.valueGPerKWh, c.what, `${path}.valueGPerKWh`);
  if (!Number.isFinite(r.timeMs))
    throw new CarbonProviderError('malformed', `${c.what}: ${path}.timeMs: not a time`, { field: `${path}.timeMs` });
  if (r.timeMs > c.now + CLOCK_SKEW_ALLOWANCE_MS)
    throw new CarbonProviderError(
      'future-time',
      `${c.what}: ${path}: observation dated ${iso(r.timeMs)}, ${span(r.timeMs - c.now)} after now (${iso(c.now)}); ` +
        `an observation cannot lie in the future (clock-skew allowance ${span(CLOCK_SKEW_ALLOWANCE_MS)}): not used`,
      { field: `${path}.timeMs` },
    );
  return r;
}

/** Forecast points: right region, in range, strictly ascending. */
export function checkForecast(points: readonly CarbonReading[], c: CheckContext): CarbonReading[] {
  points.forEach((p, i) => {
    const path = `forecast[${i}]`;
    if (p.region !== c.region)
      throw new CarbonProviderError(
        'wrong-region',
        `${c.what}: ${path}.region: the point is for '${p.region}', not for '${c.region}' as asked: not used`,
        { field: `${path}.region` },
      );
    checkRange(p.valueGPerKWh, c.what, `${path}.valueGPerKWh`);
    const prev = points[i - 1];
    if (!Number.isFinite(p.timeMs) || (prev && p.timeMs <= prev.timeMs))
      throw new CarbonProviderError(
        'malformed',
        `${c.what}: ${path}.timeMs: forecast points must be strictly ascending (${iso(p.timeMs)} follows ${prev ? iso(prev.timeMs) : 'nothing'})`,
        { field: `${path}.timeMs` },
      );
  });
  return [...points];
}

/** History: observations in [fromMs, toMs), ascending; a future point fails the whole answer. */
export function checkHistory(
  points: readonly CarbonReading[],
  c: CheckContext,
  fromMs: number,
  toMs: number,
): CarbonReading[] {
  points.forEach((p, i) => checkObservation(p, c, `history[${i}]`));
  return points.filter((p) => p.timeMs >= fromMs && p.timeMs < toMs).sort((a, b) => a.timeMs - b.timeMs);
}
