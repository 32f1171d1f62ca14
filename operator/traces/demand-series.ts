// Demand (request-count) traces read with the same rules as carbon traces: one count per step, the trace's own
// step checked on every row, no silent gaps or duplicates, errors naming the file, line, column and value. The
// layouts shipped in data/demand (see its SOURCES.md), recognised by their columns:
// - `t_start_s` (seconds from the trace start), with `day` and `hour`/`time_of_day` as well (ServeGen): all must agree;
// - `day` + `hour` (Azure 2024, BurstGPT) or `day` + `time_of_day` HH:MM (10-minute ServeGen); a `date` column
//   beside `day` must advance with it (Azure 2024);
// - a UTC timestamp column (`timestamp`, `datetime`, …), or `date` + `hour`: absolute UTC times.
// Relative layouts give times in ms from 00:00 of day 0 on the trace's own clock. Pure.
import { isoTime, parseDecimal, parseUtcTime } from './cell-values.ts';
import type { CsvRecord } from './csv-records.ts';
import { readCsv } from './csv-records.ts';
import type { DemandColumn } from './header-match.ts';
import { demandColumn } from './header-match.ts';
import type { Gap, SeriesRules } from './time-series.ts';
import { regularise } from './time-series.ts';
import type { TracePlace } from './trace-format-error.ts';
import { TraceFormatError, shown } from './trace-format-error.ts';

const DAY_MS = 86_400_000;

export type DemandLayout = 'seconds' | 'day-hour' | 'day-time-of-day' | 'timestamp' | 'date-hour';

export interface DemandSeriesOptions extends SeriesRules {
  /** The count column, or a choice made from the header (undefined: no known column). */
  column?: string | ((header: string[]) => string | undefined);
}

export interface DemandSeries {
  file: string;
  column: string;
  layout: DemandLayout;
  /** True for absolute UTC times (timestamp, date + hour); false for ms from 00:00 of day 0. */
  absolute: boolean;
  stepMs: number;
  /** One per step, first row to last; `filled` where the file had no row (or an empty count) and filling was asked. */
  points: { timeMs: number; count: number; filled: boolean; at: TracePlace }[];
  filledSteps: number;
  gaps: Gap[];
  collapsedDuplicates: number;
}

interface Row {
  at: TracePlace;
  count: number | undefined;
}

type Cols = Partial<Record<DemandColumn['role'], number>>;

export function parseDemandSeries(text: string, file: string, opts: DemandSeriesOptions = {}): DemandSeries {
  const table = readCsv(text, file);
  const { header, headerLine } = table;
  const cols: Cols = {};
  header.forEach((h, i) => {
    const role = demandColumn(h).role;
    if (role !== 'other' && cols[role] === undefined) cols[role] = i;
  });
  const layout = layoutOf(cols, file, headerLine, header);
  const column = typeof opts.column === 'function' ? opts.column(header) : opts.column;
  if (column === undefined)
    throw new TraceFormatError({ file, line: headerLine }, `unknown demand format: name the count column`);
  const countCol = header.indexOf(column);
  if (countCol < 0)
    throw new TraceFormatError(
      { file, line: headerLine },
      `no column '${column}' (the header is ${header.map((h) => `'${h}'`).join(', ')})`,
    );
  const rows = table.rows.flatMap((rec) => {
    const timeMs = rowTime(rec, cols, layout, header, file);
    const at = { file, line: rec.line };
    const count = countCell(rec.cells[countCol] ?? '', { ...at, column: column });
    if (count === undefined && (opts.gapFill ?? 'none') === 'none')
      throw new TraceFormatError(
        { ...at, column },
        'empty count: a missing value; it is filled only when asked (gapFill: hold or linear; CLI --gap-fill)',
      );
    return count === undefined ? [] : [{ timeMs, at, item: { at, count } as Row }];
  });
  checkDates(table.rows, cols, header, file);
  if (rows.length === 0) throw new TraceFormatError({ file }, 'no rows with a count');
  const absolute = layout === 'timestamp' || layout === 'date-hour';
  const s = regularise(rows, opts, {
    show: absolute ? isoTime : dayClock,
    same: (a, b) => a.count === b.count,
    fill: (a, b, k, n, mode) => ({
      at: a.at,
      count: mode === 'hold' ? a.count : a.count! + ((b.count! - a.count!) * k) / (n + 1),
    }),
  });
  return {
    file,
    column,
    layout,
    absolute,
    stepMs: s.stepMs,
    points: s.rows.map((r) => ({ timeMs: r.timeMs, count: r.item.count!, filled: r.filled, at: r.item.at })),
    filledSteps: s.filledSteps,
    gaps: s.gaps,
    collapsedDuplicates: s.collapsedDuplicates,
  };
}

