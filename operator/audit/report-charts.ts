// Inline SVG charts for the HTML report: time-series lines with a point per bucket, and per-service lanes. No
// scripts, fonts or network: the page must open offline, in a mail attachment, years later. Every chart is a
// <figure> with a caption, an SVG with role="img", <title> and <desc> (what it shows, in words), an HTML legend
// (real text), and a <title> tooltip on each point, so it reads without a mouse and with a screen reader.
import { escapeHtml, formatNumber, formatUtc } from './report-format.ts';

/** Okabe–Ito colours (distinguishable with the common colour-vision deficiencies). */
export const COLORS = {
  emissions: '#D55E00',
  baseline: '#4D4D4D',
  series: ['#0072B2', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#D55E00'],
  full: ['#0072B2', '#56B4E9', '#1F4E79'],
  smaller: ['#E69F00', '#D55E00', '#CC79A7', '#009E73', '#8C6D1F'],
} as const;

const W = 960;
const LEFT = 150;
const RIGHT = 24;
const TOP = 16;
const AXIS_H = 36;

export interface TimePoint {
  startMs: number;
  endMs: number;
  /** null: unknown in this bucket (the line breaks there). */
  value: number | null;
  /** Tooltip text after the time range. */
  note?: string;
}

export interface TimeSeries {
  key: string;
  label: string;
  color: string;
  dashed?: boolean;
  points: TimePoint[];
}

export interface LineChartSpec {
  id: string;
  title: string;
  /** A sentence or two saying what the chart shows (the SVG's <desc>). */
  desc: string;
  yLabel: string;
  /** Unit after a value in tooltips. */
  unit: string;
  domain: [number, number];
  series: TimeSeries[];
  /** Fixed y maximum (e.g. 100 for a percentage); default: a round number above the data. */
  yMax?: number;
  height?: number;
}

export interface Lane {
  label: string;
  /** A second, smaller line under the label (e.g. namespace and tier). */
  sublabel?: string;
  /** Per bucket: the share of its time (0..1) each variant was served. */
  cells: { startMs: number; endMs: number; shares: [string, number][] }[];
}

export interface LaneChartSpec {
  id: string;
  title: string;
  desc: string;
  domain: [number, number];
  lanes: Lane[];
  colors: Map<string, string>;
  legendLabel: (variant: string) => string;
}

function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * p;
}

const TIME_TICKS_MS = [
  1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 172_800, 604_800,
  1_209_600,
].map((s) => s * 1000);
const DAY_MS = 86_400_000;
/** Weekly ticks fall on Mondays (1970-01-05 was one). */
const MONDAY_MS = 4 * DAY_MS;

/** First days of months (every `every` months) from t0 to t1. */
function monthTicks(t0: number, t1: number): { ms: number; label: string }[] {
  const months = (t1 - t0) / (30 * DAY_MS);
  const every = [1, 2, 3, 6, 12].find((k) => months / k <= 10) ?? 12;
  const d = new Date(t0);
  let y = d.getUTCFullYear();
  let m = d.getUTCMonth();
  const out: { ms: number; label: string }[] = [];
  for (;;) {
    const t = Date.UTC(y, m, 1);
    if (t > t1) break;
    if (t >= t0 && m % every === 0) out.push({ ms: t, label: new Date(t).toISOString().slice(0, 7) });
    m++;
    if (m === 12) [y, m] = [y + 1, 0];
  }
  return out;
}

