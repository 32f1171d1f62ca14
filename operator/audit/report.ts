// `carbonscale audit report`: sums the usage rows by day, namespace and service (energy, emissions, baseline,
// savings, SCI, share of requests served degraded, SLO minutes), as a table, CSV and a self-contained HTML page.
import { nodeAuditFs, type AuditFs } from './audit-fs.ts';
import { readAuditFile } from './parquet-file.ts';
import { scanPartFiles } from './part-files.ts';
import type { Row, StreamKind } from './schema.ts';
import { recreatedLines, ServiceObjects, type ServiceName } from './service-objects.ts';
import type { VerifyResult } from './verify.ts';

export interface ReportOptions {
  fromMs?: number;
  toMs?: number;
  namespace?: string;
  /** Called with every selected usage row, so the HTML report's charts sum the very rows of the table. */
  onRow?: (row: Row) => void;
}

export interface ReportRow {
  day: string;
  namespace: string;
  name: string;
  intervals: number;
  energy_facility_kwh: number;
  operational_co2e_g: number;
  embodied_co2e_g: number;
  total_co2e_g: number;
  baseline_total_co2e_g: number;
  savings_co2e_g: number;
  requests: number;
  inferences: number;
  /** (Σ total_co2e_g / Σ inferences) × 1000; null without inferences. */
  sci_g_per_1k_inferences: number | null;
  /** Σ requests served by a non-full variant / Σ requests; null without requests. */
  degraded_request_share: number | null;
  slo_met_minutes: number;
  slo_missed_minutes: number;
  energy_measured_share: number;
  /** Intervals without a carbon intensity (ci_missing): their energy is counted, their emissions are not known. */
  ci_missing_intervals: number;
  /** Intervals whose embodied emissions are not counted (embodied_counted = false). */
  embodied_not_counted_intervals: number;
}

/** What `audit verify` found, carried with the report so every output can say whether the trail verified. */
export interface ReportVerification {
  ok: boolean;
  /** Problems by kind (gap, edit, time_gap, ...). */
  problems: Record<string, number>;
  problemCount: number;
  /** Rows still in journal/ (durable, not yet in Parquet): not in this report's sums. */
  pendingRows: Record<StreamKind, number>;
  /** The report was made although verify found problems (--allow-unverified). */
  allowedUnverified: boolean;
}

export function verificationOf(v: VerifyResult, allowedUnverified: boolean): ReportVerification {
  const problems: Record<string, number> = {};
  for (const p of v.problems) problems[p.kind] = (problems[p.kind] ?? 0) + 1;
  return { ok: v.ok, problems, problemCount: v.problems.length, pendingRows: v.journalRows, allowedUnverified };
}

/** The lines every report output starts with when the trail did not verify or rows are still pending. */
export function verificationNotes(v: ReportVerification | undefined): string[] {
  if (!v) return [];
  const out: string[] = [];
  if (!v.ok) {
    const kinds = Object.entries(v.problems)
      .map(([k, n]) => `${n} ${k}`)
      .join(', ');
    out.push(
      `WARNING: audit verify found ${v.problemCount} problem(s) (${kinds}): these totals come from an UNVERIFIED trail; run \`carbonscale audit verify DIR\` for details`,
    );
  }
  const pending = v.pendingRows.usage + v.pendingRows.decision;
  if (pending > 0)
    out.push(
      `${pending} rows pending in journal/ (${v.pendingRows.usage} usage, ${v.pendingRows.decision} decision): durable, not yet in Parquet, not in these totals; the operator writes them at its next rotation or start`,
    );
  return out;
}

export interface Report {
  rows: ReportRow[];
  /** Per hour (all selected services): emissions and baseline, gCO2e. */
  hourly: { hourMs: number; total_co2e_g: number; baseline_total_co2e_g: number }[];
  /** Per hour and variant: the mean intensity used, gCO2eq/kWh. */
  intensityByVariant: { hourMs: number; variant: string; ci_g_per_kwh: number }[];
  /** Set by `audit report` (audit-cli.ts) from the same verifyAuditDir that `audit verify` runs. */
  verification?: ReportVerification;
  /**
   * Each selected name that had more than one object (deleted and created again): the rows above add them up
   * under the name, and every output says so (service-objects.ts).
   */
  recreated?: ServiceName[];
}

