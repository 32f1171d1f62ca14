// Replays a real carbon trace as if it were live. Real time maps to trace time as
//   traceTime = traceStart + ((now − anchor + offset) × speedup) mod traceSpan
// so the replay wraps around the end of the trace. The anchor defaults to the start of the current UTC year:
// with speedup 1 a 2023 hourly trace then plays the same hour of the year, and an operator restart resumes where
// it was (no state). Readings carry real-time timestamps (so ages and staleness work) plus `sourceTimeMs`, the
// trace row they came from. Forecasts: a DACF file's day-ahead column when present (a genuine forecast);
// otherwise, by default, the actual future values labelled `oracle: true` (perfect foresight — fine for
// demos and replays, never mistaken for a forecast skill); `forecast: 'none'` makes the provider say it has none.
// In column mode an hour whose forecast cell is empty has no forecast point. Steps the reader filled on request
// (gapFill) are replayed with `estimated: true`.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isAbsolute, resolve } from 'node:path';
import { CarbonProviderError } from './provider-error.ts';
import type { CarbonTrace, EmissionBasis, ParseTraceOptions } from './trace-file.ts';
import { TraceFormatError, parseCarbonTrace } from './trace-file.ts';
import type { CarbonProvider, CarbonReading } from './types.ts';

export type TraceForecastMode = 'auto' | 'column' | 'oracle' | 'none';

export interface TraceProviderOptions {
  trace: CarbonTrace;
  /** Shown in messages. */
  file: string;
  now: () => number;
  /** Real time that maps to the trace start (before offset). Default: 1 January 00:00 UTC of the current year. */
  anchorMs?: number;
  /** Shifts the replay position, in real ms (e.g. start the replay 30 days into the trace). */
  offsetMs?: number;
  /** Trace time per real time: 60 plays one trace hour per real minute. */
  speedup?: number;
  forecast?: TraceForecastMode;
}

/** The repository root: trace paths in a CarbonSource are relative to it (absolute paths are used as they are). */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The embedded default: Electricity Maps DE-LU 2023 hourly (ODbL; see data/carbon/SOURCES.md). */
export const EMBEDDED_TRACE_FILE = 'data/carbon/DE-LU_2023_hourly.csv';

const cache = new Map<string, CarbonTrace>();

/** How a trace file is read, beyond its basis: gap filling, duplicates, zone (see trace-file.ts). */
export type TraceReadOptions = Omit<ParseTraceOptions, 'basis'>;

/**
 * Reads and parses a trace once per (path, basis, options); paths resolve against the project root. A file the
 * reader refuses (a gap, a duplicated hour, a bad value) is a config error naming the file, line and value.
 */
export function loadTrace(file: string, basis: EmissionBasis = 'direct', opts: TraceReadOptions = {}): CarbonTrace {
  const path = isAbsolute(file) ? file : resolve(PROJECT_ROOT, file);
  const key = JSON.stringify([basis, path, opts.gapFill, opts.maxGapMs, opts.stepMs, opts.duplicates, opts.zone]);
  let t = cache.get(key);
  if (!t) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new CarbonProviderError('config', `trace: cannot read '${file}': ${(e as NodeJS.ErrnoException).code}`);
    }
    try {
      t = parseCarbonTrace(text, file, { ...opts, basis });
    } catch (e) {
      if (e instanceof TraceFormatError) throw new CarbonProviderError('config', `trace: ${e.message}`);
      throw e;
    }
    cache.set(key, t);
  }
  return t;
}

export class TraceProvider implements CarbonProvider {
  readonly name = 'trace';
  readonly #t: CarbonTrace;
  readonly #o: TraceProviderOptions;
  readonly #anchor: number;
  readonly #speed: number;
  readonly #span: number;
  readonly #start: number;
  readonly #mode: Exclude<TraceForecastMode, 'auto'>;

