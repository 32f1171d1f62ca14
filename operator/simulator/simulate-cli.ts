// `carbonscale simulate`: replay a carbon trace and a demand series through the decision engine (the same
// engineStep the controller calls) and the baselines, and print the comparison.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { usageErrorLine } from '../cli-errors.ts';
import { checkInputFile, checkOutputFile, PathFlagError, readFlagFile, writeFlagFile } from '../cli-paths.ts';
import { parseCarbonTrace, parseUtcTime, type CarbonTrace } from '../carbon/trace-file.ts';
import { parseDemandTrace, type DemandTrace, type ParseDemandOptions } from './demand-trace.ts';
import { GAP_FILLS, type GapFill } from '../traces/time-series.ts';
import { plotSvg } from './plot-svg.ts';
import { comparisonJson, formatComparison } from './report.ts';
import { compare, defaultService, prepare, simInputs, summarise } from './simulate.ts';
import { a100IdleWattsUpperBound, legacyProfiles } from './variant-profiles.ts';
import type { VariantProfile } from '../decision/types.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DEFAULT_DEMAND = `${ROOT}data/demand/azure2024_conv_hourly.csv`;

const USAGE = `usage: carbonscale simulate --trace FILE [options]
  --trace FILE            carbon trace (Electricity Maps hourly CSV, DACF CSV, or JSON)
  --demand FILE           hourly request trace (default data/demand/azure2024_conv_hourly.csv)
  --demand-column NAME    count column (default per format: conversation, m_small_requests)
  --demand-utc-offset H   the demand trace's clock minus UTC, hours (default: 0 Azure, 8 BurstGPT/ServeGen)
  --synthetic-demand      a synthetic diurnal shape instead of a real trace
  --variants FILE         JSON array of variant profiles, full first (default: Vicuna 13B/7B from data/variants)
  --mean-rps N            mean request rate the demand is scaled to (default 1)
  --tier eco|premium|both (default both)
  --budget F              eco degradation budget, share of requests (default 0.2)
  --window day|week       budget window (default day)
  --pue N                 (default 1.2)   --embodied G   gCO2e per GPU-hour (default 0)
  --gpus N                GPUs the cluster can give the service (default unlimited)
  --from ISO --to ISO     replay only part of the trace (UTC)
  --step-minutes N        replay finer than the trace (a divisor of its step; intensity held within it)
  --gap-fill none|hold|linear  missing steps in the carbon and demand traces: an error (none, default), or filled
                          with the last value (hold) or by interpolation (linear); the fill is counted and printed
  --max-gap-hours N       longest gap filled (default 6)
  --collapse-duplicates   in both traces, drop a row repeating the previous timestamp with identical values
                          (without it, a repeated timestamp is an error)
  --no-oracle             skip the offline oracle
  --json                  print JSON instead of tables
  --plot FILE             write an SVG chart (eco if simulated, else premium)`;

export class CliError extends Error {
  override name = 'CliError';
}

function num(v: string | undefined, flag: string, def: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new CliError(`--${flag}: '${v}' is not a number`);
  return n;
}

/** The bench's and the CLI's default variant profiles, derived from the shipped measurements. */
export function defaultVariants(root = ROOT): VariantProfile[] {
  const idle = a100IdleWattsUpperBound(
    readFileSync(`${root}data/variants/power-hungry-processing/zeroshot_qa_squad_bloomz.csv`, 'utf8'),
    'zeroshot_qa_squad_bloomz.csv',
  );
  return legacyProfiles(
    readFileSync(`${root}data/variants/mlenergy-legacy/A100_chat_benchmark.csv`, 'utf8'),
    readFileSync(`${root}data/variants/mlenergy-legacy/score.csv`, 'utf8'),
    idle,
  );
}

interface FillOptions {
  gapFill: GapFill;
  maxGapMs: number;
  /** --gap-fill was given: print what was filled. */
  asked: boolean;
}

/** --gap-fill and --max-gap-hours, checked: both traces are read with them (operator/traces/time-series.ts). */
function gapFillOptions(mode: string | undefined, maxHours: string | undefined): FillOptions {
  const gapFill = mode ?? 'none';
  if (!(GAP_FILLS as readonly string[]).includes(gapFill))
    throw new CliError(`--gap-fill: must be ${GAP_FILLS.join(', ')}`);
  const h = num(maxHours, 'max-gap-hours', 6);
  if (!(h > 0)) throw new CliError('--max-gap-hours: must be > 0');
  return { gapFill: gapFill as GapFill, maxGapMs: h * 3_600_000, asked: mode !== undefined };
}

