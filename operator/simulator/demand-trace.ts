// Real request traces (data/demand/SOURCES.md) turned into a demand series on a carbon trace's UTC steps.
// Alignment, stated once here and in docs/policy.md:
// - each trace hour (UTC) is moved onto the demand trace's own clock (UTC for Azure 2024; the service-local clock,
//   taken as UTC+8, for BurstGPT and ServeGen, an inference documented in data/demand/SOURCES.md);
// - the demand day is one with the same weekday on that clock; where the demand trace has several, successive
//   weeks cycle through them (real day-to-day variation); a weekday the trace lacks borrows the nearest weekday
//   it has, weekend from weekend first (Azure 2024 has no Saturday: Sunday stands in);
// - the series is scaled so that its mean over the carbon trace is the service's mean request rate.
// Pure: CSV text in, numbers out. Errors name the file, line, column and value.
import type { DemandSeries } from '../traces/demand-series.ts';
import { dayClock, parseDemandSeries } from '../traces/demand-series.ts';
import type { GapFill } from '../traces/time-series.ts';
import { TraceFormatError } from '../traces/trace-format-error.ts';

const DAY_MS = 86_400_000;

export class DemandFormatError extends Error {
  override name = 'DemandFormatError';
}

export interface DemandTrace {
  /** Requests per slot, indexed [day][slot] on the trace's own clock (24 hourly or 144 ten-minute slots a day). */
  days: number[][];
  /** Slot length, minutes (60 or 10). */
  slotMinutes: number;
  /** Weekday (0 = Sunday) of day 0 on the trace's clock. */
  day0Weekday: number;
  /** Offset of the trace's clock from UTC, hours (local = UTC + offset). */
  utcOffsetHours: number;
  label: string;
  /** Slots the reader filled (only when `gapFill` was asked for). */
  filledSteps?: number;
}

interface Format {
  column: string;
  day0Weekday: number;
  utcOffsetHours: number;
}

// day0 weekdays: Azure 2024 day 0 = 2024-05-12, a Sunday (UTC). BurstGPT: days ≡ 3, 4 (mod 7) are the weekend-like
// low days, so day 0 is taken as a Wednesday. ServeGen publishes no date: day 0 is taken as a Monday.
const FORMATS: { header: string; format: Format }[] = [
  { header: 'conversation', format: { column: 'conversation', day0Weekday: 0, utcOffsetHours: 0 } },
  { header: 'api', format: { column: 'conversation', day0Weekday: 3, utcOffsetHours: 8 } },
  { header: 'm_small_requests', format: { column: 'm_small_requests', day0Weekday: 1, utcOffsetHours: 8 } },
];

export interface ParseDemandOptions {
  column?: string;
  utcOffsetHours?: number;
  day0Weekday?: number;
  /** Gaps: 'none' (default) rejects them; 'hold' / 'linear' fill them (see operator/traces/time-series.ts). */
  gapFill?: GapFill;
  /** Longest gap filled, ms (default 6 h). */
  maxGapMs?: number;
  /** 'collapse-identical' drops a row repeating the previous timestamp with the same count (default: an error). */
  duplicates?: 'reject' | 'collapse-identical';
}

/**
 * Parses a demand file with the shared trace reader (operator/traces/demand-series.ts): `day` with `hour` (Azure
 * 2024, BurstGPT, ServeGen hourly) or `time_of_day` (ServeGen 10-minute), `t_start_s`, or UTC timestamps. The step
 * is the file's own (it must divide a day) and the file must cover whole days; gaps are errors unless filled on
 * request (`filledSteps` counts them).
 */
export function parseDemandTrace(text: string, fileName: string, opts: ParseDemandOptions = {}): DemandTrace {
  try {
    return demandTraceOf(text, fileName, opts);
  } catch (e) {
    throw e instanceof TraceFormatError ? new DemandFormatError(e.message) : e;
  }
}

function demandTraceOf(text: string, fileName: string, opts: ParseDemandOptions): DemandTrace {
  let known: Format | undefined;
  const series = parseDemandSeries(text, fileName, {
    ...(opts.gapFill !== undefined ? { gapFill: opts.gapFill } : {}),
    ...(opts.maxGapMs !== undefined ? { maxGapMs: opts.maxGapMs } : {}),
    ...(opts.duplicates !== undefined ? { duplicates: opts.duplicates } : {}),
    // Azure 2024 has 'date' + 'conversation'; BurstGPT has 'conversation' + 'api'; ServeGen has 'm_small_requests'.
    column: (header) => {
      known = header.includes('api')
        ? FORMATS[1]!.format
        : header.includes('m_small_requests')
          ? FORMATS[2]!.format
          : header.includes('conversation')
            ? FORMATS[0]!.format
            : undefined;
      return opts.column ?? known?.column;
    },
  });
  const { days, firstDay } = wholeDays(series);
  const day0 = opts.day0Weekday ?? (series.absolute ? 4 : (known?.day0Weekday ?? 0)); // 1970-01-01: a Thursday
  const trace: DemandTrace = {
    days,
    slotMinutes: series.stepMs / 60_000,
    day0Weekday: (((day0 + firstDay) % 7) + 7) % 7,
    utcOffsetHours: opts.utcOffsetHours ?? (series.absolute ? 0 : (known?.utcOffsetHours ?? 0)),
    label: `${fileName}:${series.column}`,
  };
  if (series.filledSteps > 0) trace.filledSteps = series.filledSteps;
  return trace;
}

