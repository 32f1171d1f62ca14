// A one-glance SVG of a simulation: four stacked panels sharing the time axis — grid intensity, the variant
// carbonscale ran (shaded where degraded), replicas (carbonscale vs demand-only), and emissions per step.
import type { PolicyRun } from './policies.ts';
import type { SimInputs } from './sim-types.ts';

const W = 1200;
const PANEL_H = 130;
const GAP = 34;
const LEFT = 70;
const RIGHT = 20;
const TOP = 40;

function esc(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}

/** Downsamples to at most `max` points by taking each bucket's mean, so a year stays a light SVG. */
function buckets(n: number, max: number): [number, number][] {
  const size = Math.max(1, Math.ceil(n / max));
  const out: [number, number][] = [];
  for (let i = 0; i < n; i += size) out.push([i, Math.min(n, i + size)]);
  return out;
}

function mean(a: ArrayLike<number>, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += a[i]!;
  return s / Math.max(1, to - from);
}

function line(values: number[], y0: number, maxV: number, color: string, width = 1.2): string {
  const plotW = W - LEFT - RIGHT;
  const pts = values.map((v, i) => {
    const x = LEFT + (values.length > 1 ? (i / (values.length - 1)) * plotW : 0);
    const y = y0 + PANEL_H - (maxV > 0 ? (v / maxV) * PANEL_H : 0);
    return `${x.toFixed(1)},${y.toFixed(1)}`;
  });
  return `<polyline fill="none" stroke="${color}" stroke-width="${width}" points="${pts.join(' ')}"/>`;
}

function panel(y0: number, title: string, maxV: number, unit: string): string {
  return [
    `<rect x="${LEFT}" y="${y0}" width="${W - LEFT - RIGHT}" height="${PANEL_H}" fill="#fafafa" stroke="#ccc"/>`,
    `<text x="${LEFT}" y="${y0 - 6}" font-size="13" font-weight="bold">${esc(title)}</text>`,
    `<text x="${LEFT - 6}" y="${y0 + 10}" font-size="10" text-anchor="end">${maxV.toFixed(maxV < 10 ? 1 : 0)}</text>`,
    `<text x="${LEFT - 6}" y="${y0 + PANEL_H}" font-size="10" text-anchor="end">0</text>`,
    `<text x="${LEFT - 6}" y="${y0 + PANEL_H / 2}" font-size="10" text-anchor="end">${esc(unit)}</text>`,
  ].join('\n');
}

export interface PlotInput {
  title: string;
  inp: SimInputs;
  ours: PolicyRun;
  baseline: PolicyRun;
  variantNames: string[];
}

export function plotSvg(p: PlotInput): string {
  const n = p.inp.timesMs.length;
  const bs = buckets(n, 1500);
  const I = bs.map(([a, b]) => mean(p.inp.intensity, a, b));
  const degraded = bs.map(([a, b]) => {
    let c = 0;
    for (let i = a; i < b; i++) if (p.ours.timeline.variant[i]! !== 0) c++;
    return c / (b - a);
  });
  const rOurs = bs.map(([a, b]) => mean(p.ours.timeline.replicas, a, b));
  const rBase = bs.map(([a, b]) => mean(p.baseline.timeline.replicas, a, b));
  const eOurs = bs.map(([a, b]) => mean(p.ours.timeline.emissionsG, a, b));
  const eBase = bs.map(([a, b]) => mean(p.baseline.timeline.emissionsG, a, b));
  const maxI = Math.max(...I) * 1.05;
  const maxR = Math.max(...rOurs, ...rBase) * 1.05;
  const maxE = (Math.max(...eOurs, ...eBase) / 1000) * 1.05;
  const plotW = W - LEFT - RIGHT;
  const H = TOP + 4 * (PANEL_H + GAP) + 20;
  const y = (k: number) => TOP + k * (PANEL_H + GAP);
  const bars = degraded
    .map((d, i) => {
      if (d <= 0) return '';
      const x = LEFT + (i / bs.length) * plotW;
      const h = d * PANEL_H;
      return `<rect x="${x.toFixed(1)}" y="${(y(1) + PANEL_H - h).toFixed(1)}" width="${Math.max(0.8, plotW / bs.length).toFixed(2)}" height="${h.toFixed(1)}" fill="#e69f00"/>`;
    })
    .join('');
  const t0 = new Date(p.inp.timesMs[0]!).toISOString().slice(0, 16).replace('T', ' ');
  const t1 = new Date(p.inp.timesMs[n - 1]!).toISOString().slice(0, 16).replace('T', ' ');
  const kg = (e: Float64Array) => (e.reduce((a, b) => a + b, 0) / 1000).toFixed(1);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${LEFT}" y="20" font-size="16" font-weight="bold">${esc(p.title)}</text>`,
    panel(y(0), 'Grid carbon intensity (measured, trace)', maxI, 'gCO2eq/kWh'),
    line(I, y(0), maxI, '#333'),
    panel(y(1), `Share of time on the smaller variant (${p.variantNames.slice(1).join(', ')}), carbonscale`, 1, '0–1'),
    bars,
    panel(y(2), 'Replicas: carbonscale (blue) vs demand-only autoscaling (grey)', maxR, 'replicas'),
    line(rBase, y(2), maxR, '#999'),
    line(rOurs, y(2), maxR, '#0072b2'),
    panel(
      y(3),
      `Emissions per step, estimated: carbonscale ${kg(p.ours.timeline.emissionsG)} kg (blue) vs demand-only ${kg(p.baseline.timeline.emissionsG)} kg (grey)`,
      maxE,
      'kgCO2e',
    ),
    line(
      eBase.map((e) => e / 1000),
      y(3),
      maxE,
      '#999',
    ),
    line(
      eOurs.map((e) => e / 1000),
      y(3),
      maxE,
      '#0072b2',
    ),
    `<text x="${LEFT}" y="${H - 6}" font-size="11">${esc(t0)} UTC</text>`,
    `<text x="${W - RIGHT}" y="${H - 6}" font-size="11" text-anchor="end">${esc(t1)} UTC</text>`,
    '</svg>',
  ].join('\n');
}
