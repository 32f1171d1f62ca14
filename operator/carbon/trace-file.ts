// Parses the real carbon-intensity traces carbonscale replays (see data/carbon/SOURCES.md), as they are:
// - Electricity Maps hourly exports: `Datetime (UTC)`, `Carbon Intensity gCO₂eq/kWh (direct)` / `(LCA)`,
//   `Zone Id`, `Data Estimated`;
// - DACF day-ahead files: `UTC time`, `carbon_intensity` (actual) and `carbon_from_src_forecasts` (the
//   forecast made a day ahead for that hour);
// - JSON: `[{ "datetime": ISO, "carbonIntensity": n, "forecast"?: n, "isEstimated"?: bool }]`.
// Pure: text in, points out. Every error names the file, line and column.

export type EmissionBasis = 'direct' | 'lifecycle';

export interface TracePoint {
  /** Start of the interval, ms since epoch (UTC). */
  timeMs: number;
  /** Actual intensity for the interval, gCO2eq/kWh. */
  valueGPerKWh: number;
  /** Forecast issued ahead of time for this interval (DACF day-ahead), gCO2eq/kWh, when the trace has one. */
  forecastGPerKWh?: number;
  /** The data publisher flagged the value as estimated. */
  estimated: boolean;
}

export interface CarbonTrace {
  /** Zone id from the file (Electricity Maps `Zone Id`), if it names one. */
  zone?: string;
  basis: EmissionBasis;
  /** Interval length inferred from the first two rows (ms). */
  stepMs: number;
  points: TracePoint[];
  hasForecast: boolean;
}

/** Values outside [0, MAX] are rejected anywhere carbonscale reads intensity. Zero is legal. */
export const MAX_INTENSITY_G_PER_KWH = 2000;

export class TraceFormatError extends Error {
  override name = 'TraceFormatError';
}

export function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** Parses `2023-01-01 00:00:00`, `2021-07-01 00:00:00+00:00` or ISO 8601; times without a zone are UTC. */
export function parseUtcTime(s: string): number {
  const t = s.trim();
  const iso = t.includes('T') ? t : t.replace(' ', 'T');
  const hasZone = /(Z|[+-]\d\d:?\d\d)$/.test(iso);
  return Date.parse(hasZone ? iso : `${iso}Z`);
}

function checkValue(v: number, where: string): number {
  if (!Number.isFinite(v)) throw new TraceFormatError(`${where}: carbon intensity is not a number`);
  if (v < 0 || v > MAX_INTENSITY_G_PER_KWH)
    throw new TraceFormatError(`${where}: carbon intensity ${v} gCO2eq/kWh is outside [0, ${MAX_INTENSITY_G_PER_KWH}]`);
  return v;
}

export interface ParseTraceOptions {
  /** For Electricity Maps files: which column to use (default `direct`, the Scope 2 counterpart). */
  basis?: EmissionBasis;
}

export function parseCarbonTrace(text: string, fileName: string, opts: ParseTraceOptions = {}): CarbonTrace {
  const trimmed = text.replace(/^\uFEFF/, '').trimStart();
  const trace = trimmed.startsWith('[') ? parseJson(trimmed, fileName) : parseCsv(trimmed, fileName, opts);
  if (trace.points.length === 0) throw new TraceFormatError(`${fileName}: the trace has no rows`);
  for (let i = 1; i < trace.points.length; i++) {
    if (trace.points[i]!.timeMs <= trace.points[i - 1]!.timeMs)
      throw new TraceFormatError(`${fileName}: row ${i + 1}: timestamps must increase strictly`);
  }
  return trace;
}

