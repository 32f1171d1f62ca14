// Terminal tables and JSON for simulation results.
import type { Comparison, Summary } from './simulate.ts';

const ORDER = ['static', 'demand-only', 'threshold', 'oracle', 'carbonscale', 'carbonscale-fallback'];
const LABEL: Record<string, string> = {
  static: '(a) static',
  'demand-only': '(b) demand-only',
  threshold: '(c) threshold',
  oracle: '(d) oracle',
  carbonscale: 'carbonscale',
  'carbonscale-fallback': 'carbonscale, fallback fc',
};

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

export function pct(x: number | undefined, digits = 1): string {
  return x === undefined || !Number.isFinite(x) ? '–' : `${(x * 100).toFixed(digits)}%`;
}

/** One table: a row per policy with emissions, savings, quality, budget, switches and SLO minutes. */
export function formatComparison(title: string, c: Comparison, s: Summary): string {
  const b = c.runs['demand-only']!.metrics.emissionsKg;
  const head = [
    pad('policy', 26),
    pad('kgCO2e', 10, true),
    pad('kWh (IT)', 10, true),
    pad('vs (b)', 8, true),
    pad('quality', 8, true),
    pad('budget max/mean', 16, true),
    pad('overruns', 9, true),
    pad('switches', 9, true),
    pad('SLO min', 8, true),
  ].join(' ');
  const lines = [title, head, '-'.repeat(head.length)];
  for (const k of ORDER) {
    const r = c.runs[k];
    if (!r) continue;
    const m = r.metrics;
    const quality = m.requests > 0 ? m.qualityWeightedRequests / m.requests : 1;
    const kg = k === 'oracle' && c.oracleBoundKg !== undefined ? c.oracleBoundKg : m.emissionsKg;
    lines.push(
      [
        pad(LABEL[k] ?? k, 26),
        pad(kg.toFixed(1), 10, true),
        pad(m.energyKWh.toFixed(0), 10, true),
        pad(pct(1 - kg / b), 8, true),
        pad(pct(quality, 2), 8, true),
        pad(c.tier === 'eco' ? `${pct(m.budgetMaxShare)}/${pct(m.budgetMeanShare)}` : '–', 16, true),
        pad(c.tier === 'eco' ? (k === 'oracle' ? 'n/a*' : String(m.budgetOverruns)) : '–', 9, true),
        pad(String(m.switches), 9, true),
        pad(m.sloViolationMinutes.toFixed(0), 8, true),
      ].join(' '),
    );
  }
  const notes: string[] = [];
  const sv = s.savingVs;
  notes.push(
    `carbonscale saves ${pct(sv.static)} vs (a), ${pct(sv['demand-only'])} vs (b)` +
      (sv.threshold !== undefined ? `, ${pct(sv.threshold)} vs (c)` : ''),
  );
  if (s.oracleShare !== undefined) notes.push(`share of the oracle's saving vs (b) achieved: ${pct(s.oracleShare)}`);
  if (c.forecastGain) {
    const g = 1 - c.forecastGain.withForecastKg / c.forecastGain.fallbackKg;
    notes.push(`using the trace's day-ahead forecast instead of the fallback: ${pct(g, 2)} less emissions`);
  }
  if (c.runs.oracle)
    notes.push(
      `* oracle kgCO2e is its lower bound (budget rounded down to 1/${c.oracleUnits ?? 600} of the allowance); its schedule may exceed the budget by that rounding`,
    );
  return lines.concat(notes.map((n) => `  ${n}`)).join('\n');
}

export function comparisonJson(c: Comparison, s: Summary): Record<string, unknown> {
  const runs: Record<string, unknown> = {};
  for (const [k, r] of Object.entries(c.runs)) runs[k] = r.metrics;
  return { tier: c.tier, summary: s, oracleBoundKg: c.oracleBoundKg, forecastGain: c.forecastGain, runs };
}
