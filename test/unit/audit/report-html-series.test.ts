// The HTML report's series and number formatting, without a browser: resolution adapts to the period (one point
// per interval for an hour, round coarser steps for days and a year) while every sum is kept exactly; unknown
// emissions stay unknown; the numbers people read have a few significant digits and their units.
import { expect } from 'chai';
import { renderReportHtml } from '../../../operator/audit/report-html.ts';
import {
  escapeHtml,
  formatDuration,
  formatNumber,
  formatPercent,
  formatUtc,
} from '../../../operator/audit/report-format.ts';
import { MAX_BUCKETS, ReportSeriesCollector, type ReportSeries } from '../../../operator/audit/report-series.ts';
import type { Report } from '../../../operator/audit/report.ts';
import type { Row } from '../../../operator/audit/schema.ts';
import { computeUsageRecord } from '../../../operator/audit/usage.ts';
import type { VerifyResult } from '../../../operator/audit/verify.ts';
import { usageInput } from '../../fixtures/audit/usage-fixtures.ts';

function rows(services: number, intervals: number, intervalMs: number): Row[] {
  const out: Row[] = [];
  for (let i = 0; i < intervals; i++)
    for (let s = 0; s < services; s++) out.push(computeUsageRecord(usageInput(s, i, intervalMs)) as unknown as Row);
  return out;
}

function collect(rs: Row[]): ReportSeries {
  const c = new ReportSeriesCollector();
  for (const r of rs) c.add(r);
  return c.finish();
}

const sum = (xs: number[]): number => xs.reduce((a, x) => a + x, 0);
function closeTo(a: number, b: number): void {
  expect(a).to.be.closeTo(b, 1e-9 * Math.max(1, Math.abs(b)));
}

function checkSums(s: ReportSeries, rs: Row[]): void {
  closeTo(sum(s.buckets.map((b) => b.totalG)), sum(rs.map((r) => Number(r.total_co2e_g))));
  closeTo(sum(s.buckets.map((b) => b.baselineG)), sum(rs.map((r) => Number(r.baseline_total_co2e_g))));
  closeTo(s.totals.totalG, sum(rs.map((r) => Number(r.total_co2e_g))));
  expect(sum(s.buckets.map((b) => b.knownIntervals))).to.equal(rs.length);
  // Every bucket's variant seconds add up to the service time of its rows.
  const secs = sum(s.buckets.flatMap((b) => [...b.services.values()].flatMap((x) => [...x.variantSeconds.values()])));
  closeTo(secs, sum(rs.map((r) => Number(r.interval_s))));
  for (const b of s.buckets) {
    expect(b.startMs % s.stepMs).to.equal(0);
    expect(b.endMs - b.startMs).to.equal(s.stepMs);
  }
}

