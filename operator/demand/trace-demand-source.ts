// Replays an hourly demand series (requests/s per hour), looping, for the embedded default and simulations.
// Hour i of the series is the hour starting at startMs + i h; the rate over a window is the time-weighted mean
// of the hours it overlaps, so windows that straddle an hour boundary are not biased to one side.
import { DemandError } from './demand-source.ts';
import type { DemandSample, DemandSource, DemandTarget } from './demand-source.ts';

const HOUR_MS = 3_600_000;

export interface TraceDemandOptions {
  /** Requests per second for each consecutive hour. */
  hourlyRequestsPerSecond: number[];
  /** Epoch ms at which hour 0 starts. */
  startMs: number;
  /** Names the trace in DemandSample.source ('trace:<label>'). */
  label: string;
  inferencesPerRequest?: number;
}

export class TraceDemandSource implements DemandSource {
  private readonly opts: TraceDemandOptions;

  constructor(opts: TraceDemandOptions) {
    const s = opts.hourlyRequestsPerSecond;
    if (!Array.isArray(s) || s.length === 0) {
      throw new DemandError('config', 'hourlyRequestsPerSecond: expected a non-empty list');
    }
    s.forEach((v, i) => {
      if (!(Number.isFinite(v) && v >= 0)) {
        throw new DemandError('config', `hourlyRequestsPerSecond[${i}]: expected a finite number >= 0, got ${v}`);
      }
    });
    if (!Number.isFinite(opts.startMs))
      throw new DemandError('config', `startMs: expected epoch ms, got ${opts.startMs}`);
    this.opts = opts;
  }

  /** Requests/s in the hour containing `ms`. */
  rateAt(ms: number): number {
    const s = this.opts.hourlyRequestsPerSecond;
    const h = Math.floor((ms - this.opts.startMs) / HOUR_MS);
    return s[((h % s.length) + s.length) % s.length]!;
  }

  async demand(_target: DemandTarget, windowMs: number, nowMs: number): Promise<DemandSample> {
    if (!(windowMs > 0)) throw new DemandError('config', `windowMs: expected > 0, got ${windowMs}`);
    const from = nowMs - windowMs;
    let weighted = 0;
    for (let t = from; t < nowMs;) {
      const next = Math.min(nowMs, this.opts.startMs + (Math.floor((t - this.opts.startMs) / HOUR_MS) + 1) * HOUR_MS);
      weighted += this.rateAt(t) * (next - t);
      t = next;
    }
    const rps = weighted / windowMs;
    return {
      requestsPerSecond: rps,
      inferencesPerSecond: rps * (this.opts.inferencesPerRequest ?? 1),
      servedByVariant: {},
      windowMs,
      source: `trace:${this.opts.label}`,
      sampledAtMs: nowMs,
      basis: 'assumed',
      warnings: [],
    };
  }
}

/**
 * Reads one column of an hourly CSV of request counts (e.g. data/demand/*_hourly.csv: `day,hour,...,<column>`)
 * and returns requests/s per hour, optionally scaled so the series' mean becomes `meanRequestsPerSecond`.
 */
export function hourlyCountsToRps(
  csv: string,
  column: string,
  opts: { meanRequestsPerSecond?: number } = {},
): number[] {
  const lines = csv.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = (lines[0] ?? '').split(',').map((h) => h.trim());
  const col = header.indexOf(column);
  if (col < 0)
    throw new DemandError('config', `column ${JSON.stringify(column)} not in CSV header (${header.join(', ')})`);
  const rps = lines.slice(1).map((l, i) => {
    const v = Number(l.split(',')[col]);
    if (!Number.isFinite(v) || v < 0) {
      throw new DemandError(
        'bad_data',
        `CSV line ${i + 2}, column ${column}: expected a count >= 0, got ${l.split(',')[col]}`,
      );
    }
    return v / 3600;
  });
  if (rps.length === 0) throw new DemandError('bad_data', 'CSV has no data rows');
  if (opts.meanRequestsPerSecond !== undefined) {
    const mean = rps.reduce((a, b) => a + b, 0) / rps.length;
    if (mean === 0) throw new DemandError('bad_data', `column ${column} is all zeros; cannot scale to a mean`);
    return rps.map((v) => (v * opts.meanRequestsPerSecond!) / mean);
  }
  return rps;
}
