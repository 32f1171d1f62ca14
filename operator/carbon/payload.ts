// Field-by-field readers for provider payloads. Every failure names the provider, the region and the JSON path,
// and out-of-range values are rejected here, before anything downstream can use them: negative, NaN/missing
// and above 2,000 gCO2eq/kWh. Zero passes (clean grids reach 0.0) — a missing value is never read as 0.
import { CarbonProviderError } from './provider-error.ts';
import { MAX_INTENSITY_G_PER_KWH, parseUtcTime } from './trace-file.ts';

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function malformed(what: string, path: string, problem: string): CarbonProviderError {
  return new CarbonProviderError('malformed', `${what}: ${path}: ${problem}`);
}

export function field(obj: unknown, key: string, what: string, path: string): unknown {
  if (!isObject(obj)) throw malformed(what, path, 'expected an object');
  const v = obj[key];
  if (v === undefined || v === null) throw malformed(what, `${path}.${key}`, 'missing field');
  return v;
}

export function arrayField(obj: unknown, key: string, what: string, path: string): unknown[] {
  const v = field(obj, key, what, path);
  if (!Array.isArray(v)) throw malformed(what, `${path}.${key}`, 'expected an array');
  return v;
}

/**
 * A number of gCO2eq/kWh. Accepts numeric strings, including a decimal comma (Electricity Maps once served
 * `"123,4"`: Carbon Aware SDK issue #364), then applies the range check.
 */
export function intensity(raw: unknown, what: string, path: string): number {
  if (raw === undefined || raw === null) throw malformed(what, path, 'missing field');
  let v: number;
  if (typeof raw === 'number') v = raw;
  else if (typeof raw === 'string' && /^\s*-?\d+([.,]\d+)?\s*$/.test(raw)) v = Number(raw.replace(',', '.'));
  else if (typeof raw === 'string' && /^\s*-?(nan|infinity)\s*$/i.test(raw)) v = NaN;
  else throw malformed(what, path, `expected a number, got ${JSON.stringify(raw).slice(0, 40)}`);
  return checkRange(v, what, path);
}

export function checkRange(v: number, what: string, path: string): number {
  if (!Number.isFinite(v))
    throw new CarbonProviderError('out-of-range', `${what}: ${path}: carbon intensity is not a finite number`);
  if (v < 0)
    throw new CarbonProviderError('out-of-range', `${what}: ${path}: negative carbon intensity ${v} gCO2eq/kWh`);
  if (v > MAX_INTENSITY_G_PER_KWH)
    throw new CarbonProviderError(
      'out-of-range',
      `${what}: ${path}: carbon intensity ${v} gCO2eq/kWh is above the ${MAX_INTENSITY_G_PER_KWH} gCO2eq/kWh ceiling`,
    );
  return v;
}

export function timestamp(raw: unknown, what: string, path: string): number {
  if (raw === undefined || raw === null) throw malformed(what, path, 'missing field');
  const t = typeof raw === 'string' ? parseUtcTime(raw) : NaN;
  if (!Number.isFinite(t)) throw malformed(what, path, `bad timestamp ${JSON.stringify(raw).slice(0, 40)}`);
  return t;
}

export function str(raw: unknown, what: string, path: string): string {
  if (typeof raw !== 'string') throw malformed(what, path, 'expected a string');
  return raw;
}
