// Field-by-field readers for provider payloads: the one place that decides what a provider may send. Every failure
// names the provider, the region, the JSON path and the value, and carries the path as `field` (the metric label).
//   - Numbers: a numeric field is a JSON number. A numeric string is read only where the provider's documentation
//     says the field is one (`numericString: true`), and then only as plain digits with a decimal point: `"1,035"`
//     is 1,035 with a thousands separator or 1.035 with a decimal comma, and nothing says which, so it is refused,
//     never guessed (Carbon Aware SDK issue #364 saw a decimal comma from Electricity Maps). NaN, Infinity,
//     negative values and values above MAX_INTENSITY_G_PER_KWH are refused (see docs/carbon.md for the bound).
//     Zero passes: clean grids reach 0.0. A missing value is never read as 0.
//   - Times: ISO 8601 with a date, a time and an explicit offset (`Z` or `±hh:mm`); a time without an offset is
//     ambiguous and a calendar date that does not exist (`2023-02-30`) is refused, not rolled over.
//   - Identity: a field that names the region of the answer must name the region asked for (`sameRegion`).
import { CarbonProviderError } from './provider-error.ts';
import { MAX_INTENSITY_G_PER_KWH } from './trace-file.ts';

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A value as it appears in a message: JSON, capped (strings keep their quotes, so `"1,035"` reads as a string). */
export function shown(raw: unknown): string {
  let s: string;
  try {
    // JSON.stringify returns undefined for undefined, functions and symbols, though its lib type says string.
    s = (JSON.stringify(raw) as string | undefined) ?? String(raw);
  } catch {
    s = String(raw);
  }
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}

export function malformed(what: string, path: string, problem: string): CarbonProviderError {
  return new CarbonProviderError('malformed', `${what}: ${path}: ${problem}`, { field: path });
}

export function field(obj: unknown, key: string, what: string, path: string): unknown {
  if (!isObject(obj)) throw malformed(what, path, 'expected an object');
  const v = obj[key];
  if (v === undefined || v === null) throw malformed(what, `${path}.${key}`, 'missing field');
  return v;
}

export function arrayField(obj: unknown, key: string, what: string, path: string): unknown[] {
  const v = field(obj, key, what, path);
  if (!Array.isArray(v)) throw malformed(what, `${path}.${key}`, `expected an array, got ${shown(v)}`);
  return v;
}

export interface NumberRules {
  /** The provider's documentation says this field may be a numeric string (plain digits, decimal point). */
  numericString?: boolean;
}

const PLAIN_DECIMAL = /^-?\d+(\.\d+)?$/;

/** A JSON number (or, where documented, a plain decimal string); anything else is refused naming the value. */
export function jsonNumber(raw: unknown, what: string, path: string, unit: string, rules: NumberRules = {}): number {
  if (raw === undefined || raw === null) throw malformed(what, path, 'missing field');
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'string' && rules.numericString && PLAIN_DECIMAL.test(raw)) return Number(raw);
  const why =
    typeof raw === 'string' && /^\s*-?[\d.,\s']+\s*$/.test(raw) && /[,\s']/.test(raw.trim())
      ? ' (a thousands or decimal separator is ambiguous: not read)'
      : '';
  throw malformed(what, path, `expected a JSON number of ${unit}, got ${shown(raw)}${why}`);
}

/** A carbon intensity in gCO2eq/kWh: a JSON number (see NumberRules), then the range check. */
export function intensity(raw: unknown, what: string, path: string, rules: NumberRules = {}): number {
  return checkRange(jsonNumber(raw, what, path, 'gCO2eq/kWh', rules), what, path);
}

export function checkRange(v: number, what: string, path: string): number {
  const opts = { field: path };
  if (!Number.isFinite(v))
    throw new CarbonProviderError(
      'out-of-range',
      `${what}: ${path}: carbon intensity ${v} is not a finite number`,
      opts,
    );
  if (v < 0)
    throw new CarbonProviderError('out-of-range', `${what}: ${path}: negative carbon intensity ${v} gCO2eq/kWh`, opts);
  if (v > MAX_INTENSITY_G_PER_KWH)
    throw new CarbonProviderError(
      'out-of-range',
      `${what}: ${path}: carbon intensity ${v} gCO2eq/kWh is above the ${MAX_INTENSITY_G_PER_KWH} gCO2eq/kWh ceiling`,
      opts,
    );
  return v;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})$/;

/** ms since epoch of an ISO 8601 time with an explicit offset, or NaN. */
export function parseIsoTime(s: string): number {
  const m = ISO.exec(s.trim());
  if (!m) return NaN;
  const [, y, mo, d, h, mi, se, frac, zone] = m;
  const ms = frac ? Math.floor(Number(`0.${frac}`) * 1000) : 0;
  const local = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(se ?? 0), ms);
  const check = new Date(local);
  // Date.UTC rolls 30 February over into March: a date that does not exist is not a date.
  if (
    check.getUTCFullYear() !== Number(y) ||
    check.getUTCMonth() !== Number(mo) - 1 ||
    check.getUTCDate() !== Number(d) ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(se ?? 0) > 59
  )
    return NaN;
  if (zone === 'Z') return local;
  const sign = zone!.startsWith('-') ? -1 : 1;
  const [oh, om] = zone!.slice(1).split(':').map(Number) as [number, number];
  if (oh > 23 || om > 59) return NaN;
  return local - sign * (oh * 60 + om) * 60_000;
}

export function timestamp(raw: unknown, what: string, path: string): number {
  if (raw === undefined || raw === null) throw malformed(what, path, 'missing field');
  const t = typeof raw === 'string' ? parseIsoTime(raw) : NaN;
  if (!Number.isFinite(t))
    throw malformed(
      what,
      path,
      `expected an ISO 8601 time with an offset (e.g. 2023-06-15T12:00:00Z), got ${shown(raw)}`,
    );
  return t;
}

export function str(raw: unknown, what: string, path: string): string {
  if (typeof raw !== 'string') throw malformed(what, path, `expected a string, got ${shown(raw)}`);
  return raw;
}

/**
 * The region an answer says it is for must be the one asked for (compared without case: `de` and `DE` are one
 * zone). `required`: the provider's documented shape always carries the field, so its absence is refused too.
 */
export function sameRegion(
  obj: unknown,
  key: string,
  asked: string,
  what: string,
  path: string,
  required: boolean,
): void {
  const got = isObject(obj) ? obj[key] : undefined;
  const at = `${path}.${key}`;
  if (got === undefined || got === null) {
    if (required) throw malformed(what, at, `missing field (the answer must say which region it is for: '${asked}')`);
    return;
  }
  if (typeof got !== 'string' && typeof got !== 'number')
    throw malformed(what, at, `expected a region name, got ${shown(got)}`);
  if (String(got).trim().toLowerCase() !== asked.trim().toLowerCase())
    throw new CarbonProviderError(
      'wrong-region',
      `${what}: ${at}: the answer is for ${shown(String(got))}, not for '${asked}' as asked: not used`,
      { field: at },
    );
}
