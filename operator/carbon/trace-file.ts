// Parses the real carbon-intensity traces carbonscale replays (see data/carbon/SOURCES.md and docs/carbon.md,
// "Trace files"), as they are:
// - Electricity Maps exports, both header generations: `Datetime (UTC)`, `Carbon Intensity gCO₂eq/kWh (direct)` /
//   `(LCA)`, `Zone Id`, `Data Estimated` (the 2023 files), and `Carbon intensity gCO₂eq/kWh (direct)` /
//   `(Life cycle)`, `Zone id`, `Data estimated` (today's); headers are matched by meaning (traces/header-match.ts);
// - DACF day-ahead files: `UTC time`, `carbon_intensity` (actual) and `carbon_from_src_forecasts` (the forecast
//   made a day ahead for that hour; an empty cell is a missing forecast, never 0);
// - JSON: `[{ "datetime": ISO, "carbonIntensity": n, "forecast"?: n, "isEstimated"?: bool, "zone"?: s }]`.
// Then the shared time-series rules (traces/time-series.ts): the trace's own step checked on every row, no silent
// gaps or duplicates. Pure: text in, points out. Every error names the file, the physical line, the column and the
// value (traces/trace-format-error.ts).
import { parseBool, parseDecimal, parseUtcTime } from '../traces/cell-values.ts';
import { readCsv } from '../traces/csv-records.ts';
import type { Basis, CarbonColumn } from '../traces/header-match.ts';
import { carbonColumn } from '../traces/header-match.ts';
import type { Gap, GapFill } from '../traces/time-series.ts';
import { regularise, rowRef } from '../traces/time-series.ts';
import type { TracePlace } from '../traces/trace-format-error.ts';
import { TraceFormatError, shown } from '../traces/trace-format-error.ts';

export { parseCsvLine } from '../traces/csv-records.ts';
export { parseUtcTime } from '../traces/cell-values.ts';
export { TraceFormatError } from '../traces/trace-format-error.ts';
export type { Gap, GapFill } from '../traces/time-series.ts';

export type EmissionBasis = Basis;

export interface TracePoint {
  /** Start of the interval, ms since epoch (UTC). */
  timeMs: number;
  /** Actual intensity for the interval, gCO2eq/kWh. */
  valueGPerKWh: number;
  /** Forecast issued ahead of time for this interval (DACF day-ahead), gCO2eq/kWh; absent where the file has none. */
  forecastGPerKWh?: number;
  /** Not measured: the publisher flagged it estimated, its flag was empty, or the reader filled it (`filled`). */
  estimated: boolean;
  /** The file had no row (or an empty value) here and the caller asked for the gap to be filled. */
  filled?: true;
}

export interface CarbonTrace {
  /** Zone id from the file (Electricity Maps `Zone Id`/`Zone id`, JSON `zone`), if it names one. */
  zone?: string;
  basis: EmissionBasis;
  /** The trace's own step (ms): declared, or the most common difference between rows; every point is on it. */
  stepMs: number;
  /** One point per step from the first row to the last (gaps are errors unless filled on request). */
  points: TracePoint[];
  /** Some point has a forecast; a point without one has a missing forecast. */
  hasForecast: boolean;
  /** Points the reader filled (0 unless `gapFill` was asked for). */
  filledSteps?: number;
  /** The gaps it filled. */
  gaps?: Gap[];
  /** Rows dropped as identical repeats of the row before (only with `duplicates: 'collapse-identical'`). */
  collapsedDuplicates?: number;
}

/** Values outside [0, MAX] are rejected anywhere carbonscale reads intensity. Zero is legal. */
export const MAX_INTENSITY_G_PER_KWH = 2000;

export interface ParseTraceOptions {
  /** For Electricity Maps files: which column to use (default `direct`, the Scope 2 counterpart). */
  basis?: EmissionBasis;
  /** Gaps: 'none' (default) rejects them; 'hold' repeats the last value; 'linear' interpolates. */
  gapFill?: GapFill;
  /** Longest gap filled, ms (default 6 h). */
  maxGapMs?: number;
  /** The step, ms, if known; otherwise inferred (and checked on every row either way). */
  stepMs?: number;
  /** 'collapse-identical': a repeated timestamp with identical values is dropped (counted); default rejects it. */
  duplicates?: 'reject' | 'collapse-identical';
  /** Keep only this zone's rows (a file holding several zones is an error without it). */
  zone?: string;
}

