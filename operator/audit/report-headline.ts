// The top of the HTML report: the alerts (trail does not verify, rows pending in the journal, intervals without an
// intensity, a name with several objects), the headline cards and how each number was obtained. Numbers are
// rounded for reading; each keeps its exact value in `data-value` for tools and tests.
import {
  escapeHtml,
  formatDuration,
  formatMass,
  formatNumber,
  formatPercent,
  formatUtc,
  UNKNOWN,
} from './report-format.ts';
import type { ReportSeries } from './report-series.ts';
import { RECREATED_SUMS, type Report, type ReportOptions, type ReportRow } from './report.ts';
import { recreatedLines } from './service-objects.ts';
import type { VerifyResult } from './verify.ts';

export interface HtmlReportInput {
  report: Report;
  series: ReportSeries;
  /** The result of verifyAuditDir on the same directory: what `audit verify` reports. */
  verify: VerifyResult;
  /** The report was made although verify found problems (--allow-unverified). */
  allowedUnverified: boolean;
  /** The audit directory, as given on the command line. */
  source: string;
  selection: ReportOptions;
  generatedAtMs: number;
}

/** Most verify problems listed on the page (all are counted). */
const MAX_PROBLEMS_LISTED = 12;

export interface HeadlineTotals {
  services: number;
  premium: number;
  eco: number;
  total_co2e_g: number;
  baseline_total_co2e_g: number;
  savings_co2e_g: number;
  /** savings / baseline; null without a baseline. */
  saved_share: number | null;
  energy_facility_kwh: number;
  measured_energy_share: number | null;
  estimated_energy_share: number | null;
  usage_rows: number;
}

/** The headline's numbers: sums of the report's rows (the table and CSV), shares from the series' energy split. */
export function headlineTotals(report: Report, series: ReportSeries): HeadlineTotals {
  const sum = (f: (r: ReportRow) => number): number => report.rows.reduce((a, r) => a + f(r), 0);
  const baseline = sum((r) => r.baseline_total_co2e_g);
  const savings = sum((r) => r.savings_co2e_g);
  const kwh = sum((r) => r.energy_facility_kwh);
  const t = series.totals;
  const tiers = series.services.map((s) => s.tier);
  return {
    services: series.services.length,
    premium: tiers.filter((x) => x === 'premium').length,
    eco: tiers.filter((x) => x === 'eco').length,
    total_co2e_g: sum((r) => r.total_co2e_g),
    baseline_total_co2e_g: baseline,
    savings_co2e_g: savings,
    saved_share: baseline > 0 ? savings / baseline : null,
    energy_facility_kwh: kwh,
    measured_energy_share: t.energyKwh > 0 ? t.measuredEnergyKwh / t.energyKwh : null,
    estimated_energy_share: t.energyKwh > 0 ? t.estimatedEnergyKwh / t.energyKwh : null,
    usage_rows: sum((r) => r.intervals),
  };
}

export function stepText(s: ReportSeries): string {
  if (s.perInterval && s.intervalMs !== null) return `per accounting interval (${formatDuration(s.intervalMs)})`;
  return `per ${formatDuration(s.stepMs)}`;
}

/** A value with its exact number kept for tools: <span data-metric data-value>rounded</span>. */
function metric(key: string, v: number | null, text?: string): string {
  return `<span class="num" data-metric="${key}" data-value="${v ?? ''}">${escapeHtml(text ?? formatNumber(v))}</span>`;
}

