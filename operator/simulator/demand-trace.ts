// Real request traces (data/demand/SOURCES.md) turned into a demand series on a carbon trace's UTC steps.
// Alignment, stated once here and in docs/policy.md:
// - each trace hour (UTC) is moved onto the demand trace's own clock (UTC for Azure 2024; the service-local clock,
//   taken as UTC+8, for BurstGPT and ServeGen, an inference documented in data/demand/SOURCES.md);
// - the demand day is one with the same weekday on that clock; where the demand trace has several, successive
//   weeks cycle through them (real day-to-day variation); a weekday the trace lacks borrows the nearest weekday
//   it has, weekend from weekend first (Azure 2024 has no Saturday: Sunday stands in);
// - the series is scaled so that its mean over the carbon trace is the service's mean request rate.
// Pure: CSV text in, numbers out. Errors name the file, line and column.
import { parseCsvLine } from '../carbon/trace-file.ts';

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
}

/**
 * Parses a demand file with `day`, a time-of-day column and a count column: hourly (`hour`: Azure 2024, BurstGPT,
 * ServeGen hourly) or ten-minute (`time_of_day` HH:MM: ServeGen 10-minute).
 */
export function parseDemandTrace(text: string, fileName: string, opts: ParseDemandOptions = {}): DemandTrace {
  const lines = text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '');
  const header = parseCsvLine(lines[0] ?? '').map((h) => h.trim());
  const dayCol = header.indexOf('day');
  const hourCol = header.indexOf('hour');
  const todCol = header.indexOf('time_of_day');
  if (dayCol < 0 || (hourCol < 0 && todCol < 0))
    throw new DemandFormatError(`${fileName}: line 1: needs 'day' and 'hour' (or 'time_of_day') columns`);
  const slotMinutes = hourCol >= 0 ? 60 : 10;
  const slots = (24 * 60) / slotMinutes;
  // Azure 2024 has 'date' + 'conversation'; BurstGPT has 'conversation' + 'api'; ServeGen has 'm_small_requests'.
  const known = header.includes('api')
    ? FORMATS[1]!.format
    : header.includes('m_small_requests')
      ? FORMATS[2]!.format
      : header.includes('conversation')
        ? FORMATS[0]!.format
        : undefined;
  const column = opts.column ?? known?.column;
  if (column === undefined) throw new DemandFormatError(`${fileName}: line 1: unknown demand format; pass a column`);
  const col = header.indexOf(column);
  if (col < 0) throw new DemandFormatError(`${fileName}: line 1: missing column '${column}'`);
  const days: number[][] = [];
  for (let i = 1; i < lines.length; i++) {
    const cells = parseCsvLine(lines[i]!);
    const where = `${fileName}: line ${i + 1}`;
    const day = Number(cells[dayCol]);
    let slot: number;
    if (hourCol >= 0) {
      slot = Number(cells[hourCol]);
      if (!Number.isInteger(slot) || slot < 0 || slot > 23)
        throw new DemandFormatError(`${where}: column 'hour': must be 0..23`);
    } else {
      const m = /^(\d\d):(\d\d)$/.exec((cells[todCol] ?? '').trim());
      const minutes = m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
      if (!(minutes >= 0 && minutes < 1440 && minutes % slotMinutes === 0))
        throw new DemandFormatError(
          `${where}: column 'time_of_day': must be HH:MM on a ${slotMinutes}-minute boundary`,
        );
      slot = minutes / slotMinutes;
    }
    const v = Number(cells[col]);
    if (!Number.isInteger(day) || day < 0) throw new DemandFormatError(`${where}: column 'day': bad day`);
    if (!Number.isFinite(v) || v < 0) throw new DemandFormatError(`${where}: column '${column}': bad count`);
    (days[day] ??= new Array<number>(slots).fill(NaN))[slot] = v;
  }
  if (days.length === 0) throw new DemandFormatError(`${fileName}: no rows`);
  for (let d = 0; d < days.length; d++) {
    const row = days[d];
    if (!row || row.some((x) => !Number.isFinite(x)))
      throw new DemandFormatError(`${fileName}: day ${d} is missing time slots`);
  }
  return {
    days,
    slotMinutes,
    day0Weekday: opts.day0Weekday ?? known?.day0Weekday ?? 0,
    utcOffsetHours: opts.utcOffsetHours ?? known?.utcOffsetHours ?? 0,
    label: `${fileName}:${column}`,
  };
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
