// The report's table by day, namespace and service, for people: column names in words with their units, a few
// significant digits, a totals row. Each cell keeps the exact number in `data-value` (the CSV has it too).
import { escapeHtml, formatNumber, formatPercent } from './report-format.ts';
import type { Report, ReportRow } from './report.ts';

interface Column {
  key: string;
  header: string;
  /** Hover text: what the column means exactly. */
  help: string;
  kind: 'text' | 'number' | 'percent';
  value: (r: ReportRow) => string | number | null;
  /** The totals row's value; undefined leaves the cell empty. */
  total?: (rows: ReportRow[]) => number | null;
}

const sumOf =
  (f: (r: ReportRow) => number) =>
  (rows: ReportRow[]): number =>
    rows.reduce((a, r) => a + f(r), 0);

function sloShare(rows: ReportRow[]): number | null {
  const met = sumOf((r) => r.slo_met_minutes)(rows);
  const known = met + sumOf((r) => r.slo_missed_minutes)(rows);
  return known > 0 ? met / known : null;
}

const COLUMNS: Column[] = [
  { key: 'day', header: 'Day (UTC)', help: 'UTC day of the intervals', kind: 'text', value: (r) => r.day },
  {
    key: 'service',
    header: 'Service',
    help: 'InferenceService namespace/name',
    kind: 'text',
    value: (r) => `${r.namespace}/${r.name}`,
  },
  {
    key: 'intervals',
    header: 'Intervals',
    help: 'accounting intervals (usage rows)',
    kind: 'number',
    value: (r) => r.intervals,
    total: sumOf((r) => r.intervals),
  },
  {
    key: 'energy_facility_kwh',
    header: 'Energy (kWh)',
    help: 'facility energy: IT energy × PUE',
    kind: 'number',
    value: (r) => r.energy_facility_kwh,
    total: sumOf((r) => r.energy_facility_kwh),
  },
  {
    key: 'total_co2e_g',
    header: 'Emissions (gCO2e)',
    help: 'operational (location-based) plus embodied emissions',
    kind: 'number',
    value: (r) => r.total_co2e_g,
    total: sumOf((r) => r.total_co2e_g),
  },
  {
    key: 'embodied_co2e_g',
    header: 'of which embodied (gCO2e)',
    help: 'GPU manufacturing emissions amortised over GPU-hours; a dash where no interval counted them',
    kind: 'number',
    // Not counted (no factor configured) is not zero: a dash, never a 0 that reads as counted.
    value: (r) => (r.embodied_not_counted_intervals >= r.intervals ? null : r.embodied_co2e_g),
    total: (rows) =>
      rows.every((r) => r.embodied_not_counted_intervals >= r.intervals) ? null : sumOf((r) => r.embodied_co2e_g)(rows),
  },

  {
    key: 'baseline_total_co2e_g',
    header: 'Baseline (gCO2e)',
    help: 'modelled: the full variant at demand-only replicas, same intensity and PUE',
    kind: 'number',
    value: (r) => r.baseline_total_co2e_g,
    total: sumOf((r) => r.baseline_total_co2e_g),
  },
  {
    key: 'savings_co2e_g',
    header: 'Saved vs baseline (gCO2e)',
    help: 'baseline − emissions (negative: more than the baseline)',
    kind: 'number',
    value: (r) => r.savings_co2e_g,
    total: sumOf((r) => r.savings_co2e_g),
  },
  {
    key: 'saved_share',
    header: 'Saved (% of baseline)',
    help: 'saved ÷ baseline',
    kind: 'percent',
    value: (r) => (r.baseline_total_co2e_g > 0 ? r.savings_co2e_g / r.baseline_total_co2e_g : null),
    total: (rows) => {
      const b = sumOf((r) => r.baseline_total_co2e_g)(rows);
      return b > 0 ? sumOf((r) => r.savings_co2e_g)(rows) / b : null;
    },
  },
  {
    key: 'requests',
    header: 'Requests',
    help: 'requests served',
    kind: 'number',
    value: (r) => r.requests,
    total: sumOf((r) => r.requests),
  },
  {
    key: 'sci_g_per_1k_inferences',
    header: 'SCI (gCO2e per 1k inferences)',
    help: 'Σ emissions ÷ Σ inferences × 1000 (Software Carbon Intensity)',
    kind: 'number',
    value: (r) => r.sci_g_per_1k_inferences,
    // Over all rows only when every interval's emissions are known; otherwise the inferences do not match.
    total: (rows) => {
      const inf = sumOf((r) => r.inferences)(rows);
      return inf > 0 && rows.every((r) => r.ci_missing_intervals === 0)
        ? (sumOf((r) => r.total_co2e_g)(rows) / inf) * 1000
        : null;
    },
  },
  {
    key: 'degraded_request_share',
    header: 'Smaller variant (% of requests)',
    help: 'requests served by a variant other than the full model ÷ requests',
    kind: 'percent',
    value: (r) => r.degraded_request_share,
    total: (rows) => {
      const req = sumOf((r) => r.requests)(rows);
      return req > 0 ? sumOf((r) => (r.degraded_request_share ?? 0) * r.requests)(rows) / req : null;
    },
  },
  {
    key: 'slo_met_share',
    header: 'SLO met (% of known time)',
    help:
      'minutes with the measured p95 within the ceiling in force ÷ minutes whose SLO state is known (the CSV has both ' +
      'minute counts); minutes whose latency is unknown (fewer than 20 requests, no request-duration histogram, ' +
      'trace or static demand) are in neither; empty when no minute is known',
    kind: 'percent',
    value: (r) => sloShare([r]),
    total: sloShare,
  },
  {
    key: 'energy_measured_share',
    header: 'Energy measured (%)',
    help: 'share of the energy read from a meter; the rest is estimated from power profiles',
    kind: 'percent',
    value: (r) => r.energy_measured_share,
    total: (rows) => {
      const e = sumOf((r) => r.energy_facility_kwh)(rows);
      return e > 0 ? sumOf((r) => r.energy_measured_share * r.energy_facility_kwh)(rows) / e : null;
    },
  },
];

