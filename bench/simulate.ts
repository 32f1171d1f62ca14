// Runs `carbonscale simulate` over every shipped carbon trace for a premium and an eco service (Vicuna 13B/7B
// profiles from data/variants), through the one decision engine the operator calls, and prints per trace: the
// tables, the forecast errors, and what the policy must show (issue 12 §3: share of the oracle's saving ≥ 95%, the
// ratio to the threshold policy's saving, premium SLO minutes, budget overruns, switches vs the oracle's). Then the
// held-out checks (data the policy was not shaped on) and the throughput figure. Exits 1 if a target is missed on a
// shipped trace. Results are kept in docs/results.md.
//   node bench/simulate.ts              # everything
//   node bench/simulate.ts --quick      # skip the held-out checks and the 100-service timing
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseCarbonTrace, type CarbonTrace } from '../operator/carbon/trace-file.ts';
import { defaultVariants, DEFAULT_DEMAND } from '../operator/simulator/simulate-cli.ts';
import { parseDemandTrace, type DemandTrace } from '../operator/simulator/demand-trace.ts';
import { fallbackForecastError, givenForecastError } from '../operator/simulator/forecast-error.ts';
import { runCarbonscale } from '../operator/simulator/policies.ts';
import { formatComparison, pct } from '../operator/simulator/report.ts';
import { compare, defaultService, prepare, simInputs, summarise } from '../operator/simulator/simulate.ts';
import { checkTargets } from '../operator/simulator/targets.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const quick = process.argv.includes('--quick');
const variants = defaultVariants(ROOT);
const read = (p: string) => readFileSync(`${ROOT}${p}`, 'utf8');
const demand = parseDemandTrace(readFileSync(DEFAULT_DEMAND, 'utf8'), 'azure2024_conv_hourly.csv');
const MEAN_RPS = 1;

interface Row {
  label: string;
  share: number | undefined;
  ratio: number | undefined;
  premiumSlo: number;
  overruns: number;
  switches: number;
  oracleSwitches: number;
  ok: boolean;
}

/** Eco and premium on one trace: the tables (when `print`), and the row of what it must show. */
function runTrace(label: string, trace: CarbonTrace, dem: DemandTrace, print: boolean): Row {
  const inp = simInputs(trace, dem, MEAN_RPS);
  const p = prepare(inp);
  if (print) {
    const fb = fallbackForecastError(p.points, inp.stepMs);
    let fcLine = `forecast error (24 h ahead, MAE): fallback ${fb.maeGPerKWh.toFixed(1)} gCO2eq/kWh (${pct(fb.relative)})`;
    if (inp.forecast) {
      const g = givenForecastError(inp.intensity, inp.forecast);
      fcLine += `; trace's day-ahead forecast ${g.maeGPerKWh.toFixed(1)} gCO2eq/kWh (${pct(g.relative)})`;
    }
    console.log(`=== ${label}: ${inp.timesMs.length} hourly steps; ${fcLine}`);
  }
  const premium = compare(defaultService({ tier: 'premium', variants, meanRps: MEAN_RPS }), p, { oracle: false });
  const eco = compare(defaultService({ tier: 'eco', variants, meanRps: MEAN_RPS }), p, { compareForecast: print });
  const s = summarise(eco);
  if (print) {
    console.log(formatComparison('premium:', premium, summarise(premium)));
    console.log(formatComparison('eco:', eco, s));
    console.log('');
  }
  const checks = checkTargets(eco, s, premium);
  const m = eco.runs.carbonscale!.metrics;
  return {
    label,
    share: s.oracleShare,
    ratio: s.thresholdRatio,
    premiumSlo: premium.runs.carbonscale!.metrics.sloViolationMinutes,
    overruns: m.budgetOverruns,
    switches: m.switches,
    oracleSwitches: eco.runs.oracle!.metrics.switches,
    ok: checks.every((c) => c.ok),
  };
}