export function alerts(i: HtmlReportInput): string {
  const out: string[] = [];
  const v = i.verify;
  if (!v.ok) {
    const byKind = new Map<string, number>();
    for (const p of v.problems) byKind.set(p.kind, (byKind.get(p.kind) ?? 0) + 1);
    const kinds = [...byKind].map(([k, n]) => `${n} ${k.replace('_', ' ')}`).join(', ');
    const items = v.problems
      .slice(0, MAX_PROBLEMS_LISTED)
      .map(
        (p) =>
          `<li><code>${escapeHtml(p.kind)}</code> ${escapeHtml([p.stream, p.file].filter(Boolean).join(' · '))}: ${escapeHtml(p.message)}</li>`,
      )
      .join('');
    const more =
      v.problems.length > MAX_PROBLEMS_LISTED
        ? `<li>… and ${v.problems.length - MAX_PROBLEMS_LISTED} more: run <code>carbonscale audit verify ${escapeHtml(i.source)}</code></li>`
        : '';
    out.push(
      `<section class="alert alert-fail" role="alert" id="verify-alert"><h2>This audit trail does not verify</h2>` +
        `<p><strong>audit verify found ${v.problems.length} problem${v.problems.length === 1 ? '' : 's'} (${escapeHtml(kinds)}).</strong> ` +
        `Rows may have been removed, edited or never written: the totals below come from an unverified trail and must not be ` +
        `reported until the problems are explained.${i.allowedUnverified ? ' This page was made with --allow-unverified.' : ''}</p>` +
        `<ul>${items}${more}</ul></section>`,
    );
  }
  const pending = v.journalRows.usage + v.journalRows.decision;
  if (pending > 0)
    out.push(
      `<section class="alert alert-warn" role="alert" id="pending-alert"><h2>${pending} rows pending in journal/</h2>` +
        `<p>${v.journalRows.usage} usage and ${v.journalRows.decision} decision rows are durable in the journal but not yet in ` +
        `Parquet, so they are <strong>not in these totals</strong>. The operator writes them at its next rotation, clean stop ` +
        `or start; report again after that for the complete period.</p></section>`,
    );
  const t = i.series.totals;
  if (t.ciMissingIntervals > 0)
    out.push(
      `<section class="alert alert-warn" role="alert" id="ci-missing-alert"><h2>${t.ciMissingIntervals} intervals without a carbon intensity</h2>` +
        `<p>No intensity was available for them: their energy is counted, their emissions are unknown and are <strong>not in ` +
        `the emission totals</strong> (shown as ${UNKNOWN} and as breaks in the lines).</p></section>`,
    );
  const recreated = recreatedLines(i.report.recreated ?? [], RECREATED_SUMS);
  if (recreated.length > 0)
    out.push(
      `<section class="alert alert-warn" role="alert" id="recreated-alert"><h2>${recreated.length} service name${recreated.length === 1 ? '' : 's'} with several objects</h2>` +
        `<ul>${recreated.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul></section>`,
    );
  if (t.badTimeRows > 0)
    out.push(
      `<section class="alert alert-warn" role="alert"><h2>${t.badTimeRows} rows with unusable interval times</h2>` +
        `<p>They are in the table's sums but in no chart.</p></section>`,
    );
  return out.join('\n');
}