function parseCsv(text: string, file: string, opts: ParseTraceOptions): CarbonTrace {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = parseCsvLine(lines[0] ?? '').map((h) => h.trim());
  const col = (name: string) => header.indexOf(name);
  const basis = opts.basis ?? 'direct';
  let timeCol: number;
  let valueCol: number;
  let forecastCol = -1;
  let estCol = -1;
  let zoneCol = -1;
  let columnName: string;
  if (col('Datetime (UTC)') >= 0) {
    timeCol = col('Datetime (UTC)');
    columnName = basis === 'direct' ? 'Carbon Intensity gCO₂eq/kWh (direct)' : 'Carbon Intensity gCO₂eq/kWh (LCA)';
    valueCol = col(columnName);
    estCol = col('Data Estimated');
    zoneCol = col('Zone Id');
  } else if (col('UTC time') >= 0) {
    if (basis !== 'direct') throw new TraceFormatError(`${file}: DACF traces carry direct intensity only`);
    timeCol = col('UTC time');
    columnName = 'carbon_intensity';
    valueCol = col(columnName);
    forecastCol = col('carbon_from_src_forecasts');
  } else {
    throw new TraceFormatError(
      `${file}: line 1: unknown trace format: expected a 'Datetime (UTC)' (Electricity Maps) or 'UTC time' (DACF) column`,
    );
  }
  if (valueCol < 0) throw new TraceFormatError(`${file}: line 1: missing column '${columnName}'`);
  const points: TracePoint[] = [];
  let zone: string | undefined;
  for (let i = 1; i < lines.length; i++) {
    const cells = parseCsvLine(lines[i]!);
    const where = `${file}: line ${i + 1}`;
    const timeMs = parseUtcTime(cells[timeCol] ?? '');
    if (!Number.isFinite(timeMs)) throw new TraceFormatError(`${where}: column '${header[timeCol]}': bad timestamp`);
    const raw = (cells[valueCol] ?? '').trim();
    if (raw === '') throw new TraceFormatError(`${where}: column '${columnName}': empty value`);
    const p: TracePoint = {
      timeMs,
      valueGPerKWh: checkValue(Number(raw), `${where}: column '${columnName}'`),
      estimated: estCol >= 0 && (cells[estCol] ?? '').trim().toLowerCase() === 'true',
    };
    if (forecastCol >= 0) {
      p.forecastGPerKWh = checkValue(Number(cells[forecastCol]), `${where}: column 'carbon_from_src_forecasts'`);
    }
    if (zoneCol >= 0 && zone === undefined) zone = (cells[zoneCol] ?? '').trim() || undefined;
    points.push(p);
  }
  return finish(points, basis, forecastCol >= 0, zone);
}

function parseJson(text: string, file: string): CarbonTrace {
  let rows: unknown;
  try {
    rows = JSON.parse(text);
  } catch (e) {
    throw new TraceFormatError(`${file}: malformed JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(rows)) throw new TraceFormatError(`${file}: expected a JSON array of points`);
  const points = rows.map((r: Record<string, unknown>, i): TracePoint => {
    const where = `${file}: [${i}]`;
    const timeMs = typeof r.datetime === 'string' ? parseUtcTime(r.datetime) : NaN;
    if (!Number.isFinite(timeMs)) throw new TraceFormatError(`${where}.datetime: bad or missing timestamp`);
    const p: TracePoint = {
      timeMs,
      valueGPerKWh: checkValue(Number(r.carbonIntensity ?? NaN), `${where}.carbonIntensity`),
      estimated: r.isEstimated === true,
    };
    if (r.forecast !== undefined) p.forecastGPerKWh = checkValue(Number(r.forecast), `${where}.forecast`);
    return p;
  });
  return finish(
    points,
    'direct',
    points.some((p) => p.forecastGPerKWh !== undefined),
  );
}

function finish(points: TracePoint[], basis: EmissionBasis, hasForecast: boolean, zone?: string): CarbonTrace {
  const stepMs = points.length > 1 ? points[1]!.timeMs - points[0]!.timeMs : 3_600_000;
  const t: CarbonTrace = { basis, stepMs, points, hasForecast };
  if (zone !== undefined) t.zone = zone;
  return t;
}
