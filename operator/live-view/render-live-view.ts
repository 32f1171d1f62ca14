// The live terminal view as text: a pure function of the state (live-state.ts) and the terminal's size, so it is
// tested on recorded states. Every number carries its unit and says how it was obtained (the intensity's
// provider and whether it is estimated; emissions estimated from the power profile unless a meter measured them;
// load and latency measured by the demo's load generator).
import type { LiveState, RegionLine, ServiceLine } from './live-state.ts';

export interface ViewSize {
  width: number;
  /** Rows available; the decision list shrinks to fit (default: room for 8 decisions). */
  height?: number;
}

const MIN_DECISIONS = 3;
const DEFAULT_DECISIONS = 8;

export function renderLiveView(s: LiveState, size: ViewSize): string[] {
  const w = Math.max(40, size.width);
  const top = [headline(s), ...s.facts.map((f) => f.text), '', ...gridLines(s), '', ...serviceTable(s), ''];
  const messages = s.messages.slice(-3).map((m) => `${m.level.toUpperCase().padEnd(5)} ${m.text}`);
  const tail = messages.length > 0 ? ['', ...messages] : [];
  const room =
    size.height === undefined ? DEFAULT_DECISIONS : Math.max(MIN_DECISIONS, size.height - top.length - tail.length - 2);
  const decisions = s.decisions.slice(-room);
  const body = [
    `DECISIONS (${s.decisionRows} so far${s.decisionRows > decisions.length ? `, newest ${decisions.length}` : ''})`,
    ...(decisions.length === 0
      ? ['  none yet']
      : decisions.map((d) => `  ${clockHm(d.timeMs)}  ${d.service.padEnd(16)} ${d.text}`)),
  ];
  return [...top, ...body, ...tail].map((l) => fit(l, w));
}

function headline(s: LiveState): string {
  const elapsed = duration(s.wallNowMs - s.wallStartMs);
  if (!s.clock) return `${s.title} · running ${elapsed}`;
  const t = `${isoMinute(s.clock.nowMs)} UTC`;
  return s.clock.replay
    ? `${s.title} · trace time ${t} (replayed at ${trimNum(s.clock.speedup)}×) · running ${elapsed}`
    : `${s.title} · ${t} · running ${elapsed}`;
}

function gridLines(s: LiveState): string[] {
  const regions = Object.values(s.regions).sort((a, b) => a.region.localeCompare(b.region));
  if (regions.length === 0) return ['GRID  waiting for the first accounting interval'];
  return regions.map((r) => `GRID  ${r.region.padEnd(6)} ${intensity(r)}`);
}

function intensity(r: RegionLine): string {
  if (r.valueGPerKWh === null) return `no intensity (provider ${r.provider}: missing)`;
  const how = [
    r.provider,
    r.estimated ? 'estimated' : r.estimated === false ? 'measured' : null,
    r.forecast ? 'forecast value' : null,
    r.fallback ? 'fallback source' : null,
  ].filter((x) => x !== null);
  const at = r.dataTimeMs !== null ? ` for ${clockHm(r.dataTimeMs)}` : '';
  return `${Math.round(r.valueGPerKWh)} gCO2eq/kWh${at} (${how.join(', ')})`;
}

const COLUMNS = [
  'SERVICE',
  'TIER',
  'VARIANT',
  'REPLICAS',
  'BUDGET',
  'EMISSIONS vs BASELINE',
  'LOAD',
  'P95',
  'SERVED BY',
];

function serviceTable(s: LiveState): string[] {
  const svcs = Object.values(s.services).sort((a, b) => a.key.localeCompare(b.key));
  if (svcs.length === 0) return ['SERVICES  none yet'];
  const rows = svcs.map((v) => [
    v.name,
    v.tier || '?',
    v.variant ? `${v.variant}${v.variantIsFull ? '' : ' (smaller)'}` : '?',
    `${v.replicasReady}/${v.replicasDesired}`,
    v.budgetUsed === null ? '-' : `${Math.round(v.budgetUsed * 100)}% used`,
    emissions(v),
    v.load
      ? `${Math.round(v.load.requestsPerSecond)} req/s${v.load.failed > 0 ? ` (${v.load.failed} failed)` : ''}`
      : '-',
    v.load?.p95Ms != null ? `${v.load.p95Ms.toFixed(1)} ms` : '-',
    servedBy(v),
  ]);
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const estimated = svcs.every((v) => v.rows === 0 || v.energyEstimated);
  return [
    line(COLUMNS),
    ...rows.map(line),
    `(emissions: gCO2e over this run's accounting intervals, ${estimated ? 'estimated from the declared power per replica' : 'measured energy where a meter reported it'}; load and P95: measured by the load generator)`,
  ];
}

function emissions(v: ServiceLine): string {
  if (v.rows === 0) return '-';
  const missing = v.rowsWithoutIntensity > 0 ? ` (${v.rowsWithoutIntensity} intervals without intensity)` : '';
  if (v.baselineG <= 0) return `${mass(v.emissionsG)}${missing}`;
  const saved = (v.baselineG - v.emissionsG) / v.baselineG;
  const pct = Math.round(saved * 1000) / 10;
  const rel = pct === 0 ? 'same as' : pct > 0 ? `−${trimNum(pct)}% vs` : `+${trimNum(-pct)}% vs`;
  return `${mass(v.emissionsG)} (${rel} ${mass(v.baselineG)})${missing}`;
}

function servedBy(v: ServiceLine): string {
  const sv = v.servers;
  if (!sv) return '-';
  const by = Object.entries(sv.servedBy)
    .filter(([, n]) => n > 0)
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([variant, n]) => `${n}× ${variant}`);
  const starting = sv.starting > 0 ? `, ${sv.starting} starting` : '';
  return `${by.length > 0 ? by.join(', ') : `${sv.running} processes`}${starting}`;
}

/** A mass in gCO2e with a readable unit (g, kg, t), three significant figures. */
export function mass(g: number): string {
  const a = Math.abs(g);
  if (a >= 1e6) return `${sig(g / 1e6)} t`;
  if (a >= 1e3) return `${sig(g / 1e3)} kg`;
  return `${sig(g)} g`;
}

function sig(x: number): string {
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : x.toFixed(2);
}

function trimNum(x: number): string {
  return Number.isInteger(x) ? String(x) : String(Math.round(x * 10) / 10);
}

function isoMinute(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}

function clockHm(ms: number): string {
  return new Date(ms).toISOString().slice(11, 16);
}

/** Wall time elapsed, as 45s, 4m05s or 1h02m. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

function fit(line: string, width: number): string {
  return line.length <= width ? line : `${line.slice(0, width - 1)}…`;
}