/** What the report does with the rows of a name's several objects, said after each of them. */
export const RECREATED_SUMS = 'the report adds their rows up under this name';

type Group = ReportRow & { measuredKwh: number; knownTotalInferences: number };

function newGroup(day: string, r: Row): Group {
  return {
    day,
    namespace: String(r.namespace),
    name: String(r.name),
    intervals: 0,
    energy_facility_kwh: 0,
    operational_co2e_g: 0,
    embodied_co2e_g: 0,
    total_co2e_g: 0,
    baseline_total_co2e_g: 0,
    savings_co2e_g: 0,
    requests: 0,
    inferences: 0,
    sci_g_per_1k_inferences: null,
    degraded_request_share: 0,
    slo_met_minutes: 0,
    slo_missed_minutes: 0,
    energy_measured_share: 0,
    ci_missing_intervals: 0,
    embodied_not_counted_intervals: 0,
    measuredKwh: 0,
    knownTotalInferences: 0,
  };
}

/** A nullable column as a number to add: null (unknown) adds nothing; the counts say how many were unknown. */
const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

function addRow(g: Group, r: Row): void {
  g.intervals++;
  g.energy_facility_kwh += Number(r.energy_facility_kwh);
  if (r.energy_method === 'measured') g.measuredKwh += Number(r.energy_facility_kwh);
  g.operational_co2e_g += num(r.operational_co2e_g);
  g.embodied_co2e_g += num(r.embodied_co2e_g);
  g.total_co2e_g += num(r.total_co2e_g);
  g.baseline_total_co2e_g += num(r.baseline_total_co2e_g);
  g.savings_co2e_g += num(r.savings_co2e_g);
  g.requests += Number(r.requests);
  g.inferences += Number(r.inferences);
  // SCI over the intervals whose emissions are known, so an unknown intensity does not dilute it.
  if (r.total_co2e_g !== null && r.total_co2e_g !== undefined) g.knownTotalInferences += Number(r.inferences);
  if (r.ci_missing === true) g.ci_missing_intervals++;
  if (r.embodied_counted === false) g.embodied_not_counted_intervals++;
  // degraded_request_share holds the degraded request count until the end.
  if (r.variant_is_full === false) g.degraded_request_share = (g.degraded_request_share ?? 0) + Number(r.requests);
  if (r.slo_met === true) g.slo_met_minutes += Number(r.interval_s) / 60;
  if (r.slo_met === false) g.slo_missed_minutes += Number(r.interval_s) / 60;
}

function finishGroup({ measuredKwh, knownTotalInferences, ...g }: Group): ReportRow {
  return {
    ...g,
    sci_g_per_1k_inferences: knownTotalInferences > 0 ? (g.total_co2e_g / knownTotalInferences) * 1000 : null,
    degraded_request_share: g.requests > 0 ? (g.degraded_request_share ?? 0) / g.requests : null,
    energy_measured_share: g.energy_facility_kwh > 0 ? measuredKwh / g.energy_facility_kwh : 0,
  };
}