/** One row as read, before the time-series rules. `valueGPerKWh` undefined: the cell was empty. */
interface RawRow {
  at: TracePlace;
  timeMs: number;
  valueGPerKWh: number | undefined;
  forecastGPerKWh?: number;
  estimated: boolean;
  zone?: string;
}

interface Raw {
  rows: RawRow[];
  hasZone: boolean;
}

export function parseCarbonTrace(text: string, fileName: string, opts: ParseTraceOptions = {}): CarbonTrace {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const first = body.trimStart()[0];
  const basis = opts.basis ?? 'direct';
  const raw = first === '[' || first === '{' ? readJson(body, fileName) : readCsvTrace(body, fileName, basis);
  const rows = selectZone(raw, fileName, opts.zone).filter((r) => keepRow(r, opts));
  if (rows.length === 0)
    throw new TraceFormatError({ file: fileName }, 'the trace has no rows with a value (nothing to replay)');
  const series = regularise(
    rows.map((r) => ({ timeMs: r.timeMs, at: r.at, item: r })),
    opts,
    { same: sameRow, fill: fillRow },
  );
  const points = series.rows.map(({ timeMs, item, filled }): TracePoint => {
    const p: TracePoint = { timeMs, valueGPerKWh: item.valueGPerKWh!, estimated: item.estimated };
    if (item.forecastGPerKWh !== undefined) p.forecastGPerKWh = item.forecastGPerKWh;
    if (filled) p.filled = true;
    return p;
  });
  const t: CarbonTrace = {
    basis,
    stepMs: series.stepMs,
    points,
    hasForecast: points.some((p) => p.forecastGPerKWh !== undefined),
    filledSteps: series.filledSteps,
    gaps: series.gaps,
    collapsedDuplicates: series.collapsedDuplicates,
  };
  if (rows[0]!.zone !== undefined) t.zone = rows[0]!.zone;
  return t;
}

/** An empty value is a missing step: an error, unless the caller asked for gaps to be filled. */
function keepRow(r: RawRow, opts: ParseTraceOptions): boolean {
  if (r.valueGPerKWh !== undefined) return true;
  if ((opts.gapFill ?? 'none') === 'none')
    throw new TraceFormatError(
      r.at,
      'empty carbon intensity: a missing value; it is filled only when asked (gapFill: hold or linear; CLI --gap-fill)',
    );
  return false;
}

function sameRow(a: RawRow, b: RawRow): boolean {
  return (
    a.valueGPerKWh === b.valueGPerKWh &&
    a.forecastGPerKWh === b.forecastGPerKWh &&
    a.estimated === b.estimated &&
    a.zone === b.zone
  );
}

function fillRow(before: RawRow, after: RawRow, k: number, n: number, mode: 'hold' | 'linear'): RawRow {
  const a = before.valueGPerKWh!;
  const v = mode === 'hold' ? a : a + ((after.valueGPerKWh! - a) * k) / (n + 1);
  // A filled step has no forecast: none was published for it.
  const r: RawRow = { at: before.at, timeMs: NaN, valueGPerKWh: Math.round(v * 1e6) / 1e6, estimated: true };
  if (before.zone !== undefined) r.zone = before.zone;
  return r;
}