/** Ticks at round UTC times (months for long spans), at most ten across the domain. */
export function timeTicks(t0: number, t1: number): { ms: number; label: string }[] {
  const span = Math.max(1, t1 - t0);
  const step = TIME_TICKS_MS.find((s) => span / s <= 10);
  if (step === undefined) return monthTicks(t0, t1);
  const offset = step >= 7 * DAY_MS ? MONDAY_MS : 0;
  const out: { ms: number; label: string }[] = [];
  for (let t = Math.ceil((t0 - offset) / step) * step + offset; t <= t1; t += step) {
    const iso = new Date(t).toISOString();
    let label: string;
    if (step >= DAY_MS) label = iso.slice(5, 10);
    else if (step < 60_000) label = iso.slice(11, 19);
    else
      label =
        out.length === 0 || iso.slice(11, 16) === '00:00'
          ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}`
          : iso.slice(11, 16);
    out.push({ ms: t, label });
  }
  return out;
}

function xScale(domain: [number, number]): (t: number) => number {
  const [t0, t1] = domain;
  const span = Math.max(1, t1 - t0);
  return (t) => LEFT + ((t - t0) / span) * (W - LEFT - RIGHT);
}

function timeAxis(domain: [number, number], y: number): string {
  const x = xScale(domain);
  const ticks = timeTicks(domain[0], domain[1])
    .map(
      (t) =>
        `<line x1="${x(t.ms).toFixed(1)}" x2="${x(t.ms).toFixed(1)}" y1="${y}" y2="${y + 5}" stroke="#333"/>` +
        `<text x="${x(t.ms).toFixed(1)}" y="${y + 18}" text-anchor="middle">${escapeHtml(t.label)}</text>`,
    )
    .join('');
  return (
    `<g class="axis x-axis"><line x1="${LEFT}" x2="${W - RIGHT}" y1="${y}" y2="${y}" stroke="#333"/>${ticks}` +
    `<text x="${W - RIGHT}" y="${y + 32}" text-anchor="end" class="axis-label">time (UTC)</text></g>`
  );
}

function legend(items: { label: string; color: string; dashed?: boolean }[]): string {
  return `<ul class="legend">${items
    .map(
      (i) =>
        `<li><span class="swatch${i.dashed ? ' dashed' : ''}" style="--c:${i.color}" aria-hidden="true"></span>${escapeHtml(i.label)}</li>`,
    )
    .join('')}</ul>`;
}

function figure(id: string, title: string, desc: string, height: number, body: string, legendHtml: string): string {
  return (
    `<figure class="chart" id="${id}"><figcaption>${escapeHtml(title)}</figcaption>${legendHtml}` +
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${height}" role="img" aria-labelledby="${id}-t ${id}-d" data-chart="${id}">` +
    `<title id="${id}-t">${escapeHtml(title)}</title><desc id="${id}-d">${escapeHtml(desc)}</desc>${body}</svg></figure>`
  );
}

function rangeText(p: { startMs: number; endMs: number }): string {
  return `${formatUtc(p.startMs)} – ${formatUtc(p.endMs).slice(11)}`;
}

/** One line per series, broken where a bucket's value is unknown, with a point (and tooltip) per known bucket. */
export function lineChart(spec: LineChartSpec): string {
  const height = spec.height ?? 260;
  const plotBottom = height - AXIS_H;
  const values = spec.series.flatMap((s) => s.points.map((p) => p.value)).filter((v): v is number => v !== null);
  if (values.length === 0)
    return `<figure class="chart" id="${spec.id}"><figcaption>${escapeHtml(spec.title)}</figcaption><p>No data in this period.</p></figure>`;
  const rawMax = Math.max(...values, 0);
  const rawMin = Math.min(...values, 0);
  const yStep = niceStep(Math.max(rawMax - rawMin, 1e-12) / 5);
  const yMax = spec.yMax ?? Math.max(yStep, Math.ceil(rawMax / yStep) * yStep);
  const yMin = Math.floor(rawMin / yStep) * yStep;
  const x = xScale(spec.domain);
  const y = (v: number): number => plotBottom - ((v - yMin) / (yMax - yMin || 1)) * (plotBottom - TOP);
  const tickStep = spec.yMax !== undefined ? niceStep((yMax - yMin) / 5) : yStep;
  let grid = '';
  for (let v = yMin; v <= yMax + tickStep / 1e6; v += tickStep) {
    grid +=
      `<line x1="${LEFT}" x2="${W - RIGHT}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e3e3e3"/>` +
      `<text x="${LEFT - 8}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${escapeHtml(formatNumber(v))}</text>`;
  }
  const nPoints = Math.max(...spec.series.map((s) => s.points.length));
  const r = nPoints > 120 ? 1.4 : nPoints > 40 ? 2.2 : 3.2;
  const lines = spec.series.map((s) => seriesSvg(s, x, y, r, spec.unit)).join('');
  const yLabel = `<text class="axis-label" transform="translate(${LEFT - 62},${(TOP + plotBottom) / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(spec.yLabel)}</text>`;
  const body = `<g class="grid">${grid}</g>${yLabel}${timeAxis(spec.domain, plotBottom)}${lines}`;
  return figure(spec.id, spec.title, spec.desc, height, body, legend(spec.series));
}

