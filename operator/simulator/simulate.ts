// One simulation: a carbon trace and a demand series replayed through the decision engine and the baselines, side
// by side.
import type { CarbonTrace } from '../carbon/trace-file.ts';
import { CARBON_HISTORY_MS } from '../decision/fallback-forecast.ts';
import type { VariantProfile } from '../decision/types.ts';
import { alignDemand, type DemandTrace, syntheticDemand } from './demand-trace.ts';
import type { Metrics } from './ledger.ts';
import { DEFAULT_ORACLE_UNITS, runOracle } from './oracle.ts';
import {
  type PolicyRun,
  type Prepared,
  prepare,
  runCarbonscale,
  runDemandOnly,
  runStatic,
  runThreshold,
} from './policies.ts';
import type { ServiceSpec, SimInputs } from './sim-types.ts';

export interface ServiceOptions {
  tier: 'premium' | 'eco';
  variants: VariantProfile[];
  /** Mean request rate the demand series is scaled to, requests/s. */
  meanRps: number;
  budgetFraction?: number;
  budgetWindow?: 'day' | 'week';
  pue?: number;
  embodiedGPerGpuHour?: number;
  clusterGpus?: number;
}

/** The service definitions the CLI and bench use: SLO = 2× the full variant's low-load latency, relaxed 3×. */
export function defaultService(o: ServiceOptions): ServiceSpec {
  const full = o.variants[0]!;
  return {
    name: `${o.tier}-service`,
    tier: o.tier,
    variants: o.variants,
    replicas: { min: 1, max: 10_000 },
    slo: {
      latencyP95Ms: 2 * full.latencyP95Ms,
      qualityFloor: 0.95,
      ...(o.tier === 'eco'
        ? {
            relaxedLatencyP95Ms: 3 * full.latencyP95Ms,
            degradationBudget: { fraction: o.budgetFraction ?? 0.2, window: o.budgetWindow ?? 'day' },
          }
        : {}),
    },
    pue: o.pue ?? 1.2,
    embodiedGPerGpuHour: o.embodiedGPerGpuHour ?? 0,
    policy: {
      hysteresis: 0.05,
      minDwellMs: 2 * 3_600_000,
      switchCostJoules: 20_000,
      intervalMs: 3_600_000,
      headroom: 0.1,
    },
    clusterGpus: o.clusterGpus ?? Infinity,
  };
}

export interface TraceSlice {
  from?: number;
  to?: number;
}

/** Aligns a parsed carbon trace with demand (real, or synthetic when `demand` is 'synthetic'). */
export function simInputs(
  trace: CarbonTrace,
  demand: DemandTrace | 'synthetic',
  meanRps: number,
  slice: TraceSlice = {},
  /** Replay step, ms: the trace's own (default) or a divisor of it (each trace value held over its sub-steps). */
  stepMs: number = trace.stepMs,
): SimInputs {
  const pts = trace.points.filter(
    (p) => (slice.from === undefined || p.timeMs >= slice.from) && (slice.to === undefined || p.timeMs < slice.to),
  );
  if (pts.length === 0) throw new Error('the selected time range holds no trace points');
  const sub = Math.round(trace.stepMs / stepMs);
  if (!(stepMs > 0) || sub < 1 || Math.abs(sub * stepMs - trace.stepMs) > 1)
    throw new Error(`step: ${stepMs / 60_000} min does not divide the trace's ${trace.stepMs / 60_000} min step`);
  const timesMs: number[] = [];
  const intensity: number[] = [];
  const forecast: number[] = [];
  for (const p of pts)
    for (let j = 0; j < sub; j++) {
      timesMs.push(p.timeMs + j * stepMs);
      intensity.push(p.valueGPerKWh);
      // A step without a forecast has none (NaN): the policy must not see the actual in its place.
      forecast.push(p.forecastGPerKWh ?? NaN);
    }
  // The trace's hours before the slice are the carbon history the operator's signal service would hold at its start.
  const first = pts[0]!.timeMs;
  const preRoll: number[] = [];
  for (const p of trace.points)
    if (p.timeMs < first && p.timeMs >= first - CARBON_HISTORY_MS)
      for (let j = 0; j < sub; j++) preRoll.push(p.valueGPerKWh);
  // Align the 8 days before the trace too (a week and a step of history for the weekly predictor at step 0), then
  // scale by the trace part only.
  const preSteps = Math.round((8 * 86_400_000) / stepMs);
  const all = Array.from({ length: preSteps }, (_, i) => timesMs[0]! - (preSteps - i) * stepMs).concat(timesMs);
  const raw = demand === 'synthetic' ? syntheticDemand(all, 1) : alignDemand(demand, all, 1);
  let sum = 0;
  for (let i = preSteps; i < raw.length; i++) sum += raw[i]!;
  const k = sum > 0 ? meanRps / (sum / timesMs.length) : 0;
  const scaled = raw.map((x) => x * k);
  const inp: SimInputs = {
    timesMs,
    stepMs,
    intensity: Float64Array.from(intensity),
    demandRps: scaled.slice(preSteps),
    demandPreRollRps: scaled.slice(0, preSteps),
  };
  if (preRoll.length > 0) inp.intensityPreRoll = Float64Array.from(preRoll);
  if (trace.hasForecast) inp.forecast = Float64Array.from(forecast);
  return inp;
}