function selectZone(raw: Raw, file: string, zone: string | undefined): RawRow[] {
  if (zone !== undefined) {
    if (!raw.hasZone)
      throw new TraceFormatError({ file }, `zone '${zone}' asked for, but the file names no zone (no zone column)`);
    const want = zone.toLowerCase();
    const kept = raw.rows.filter((r) => r.zone!.toLowerCase() === want);
    if (kept.length === 0)
      throw new TraceFormatError({ file }, `no rows for zone '${zone}'; the file holds ${zonesOf(raw.rows)}`);
    return kept;
  }
  const firstZone = raw.rows[0]?.zone;
  const other = raw.rows.find((r) => r.zone !== firstZone);
  if (other)
    throw new TraceFormatError(
      other.at,
      `zone '${other.zone}' after zone '${firstZone}' on ${rowRef(raw.rows[0]!.at)}: the file holds ` +
        `${zonesOf(raw.rows)}; name the zone to replay (zone)`,
    );
  return raw.rows;
}

function zonesOf(rows: RawRow[]): string {
  const zs = [...new Set(rows.map((r) => r.zone))];
  return `zones ${zs.map((z) => `'${z}'`).join(', ')}`;
}

/** A number cell in gCO2eq/kWh: undefined for an empty cell, else checked; the error names the value. */
function intensity(cell: string | undefined, at: TracePlace): number | undefined {
  const s = (cell ?? '').trim();
  if (s === '') return undefined;
  const v = parseDecimal(s);
  if (!Number.isFinite(v)) throw new TraceFormatError(at, `value ${shown(s)} is not a number`);
  if (v < 0 || v > MAX_INTENSITY_G_PER_KWH)
    throw new TraceFormatError(at, `value ${shown(s)} is outside [0, ${MAX_INTENSITY_G_PER_KWH}] gCO2eq/kWh`);
  return v;
}

interface Columns {
  time: number;
  value: number;
  forecast: number;
  zone: number;
  estimated: number;
  /** Highest column index read: a row must reach it. */
  last: number;
}

function readCsvTrace(text: string, file: string, basis: EmissionBasis): Raw {
  const table = readCsv(text, file);
  const c = csvColumns(table.header, file, table.headerLine, basis);
  const h = table.header;
  const rows: RawRow[] = [];
  for (const rec of table.rows) {
    const cell = (i: number) => (i >= 0 ? (rec.cells[i] ?? '') : '');
    const at = (i: number): TracePlace => ({ file, line: rec.line, column: h[i]! });
    if (rec.cells.length <= c.last)
      throw new TraceFormatError(
        { file, line: rec.line },
        `the row has ${rec.cells.length} cells, the header ${h.length}: the row is cut short`,
      );
    const timeMs = parseUtcTime(cell(c.time));
    if (!Number.isFinite(timeMs))
      throw new TraceFormatError(
        at(c.time),
        `value ${shown(cell(c.time))} is not a UTC timestamp (YYYY-MM-DD HH:MM:SS)`,
      );
    const row: RawRow = {
      at: { file, line: rec.line },
      timeMs,
      valueGPerKWh: intensity(cell(c.value), at(c.value)),
      estimated: c.estimated >= 0 ? estimatedFlag(cell(c.estimated), at(c.estimated)) : false,
    };
    const f = c.forecast >= 0 ? intensity(cell(c.forecast), at(c.forecast)) : undefined;
    if (f !== undefined) row.forecastGPerKWh = f;
    if (c.zone >= 0) {
      const z = cell(c.zone).trim();
      if (z === '') throw new TraceFormatError(at(c.zone), 'empty zone id');
      row.zone = z;
    }
    rows.push(row);
  }
  return { rows, hasZone: c.zone >= 0 };
}

/** An empty flag is unknown: the value is then not claimed as measured. */
function estimatedFlag(cell: string, at: TracePlace): boolean {
  if (cell.trim() === '') return true;
  const b = parseBool(cell);
  if (b === undefined) throw new TraceFormatError(at, `value ${shown(cell)} is not true or false`);
  return b;
}

