// The report's charts over its time series (intensity, emissions vs. baseline, variant in service, budget used) and
// the small table of intensity by variant served.
import { COLORS, laneChart, lineChart, type Lane, type TimeSeries } from './report-charts.ts';
import { escapeHtml, formatDuration, formatNumber, formatPercent } from './report-format.ts';
import { stepText } from './report-headline.ts';
import type { ReportSeries } from './report-series.ts';

/** Most services drawn as lanes in the variant chart (all are in the table). */
export const MAX_LANES = 40;

function regionColor(i: number): string {
  return COLORS.series[i % COLORS.series.length] as string;
}

export function intensityChart(s: ReportSeries, domain: [number, number]): string {
  const series: TimeSeries[] = s.regions.map((region, i) => ({
    key: `ci:${region}`,
    label: `${region} (gCO2eq/kWh)`,
    color: regionColor(i),
    points: s.buckets.map((b) => {
      const c = b.intensity.get(region);
      return { startMs: b.startMs, endMs: b.endMs, value: c && c.n > 0 ? c.sum / c.n : null };
    }),
  }));
  return lineChart({
    id: 'chart-intensity',
    title: `Carbon intensity of the grid, ${stepText(s)}`,
    desc: `Mean location-based grid carbon intensity used for the services, by region (${s.regions.join(', ')}), in gCO2eq/kWh, one point ${stepText(s)}.`,
    yLabel: 'gCO2eq/kWh',
    unit: 'gCO2eq/kWh',
    domain,
    series,
  });
}

export function emissionsChart(s: ReportSeries, domain: [number, number]): string {
  const pts = (f: (b: ReportSeries['buckets'][number]) => number): TimeSeries['points'] =>
    s.buckets.map((b) => ({
      startMs: b.startMs,
      endMs: b.endMs,
      value: b.knownIntervals > 0 ? f(b) : null,
      note: b.unknownIntervals > 0 ? `${b.unknownIntervals} intervals without intensity not included` : undefined,
    }));
  const unit = `gCO2e per ${s.perInterval && s.intervalMs !== null ? 'interval' : formatDuration(s.stepMs)}`;
  return lineChart({
    id: 'chart-emissions',
    title: `Emissions vs. baseline, ${stepText(s)}`,
    desc: `Emissions of all selected services (operational plus embodied) and the modelled baseline (full variant at demand-only replicas), in ${unit}. The gap between the lines is the saving: ${formatNumber(s.totals.savingsG)} gCO2e in the period.`,
    yLabel: unit,
    unit: 'gCO2e',
    // The baseline is drawn first, so the emissions line stays visible where the two coincide.
    domain,
    series: [
      {
        key: 'baseline',
        label: 'Baseline, modelled (gCO2e)',
        color: COLORS.baseline,
        dashed: true,
        points: pts((b) => b.baselineG),
      },
      { key: 'emissions', label: 'Emissions (gCO2e)', color: COLORS.emissions, points: pts((b) => b.totalG) },
    ],
  });
}

function variantColors(s: ReportSeries): Map<string, string> {
  const variants = [...s.totals.variants].sort(
    (a, b) => Number(b[1].full) - Number(a[1].full) || a[0].localeCompare(b[0]),
  );
  const colors = new Map<string, string>();
  let f = 0;
  let m = 0;
  for (const [name, v] of variants) {
    const pal = v.full ? COLORS.full : COLORS.smaller;
    colors.set(name, pal[(v.full ? f++ : m++) % pal.length] as string);
  }
  return colors;
}