  constructor(o: TraceProviderOptions) {
    this.#o = o;
    this.#t = o.trace;
    this.#speed = o.speedup ?? 1;
    if (!(this.#speed > 0)) throw new CarbonProviderError('config', `trace ${o.file}: speedup must be > 0`);
    this.#anchor = o.anchorMs ?? Date.UTC(new Date(o.now()).getUTCFullYear(), 0, 1);
    this.#start = this.#t.points[0]!.timeMs;
    this.#span = this.#t.points.at(-1)!.timeMs + this.#t.stepMs - this.#start;
    const mode = o.forecast ?? 'auto';
    if (mode === 'column' && !this.#t.hasForecast)
      throw new CarbonProviderError('config', `trace ${o.file}: forecast 'column' asked for, but the file has none`);
    this.#mode = mode === 'auto' ? (this.#t.hasForecast ? 'column' : 'oracle') : mode;
  }

  /** Trace position (ms after the trace start, in [0, span)) for a real time. */
  tracePositionMs(realMs: number): number {
    const x = (realMs - this.#anchor + (this.#o.offsetMs ?? 0)) * this.#speed;
    return ((x % this.#span) + this.#span) % this.#span;
  }

  /** Index of the row whose interval contains trace time `t`. */
  #index(t: number): number {
    const pts = this.#t.points;
    let lo = 0;
    let hi = pts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (pts[mid]!.timeMs <= t) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Rows from the one covering real time `fromMs` onward, with their real-time starts, until `untilReal`. */
  #walk(fromMs: number, untilReal: number, max: number): { i: number; realMs: number }[] {
    const pts = this.#t.points;
    const traceNow = this.#start + this.tracePositionMs(fromMs);
    let i = this.#index(traceNow);
    let realMs = fromMs - (traceNow - pts[i]!.timeMs) / this.#speed;
    const out: { i: number; realMs: number }[] = [];
    while (realMs < untilReal && out.length < max) {
      out.push({ i, realMs });
      const next = i + 1 < pts.length ? i + 1 : 0;
      const dt = next === 0 ? this.#start + this.#span - pts[i]!.timeMs : pts[next]!.timeMs - pts[i]!.timeMs;
      realMs += dt / this.#speed;
      i = next;
    }
    return out;
  }

  #reading(region: string, i: number, realMs: number, forecast: boolean): CarbonReading {
    const p = this.#t.points[i]!;
    const r: CarbonReading = {
      region,
      valueGPerKWh: p.valueGPerKWh,
      timeMs: Math.round(realMs),
      provider: this.name,
      signal: 'average',
      basis: this.#t.basis,
      estimated: p.estimated,
      forecast,
      sourceTimeMs: p.timeMs,
    };
    if (forecast && this.#mode === 'column' && p.forecastGPerKWh !== undefined) {
      r.valueGPerKWh = p.forecastGPerKWh;
      r.estimated = true;
    } else if (forecast) r.oracle = true;
    return r;
  }

  async current(region: string, signal?: AbortSignal): Promise<CarbonReading> {
    if (signal?.aborted) throw new CarbonProviderError('aborted', `trace ${region}: request cancelled`);
    const now = this.#o.now();
    const [first] = this.#walk(now, now + 1, 1);
    return this.#reading(region, first!.i, first!.realMs, false);
  }

  async forecast(region: string, horizonMs: number, signal?: AbortSignal): Promise<CarbonReading[] | null> {
    if (signal?.aborted) throw new CarbonProviderError('aborted', `trace ${region}: request cancelled`);
    if (this.#mode === 'none') return null;
    const now = this.#o.now();
    const steps = this.#walk(now, now + horizonMs, 10_000);
    // A forecast column's empty cell (or a filled step) is a missing forecast: left out, never replaced by the
    // actual value (that would be an oracle value passed off as a forecast) nor by 0.
    const known =
      this.#mode === 'column' ? steps.filter((w) => this.#t.points[w.i]!.forecastGPerKWh !== undefined) : steps;
    return known.map((w) => this.#reading(region, w.i, w.realMs, true));
  }

  async history(region: string, fromMs: number, toMs: number, signal?: AbortSignal): Promise<CarbonReading[]> {
    if (signal?.aborted) throw new CarbonProviderError('aborted', `trace ${region}: request cancelled`);
    return this.#walk(fromMs, toMs, 10_000)
      .filter((w) => w.realMs >= fromMs)
      .map((w) => this.#reading(region, w.i, w.realMs, false));
  }
}