function csvColumns(header: string[], file: string, line: number, basis: EmissionBasis): Columns {
  const found: { i: number; col: CarbonColumn }[] = header.map((h, i) => {
    try {
      return { i, col: carbonColumn(h) };
    } catch (e) {
      throw new TraceFormatError({ file, line, column: h }, (e as Error).message);
    }
  });
  const pick = (what: string, ok: (c: CarbonColumn) => boolean): number => {
    const hits = found.filter((f) => ok(f.col));
    if (hits.length > 1)
      throw new TraceFormatError(
        { file, line },
        `${what}: columns ${hits.map((x) => `'${header[x.i]}'`).join(' and ')} mean the same; keep one`,
      );
    return hits[0]?.i ?? -1;
  };
  const time = pick('time', (c) => c.role === 'time');
  if (time < 0)
    throw new TraceFormatError(
      { file, line },
      `unknown trace format: no UTC time column (Electricity Maps 'Datetime (UTC)', DACF 'UTC time'); ` +
        `the header is ${header.map((x) => `'${x}'`).join(', ')}`,
    );
  const of = (role: 'intensity' | 'forecast', b: Basis | undefined) =>
    pick(`${role} (${b ?? 'no basis named'})`, (c) => c.role === role && c.basis === b);
  // A column that names no basis (DACF `carbon_intensity`, from files named `…_direct`) is read as direct.
  let value = of('intensity', basis);
  if (value < 0 && basis === 'direct') value = of('intensity', undefined);
  if (value < 0) {
    const others = found.filter((f) => f.col.role === 'intensity').map((f) => `'${header[f.i]}'`);
    throw new TraceFormatError(
      { file, line },
      `no ${basis} carbon-intensity column` + (others.length ? ` (the file has ${others.join(', ')})` : ''),
    );
  }
  let forecast = of('forecast', basis);
  if (forecast < 0 && basis === 'direct') forecast = of('forecast', undefined);
  const zone = pick('zone', (c) => c.role === 'zone');
  const estimated = pick('estimated flag', (c) => c.role === 'estimated');
  return { time, value, forecast, zone, estimated, last: Math.max(time, value, forecast, zone, estimated) };
}

function readJson(text: string, file: string): Raw {
  let rows: unknown;
  try {
    rows = JSON.parse(text);
  } catch (e) {
    throw new TraceFormatError({ file }, `malformed JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(rows)) throw new TraceFormatError({ file }, 'expected a JSON array of points');
  const out = rows.map((r: unknown, i): RawRow => {
    const path = (k: string): TracePlace => ({ file, column: `[${i}].${k}` });
    if (typeof r !== 'object' || r === null) throw new TraceFormatError({ file, column: `[${i}]` }, 'not an object');
    const o = r as Record<string, unknown>;
    const timeMs = typeof o.datetime === 'string' ? parseUtcTime(o.datetime) : NaN;
    if (!Number.isFinite(timeMs))
      throw new TraceFormatError(path('datetime'), `value ${shown(String(o.datetime))} is not a UTC timestamp`);
    const num = (k: string) => (o[k] === undefined || o[k] === null ? undefined : jsonNumber(o[k], path(k)));
    const row: RawRow = {
      at: { file, column: `[${i}]` },
      timeMs,
      valueGPerKWh: num('carbonIntensity'),
      estimated: jsonEstimated(o.isEstimated, path('isEstimated')),
    };
    const f = num('forecast');
    if (f !== undefined) row.forecastGPerKWh = f;
    if (typeof o.zone === 'string') row.zone = o.zone;
    return row;
  });
  const unzoned = out.findIndex((r) => r.zone === undefined);
  if (unzoned >= 0 && out.some((r) => r.zone !== undefined))
    throw new TraceFormatError({ file, column: `[${unzoned}].zone` }, 'missing, while other points name their zone');
  return { rows: out, hasZone: out.length > 0 && unzoned < 0 };
}

/** Absent: the file flags no estimates (as a CSV without the column); null: unknown, so not claimed as measured. */
function jsonEstimated(v: unknown, at: TracePlace): boolean {
  if (v === undefined) return false;
  if (v === null) return true;
  if (typeof v !== 'boolean') throw new TraceFormatError(at, `value ${JSON.stringify(v)} is not true or false`);
  return v;
}

function jsonNumber(v: unknown, at: TracePlace): number {
  if (typeof v !== 'number') throw new TraceFormatError(at, `value ${JSON.stringify(v)} is not a number`);
  return intensity(String(v), at)!;
}
