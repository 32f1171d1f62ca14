// The online policies the simulator compares, each stepped over the same inputs and measured by the same Ledger:
//   carbonscale  — the decision engine itself (engineStep), exactly as the operator calls it once per interval;
//   static       — (a) the full variant at replicas sized for the peak;
//   demand-only  — (b) the full variant, replicas follow demand: the engine with the premium tier (carbon ignored);
//   threshold    — (c) carbon-aware-keda-operator style: intensity bands cap replicas; the top band also runs the
//                  smaller variant (running budget guard, same dwell), so it has the same levers we have.
import { DEMAND_HISTORY_MS } from '../decision/demand-forecast.ts';
import { CARBON_HISTORY_MS } from '../decision/fallback-forecast.ts';
import { engineStep, newBooks, type EngineBooks, type ServicePolicy } from '../decision/engine.ts';
import { replicasNeeded } from '../decision/latency-model.ts';
import type { DemandPoint, IntensityPoint } from '../decision/types.ts';
import { demandView, type DemandView } from './demand-signal.ts';
import { Ledger, type Metrics, type Timeline } from './ledger.ts';
import { highCarbonSteps } from './high-carbon.ts';
import type { ServiceSpec, SimInputs } from './sim-types.ts';

export interface PolicyRun {
  metrics: Metrics;
  timeline: Timeline;
}

/** Per-trace arrays shared by every service and policy run on it (built once). */
export interface Prepared {
  inp: SimInputs;
  view: DemandView;
  /** Measured intensity per step, the pre-roll's `carbonPreSteps` points first. */
  points: IntensityPoint[];
  carbonPreSteps: number;
  /** The forecast per trace step (aligned with timesMs); a step without one has a NaN value, never passed on. */
  forecastPoints: IntensityPoint[] | undefined;
  /** Measured demand per step, pre-roll first: what the operator's per-service demand history would hold. */
  demandHistory: DemandPoint[];
  /** Steps of pre-roll at the start of demandHistory. */
  preSteps: number;
  stepsPerDay: number;
}

export function prepare(inp: SimInputs): Prepared {
  const pre = inp.demandPreRollRps ?? new Float64Array(0);
  const demandHistory: DemandPoint[] = [];
  const t0 = inp.timesMs[0] ?? 0;
  for (let i = 0; i < pre.length; i++) demandHistory.push({ timeMs: t0 - (pre.length - i) * inp.stepMs, rps: pre[i]! });
  for (let t = 0; t < inp.timesMs.length; t++) demandHistory.push({ timeMs: inp.timesMs[t]!, rps: inp.demandRps[t]! });
  const view = demandView(demandHistory, pre.length, inp.stepMs);
  const stepsPerDay = Math.max(1, Math.round(86_400_000 / inp.stepMs));
  const cpre = inp.intensityPreRoll ?? new Float64Array(0);
  const points: IntensityPoint[] = [];
  for (let i = 0; i < cpre.length; i++)
    points.push({ timeMs: t0 - (cpre.length - i) * inp.stepMs, valueGPerKWh: cpre[i]! });
  for (let t = 0; t < inp.timesMs.length; t++)
    points.push({ timeMs: inp.timesMs[t]!, valueGPerKWh: inp.intensity[t]! });
  const forecastPoints = inp.forecast
    ? inp.timesMs.map((t, i) => ({ timeMs: t, valueGPerKWh: inp.forecast![i]! }))
    : undefined;
  return {
    inp,
    view,
    points,
    carbonPreSteps: cpre.length,
    forecastPoints,
    demandHistory,
    preSteps: pre.length,
    stepsPerDay,
  };
}

export interface CarbonscaleOptions {
  /** Pass the trace's own forecast (DACF) to the policy; false makes it build the fallback from history. */
  useForecast?: boolean;
  /** Treat the service as this tier instead (demand-only baseline = premium). */
  tierOverride?: 'premium' | 'eco';
  label?: string;
}