export async function buildReport(dir: string, opts: ReportOptions = {}, fs: AuditFs = nodeAuditFs): Promise<Report> {
  const groups = new Map<string, Group>();
  const objects = new ServiceObjects();
  const hourly = new Map<number, { total: number; baseline: number }>();
  const ci = new Map<string, { hourMs: number; variant: string; sum: number; n: number }>();
  const fromDay = opts.fromMs !== undefined ? new Date(opts.fromMs).toISOString().slice(0, 10) : '0000-00-00';
  const toDay = opts.toMs !== undefined ? new Date(opts.toMs).toISOString().slice(0, 10) : '9999-99-99';
  const files = (await scanPartFiles(fs, dir)).parts.usage.sort((a, b) => a.rel.localeCompare(b.rel));
  for (const f of files) {
    if (f.day < fromDay || f.day > toDay) continue;
    const { rows } = await readAuditFile(f.abs);
    for (const r of rows) {
      const start = Number(r.interval_start);
      if (opts.fromMs !== undefined && start < opts.fromMs) continue;
      if (opts.toMs !== undefined && start >= opts.toMs) continue;
      if (opts.namespace !== undefined && r.namespace !== opts.namespace) continue;
      const d = new Date(start).toISOString().slice(0, 10);
      const key = `${d}\u0000${r.namespace}\u0000${r.name}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = newGroup(d, r)));
      addRow(g, r);
      objects.add(r);
      opts.onRow?.(r);
      const hour = Math.floor(start / 3_600_000) * 3_600_000;
      const h = hourly.get(hour) ?? { total: 0, baseline: 0 };
      h.total += num(r.total_co2e_g);
      h.baseline += num(r.baseline_total_co2e_g);
      hourly.set(hour, h);
      if (r.ci_g_per_kwh === null || r.ci_g_per_kwh === undefined) continue;
      const ck = `${hour}\u0000${r.variant}`;
      const c = ci.get(ck) ?? { hourMs: hour, variant: String(r.variant), sum: 0, n: 0 };
      c.sum += Number(r.ci_g_per_kwh);
      c.n++;
      ci.set(ck, c);
    }
  }
  const rows = [...groups.values()]
    .map(finishGroup)
    .sort(
      (a, b) => a.day.localeCompare(b.day) || a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name),
    );
  return {
    rows,
    recreated: objects.list().filter((n) => n.objects.length > 1),
    hourly: [...hourly.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([hourMs, v]) => ({ hourMs, total_co2e_g: v.total, baseline_total_co2e_g: v.baseline })),
    intensityByVariant: [...ci.values()]
      .sort((a, b) => a.hourMs - b.hourMs)
      .map((c) => ({ hourMs: c.hourMs, variant: c.variant, ci_g_per_kwh: c.sum / c.n })),
  };
}

const CSV_COLUMNS: (keyof ReportRow)[] = [
  'day',
  'namespace',
  'name',
  'intervals',
  'energy_facility_kwh',
  'operational_co2e_g',
  'embodied_co2e_g',
  'total_co2e_g',
  'baseline_total_co2e_g',
  'savings_co2e_g',
  'requests',
  'inferences',
  'sci_g_per_1k_inferences',
  'degraded_request_share',
  'slo_met_minutes',
  'slo_missed_minutes',
  'energy_measured_share',
  'ci_missing_intervals',
  'embodied_not_counted_intervals',
];

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function reportCsv(report: Report): string {
  return (
    [CSV_COLUMNS.join(','), ...report.rows.map((r) => CSV_COLUMNS.map((c) => csvCell(r[c])).join(','))].join('\n') +
    '\n'
  );
}

function fmt(v: number | null, digits = 3): string {
  return v === null ? '-' : v.toFixed(digits);
}

export function reportTable(report: Report): string {
  const head = [
    'day',
    'namespace',
    'service',
    'kWh (facility)',
    'gCO2e',
    'baseline gCO2e',
    'saved gCO2e',
    'SCI g/1k inf',
    'degraded %',
    'SLO met min',
    'SLO missed min',
  ];
  const body = report.rows.map((r) => [
    r.day,
    r.namespace,
    r.name,
    fmt(r.energy_facility_kwh),
    fmt(r.total_co2e_g, 1),
    fmt(r.baseline_total_co2e_g, 1),
    fmt(r.savings_co2e_g, 1),
    fmt(r.sci_g_per_1k_inferences),
    r.degraded_request_share === null ? '-' : (r.degraded_request_share * 100).toFixed(1),
    fmt(r.slo_met_minutes, 0),
    fmt(r.slo_missed_minutes, 0),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i < 3 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  const notes = verificationNotes(report.verification);
  const unknown = report.rows.reduce((n, r) => n + r.ci_missing_intervals, 0);
  const noEmbodied = report.rows.reduce((n, r) => n + r.embodied_not_counted_intervals, 0);
  if (unknown > 0)
    notes.push(
      `${unknown} interval(s) had no carbon intensity: their energy is counted, their emissions are unknown (not in gCO2e)`,
    );
  if (noEmbodied > 0) notes.push(`${noEmbodied} interval(s) do not count embodied emissions (no factor configured)`);
  notes.push(...recreatedLines(report.recreated ?? [], RECREATED_SUMS));
  const table = [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)];
  return [...notes, ...(notes.length ? [''] : []), ...table].join('\n') + '\n';
}