describe('audit report --html: series and formatting', () => {
  it('one hour of 1-minute intervals: one bucket per interval, starting at each interval', () => {
    const rs = rows(3, 60, 60_000);
    const s = collect(rs);
    expect(s.stepMs).to.equal(60_000);
    expect(s.perInterval).to.equal(true);
    expect(s.buckets).to.have.length(60);
    expect(s.buckets.map((b) => b.startMs)).to.deep.equal([...new Set(rs.map((r) => Number(r.interval_start)))]);
    checkSums(s, rs);
    expect(s.services.map((x) => x.key)).to.deep.equal(['ns-0/svc-0', 'ns-1/svc-1', 'ns-2/svc-2']);
  });

  it('three days of 1-minute intervals: merged into a round step, at most MAX_BUCKETS buckets, sums kept', () => {
    const rs = rows(2, 3 * 1440, 60_000);
    const s = collect(rs);
    expect(s.buckets.length)
      .to.be.at.most(MAX_BUCKETS)
      .and.to.be.greaterThan(MAX_BUCKETS / 5);
    expect(s.perInterval).to.equal(false);
    expect(s.stepMs % 60_000).to.equal(0);
    expect([300_000, 600_000, 900_000, 1_800_000, 3_600_000]).to.include(s.stepMs);
    checkSums(s, rs);
    // Budget used is the latest interval's value in each bucket, per service.
    const last = new Map<string, number>();
    for (const r of rs)
      if (
        Math.floor(Number(r.interval_start) / s.stepMs) ===
        Math.floor(Number(rs[rs.length - 1]?.interval_start) / s.stepMs)
      )
        last.set(`${String(r.namespace)}/${String(r.name)}`, Number(r.degradation_budget_used));
    const lastBucket = s.buckets[s.buckets.length - 1];
    for (const [svc, v] of last) expect(lastBucket?.services.get(svc)?.budgetUsed).to.equal(v);
  });

  it('a year of hourly intervals is drawn per day; the row order does not change the series', () => {
    const rs = rows(1, 365 * 24, 3_600_000);
    const s = collect(rs);
    expect(s.stepMs).to.equal(86_400_000);
    expect(s.buckets).to.have.length(365);
    checkSums(s, rs);
    const shuffled = [...rs].sort((a, b) => String(a.record_id).localeCompare(String(b.record_id)));
    const t = collect(shuffled);
    expect(t.stepMs).to.equal(s.stepMs);
    expect(t.buckets.map((b) => b.startMs)).to.deep.equal(s.buckets.map((b) => b.startMs));
    t.buckets.forEach((b, i) => closeTo(b.totalG, s.buckets[i]?.totalG ?? NaN));
  });

  it('a short first interval does not set the resolution; rows without usable times are counted, not drawn', () => {
    const rs = rows(1, 30, 60_000);
    const first = { ...rs[0], interval_end: Number(rs[0]?.interval_start) + 7_000, interval_s: 7 } as Row;
    const bad = { ...rs[1], interval_start: Number.NaN } as Row;
    const s = collect([first, bad, ...rs.slice(2)]);
    expect(s.stepMs).to.equal(60_000);
    expect(s.perInterval).to.equal(false); // one interval was not 1 min long
    expect(s.totals.badTimeRows).to.equal(1);
    expect(sum(s.buckets.map((b) => b.knownIntervals))).to.equal(29);
  });

  it('intervals without an intensity are unknown: not in the sums, a break in the lines, an alert on the page', () => {
    const rs = rows(2, 10, 60_000);
    const missing = new Set([4, 5]);
    const withGap = rs.map((r, i) =>
      missing.has(Math.floor(i / 2))
        ? ({
            ...r,
            ci_missing: true,
            ci_g_per_kwh: null,
            total_co2e_g: null,
            baseline_total_co2e_g: null,
            savings_co2e_g: null,
          } as Row)
        : r,
    );
    const s = collect(withGap);
    expect(s.totals.ciMissingIntervals).to.equal(4);
    const known = withGap.filter((r) => r.total_co2e_g !== null);
    closeTo(s.totals.totalG, sum(known.map((r) => Number(r.total_co2e_g))));
    expect(s.buckets.filter((b) => b.knownIntervals === 0).map((b) => b.unknownIntervals)).to.deep.equal([2, 2]);
    const report: Report = { rows: [], hourly: [], intensityByVariant: [] };
    const verify: VerifyResult = {
      ok: true,
      problems: [],
      files: 1,
      rows: { usage: withGap.length, decision: 0 },
      journalRows: { usage: 0, decision: 0 },
      services: 2,
      serviceNames: 2,
      recreated: [],
    };
    const page = renderReportHtml({
      report,
      series: s,
      verify,
      allowedUnverified: false,
      source: '/audit',
      selection: {},
      generatedAtMs: 0,
    });
    expect(page).to.include('id="ci-missing-alert"').and.include('4 intervals without a carbon intensity');
    // The emissions path restarts (M) after the two unknown minutes instead of bridging them.
    const d = /<g class="series" data-series="emissions"><path d="([^"]+)"/.exec(page)?.[1] ?? '';
    expect(d.match(/M/g)).to.have.length(2);
    expect(page.match(/<circle class="point" data-series="emissions"/g)).to.have.length(8);
  });

  it('numbers, shares, times and durations are written for people', () => {
    expect(formatNumber(1329.8195)).to.equal('1,330');
    expect(formatNumber(1_234_567.8)).to.equal('1,234,568');
    expect(formatNumber(81.2519)).to.equal('81.3');
    expect(formatNumber(0.0143876)).to.equal('0.0144');
    expect(formatNumber(0.0000123)).to.equal('1.23e-5');
    expect(formatNumber(-12.345)).to.equal('-12.3');
    expect(formatNumber(0)).to.equal('0');
    expect(formatNumber(null)).to.equal('–');
    expect(formatNumber(Number.NaN)).to.equal('–');
    expect(formatPercent(0.30412)).to.equal('30.4\u00a0%');
    expect(formatPercent(0.0042)).to.equal('0.42\u00a0%');
    expect(formatPercent(null)).to.equal('–');
    expect(formatUtc(Date.parse('2023-01-01T12:00:00Z'))).to.equal('2023-01-01 12:00 UTC');
    expect(formatUtc(Date.parse('2023-01-01T12:00:05Z'))).to.equal('2023-01-01 12:00:05 UTC');
    expect(formatDuration(3_600_000)).to.equal('1 h');
    expect(formatDuration(90_000)).to.equal('1 min 30 s');
    expect(formatDuration(2 * 86_400_000 + 3 * 3_600_000 + 60_000)).to.equal('2 d 3 h');
    expect(escapeHtml(`<a href="x">'&'</a>`)).to.equal('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});