export interface Comparison {
  tier: 'premium' | 'eco';
  runs: Record<string, PolicyRun>;
  /** The oracle's lower bound, kgCO2e (eco only), and its budget resolution (units per window allowance). */
  oracleBoundKg?: number;
  oracleUnits?: number;
  /** Present when the trace has its own forecast: the engine with it vs with the history fallback. */
  forecastGain?: { withForecastKg: number; fallbackKg: number };
}

export interface CompareOptions {
  oracle?: boolean;
  /** Also run the engine without the trace's forecast (fallback), where the trace has one. */
  compareForecast?: boolean;
}

/** Oracle budget resolution that keeps its back-pointer table under ~150 MB (600 units at hourly steps). */
export function oracleUnits(spec: ServiceSpec, steps: number, stepMs: number): number {
  const D = Math.max(1, Math.ceil(spec.policy.minDwellMs / stepMs - 1e-9));
  return Math.max(20, Math.min(DEFAULT_ORACLE_UNITS, Math.floor(150e6 / (steps * spec.variants.length * D)) - 1));
}

export function compare(specIn: ServiceSpec, prepared: Prepared, opts: CompareOptions = {}): Comparison {
  // Decisions happen once per replay step.
  const spec: ServiceSpec = { ...specIn, policy: { ...specIn.policy, intervalMs: prepared.inp.stepMs } };
  const runs: Record<string, PolicyRun> = {};
  runs.carbonscale = runCarbonscale(spec, prepared);
  runs.static = runStatic(spec, prepared);
  runs['demand-only'] = runDemandOnly(spec, prepared);
  const out: Comparison = { tier: spec.tier, runs };
  if (spec.tier === 'eco') {
    runs.threshold = runThreshold(spec, prepared);
    if (opts.oracle !== false) {
      const units = oracleUnits(spec, prepared.inp.timesMs.length, prepared.inp.stepMs);
      const o = runOracle(spec, prepared, units);
      runs.oracle = o;
      out.oracleBoundKg = o.boundKg;
      out.oracleUnits = units;
    }
    if (opts.compareForecast && prepared.forecastPoints) {
      const fb = runCarbonscale(spec, prepared, { useForecast: false, label: 'carbonscale-fallback' });
      runs['carbonscale-fallback'] = fb;
      out.forecastGain = { withForecastKg: runs.carbonscale.metrics.emissionsKg, fallbackKg: fb.metrics.emissionsKg };
    }
  }
  return out;
}

export interface Summary {
  /** Saving of carbonscale vs each baseline, fraction of the baseline's emissions. */
  savingVs: Record<string, number>;
  /** (b − ours) / (b − oracle bound): the share of the reachable saving we achieve. */
  oracleShare?: number;
  /** (b − ours) / (b − threshold): our saving vs demand-only autoscaling over the threshold policy's. */
  thresholdRatio?: number;
}

export function summarise(c: Comparison): Summary {
  const ours = c.runs.carbonscale!.metrics.emissionsKg;
  const savingVs: Record<string, number> = {};
  for (const [k, r] of Object.entries(c.runs)) {
    if (k === 'carbonscale' || k === 'oracle' || k === 'carbonscale-fallback') continue;
    savingVs[k] = 1 - ours / r.metrics.emissionsKg;
  }
  const s: Summary = { savingVs };
  const b = c.runs['demand-only']!.metrics.emissionsKg;
  if (c.oracleBoundKg !== undefined) s.oracleShare = (b - ours) / (b - c.oracleBoundKg);
  const th = c.runs.threshold?.metrics.emissionsKg;
  if (th !== undefined && b - th > 0) s.thresholdRatio = (b - ours) / (b - th);
  return s;
}

export { prepare };
export type { Metrics, Prepared };