function filled(trace: CarbonTrace, demand: DemandTrace | 'synthetic') {
  return {
    filled: {
      carbonSteps: trace.filledSteps ?? 0,
      demandSlots: demand === 'synthetic' ? 0 : (demand.filledSteps ?? 0),
    },
  };
}

function fillNote(fill: FillOptions, trace: CarbonTrace, demand: DemandTrace | 'synthetic'): string {
  const f = filled(trace, demand).filled;
  return (
    `gap fill ${fill.gapFill} (gaps up to ${fill.maxGapMs / 3_600_000} h): ${f.carbonSteps} of ` +
    `${trace.points.length} ${trace.stepMs / 60_000}-minute carbon steps filled, ${f.demandSlots} demand slots filled`
  );
}

const OPTIONS = {
  trace: { type: 'string' },
  demand: { type: 'string' },
  'demand-column': { type: 'string' },
  'demand-utc-offset': { type: 'string' },
  'synthetic-demand': { type: 'boolean' },
  variants: { type: 'string' },
  'mean-rps': { type: 'string' },
  tier: { type: 'string' },
  budget: { type: 'string' },
  window: { type: 'string' },
  pue: { type: 'string' },
  embodied: { type: 'string' },
  gpus: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  'step-minutes': { type: 'string' },
  'gap-fill': { type: 'string' },
  'max-gap-hours': { type: 'string' },
  'collapse-duplicates': { type: 'boolean' },
  'no-oracle': { type: 'boolean' },
  json: { type: 'boolean' },
  plot: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const parse = (argv: string[]) => parseArgs({ args: argv, options: OPTIONS }).values;
type Args = ReturnType<typeof parse>;

/** The demand series: the shipped trace (or --demand), or the synthetic shape. */
function readDemand(a: Args, fill: FillOptions, dup: ParseDemandOptions): DemandTrace | 'synthetic' {
  if (a['synthetic-demand']) return 'synthetic';
  const file = a.demand ?? DEFAULT_DEMAND;
  const opts: ParseDemandOptions = { gapFill: fill.gapFill, maxGapMs: fill.maxGapMs, ...dup };
  if (a['demand-column']) opts.column = a['demand-column'];
  if (a['demand-utc-offset'] !== undefined) opts.utcOffsetHours = num(a['demand-utc-offset'], 'demand-utc-offset', 0);
  return parseDemandTrace(readFlagFile('--demand', file), basename(file), opts);
}

/** --from and --to, as ms since epoch. */
function sliceOf(a: Args): { from?: number; to?: number } {
  const slice: { from?: number; to?: number } = {};
  for (const k of ['from', 'to'] as const) {
    const v = a[k];
    if (v === undefined) continue;
    const t = parseUtcTime(v);
    if (!Number.isFinite(t)) throw new CliError(`--${k}: '${v}' is not a time`);
    slice[k] = t;
  }
  return slice;
}

/** --step-minutes, checked to divide the trace's own step. */
function stepMinutes(a: Args, trace: CarbonTrace): number {
  const stepMin = num(a['step-minutes'], 'step-minutes', trace.stepMs / 60_000);
  if (!(stepMin > 0) || Math.abs(Math.round(trace.stepMs / 60_000 / stepMin) * stepMin - trace.stepMs / 60_000) > 1e-9)
    throw new CliError(`--step-minutes: must divide the trace's ${trace.stepMs / 60_000}-minute step`);
  return stepMin;
}

interface Replay {
  traceName: string;
  trace: CarbonTrace;
  demand: DemandTrace | 'synthetic';
  fill: FillOptions;
  variants: VariantProfile[];
  inp: ReturnType<typeof simInputs>;
  outputs: Record<string, unknown>;
  tables: string[];
  plotted?: { run: ReturnType<typeof compare>; tier: string };
}

/** Each asked tier through the engine, the baselines and (unless --no-oracle) the oracle. */
function runTiers(
  a: Args,
  r: Replay,
  tiers: readonly ('eco' | 'premium')[],
  o: { budget: number; meanRps: number; window: 'day' | 'week' },
) {
  const prepared = prepare(r.inp);
  for (const tier of tiers) {
    const spec = defaultService({
      tier,
      variants: r.variants,
      meanRps: o.meanRps,
      budgetFraction: o.budget,
      budgetWindow: o.window,
      pue: num(a.pue, 'pue', 1.2),
      embodiedGPerGpuHour: num(a.embodied, 'embodied', 0),
      clusterGpus: num(a.gpus, 'gpus', Infinity),
    });
    const c = compare(spec, prepared, { oracle: !a['no-oracle'], compareForecast: true });
    const s = summarise(c);
    r.outputs[tier] = comparisonJson(c, s);
    const steps = `${r.inp.timesMs.length} steps of ${r.inp.stepMs / 60_000} min`;
    r.tables.push(formatComparison(`${tier} service, ${r.traceName} (${steps})`, c, s));
    if (!r.plotted || tier === 'eco') r.plotted = { run: c, tier };
  }
}

/** --plot, then the tables (or --json). */
function report(a: Args, r: Replay): void {
  if (a.plot && r.plotted) {
    writeFlagFile(
      '--plot',
      a.plot,
      plotSvg({
        title: `carbonscale simulate: ${r.traceName}, ${r.plotted.tier} service`,
        inp: r.inp,
        ours: r.plotted.run.runs.carbonscale!,
        baseline: r.plotted.run.runs['demand-only']!,
        variantNames: r.variants.map((v) => v.name),
      }),
    );
  }
  const asked = r.fill.asked;
  if (a.json) {
    const doc = { trace: r.traceName, steps: r.inp.timesMs.length, ...(asked ? filled(r.trace, r.demand) : {}) };
    console.log(JSON.stringify({ ...doc, ...r.outputs }, null, 2));
  } else console.log((asked ? [fillNote(r.fill, r.trace, r.demand), ...r.tables] : r.tables).join('\n\n'));
}

/** Every path flag, checked before the replay runs: a missing file is one line naming the flag, not ENOENT. */
function checkPaths(a: Args): string {
  if (!a.trace) throw new CliError('--trace: required');
  checkInputFile('--trace', a.trace);
  if (a.demand !== undefined && !a['synthetic-demand']) checkInputFile('--demand', a.demand);
  if (a.variants !== undefined) checkInputFile('--variants', a.variants);
  if (a.plot !== undefined) checkOutputFile('--plot', a.plot);
  return a.trace;
}

/** --variants: a JSON array of profiles, full first; a file that is not JSON says so, naming the flag. */
function readVariants(file: string | undefined): VariantProfile[] {
  if (file === undefined) return defaultVariants();
  const text = readFlagFile('--variants', file);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new CliError(`--variants ${file}: not JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0)
    throw new CliError(`--variants ${file}: expected a JSON array of variant profiles, full first`);
  return parsed as VariantProfile[];
}

function simulate(a: Args): void {
  const traceFile = checkPaths(a);
  const tierArg = a.tier ?? 'both';
  if (!['eco', 'premium', 'both'].includes(tierArg)) throw new CliError(`--tier: must be eco, premium or both`);
  const window = a.window ?? 'day';
  if (window !== 'day' && window !== 'week') throw new CliError(`--window: must be day or week`);
  const budget = num(a.budget, 'budget', 0.2);
  if (budget < 0 || budget > 1) throw new CliError('--budget: must be within [0, 1]');
  const meanRps = num(a['mean-rps'], 'mean-rps', 1);
  if (!(meanRps > 0)) throw new CliError('--mean-rps: must be > 0');
  const fill = gapFillOptions(a['gap-fill'], a['max-gap-hours']);
  const dup = a['collapse-duplicates'] ? { duplicates: 'collapse-identical' as const } : {};
  const trace = parseCarbonTrace(readFlagFile('--trace', traceFile), basename(traceFile), { ...fill, ...dup });
  const demand = readDemand(a, fill, dup);
  const variants = readVariants(a.variants);
  const slice = sliceOf(a);
  const inp = simInputs(trace, demand, meanRps, slice, stepMinutes(a, trace) * 60_000);
  const r: Replay = { traceName: basename(traceFile), trace, demand, fill, variants, inp, outputs: {}, tables: [] };
  const tiers = tierArg === 'both' ? (['premium', 'eco'] as const) : ([tierArg] as ('eco' | 'premium')[]);
  runTiers(a, r, tiers, { budget, meanRps, window });
  report(a, r);
}

export async function main(argv: string[]): Promise<number> {
  let a: Args;
  try {
    a = parse(argv);
  } catch (e) {
    console.error(`${usageErrorLine('simulate', e)}\n\n${USAGE}`);
    return 2;
  }
  if (a.help) {
    console.log(USAGE);
    return 0;
  }
  try {
    simulate(a);
    return 0;
  } catch (e) {
    // One line in the words of every command; a bad flag or path is a usage error (2), a bad trace's content 1.
    console.error(`carbonscale simulate: ${(e as Error).message}`);
    return e instanceof CliError || e instanceof PathFlagError ? 2 : 1;
  }
}