/** `day 3 14:00`: a time in a relative layout (ms from 00:00 of day 0). */
export function dayClock(ms: number): string {
  const d = Math.floor(ms / DAY_MS);
  const min = Math.round((ms - d * DAY_MS) / 60_000);
  const hhmm = `${String(Math.floor(min / 60)).padStart(2, '0')}:${String(min % 60).padStart(2, '0')}`;
  return `day ${d} ${hhmm}`;
}

function layoutOf(c: Cols, file: string, line: number, header: string[]): DemandLayout {
  if (c.time !== undefined) return 'timestamp';
  if (c.tStartS !== undefined) return 'seconds';
  if (c.day !== undefined && c.hour !== undefined) return 'day-hour';
  if (c.day !== undefined && c.timeOfDay !== undefined) return 'day-time-of-day';
  if (c.date !== undefined && c.hour !== undefined) return 'date-hour';
  throw new TraceFormatError(
    { file, line },
    `no time columns: a demand trace needs 't_start_s', 'day' and 'hour' (or 'time_of_day'), 'date' and 'hour', ` +
      `or a UTC timestamp; the header is ${header.map((h) => `'${h}'`).join(', ')}`,
  );
}

function countCell(cell: string, at: TracePlace): number | undefined {
  if (cell.trim() === '') return undefined;
  const v = parseDecimal(cell);
  if (!(v >= 0)) throw new TraceFormatError(at, `value ${shown(cell)} is not a count (a number ≥ 0)`);
  return v;
}

/** The row's time from every time column it has; redundant columns must agree. */
function rowTime(rec: CsvRecord, c: Cols, layout: DemandLayout, header: string[], file: string): number {
  const place = (i: number): TracePlace => ({ file, line: rec.line, column: header[i]! });
  const cell = (i: number) => rec.cells[i] ?? '';
  const bad = (i: number, what: string): never => {
    throw new TraceFormatError(place(i), `value ${shown(cell(i))} is not ${what}`);
  };
  if (layout === 'timestamp') {
    const t = parseUtcTime(cell(c.time!));
    return Number.isFinite(t) ? t : bad(c.time!, 'a UTC timestamp');
  }
  const hourMs = (i: number) => {
    const h = parseDecimal(cell(i));
    return Number.isInteger(h) && h >= 0 && h <= 23 ? h * 3_600_000 : bad(i, 'an hour 0..23');
  };
  if (layout === 'date-hour') {
    const d = parseUtcTime(cell(c.date!));
    return (Number.isFinite(d) && d % DAY_MS === 0 ? d : bad(c.date!, 'a date YYYY-MM-DD')) + hourMs(c.hour!);
  }
  let fromDay: number | undefined;
  if (c.day !== undefined) {
    const d = parseDecimal(cell(c.day));
    const dayMs = Number.isInteger(d) && d >= 0 ? d * DAY_MS : bad(c.day, 'a day number ≥ 0');
    if (c.hour !== undefined) fromDay = dayMs + hourMs(c.hour);
    else if (c.timeOfDay !== undefined) {
      const m = /^(\d\d):(\d\d)$/.exec(cell(c.timeOfDay).trim());
      const min = m && Number(m[1]) < 24 && Number(m[2]) < 60 ? Number(m[1]) * 60 + Number(m[2]) : NaN;
      fromDay = dayMs + (Number.isFinite(min) ? min * 60_000 : bad(c.timeOfDay, 'a time of day HH:MM'));
    }
  }
  if (layout !== 'seconds') return fromDay!;
  const s = parseDecimal(cell(c.tStartS!));
  const t = Number.isFinite(s) && s >= 0 ? Math.round(s * 1000) : bad(c.tStartS!, 'seconds ≥ 0');
  if (fromDay !== undefined && fromDay !== t)
    throw new TraceFormatError(
      place(c.tStartS!),
      `value ${shown(cell(c.tStartS!))} disagrees with the day and time columns on the same line ` +
        `(${dayClock(fromDay)} is ${fromDay / 1000} s)`,
    );
  return t;
}

/** A `date` column beside `day` must advance one calendar day per day. */
function checkDates(rows: CsvRecord[], c: Cols, header: string[], file: string): void {
  if (c.date === undefined || c.day === undefined) return;
  let base: number | undefined;
  for (const rec of rows) {
    const text = rec.cells[c.date] ?? '';
    const d = parseUtcTime(text);
    const place = { file, line: rec.line, column: header[c.date]! };
    if (!Number.isFinite(d) || d % DAY_MS !== 0)
      throw new TraceFormatError(place, `value ${shown(text)} is not a date YYYY-MM-DD`);
    const day = Number(rec.cells[c.day]);
    base ??= d - day * DAY_MS;
    if (d !== base + day * DAY_MS)
      throw new TraceFormatError(
        place,
        `value ${shown(text)} does not match day ${day} (day 0 is ${isoTime(base).slice(0, 10)})`,
      );
  }
}