function cell(c: Column, v: string | number | null, tag: 'td' | 'th' = 'td'): string {
  if (c.kind === 'text')
    return `<${tag}${tag === 'th' ? ' scope="row"' : ''} class="text" data-col="${c.key}">${escapeHtml(String(v ?? ''))}</${tag}>`;
  const n = v === null ? null : Number(v);
  const text = c.kind === 'percent' ? formatPercent(n) : formatNumber(n);
  return `<td data-col="${c.key}" data-value="${n ?? ''}"${n === null ? ' title="unknown"' : ''}>${escapeHtml(text)}</td>`;
}

function headRow(cols: Column[]): string {
  return cols
    .map(
      (c) =>
        `<th scope="col" data-col="${c.key}" title="${escapeHtml(c.help)}" class="${c.kind}">${escapeHtml(c.header)}</th>`,
    )
    .join('');
}

/** The totals row: each column's own rule for adding up (sums, shares recomputed from their parts). */
function totalsRow(cols: Column[], rows: ReportRow[], labelSpan: number): string {
  return cols
    .map((c, i) => {
      if (i === 0) return `<th scope="row" class="text" colspan="${labelSpan}">Total</th>`;
      if (i < labelSpan) return '';
      return c.total ? cell(c, c.total(rows)) : '<td></td>';
    })
    .join('');
}

function table(id: string, caption: string, cols: Column[], body: string[], foot: string): string {
  return `<div class="table-wrap"><table id="${id}"><caption>${escapeHtml(caption)}</caption>
<thead><tr>${headRow(cols)}</tr></thead><tbody>
${body.join('\n')}
</tbody><tfoot><tr>${foot}</tr></tfoot></table></div>`;
}

/** Rows of the daily table shown open at most; a longer one is folded (a <details>, no script needed). */
const OPEN_DAILY_ROWS = 31;

/** Per service over the whole period (each column added up by its own rule), then per day and service. */
export function serviceTables(report: Report): string {
  const period = COLUMNS.filter((c) => c.key !== 'day');
  const byService = new Map<string, ReportRow[]>();
  for (const r of report.rows) {
    const key = `${r.namespace}/${r.name}`;
    byService.set(key, [...(byService.get(key) ?? []), r]);
  }
  const serviceRows = [...byService]
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(
      ([key, rows]) =>
        `<tr>${period.map((c) => (c.key === 'service' ? cell(c, key, 'th') : cell(c, c.total ? c.total(rows) : null))).join('')}</tr>`,
    );
  const dailyRows = report.rows.map(
    (r) => `<tr>${COLUMNS.map((c, i) => cell(c, c.value(r), i === 1 ? 'th' : 'td')).join('')}</tr>`,
  );
  const daily = table(
    'by-day-service',
    'By day (UTC) and service',
    COLUMNS,
    dailyRows,
    totalsRow(COLUMNS, report.rows, 2),
  );
  // One day only: the daily table would repeat the period table row for row.
  const oneDay = new Set(report.rows.map((r) => r.day)).size <= 1;
  const folded = oneDay
    ? ''
    : dailyRows.length > OPEN_DAILY_ROWS
      ? `<details><summary>By day and service: ${dailyRows.length} rows</summary>${daily}</details>`
      : daily;
  return (
    table('by-service', 'By service, whole period', period, serviceRows, totalsRow(period, report.rows, 1)) + folded
  );
}
