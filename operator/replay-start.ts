// Where a replayed trace starts, by a rule computed from the trace itself (never a hard-coded date, never today's
// date), so the embedded demo reaches a high-carbon period within its first minutes on any trace:
//   1. split the trace into whole UTC days; a day's spread is its max − min intensity;
//   2. a day is "high-spread" when its spread is at least the upper quartile of all daily spreads and above
//      their median (ties of a flat trace do not count);
//   3. take the first high-spread day that has two whole days of trace before it (the policy's history: 48 h);
//   4. start LEAD_HOURS before that day's dirtiest hour.
// At the embedded 60× (a trace hour a minute), the dirtiest hour then arrives in about LEAD_HOURS minutes.
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
export const LEAD_HOURS = 3;

export interface TracePointLike {
  timeMs: number;
  valueGPerKWh: number;
}

export function replayStartFor(points: readonly TracePointLike[]): number {
  if (points.length === 0) throw new Error('replay start: the trace has no points');
  const days = new Map<number, TracePointLike[]>();
  for (const p of points) {
    const d = Math.floor(p.timeMs / DAY_MS) * DAY_MS;
    (days.get(d) ?? days.set(d, []).get(d)!).push(p);
  }
  const whole = [...days.entries()].filter(([, pts]) => pts.length >= 20).sort((a, b) => a[0] - b[0]);
  if (whole.length < 3) return points[0]!.timeMs;
  const spread = (pts: TracePointLike[]) =>
    Math.max(...pts.map((p) => p.valueGPerKWh)) - Math.min(...pts.map((p) => p.valueGPerKWh));
  const spreads = whole.map(([, pts]) => spread(pts)).sort((a, b) => a - b);
  const upperQuartile = spreads[Math.floor(0.75 * (spreads.length - 1))]!;
  const median = spreads[Math.floor(0.5 * (spreads.length - 1))]!;
  const high = (pts: TracePointLike[]) => spread(pts) >= upperQuartile && spread(pts) > median;
  const first = points[0]!.timeMs;
  const day = whole.find(([d, pts]) => d >= first + 2 * DAY_MS && high(pts)) ?? whole[2]!;
  const peak = day[1].reduce((a, b) => (b.valueGPerKWh > a.valueGPerKWh ? b : a));
  return Math.max(first + 2 * DAY_MS, Math.floor(peak.timeMs / HOUR_MS) * HOUR_MS - LEAD_HOURS * HOUR_MS);
}