/** The ServicePolicy the engine sees for a simulated service. */
export function servicePolicy(spec: ServiceSpec, tier: 'premium' | 'eco' = spec.tier): ServicePolicy {
  return {
    variants: spec.variants,
    tier,
    replicas: spec.replicas,
    slo: spec.slo,
    pue: spec.pue,
    embodiedGPerGpuHour: spec.embodiedGPerGpuHour,
    policy: spec.policy,
  };
}

/** Runs the engine over the trace: one engineStep per interval, the plan applied at once (as observed next). */
export function runCarbonscale(spec: ServiceSpec, p: Prepared, opts: CarbonscaleOptions = {}): PolicyRun {
  const { inp } = p;
  const tier = opts.tierOverride ?? spec.tier;
  const ledger = new Ledger(opts.label ?? 'carbonscale', { ...spec, tier }, inp);
  const service = servicePolicy(spec, tier);
  const index = new Map(spec.variants.map((v, i) => [v.name, i]));
  const useFc = opts.useForecast !== false && p.forecastPoints !== undefined;
  const day = p.stepsPerDay;
  const keep = Math.ceil(DEMAND_HISTORY_MS / inp.stepMs) + 1;
  const carbonKeep = Math.round(CARBON_HISTORY_MS / inp.stepMs);
  let books: EngineBooks = newBooks(inp.timesMs[0] ?? 0, service);
  for (let t = 0; t < inp.timesMs.length; t++) {
    const now = inp.timesMs[t]!;
    const plan = books.plan;
    const heldGpus = plan ? plan.replicas * spec.variants[index.get(plan.variant) ?? 0]!.gpusPerReplica : 0;
    const end = p.preSteps + t;
    const step = engineStep(books, {
      now,
      service,
      observed: {
        ...(plan ? { variant: plan.variant, replicas: plan.replicas } : {}),
        clusterGpuHeadroom: Math.max(0, spec.clusterGpus - heldGpus),
      },
      carbon: {
        nowGPerKWh: inp.intensity[t]!,
        history: p.points.slice(Math.max(0, p.carbonPreSteps + t - carbonKeep), p.carbonPreSteps + t),
        ...(useFc ? { forecast: forecastAfter(p.forecastPoints!, t, day) } : {}),
      },
      demand: { history: p.demandHistory.slice(Math.max(0, end - keep), end) },
    });
    books = step.books;
    const d = step.decision;
    ledger.step(t, index.get(d.variant)!, d.replicas, d.flags.relaxedLatency);
  }
  return { metrics: ledger.finish(), timeline: ledger.timeline };
}

/** The forecast the provider would give at step t: the next `day` steps that have one (a missing one is left out,
 *  as the trace provider leaves it out). */
function forecastAfter(points: readonly IntensityPoint[], t: number, day: number): IntensityPoint[] {
  const out: IntensityPoint[] = [];
  for (let k = t + 1; k < Math.min(points.length, t + 1 + day); k++)
    if (Number.isFinite(points[k]!.valueGPerKWh)) out.push(points[k]!);
  return out;
}

function maxReplicas(spec: ServiceSpec, vIdx: number): number {
  const g = spec.variants[vIdx]!.gpusPerReplica;
  return Math.min(spec.replicas.max, g > 0 ? Math.floor(spec.clusterGpus / g + 1e-9) : Infinity);
}

/** Replicas for variant `vIdx` at `rps` under `sloMs`, within the spec and GPU limits. */
export function sizeFor(spec: ServiceSpec, vIdx: number, rps: number, sloMs: number): number {
  const need = replicasNeeded(spec.variants[vIdx]!, rps, sloMs, spec.policy.headroom ?? 0.1);
  const n = Math.min(Math.max(need, spec.replicas.min), maxReplicas(spec, vIdx));
  return Number.isFinite(n) ? n : maxReplicas(spec, vIdx);
}

