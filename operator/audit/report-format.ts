// How the HTML report writes numbers, times and durations for people: a few significant digits (the inputs are
// estimates good to a few percent, so more digits would claim a precision the numbers do not have), digit
// grouping, UTC times, and a dash for an unknown value. The exact value stays in the page (data-value) for tools.

const SIG = 3;
const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const significant = new Intl.NumberFormat('en-US', { maximumSignificantDigits: SIG });

/** Unknown values (null, NaN) are shown as an en dash, never as 0. */
export const UNKNOWN = '–';

/** `1,234,567`, `123`, `12.3`, `0.0123`, `1.23e-7`: SIG significant digits, whole numbers at or above 10^SIG. */
export function formatNumber(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return UNKNOWN;
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 10 ** SIG) return grouped.format(v);
  if (a < 1e-4) return v.toExponential(SIG - 1);
  return significant.format(v);
}

/** A mass of CO2e for reading at a glance: `850 g`, `3.32 kg`, `1.65 t` (the columns stay in gCO2e). */
export function formatMass(g: number | null | undefined): string {
  if (g === null || g === undefined || !Number.isFinite(g)) return UNKNOWN;
  const a = Math.abs(g);
  if (a >= 1e6) return `${formatNumber(g / 1e6)}\u00a0tCO2e`;
  if (a >= 1e3) return `${formatNumber(g / 1e3)}\u00a0kgCO2e`;
  return `${formatNumber(g)}\u00a0gCO2e`;
}

/** A share 0..1 as a percentage: `12.3 %`, `0.42 %`, `100 %` (a no-break space keeps the sign with its number). */
export function formatPercent(share: number | null | undefined): string {
  if (share === null || share === undefined || !Number.isFinite(share)) return UNKNOWN;
  const p = share * 100;
  if (p === 0) return '0\u00a0%';
  if (Math.abs(p) >= 1) return `${(Math.round(p * 10) / 10).toString()}\u00a0%`;
  return `${formatNumber(p)}\u00a0%`;
}

/** `2023-01-01 12:00 UTC` (seconds shown only when not zero). */
export function formatUtc(ms: number): string {
  const iso = new Date(ms).toISOString();
  const secs = iso.slice(17, 19);
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}${secs === '00' ? '' : `:${secs}`} UTC`;
}

const UNITS: [number, string][] = [
  [86_400_000, 'd'],
  [3_600_000, 'h'],
  [60_000, 'min'],
  [1000, 's'],
];

/** `1 h`, `2 d 3 h`, `90 s` → `1 min 30 s`: at most the two largest units. */
export function formatDuration(ms: number): string {
  if (!(ms > 0)) return '0 s';
  const parts: string[] = [];
  let rest = Math.round(ms);
  for (const [size, name] of UNITS) {
    if (rest >= size && parts.length < 2) {
      const n = Math.floor(rest / size);
      parts.push(`${n} ${name}`);
      rest -= n * size;
    } else if (parts.length > 0) break;
  }
  return parts.length ? parts.join(' ') : `${ms} ms`;
}

export function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] ?? ch,
  );
}
