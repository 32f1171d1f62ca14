// Strict readers for the cells of a trace: timestamps, numbers and booleans. `Date.parse` and `Number` are too
// lenient for data that is billed and audited: `Date.parse('2023-02-30')` is 2 March, `Number('')` is 0 and
// `Number('0x1f')` is 31. These accept only what the formats write and return NaN / undefined otherwise, so the
// caller can say which cell and which value was wrong.

const TIME =
  /^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d{1,9}))?)?)?\s*(Z|z|UTC|[+-]\d\d(?::?\d\d)?)?$/;

/**
 * Parses `2023-01-01 00:00:00`, `2021-07-01 00:00:00+00:00`, `2023-01-01T00:00:00.000Z` or a date alone; times
 * without a zone are UTC (every trace format carbonscale reads states UTC). Returns ms since epoch, or NaN for
 * anything else, including impossible dates (30 February, 24:00) that `Date.parse` would roll over.
 */
export function parseUtcTime(s: string): number {
  const m = TIME.exec(s.trim());
  if (!m) return NaN;
  const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = '', zone = 'Z'] = m;
  const Y = Number(y);
  const M = Number(mo);
  const D = Number(d);
  const H = Number(h);
  const MI = Number(mi);
  const S = Number(sec);
  if (M < 1 || M > 12 || D < 1 || D > daysInMonth(Y, M) || H > 23 || MI > 59 || S > 59) return NaN;
  const ms = frac === '' ? 0 : Math.round(Number(`0.${frac}`) * 1000);
  return Date.UTC(Y, M - 1, D, H, MI, S, ms) - zoneOffsetMs(zone);
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(y: number, m: number): number {
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  return m === 2 && leap ? 29 : MONTH_DAYS[m - 1]!;
}

function zoneOffsetMs(zone: string): number {
  if (zone === 'Z' || zone === 'z' || zone === 'UTC') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const hh = Number(digits.slice(0, 2));
  const mm = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
  if (hh > 23 || mm > 59) return NaN;
  return sign * (hh * 60 + mm) * 60_000;
}

const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A decimal number as CSV exports write it (`12`, `-0.5`, `1.2e3`); NaN for empty, hex, `NaN`, `Infinity`, … */
export function parseDecimal(s: string): number {
  const t = s.trim();
  return DECIMAL.test(t) ? Number(t) : NaN;
}

/** `true`/`false` in any case (Electricity Maps writes `true`/`false`, pandas `True`/`False`); undefined otherwise. */
export function parseBool(s: string): boolean | undefined {
  const t = s.trim().toLowerCase();
  if (t === 'true') return true;
  if (t === 'false') return false;
  return undefined;
}

/** `2023-03-05T14:00Z`: a timestamp as messages show it (seconds only when not zero). */
export function isoTime(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  const s = new Date(ms).toISOString();
  return s.endsWith(':00.000Z') ? `${s.slice(0, 16)}Z` : s.replace('.000Z', 'Z');
}

/** `1-hour`, `10-minute`, `30-second`: a step as messages show it. */
export function stepText(stepMs: number): string {
  if (stepMs % 3_600_000 === 0) return `${stepMs / 3_600_000}-hour`;
  if (stepMs % 60_000 === 0) return `${stepMs / 60_000}-minute`;
  return `${stepMs / 1000}-second`;
}
