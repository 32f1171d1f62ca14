// The increase of one counter series over a window [a, b), from its raw samples, or why it cannot be known.
// Pure. The rules (docs/audit.md, "Measured energy"):
//   - a drop in value is a reset (the meter or the pod restarted): the counter began again at 0, so the increase
//     across it is the new value; what was counted between the last sample before it and the restart is not seen;
//   - the value at a or b is interpolated linearly between the samples on either side, which must be at most
//     maxGapMs apart (a longer gap is a missing scrape: the window is not covered);
//   - a series with no sample at or before a began inside the window only if its pod was created inside it: a
//     counter that starts at 0 with its series (Kepler's pod counters, a process's own) then counts from 0; a
//     device counter since driver load (dcgm) counts from its first sample, which must follow the pod's start
//     within maxGapMs;
//   - a series with no sample at or after b ended inside the window only if its pod ended inside it, within
//     maxGapMs of its last sample;
//   - anything else is a window the samples do not cover, and the caller falls back to the estimate.
import type { MeteredPod } from './energy-source.ts';
import type { Sample } from './prometheus-samples.ts';

export interface WindowOptions {
  fromMs: number;
  toMs: number;
  maxGapMs: number;
  /** The counter starts at 0 when its series begins (true), or counts since the device's driver loaded (false). */
  startsAtZero: boolean;
  /** The pod the series belongs to, when the pod log knows it. */
  pod?: MeteredPod;
  /** Names the series in a reason (metric and pod). */
  what: string;
}

export type WindowIncrease = { ok: true; increase: number; resets: number } | { ok: false; reason: string };

const iso = (ms: number) => new Date(ms).toISOString();
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

interface Point {
  t: number;
  /** Reset-corrected running total. */
  c: number;
  /** The pod's creation, added as the series' origin (not a sample). */
  origin?: boolean;
}

/** Running totals, a drop counted as a restart from 0. */
function cumulative(samples: readonly Sample[]): { points: Point[]; resetAt: number[] } {
  const points: Point[] = [];
  const resetAt: number[] = [];
  let c = 0;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    if (i === 0) c = s.v;
    else {
      const prev = samples[i - 1]!.v;
      if (s.v >= prev) c += s.v - prev;
      else {
        c += s.v;
        resetAt.push(s.t);
      }
    }
    points.push({ t: s.t, c });
  }
  return { points, resetAt };
}

/**
 * The pod's creation as the series' origin when the series began after it: a counter that starts at 0 was 0
 * then; a device counter is taken as flat from the pod's start to its first sample (what the device counted before
 * the first sample is not seen), allowed only within maxGapMs.
 */
function withOrigin(points: Point[], first: Sample, o: WindowOptions): Point[] {
  const created = o.pod?.createdMs;
  const p0 = points[0]!;
  if (created === undefined || created >= p0.t) return points;
  // A pod created before the window whose first sample came much later: a missing scrape, not a birth.
  if (o.startsAtZero && (created >= o.fromMs || p0.t - created <= o.maxGapMs))
    return [{ t: created, c: p0.c - first.v, origin: true }, ...points];
  if (created >= o.fromMs && p0.t - created <= o.maxGapMs) return [{ t: created, c: p0.c, origin: true }, ...points];
  return points;
}

type Edge = { ok: true; c: number } | { ok: false; reason: string };

const gapReason = (p: Point, q: Point, o: WindowOptions) =>
  p.origin
    ? `${o.what}: first sample ${secs(q.t - p.t)} after the pod was created (${iso(p.t)}), more than the ${secs(o.maxGapMs)} allowed`
    : `${o.what}: no sample between ${iso(p.t)} and ${iso(q.t)} (${secs(q.t - p.t)}, more than the ${secs(o.maxGapMs)} allowed)`;

/** The running total at time x between two points at most maxGap apart. */
function between(p: Point, q: Point, x: number, o: WindowOptions): Edge {
  if (q.t - p.t > o.maxGapMs) return { ok: false, reason: gapReason(p, q, o) };
  return { ok: true, c: p.c + ((q.c - p.c) * (x - p.t)) / (q.t - p.t) };
}

function startValue(pts: Point[], o: WindowOptions): Edge {
  const a = o.fromMs;
  let i = -1;
  for (let k = 0; k < pts.length && pts[k]!.t <= a; k++) i = k;
  if (i >= 0 && i + 1 < pts.length) return between(pts[i]!, pts[i + 1]!, a, o);
  if (i >= 0) return { ok: true, c: pts[i]!.c }; // the series ended at or before a: the end rule judges it
  if (pts[0]!.origin) return { ok: true, c: pts[0]!.c }; // the pod was created inside the window
  return {
    ok: false,
    reason: `${o.what}: no sample at or before ${iso(a)} (first at ${iso(pts[0]!.t)}: a missing scrape, or the meter started later)`,
  };
}

function endValue(pts: Point[], o: WindowOptions): Edge {
  const b = o.toMs;
  let j = -1;
  for (let k = pts.length - 1; k >= 0 && pts[k]!.t >= b; k--) j = k;
  if (j > 0) return between(pts[j - 1]!, pts[j]!, b, o);
  if (j === 0) return { ok: true, c: pts[0]!.c }; // begins at or after b: nothing in the window
  const last = pts[pts.length - 1]!;
  const end = o.pod?.endMs;
  if (end !== undefined && end < b && end - last.t <= o.maxGapMs) return { ok: true, c: last.c };
  return {
    ok: false,
    reason: `${o.what}: no sample at or after ${iso(b)} (last at ${iso(last.t)}: a missing scrape, or the meter stopped)`,
  };
}

/** Gaps longer than maxGap between samples inside the window (the edges were checked by the interpolation; the
 * stretch from a pod's creation to its first sample needs none: the first value covers it). */
function innerGap(pts: Point[], o: WindowOptions): string | undefined {
  for (let k = 1; k < pts.length; k++) {
    const p = pts[k - 1]!;
    const q = pts[k]!;
    if (p.origin || q.t <= o.fromMs || p.t >= o.toMs) continue;
    if (q.t - p.t > o.maxGapMs) return gapReason(p, q, o);
  }
  return undefined;
}

export function increaseOver(samples: readonly Sample[], o: WindowOptions): WindowIncrease {
  if (!(o.toMs > o.fromMs)) return { ok: false, reason: `${o.what}: empty window` };
  if (samples.length === 0) return { ok: false, reason: `${o.what}: no samples` };
  const { points: raw, resetAt } = cumulative(samples);
  const points = withOrigin(raw, samples[0]!, o);
  const start = startValue(points, o);
  if (!start.ok) return start;
  const end = endValue(points, o);
  if (!end.ok) return end;
  const gap = innerGap(points, o);
  if (gap) return { ok: false, reason: gap };
  const resets = resetAt.filter((t) => t > o.fromMs && t <= o.toMs + o.maxGapMs).length;
  return { ok: true, increase: Math.max(0, end.c - start.c), resets };
}