export function variantChart(s: ReportSeries, domain: [number, number]): string {
  const shown = s.services.slice(0, MAX_LANES);
  const lanes: Lane[] = shown.map((svc) => ({
    label: svc.name,
    sublabel: `${svc.namespace} · ${svc.tier}`,
    cells: s.buckets.flatMap((b) => {
      const sb = b.services.get(svc.key);
      if (!sb) return [];
      const totalS = [...sb.variantSeconds.values()].reduce((a, x) => a + x, 0);
      const shares = [...sb.variantSeconds]
        .sort((a, b2) => b2[1] - a[1] || a[0].localeCompare(b2[0]))
        .map(([v, secs]) => [v, totalS > 0 ? secs / totalS : 0] as [string, number]);
      return [{ startMs: b.startMs, endMs: b.endMs, shares }];
    }),
  }));
  const more =
    s.services.length > shown.length
      ? `<p>${s.services.length - shown.length} more services are in the table.</p>`
      : '';
  const colors = variantColors(s);
  const full = new Set([...s.totals.variants].filter(([, v]) => v.full).map(([k]) => k));
  return (
    laneChart({
      id: 'chart-variants',
      title: `Variant in service, ${stepText(s)}`,
      desc: `For each service, which model variant served it over time; a bucket served by several variants is split by their share of its time. Full variants are blue, smaller ones warm colours.`,
      domain,
      lanes,
      colors,
      legendLabel: (v) => `${v}${full.has(v) ? ' (full)' : ' (smaller)'}`,
    }) + more
  );
}

export function budgetChart(s: ReportSeries, domain: [number, number]): string {
  // One distinguishable colour per line: beyond that many, the lines would be guesswork; the rest are named.
  const allEco = s.services.filter((x) => x.tier === 'eco');
  const eco = allEco.slice(0, COLORS.series.length);
  const more =
    allEco.length > eco.length
      ? `<p>Not drawn (more eco services than distinguishable lines): ${escapeHtml(
          allEco
            .slice(eco.length)
            .map((x) => x.key)
            .join(', '),
        )}.</p>`
      : '';
  if (eco.length === 0)
    return `<figure class="chart" id="chart-budget"><figcaption>Degradation budget used</figcaption><p>No eco-tier service in this period, so no degradation budget is in use.</p></figure>`;
  return (
    lineChart({
      id: 'chart-budget',
      title: `Degradation budget used (eco services), ${stepText(s)}`,
      desc: `Share of each eco service's degradation budget used in its current window, at the end of each bucket, in percent (100 % = budget exhausted; it resets with the window).`,
      yLabel: '% of budget',
      unit: '%',
      yMax: 100,
      domain,
      series: eco.map((svc, i) => ({
        key: `budget:${svc.key}`,
        label: `${svc.namespace}/${svc.name} (%)`,
        color: regionColor(i),
        points: s.buckets.map((b) => {
          const sb = b.services.get(svc.key);
          return { startMs: b.startMs, endMs: b.endMs, value: sb ? sb.budgetUsed * 100 : null };
        }),
      })),
    }) + more
  );
}

export function variantTable(s: ReportSeries): string {
  const totalS = [...s.totals.variants.values()].reduce((a, v) => a + v.seconds, 0);
  const rows = [...s.totals.variants]
    .sort((a, b) => b[1].seconds - a[1].seconds)
    .map(([name, v]) => {
      const ci = v.ciSeconds > 0 ? v.ciWeighted / v.ciSeconds : null;
      return `<tr><th scope="row">${escapeHtml(name)}</th><td>${v.full ? 'full' : 'smaller'}</td><td data-value="${v.seconds / (totalS || 1)}">${formatPercent(v.seconds / (totalS || 1))}</td><td data-value="${ci ?? ''}">${formatNumber(ci)}</td><td data-value="${v.totalG}">${formatNumber(v.totalG)}</td></tr>`;
    })
    .join('');
  return `<table class="small" id="by-variant"><caption>Carbon intensity by variant served</caption>
<thead><tr><th scope="col">Variant</th><th scope="col">Kind</th><th scope="col">Share of service time</th><th scope="col">Mean intensity while served (gCO2eq/kWh)</th><th scope="col">Emissions (gCO2e)</th></tr></thead><tbody>${rows}</tbody></table>`;
}
