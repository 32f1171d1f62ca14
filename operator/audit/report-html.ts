// `carbonscale audit report DIR --html FILE`: one self-contained page (inline CSS and SVG; no scripts, fonts or
// network, so it opens offline and stays readable years later) that opens with the headline (period, services,
// emissions, savings, how the energy was obtained, whether the trail verifies), says prominently when it does not
// verify or rows are still pending in the journal, then shows the charts and the table.
import { escapeHtml, formatUtc } from './report-format.ts';
import { alerts, headline, headlineTotals, provenance, type HtmlReportInput } from './report-headline.ts';
import { serviceTables } from './report-html-table.ts';
import { budgetChart, emissionsChart, intensityChart, variantChart, variantTable } from './report-series-charts.ts';

export type { HtmlReportInput } from './report-headline.ts';

const CSS = `
:root{color-scheme:light;--fg:#1d1d1f;--muted:#5a5a60;--line:#d9d9de;--bg:#fff;--card:#f6f7f9;--ok:#1a7f37;--fail:#b42318;--warn:#9a6700}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Liberation Sans",Arial,sans-serif;color:var(--fg);background:var(--bg);margin:0;line-height:1.45}
main{max-width:1240px;margin:0 auto;padding:24px 28px 48px}
h1{font-size:1.7rem;margin:0 0 4px}h2{font-size:1.2rem;margin:28px 0 8px}h3{font-size:.8rem;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);margin:0 0 6px}
.sub{color:var(--muted);margin:0 0 16px}.sub code{font-size:.9em}
.alert{border-radius:8px;padding:12px 16px;margin:12px 0;border:2px solid}
.alert h2{margin:0 0 4px;font-size:1.1rem}.alert p{margin:4px 0}.alert ul{margin:6px 0 0;padding-left:20px;font-size:.9rem}
.alert-fail{background:#fef3f2;border-color:var(--fail);color:#7a271a}.alert-warn{background:#fff8e6;border-color:#d4a72c;color:#5c3d00}
.headline{display:grid;grid-template-columns:repeat(4,1fr);gap:12px;margin:16px 0}@media (max-width:800px){.headline{grid-template-columns:1fr 1fr}}
.card{background:var(--card);border-radius:10px;padding:14px 16px;border:1px solid var(--line)}.card.wide{grid-column:span 3}@media (max-width:800px){.card.wide{grid-column:1/-1}}
.card p{margin:2px 0;color:var(--muted);font-size:.92rem}.card p.big{font-size:1.55rem;font-weight:650;color:var(--fg)}
.card.wide p.big{font-size:1.2rem}.unit{font-size:.95rem;font-weight:500;color:var(--muted)}
.card-ok{border-color:#9fd6ad;background:#f0faf3}.card-fail{border-color:var(--fail);background:#fef3f2}
strong.ok{color:var(--ok)}strong.fail{color:var(--fail)}
.provenance ul{padding-left:20px;margin:4px 0}.provenance li{margin:3px 0}.provenance p{color:var(--muted);font-size:.9rem}
figure.chart{margin:22px 0;padding:0}figure.chart figcaption{font-weight:650;font-size:1.05rem;margin-bottom:4px}
figure.chart svg{width:100%;height:auto;display:block;font-size:12px;fill:#333}
figure.chart svg text{fill:#333}figure.chart .axis-label{fill:var(--muted)}
.legend{list-style:none;display:flex;flex-wrap:wrap;gap:4px 18px;padding:0;margin:2px 0 4px;font-size:.88rem}
.swatch{display:inline-block;width:22px;height:0;border-top:4px solid var(--c);margin-right:6px;vertical-align:middle}
.swatch.dashed{border-top-style:dashed}
table{border-collapse:collapse;font-size:.8rem;font-variant-numeric:tabular-nums}
caption{text-align:left;font-weight:650;font-size:1.2rem;padding:18px 0 8px}
th,td{padding:5px 6px;border-bottom:1px solid var(--line);text-align:right;vertical-align:top}
th.text,td.text{text-align:left;white-space:nowrap}thead th{background:var(--card);font-weight:600;position:sticky;top:0}
tbody tr:nth-child(even){background:#fafafb}tfoot td,tfoot th{font-weight:650;border-top:2px solid var(--fg)}
.table-wrap{overflow-x:auto;margin:8px 0 16px}table.small{margin:8px 0}
details summary{cursor:pointer;font-weight:650;font-size:1.05rem;margin:18px 0 4px}
body>section{max-width:1240px;margin:0 auto 32px;padding:0 28px}
footer{margin-top:28px;color:var(--muted);font-size:.85rem}
@media print{thead th{position:static}.alert{break-inside:avoid}figure.chart{break-inside:avoid}}
`;

function selectionText(i: HtmlReportInput): string {
  const s = i.selection;
  const parts: string[] = [];
  if (s.namespace !== undefined) parts.push(`namespace ${escapeHtml(s.namespace)}`);
  if (s.fromMs !== undefined) parts.push(`from ${formatUtc(s.fromMs)}`);
  if (s.toMs !== undefined) parts.push(`to ${formatUtc(s.toMs)}`);
  return parts.length ? `; selection: ${parts.join(', ')}` : '';
}

export function renderReportHtml(i: HtmlReportInput): string {
  const h = headlineTotals(i.report, i.series);
  const s = i.series;
  const domain: [number, number] =
    s.buckets.length > 0
      ? [(s.buckets[0] as { startMs: number }).startMs, (s.buckets[s.buckets.length - 1] as { endMs: number }).endMs]
      : [0, 1];
  const status = i.verify.ok ? 'verified' : 'DOES NOT VERIFY';
  const period =
    s.totals.firstStartMs !== null && s.totals.lastEndMs !== null
      ? `${formatUtc(s.totals.firstStartMs)} to ${formatUtc(s.totals.lastEndMs)}`
      : 'no data';
  const charts =
    s.buckets.length > 0
      ? [intensityChart(s, domain), emissionsChart(s, domain), variantChart(s, domain), budgetChart(s, domain)].join(
          '\n',
        )
      : '<p>No usage rows in this selection, so there is nothing to chart.</p>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>carbonscale audit report, ${escapeHtml(period)} (${status})</title><style>${CSS}</style></head>
<body><main data-step-ms="${s.stepMs}" data-per-interval="${s.perInterval}">
<header><h1>carbonscale audit report</h1>
<p class="sub">Audit directory <code>${escapeHtml(i.source)}</code>${selectionText(i)}. Generated ${formatUtc(i.generatedAtMs)}.</p></header>
${alerts(i)}
${headline(i, h)}
${provenance(i)}
<h2>Over time</h2>
${charts}
${s.totals.intervals > 0 ? `${variantTable(s)}\n${serviceTables(i.report)}` : ''}
<footer><p>Usage rows from the final Parquet files of the audit directory (rows still in <code>journal/</code> are not included).
Units: gCO2eq/kWh for intensity, kWh for energy, gCO2e for emissions. Values are rounded to three significant digits for
reading; the exact values are in the CSV (<code>--csv</code>) and in each cell's <code>data-value</code>.</p></footer>
</main></body></html>
`;
}