/** Cuts the series into days of slots; it must start at a day's first slot and end at a day's last. */
function wholeDays(series: DemandSeries): { days: number[][]; firstDay: number } {
  const { stepMs, points, file } = series;
  const clock = (ms: number) => (series.absolute ? new Date(ms).toISOString() : dayClock(ms));
  if (stepMs % 60_000 !== 0 || DAY_MS % stepMs !== 0)
    throw new DemandFormatError(`${file}: the trace's step of ${stepMs / 60_000} min does not divide a day`);
  const slots = DAY_MS / stepMs;
  const first = points[0]!;
  const last = points.at(-1)!;
  const firstDay = Math.floor(first.timeMs / DAY_MS);
  if (first.timeMs % DAY_MS !== 0)
    throw new DemandFormatError(
      `${file}: line ${first.at.line}: the trace starts at ${clock(first.timeMs)}, not at 00:00: ` +
        'a demand trace must cover whole days',
    );
  if ((last.timeMs + stepMs) % DAY_MS !== 0)
    throw new DemandFormatError(
      `${file}: line ${last.at.line}: the trace ends at ${clock(last.timeMs)}, before the day's last ` +
        `${stepMs / 60_000}-minute slot: a demand trace must cover whole days`,
    );
  const days: number[][] = [];
  for (let i = 0; i < points.length; i += slots) days.push(points.slice(i, i + slots).map((p) => p.count));
  return { days, firstDay };
}

const WEEKEND = (w: number) => w === 0 || w === 6;

/** Demand days by weekday: for each weekday 0..6 the list of demand-day indices used for it. */
export function daysByWeekday(trace: DemandTrace): number[][] {
  const have: number[][] = Array.from({ length: 7 }, () => []);
  trace.days.forEach((_, d) => have[(trace.day0Weekday + d) % 7]!.push(d));
  const out: number[][] = [];
  for (let w = 0; w < 7; w++) {
    if (have[w]!.length > 0) {
      out.push(have[w]!);
      continue;
    }
    // Nearest weekday of the same kind (weekend/weekday) first, then any.
    let pick: number[] | undefined;
    for (const sameKind of [true, false]) {
      for (let k = 1; k <= 3 && !pick; k++) {
        for (const c of [(w + k) % 7, (w - k + 7) % 7]) {
          if (!pick && have[c]!.length > 0 && (!sameKind || WEEKEND(c) === WEEKEND(w))) pick = have[c];
        }
      }
      if (pick) break;
    }
    out.push(pick ?? []);
  }
  return out;
}

/**
 * Demand in requests/s at each of `timesMs` (UTC), scaled so that the mean is `meanRps`.
 * Within a slot the rate is constant (a replay finer than the demand trace repeats the slot's rate).
 */
export function alignDemand(trace: DemandTrace, timesMs: readonly number[], meanRps: number): Float64Array {
  const byW = daysByWeekday(trace);
  const out = new Float64Array(timesMs.length);
  let sum = 0;
  for (let i = 0; i < timesMs.length; i++) {
    const local = timesMs[i]! + trace.utcOffsetHours * 3_600_000;
    const dayNo = Math.floor(local / 86_400_000);
    const slot = Math.floor((local - dayNo * 86_400_000) / (trace.slotMinutes * 60_000));
    const weekday = (((dayNo + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
    const week = Math.floor((dayNo + 4) / 7);
    const choices = byW[weekday]!;
    const d = choices[week % choices.length]!;
    const v = trace.days[d]![slot]! / (trace.slotMinutes * 60);
    out[i] = v;
    sum += v;
  }
  const mean = timesMs.length > 0 ? sum / timesMs.length : 0;
  const k = mean > 0 ? meanRps / mean : 0;
  for (let i = 0; i < out.length; i++) out[i] = out[i]! * k;
  return out;
}

/** A synthetic diurnal shape (only when asked for): a cosine peaking at 14:00 UTC, trough/peak = 0.5. */
export function syntheticDemand(timesMs: readonly number[], meanRps: number): Float64Array {
  const out = new Float64Array(timesMs.length);
  for (let i = 0; i < timesMs.length; i++) {
    const h = (timesMs[i]! / 3_600_000) % 24;
    out[i] = meanRps * (1 + (1 / 3) * Math.cos(((h - 14) / 24) * 2 * Math.PI));
  }
  return out;
}
