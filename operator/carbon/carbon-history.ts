// Measured carbon intensity per (source, region), kept by the signal service for the policy's fallback forecast
// (the daily profile of the last 7 days and today's offset: decision/fallback-forecast.ts). Ascending, one point per distinct data time,
// only real provider values (never a fail-safe assumption), seeded from the provider's history() and persisted
// through a port so a restart keeps it (docs/adr/0405-carbon-history-in-the-signal-service.md). Pure apart from the
// port, which the controller implements (e.g. with a ConfigMap per pair, written by the leader).
import { CARBON_HISTORY_MS } from '../decision/fallback-forecast.ts';
import type { IntensityPoint } from '../decision/types.ts';
import { MAX_INTENSITY_G_PER_KWH } from './trace-file.ts';
import { CLOCK_SKEW_ALLOWANCE_MS } from './reading-checks.ts';

export type { IntensityPoint } from '../decision/types.ts';

/** The depth the policy uses (8 days): the operator keeps exactly what the simulator replays with, so the fallback
 *  forecast is the same in both (at 5-minute data, 2,304 points, about 80 KB in the store's ConfigMap). */
export const HISTORY_DEPTH_MS = CARBON_HISTORY_MS;

/** Where the signal service keeps history across restarts. Implemented outside carbon/ (Kubernetes I/O is kube/'s). */
export interface CarbonHistoryStore {
  /** What was saved for the pair, ascending; [] when nothing was. Called once per pair, before its first poll. */
  load(source: string, region: string): Promise<readonly IntensityPoint[]>;
  /**
   * Replaces what is saved for the pair with `points` (ascending, at most HISTORY_DEPTH_MS deep). Called after a
   * poll that changed the history; calls for one pair never overlap (each waits for the previous one).
   */
  save(source: string, region: string, points: readonly IntensityPoint[]): Promise<void>;
}

/** Why a stored or seeded point was not taken: the store is outside our control and is checked like a provider. */
export function pointProblem(p: unknown, now: number): string | undefined {
  if (typeof p !== 'object' || p === null) return 'not an object';
  const { timeMs, valueGPerKWh } = p as Record<string, unknown>;
  if (typeof timeMs !== 'number' || !Number.isFinite(timeMs)) return `timeMs ${String(timeMs)} is not a time`;
  if (timeMs > now + CLOCK_SKEW_ALLOWANCE_MS) return `timeMs ${new Date(timeMs).toISOString()} lies in the future`;
  if (typeof valueGPerKWh !== 'number' || !Number.isFinite(valueGPerKWh))
    return `valueGPerKWh ${String(valueGPerKWh)} is not a number`;
  if (valueGPerKWh < 0 || valueGPerKWh > MAX_INTENSITY_G_PER_KWH)
    return `valueGPerKWh ${valueGPerKWh} is outside 0–${MAX_INTENSITY_G_PER_KWH} gCO2eq/kWh`;
  return undefined;
}

/** One pair's series. */
export class HistorySeries {
  #points: IntensityPoint[] = [];
  readonly #depthMs: number;

  constructor(depthMs = HISTORY_DEPTH_MS) {
    this.#depthMs = depthMs;
  }

  /**
   * Adds points (any order); a data time already held keeps its first value. Returns whether anything changed.
   * Points older than the depth at `now` are dropped; so are points that fail pointProblem (counted by the caller).
   */
  merge(points: readonly IntensityPoint[], now: number): boolean {
    const before = this.#points;
    const byTime = new Map(before.map((p) => [p.timeMs, p]));
    for (const p of points)
      if (pointProblem(p, now) === undefined && !byTime.has(p.timeMs))
        byTime.set(p.timeMs, { timeMs: p.timeMs, valueGPerKWh: p.valueGPerKWh });
    this.#points = [...byTime.values()]
      .filter((p) => p.timeMs >= now - this.#depthMs)
      .sort((a, b) => a.timeMs - b.timeMs);
    return this.#points.length !== before.length || this.#points.some((p, i) => p !== before[i]);
  }

  /** Ascending points within the depth at `now` (a copy). */
  at(now: number): IntensityPoint[] {
    return this.#points.filter((p) => p.timeMs >= now - this.#depthMs && p.timeMs <= now + CLOCK_SKEW_ALLOWANCE_MS);
  }

  clear(): void {
    this.#points = [];
  }
}
