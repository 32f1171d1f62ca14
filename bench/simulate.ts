// Runs `carbonscale simulate` over every shipped carbon trace for a premium and an eco service (Vicuna 13B/7B
// profiles from data/variants), prints one table per trace, the forecast errors, the "what it must show" checks,
// and the throughput figure (100 services × one year). Results are kept in docs/results.md.
//   node bench/simulate.ts            # everything
//   node bench/simulate.ts --quick    # skip the 100-service timing
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseCarbonTrace } from '../operator/carbon/trace-file.ts';
import { defaultVariants, DEFAULT_DEMAND } from '../operator/simulator/simulate-cli.ts';
import { parseDemandTrace } from '../operator/simulator/demand-trace.ts';
import { fallbackForecastError, givenForecastError } from '../operator/simulator/forecast-error.ts';
import { runCarbonscale } from '../operator/simulator/policies.ts';
import { formatComparison, pct } from '../operator/simulator/report.ts';
import { compare, defaultService, prepare, simInputs, summarise } from '../operator/simulator/simulate.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const quick = process.argv.includes('--quick');
const variants = defaultVariants(ROOT);
const demand = parseDemandTrace(readFileSync(DEFAULT_DEMAND, 'utf8'), 'azure2024_conv_hourly.csv');
const MEAN_RPS = 1;

console.log(
  `variants: ${variants.map((v) => `${v.name} (q=${v.quality.toFixed(3)}, ${v.capacityRps.toFixed(4)} rps, ${(v.latencyP95Ms / 1000).toFixed(2)} s, ${v.powerBusyWatts.toFixed(1)}/${v.powerIdleWatts.toFixed(1)} W)`).join(' vs ')}`,
);
console.log(`demand: ${demand.label}, scaled to a mean of ${MEAN_RPS} req/s; eco budget 20% of requests per UTC day\n`);

const checks: string[] = [];
const traces = readdirSync(`${ROOT}data/carbon`)
  .filter((f) => f.endsWith('.csv'))
  .sort();
for (const f of traces) {
  const trace = parseCarbonTrace(readFileSync(`${ROOT}data/carbon/${f}`, 'utf8'), f);
  const inp = simInputs(trace, demand, MEAN_RPS);
  const p = prepare(inp);
  const fb = fallbackForecastError(p.points, inp.stepMs);
  let fcLine = `forecast error (24 h ahead, MAE): fallback ${fb.maeGPerKWh.toFixed(1)} gCO2eq/kWh (${pct(fb.relative)})`;
  if (inp.forecast) {
    const g = givenForecastError(inp.intensity, inp.forecast);
    fcLine += `; trace's day-ahead forecast ${g.maeGPerKWh.toFixed(1)} gCO2eq/kWh (${pct(g.relative)})`;
  }
  console.log(`=== ${f}: ${inp.timesMs.length} hourly steps; ${fcLine}`);
  for (const tier of ['premium', 'eco'] as const) {
    const spec = defaultService({ tier, variants, meanRps: MEAN_RPS });
    const c = compare(spec, p, { compareForecast: true });
    const s = summarise(c);
    console.log(formatComparison(`${tier}:`, c, s));
    const ours = c.runs.carbonscale!.metrics;
    if (tier === 'premium') {
      checks.push(
        `${f} premium SLO-violation minutes = ${ours.sloViolationMinutes} ${ours.sloViolationMinutes === 0 ? 'OK' : 'FAIL'}`,
      );
    } else {
      const ok =
        (s.savingVs['demand-only'] ?? 0) > 0 &&
        (s.savingVs.threshold ?? 0) > 0 &&
        (s.oracleShare ?? 0) >= 0.85 &&
        ours.budgetOverruns === 0;
      checks.push(
        `${f} eco: vs (b) ${pct(s.savingVs['demand-only'])}, vs (c) ${pct(s.savingVs.threshold)}, oracle share ${pct(s.oracleShare)}, overruns ${ours.budgetOverruns} ${ok ? 'OK' : 'FAIL'}`,
      );
    }
    console.log('');
  }
}
console.log('what it must show:');
for (const c of checks) console.log(`  ${c}`);

if (!quick) {
  // 100 services (half eco, half premium, sizes 0.5–5 req/s) over a year of hourly DE-LU data, policy + accounting.
  const trace = parseCarbonTrace(readFileSync(`${ROOT}data/carbon/DE-LU_2023_hourly.csv`, 'utf8'), 'DE-LU');
  const inputs = [0.5, 1, 2, 5].map((r) => prepare(simInputs(trace, demand, r)));
  const t0 = performance.now();
  let steps = 0;
  for (let i = 0; i < 100; i++) {
    const p = inputs[i % inputs.length]!;
    const tier = i % 2 === 0 ? 'eco' : 'premium';
    const spec = defaultService({ tier, variants, meanRps: [0.5, 1, 2, 5][i % 4]! });
    runCarbonscale(spec, p);
    steps += p.inp.timesMs.length;
  }
  const s = (performance.now() - t0) / 1000;
  console.log(
    `\nthroughput: 100 services × ${inputs[0]!.inp.timesMs.length} h = ${steps} decide() calls in ${s.toFixed(2)} s ` +
      `(${((s / steps) * 1e6).toFixed(1)} µs per decision); target 10 s: ${(s / 10).toFixed(2)}× of target`,
  );
}