export function headline(i: HtmlReportInput, h: HeadlineTotals): string {
  const t = i.series.totals;
  const v = i.verify;
  const period =
    t.firstStartMs !== null && t.lastEndMs !== null
      ? `<span data-metric="period_start" data-value="${t.firstStartMs}">${formatUtc(t.firstStartMs)}</span> to ` +
        `<span data-metric="period_end" data-value="${t.lastEndMs}">${formatUtc(t.lastEndMs)}</span>`
      : 'no usage rows';
  const duration = t.firstStartMs !== null && t.lastEndMs !== null ? formatDuration(t.lastEndMs - t.firstStartMs) : '';
  const periodDetail =
    h.usage_rows > 0
      ? `${escapeHtml(duration)}; ${formatNumber(h.usage_rows)} usage rows (one per service and interval); charts ${escapeHtml(stepText(i.series))}`
      : 'No usage rows in the final Parquet files for this selection.';
  const pending = v.journalRows.usage + v.journalRows.decision;
  const verifyText = v.ok
    ? `<strong class="ok">Verified</strong>`
    : `<strong class="fail">FAILED</strong> <span class="unit">${v.problems.length} problem${v.problems.length === 1 ? '' : 's'}</span>`;
  const saved =
    h.saved_share === null
      ? UNKNOWN
      : `${h.savings_co2e_g >= 0 ? '' : 'more than baseline: '}${formatPercent(h.saved_share)}`;
  const verifyCard =
    `<div class="card ${v.ok ? 'card-ok' : 'card-fail'}"><h3>Verification</h3>` +
    `<p class="big" data-metric="verify" data-value="${v.ok ? 'ok' : 'failed'}">${verifyText}</p>` +
    `<p>${v.ok ? 'hash chain, manifests and derived columns check out; ' : ''}` +
    `${metric('verified_usage_rows', v.rows.usage)} usage and ${metric('verified_decision_rows', v.rows.decision)} decision rows ` +
    `in ${metric('verified_files', v.files)} files; ${metric('pending_rows', pending)} pending in journal/</p></div>`;
  return `<section class="headline" aria-label="Headline">
<div class="card wide"><h3>Period</h3><p class="big">${period}</p><p>${periodDetail}</p></div>
${verifyCard}
<div class="card"><h3>Emissions</h3><p class="big">${metric('total_co2e_g', h.total_co2e_g)} <span class="unit">gCO2e</span></p><p>${Math.abs(h.total_co2e_g) >= 1000 ? `${formatMass(h.total_co2e_g)}; ` : ''}baseline ${metric('baseline_total_co2e_g', h.baseline_total_co2e_g)} gCO2e (modelled)</p></div>
<div class="card"><h3>Saved vs baseline</h3><p class="big">${metric('savings_co2e_g', h.savings_co2e_g)} <span class="unit">gCO2e</span></p><p>${Math.abs(h.savings_co2e_g) >= 1000 ? `${formatMass(h.savings_co2e_g)}; ` : ''}${metric('saved_share', h.saved_share, saved)} of the baseline</p></div>
<div class="card"><h3>Energy</h3><p class="big">${metric('energy_facility_kwh', h.energy_facility_kwh)} <span class="unit">kWh</span></p><p>${metric('measured_energy_share', h.measured_energy_share, formatPercent(h.measured_energy_share))} measured, ${metric('estimated_energy_share', h.estimated_energy_share, formatPercent(h.estimated_energy_share))} estimated</p></div>
<div class="card"><h3>Services</h3><p class="big">${metric('services', h.services)}</p><p>${h.premium} premium, ${h.eco} eco</p></div>
</section>`;
}

function share(n: number, of: number): string {
  return of > 0 ? formatPercent(n / of) : UNKNOWN;
}

export function provenance(i: HtmlReportInput): string {
  const t = i.series.totals;
  const n = t.intervals;
  if (n === 0) return '';
  const req = Object.entries(t.requestsMethod)
    .sort()
    .map(([m, c]) => `${escapeHtml(m)} in ${share(c, n)}`)
    .join(', ');
  const known = n - t.ciMissingIntervals;
  return `<section class="provenance"><h2>How these numbers were obtained</h2><ul>
<li><strong>Energy</strong> (kWh, facility = IT × PUE): ${share(t.measuredEnergyKwh, t.energyKwh)} measured by a meter, ${share(t.estimatedEnergyKwh, t.energyKwh)} estimated from the variant's measured power profile and its utilisation.</li>
<li><strong>Carbon intensity</strong> (gCO2eq/kWh, location-based grid average of the region): ${share(known - t.ciForecastIntervals, n)} of the intervals used an observed value, ${share(t.ciForecastIntervals, n)} a forecast, ${share(t.ciFallbackIntervals, n)} came from a fallback source, ${share(t.ciEstimatedIntervals, n)} were flagged as estimated by the provider, ${share(t.ciMissingIntervals, n)} had none.</li>
<li><strong>Emissions</strong> (gCO2e): energy × intensity, plus embodied GPU emissions${t.embodiedNotCountedIntervals > 0 ? ` (not counted in ${t.embodiedNotCountedIntervals} intervals: no factor configured)` : ''}.</li>
<li><strong>Baseline</strong>: the full variant without carbon shaping, under the same intensity and PUE: an interval that ran the full variant counts what ran (it saves nothing), a degraded one the replicas the demand alone needs (modelled); saved = baseline − emissions.</li>
<li><strong>Requests</strong>: ${req || UNKNOWN}.</li>
</ul><p>Methodology: <code>docs/audit.md</code> (SCI per ISO/IEC 21031:2024, GHG Protocol Scope 2 location-based).</p></section>`;
}