function seriesSvg(s: TimeSeries, x: (t: number) => number, y: (v: number) => number, r: number, unit: string): string {
  let d = '';
  let pen = false;
  let points = '';
  let lastEnd = -Infinity;
  for (const p of s.points) {
    // Unknown, or no rows at all for a stretch of time: the line breaks rather than bridging what is not there.
    if (p.value === null || p.startMs > lastEnd) pen = false;
    lastEnd = p.endMs;
    if (p.value === null) continue;
    const px = x((p.startMs + p.endMs) / 2).toFixed(1);
    const py = y(p.value).toFixed(1);
    d += `${pen ? 'L' : 'M'}${px},${py}`;
    pen = true;
    const tip = `${s.label}, ${rangeText(p)}: ${formatNumber(p.value)} ${unit}${p.note ? ` (${p.note})` : ''}`;
    points +=
      `<circle class="point" data-series="${escapeHtml(s.key)}" data-start="${p.startMs}" data-value="${p.value}" ` +
      `cx="${px}" cy="${py}" r="${r}" fill="${s.color}"><title>${escapeHtml(tip)}</title></circle>`;
  }
  const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
  return (
    `<g class="series" data-series="${escapeHtml(s.key)}"><path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>` +
    `${points}</g>`
  );
}

/** One lane per service; each bucket is split top to bottom by the share of time each variant was served. */
export function laneChart(spec: LaneChartSpec): string {
  const laneH = 30;
  const gap = 6;
  const height = TOP + spec.lanes.length * (laneH + gap) + AXIS_H;
  const x = xScale(spec.domain);
  const cut = (t: string): string => (t.length > 24 ? `${t.slice(0, 23)}…` : t);
  let body = '';
  spec.lanes.forEach((lane, i) => {
    const top = TOP + i * (laneH + gap);
    const full = lane.sublabel ? `${lane.label} (${lane.sublabel})` : lane.label;
    body +=
      `<text x="${LEFT - 8}" y="${top + (lane.sublabel ? 12 : laneH / 2 + 4)}" text-anchor="end"><title>${escapeHtml(full)}</title>${escapeHtml(cut(lane.label))}</text>` +
      (lane.sublabel
        ? `<text x="${LEFT - 8}" y="${top + 26}" text-anchor="end" class="axis-label" font-size="11">${escapeHtml(cut(lane.sublabel))}</text>`
        : '');
    body += `<rect x="${LEFT}" y="${top}" width="${W - LEFT - RIGHT}" height="${laneH}" fill="#f4f4f4"/>`;
    for (const c of lane.cells) {
      const x0 = x(c.startMs);
      // A hair wider than the bucket, so neighbouring cells of one variant read as one band (no seams).
      const w = Math.max(0.6, x(c.endMs) - x0) + 0.4;
      let yy = top;
      for (const [variant, share] of c.shares) {
        const h = laneH * share;
        const tip = `${full}, ${rangeText(c)}: ${variant} ${(share * 100).toFixed(0)} % of the time`;
        body +=
          `<rect class="cell" data-variant="${escapeHtml(variant)}" data-start="${c.startMs}" data-share="${share}" ` +
          `x="${x0.toFixed(2)}" y="${yy.toFixed(2)}" width="${w.toFixed(2)}" height="${h.toFixed(2)}" ` +
          `fill="${spec.colors.get(variant) ?? '#999'}"><title>${escapeHtml(tip)}</title></rect>`;
        yy += h;
      }
    }
  });
  body += timeAxis(spec.domain, height - AXIS_H);
  const items = [...spec.colors].map(([v, color]) => ({ label: spec.legendLabel(v), color }));
  return figure(spec.id, spec.title, spec.desc, height, body, legend(items));
}
