// Replays an hourly demand series (requests/s per hour), looping, for the embedded default and simulations.
// Hour i of the series is the hour starting at startMs + i h; the rate over a window is the time-weighted mean
// of the hours it overlaps, so windows that straddle an hour boundary are not biased to one side.
import { DemandError } from './demand-source.ts';
import type { DemandSample, DemandSource, DemandTarget } from './demand-source.ts';
import { parseDemandSeries } from '../traces/demand-series.ts';
import type { GapFill } from '../traces/time-series.ts';
import { TraceFormatError } from '../traces/trace-format-error.ts';

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

export interface HourlyCountsOptions {
  /** Scale the series so its mean becomes this, requests/s. */
  meanRequestsPerSecond?: number;
  /** Names the file in errors (default 'demand trace'). */
  file?: string;
  /** Gaps: 'none' (default) rejects them; 'hold' / 'linear' fill them (see operator/traces/time-series.ts). */
  gapFill?: GapFill;
  /** Longest gap filled, ms (default 6 h). */
  maxGapMs?: number;
}

/**
 * Reads one count column of a demand CSV (data/demand/*.csv: `day,hour,…`, `t_start_s,…`, `day,time_of_day,…`)
 * with the shared trace reader (gaps, step and duplicates checked; errors name the file, line, column and value)
 * and returns requests/s per consecutive hour, optionally scaled so the series' mean becomes
 * `meanRequestsPerSecond`. A trace finer than an hour is summed into whole hours.
 */
export function hourlyCountsToRps(csv: string, column: string, opts: HourlyCountsOptions = {}): number[] {
  const file = opts.file ?? 'demand trace';
  let series;
  try {
    series = parseDemandSeries(csv, file, {
      column,
      ...(opts.gapFill !== undefined ? { gapFill: opts.gapFill } : {}),
      ...(opts.maxGapMs !== undefined ? { maxGapMs: opts.maxGapMs } : {}),
    });
  } catch (e) {
    if (e instanceof TraceFormatError) throw new DemandError(e.line === undefined ? 'config' : 'bad_data', e.message);
    throw e;
  }
  const { stepMs, points } = series;
  if (HOUR_MS % stepMs !== 0)
    throw new DemandError('bad_data', `${file}: the trace's step of ${stepMs / 60_000} min does not divide an hour`);
  const per = HOUR_MS / stepMs;
  const first = points[0]!;
  const last = points.at(-1)!;
  if (first.timeMs % HOUR_MS !== 0 || points.length % per !== 0)
    throw new DemandError(
      'bad_data',
      `${file}: lines ${first.at.line}..${last.at.line} do not cover whole hours (${points.length} steps of ` +
        `${stepMs / 60_000} min from minute ${(first.timeMs % HOUR_MS) / 60_000} of an hour)`,
    );
  const rps: number[] = [];
  for (let i = 0; i < points.length; i += per) {
    let n = 0;
    for (let j = i; j < i + per; j++) n += points[j]!.count;
    rps.push(n / 3600);
  }
  if (opts.meanRequestsPerSecond !== undefined) {
    const mean = rps.reduce((a, b) => a + b, 0) / rps.length;
    if (mean === 0) throw new DemandError('bad_data', `${file}: column ${column} is all zeros; cannot scale to a mean`);
    return rps.map((v) => (v * opts.meanRequestsPerSecond!) / mean);
  }
  return rps;
}