/** (a) Static: the full variant at the replicas the peak planned demand needs. */
export function runStatic(spec: ServiceSpec, p: Prepared): PolicyRun {
  const ledger = new Ledger('static', spec, p.inp);
  let peak = 0;
  for (const r of p.view.plan) if (r > peak) peak = r;
  const n = sizeFor(spec, 0, peak, spec.slo.latencyP95Ms);
  for (let t = 0; t < p.inp.timesMs.length; t++) ledger.step(t, 0, n, false);
  return { metrics: ledger.finish(), timeline: ledger.timeline };
}

/** (b) Demand-only autoscaling: the same sizing and scale-down dead band as ours, carbon ignored. */
export function runDemandOnly(spec: ServiceSpec, p: Prepared): PolicyRun {
  return runCarbonscale(spec, p, { tierOverride: 'premium', label: 'demand-only' });
}

/**
 * (c) Threshold bands over the trailing 7 days' measured intensity: below the median, full variant at the strict
 * ceiling; median to 80th percentile, the replica cap of the relaxed ceiling; above the 80th percentile also the
 * best eligible smaller variant while the running share of degraded requests stays within the budget.
 */
export function runThreshold(spec: ServiceSpec, p: Prepared): PolicyRun {
  const { inp, view } = p;
  const ledger = new Ledger('threshold', spec, inp);
  const week = 7 * p.stepsPerDay;
  const hyst = spec.policy.hysteresis;
  const f = spec.tier === 'eco' ? (spec.slo.degradationBudget?.fraction ?? 0) : 0;
  const small = spec.variants.findIndex((v, i) => i > 0 && v.quality >= spec.slo.qualityFloor);
  const relaxedMs = spec.tier === 'eco' ? spec.slo.relaxedLatencyP95Ms : undefined;
  // The relaxed ceiling is the SLO's allowance for high-carbon hours, defined once for every policy; the bands
  // decide whether to use it.
  const high = highCarbonSteps(inp.intensity, p.stepsPerDay, inp.forecast, inp.intensityPreRoll);
  let v = 0;
  let n = -1;
  let lastChange = -Infinity;
  const buf: number[] = [];
  for (let t = 0; t < inp.timesMs.length; t++) {
    const now = inp.timesMs[t]!;
    const I = inp.intensity[t]!;
    buf.length = 0;
    for (let k = Math.max(0, t - week); k < t; k++) buf.push(inp.intensity[k]!);
    buf.sort((a, b) => a - b);
    const p50 = buf.length ? buf[Math.floor(buf.length * 0.5)]! : Infinity;
    const p80 = buf.length ? buf[Math.floor(buf.length * 0.8)]! : Infinity;
    const rps = view.plan[t]!;
    const w0 = rps * (inp.stepMs / 1000);
    // The baseline's own running guard, on the measured requests of the window so far.
    const b = ledger.windowSoFar(t);
    const budgetOk = f > 0 && b.servedDegraded + w0 <= f * (b.servedTotal + w0);
    // Entering must be affordable for the whole dwell at this rate, as for decide().
    const wDwell = w0 * Math.max(1, Math.ceil(spec.policy.minDwellMs / inp.stepMs));
    const enterOk = f > 0 && b.servedDegraded + wDwell <= f * (b.servedTotal + wDwell);
    let want = small > 0 && spec.tier === 'eco' && I >= p80 && (v === 0 ? enterOk : budgetOk) ? small : 0;
    const canChange = now - lastChange >= spec.policy.minDwellMs;
    if (want !== v && !canChange && !(v !== 0 && !budgetOk)) want = v;
    const relaxed = relaxedMs !== undefined && I >= p50 && high[t] === 1;
    let target = sizeFor(spec, want, rps, relaxed ? relaxedMs : spec.slo.latencyP95Ms);
    if (want === v && n > target && target >= n * (1 - hyst)) target = n;
    if (want !== v && n >= 0) lastChange = now;
    v = want;
    n = target;
    ledger.step(t, v, n, relaxed);
  }
  return { metrics: ledger.finish(), timeline: ledger.timeline };
}