function table(title: string, rows: Row[]): void {
  console.log(title);
  console.log(
    `  ${'trace'.padEnd(82)} ${'oracle share'.padStart(12)} ${'× threshold'.padStart(11)} ${'premium SLO min'.padStart(15)} ${'overruns'.padStart(8)} ${'switches/oracle'.padStart(15)}`,
  );
  for (const r of rows)
    console.log(
      `  ${r.label.padEnd(82)} ${pct(r.share).padStart(12)} ${(r.ratio === undefined ? '–' : `×${r.ratio.toFixed(2)}`).padStart(11)} ${String(r.premiumSlo).padStart(15)} ${String(r.overruns).padStart(8)} ${`${r.switches}/${r.oracleSwitches}`.padStart(15)}  ${r.ok ? 'OK' : 'MISSED'}`,
    );
}

console.log(
  `variants: ${variants.map((v) => `${v.name} (q=${v.quality.toFixed(3)}, ${v.capacityRps.toFixed(4)} rps, ${(v.latencyP95Ms / 1000).toFixed(2)} s, ${v.powerBusyWatts.toFixed(1)}/${v.powerIdleWatts.toFixed(1)} W)`).join(' vs ')}`,
);
console.log(`demand: ${demand.label}, scaled to a mean of ${MEAN_RPS} req/s; eco budget 20% of requests per UTC day\n`);

const shipped: Row[] = [];
const traces = readdirSync(`${ROOT}data/carbon`)
  .filter((f) => f.endsWith('.csv'))
  .sort();
for (const f of traces) shipped.push(runTrace(f, parseCarbonTrace(read(`data/carbon/${f}`), f), demand, true));
table('what it must show (eco at a 20% daily budget; targets: share ≥ 95%, × threshold > 1, 0, 0, ≤):', shipped);

if (!quick) {
  // Held out: series the policy's forms and constants were not chosen on (the fallback forecast's form was chosen on
  // GB 2023 direct alone; no constant was fitted to any trace). Reported, not gated: they are not shipped claims.
  const held: Row[] = [];
  for (const f of traces.filter((t) => t.endsWith('_2023_hourly.csv'))) {
    const lca = parseCarbonTrace(read(`data/carbon/${f}`), f, { basis: 'lifecycle' });
    held.push(runTrace(`${f} (life-cycle intensity)`, lca, demand, false));
  }
  for (const f of traces.filter((t) => t.includes('forecasts'))) {
    const t = parseCarbonTrace(read(`data/carbon/${f}`), f);
    held.push(runTrace(`${f} (fallback forecast, DACF withheld)`, { ...t, hasForecast: false }, demand, false));
  }
  console.log('');
  table('held-out checks (not gated):', held);

  // 100 services (half eco, half premium, sizes 0.5–5 req/s) over a year of hourly DE-LU data, engine + accounting.
  const trace = parseCarbonTrace(read('data/carbon/DE-LU_2023_hourly.csv'), 'DE-LU');
  const sizes = [0.5, 1, 2, 5];
  const inputs = sizes.map((r) => prepare(simInputs(trace, demand, r)));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let steps = 0;
  for (let i = 0; i < 100; i++) {
    const p = inputs[i % inputs.length]!;
    const tier = i % 2 === 0 ? 'eco' : 'premium';
    runCarbonscale(defaultService({ tier, variants, meanRps: sizes[i % 4]! }), p);
    steps += p.inp.timesMs.length;
  }
  const s = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  console.log(
    `\nthroughput: 100 services × ${inputs[0]!.inp.timesMs.length} h = ${steps} engineStep calls in ${s.toFixed(2)} s wall, ` +
      `${cpuS.toFixed(2)} s CPU (${((cpuS / steps) * 1e6).toFixed(1)} µs CPU per decision); target 10 s: ${(s / 10).toFixed(2)}× of target`,
  );
}

const missed = shipped.filter((r) => !r.ok);
if (missed.length > 0) {
  console.log(`\nMISSED on ${missed.map((r) => r.label).join(', ')}`);
  process.exitCode = 1;
}
