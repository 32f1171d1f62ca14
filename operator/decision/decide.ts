// The carbonscale policy for one interval: carbon intensity, demand and SLOs in; a variant, a replica count and the
// reason out. Pure and deterministic: no I/O, no clock (the caller passes `now`), no randomness. The engine
// (engine.ts) assembles its input and calls it once per interval; docs/policy.md explains every rule, and the
// comments here say why each step is where it is.
import { budgetUsed as budgetUsedOf } from './budget-books.ts';
import { budgetWindowMs } from './budget-window.ts';
import { carbonLevel, carbonView, type CarbonLevel } from './carbon-view.ts';
import { validateDecisionInput } from './decision-input-error.ts';
import { expectedRequests } from './demand-forecast.ts';
import { ecoChoice, type EcoChoice } from './eco-choice.ts';
import { emissionsRateGPerHour, servicePowerWatts } from './energy-model.ts';
import { DEFAULT_HEADROOM, replicasNeeded } from './latency-model.ts';
import { explain } from './reason.ts';
import type { Decision, DecisionFlags, DecisionInput, VariantProfile } from './types.ts';

export { DEFAULT_HEADROOM } from './latency-model.ts';
export { DEFAULT_BUDGET_DEMAND_SAFETY } from './eco-choice.ts';

interface Sizing {
  replicas: number;
  /** Replicas the SLO asks for before the GPU and spec limits. */
  wanted: number;
  gpuLimited: boolean;
  specLimited: boolean;
}

/** Replica sizing within the spec and the GPUs the service holds plus the cluster's headroom. */
class Sizer {
  readonly input: DecisionInput;
  readonly gpuPool: number;
  constructor(input: DecisionInput, gpuPool: number) {
    this.input = input;
    this.gpuPool = gpuPool;
  }
  gpuCap(v: VariantProfile): number {
    return v.gpusPerReplica > 0 ? Math.floor(this.gpuPool / v.gpusPerReplica + 1e-9) : Infinity;
  }
  maxReplicas(v: VariantProfile): number {
    return Math.min(this.input.replicas.max, this.gpuCap(v));
  }
  size(v: VariantProfile, sloMs: number, rps: number): Sizing {
    const need = replicasNeeded(v, rps, sloMs, this.input.policy.headroom ?? DEFAULT_HEADROOM);
    const wanted = Math.max(need, this.input.replicas.min);
    const gpuCap = this.gpuCap(v);
    return {
      replicas: Math.min(wanted, this.maxReplicas(v)),
      wanted,
      gpuLimited: wanted > gpuCap && gpuCap < this.input.replicas.max,
      specLimited: need > this.input.replicas.max,
    };
  }
}

/** The budget window holding `now` (rolled forward if the caller has not reset it yet) and its counts. */
function budgetWindow(input: DecisionInput, now: number) {
  const b = input.state.budget;
  const budget = input.tier === 'eco' ? input.slo.degradationBudget : undefined;
  if (!budget) return { startMs: b.windowStartMs, endMs: now + input.policy.intervalMs, ...counts(b) };
  const w = budgetWindowMs(budget.window);
  if (now >= b.windowStartMs + w) {
    const startMs = b.windowStartMs + Math.floor((now - b.windowStartMs) / w) * w;
    return { startMs, endMs: startMs + w, servedTotal: 0, servedDegraded: 0 };
  }
  return { startMs: b.windowStartMs, endMs: b.windowStartMs + w, ...counts(b) };
}

function counts(b: { servedTotal: number; servedDegraded: number }) {
  return { servedTotal: b.servedTotal, servedDegraded: b.servedDegraded };
}

export function decide(input: DecisionInput, now: number): Decision {
  validateDecisionInput(input);
  if (!Number.isFinite(now)) throw new RangeError('now: must be a finite time in ms');
  const { variants, slo, policy, state } = input;
  const predicted = input.demand.predictedRps ?? input.demand.currentRps;
  // Size for the larger of what we see and what we expect: scale up early, never down on a prediction alone.
  const planRps = Math.max(input.demand.currentRps, predicted);
  const curIdx = state.variant === undefined ? 0 : variants.findIndex((v) => v.name === state.variant);
  const cur = variants[curIdx]!;
  const curReplicas = state.replicas ?? 0;
  const sizer = new Sizer(input, curReplicas * cur.gpusPerReplica + input.clusterGpuHeadroom);
  const intensity = input.carbon.nowGPerKWh;
  const noSignal = intensity === undefined;
  const flags = initialFlags(noSignal);
  const eco = input.tier === 'eco';
  const degradedIdx: number[] = [];
  if (eco) for (let i = 1; i < variants.length; i++) if (variants[i]!.quality >= slo.qualityFloor) degradedIdx.push(i);

  // ---- carbon view: forecast (given or built) and whether this is a high-carbon hour
  const view = eco && !noSignal ? carbonView(input, now) : { forecast: [], fallback: false };
  flags.fallbackForecast = view.fallback;
  const level: CarbonLevel | undefined =
    eco && !noSignal
      ? carbonLevel(input.carbon.history ?? [], now, intensity, view.fallback ? [] : view.forecast)
      : undefined;
  const highCarbon = level?.high === true;
  const relaxed = highCarbon && slo.relaxedLatencyP95Ms !== undefined;
  const sloNow = relaxed ? slo.relaxedLatencyP95Ms! : slo.latencyP95Ms;
  const window = budgetWindow(input, now);
  const notes: string[] = [];

  // ---- choose the variant
  const choice: EcoChoice = !eco
    ? { targetIdx: 0, gpuForced: false }
    : ecoChoice({
        input,
        now,
        curIdx,
        degradedIdx,
        intensity,
        forecast: view.forecast,
        highCarbon,
        ...(level ? { level } : {}),
        window,
        canChangeVariant: state.lastChangeMs === undefined || now - state.lastChangeMs >= policy.minDwellMs,
        predictedRps: predicted,
        flags,
        notes,
        rate: (v) => {
          const s = sizer.size(v, sloNow, planRps);
          const g = emissionsRateGPerHour(v, s.replicas, planRps, input.pue, intensity ?? 0, input.embodiedGPerGpuHour);
          return { gPerHour: g, gpuLimited: s.gpuLimited };
        },
      });
  const targetIdx = oneStep(choice, curIdx, degradedIdx, eco);

  // ---- size the replicas
  const target = variants[targetIdx]!;
  const relaxedUsed = eco && relaxed && !noSignal;
  flags.relaxedLatency = relaxedUsed;
  const replicas = sizeReplicas(input, sizer, target, targetIdx === curIdx, relaxedUsed, planRps, flags);
  // The one "budget used" (budget-books.ts): of the allowance of this window's expected requests.
  const budget = eco ? slo.degradationBudget : undefined;
  const iv = policy.intervalMs;
  const used =
    budget && degradedIdx.length > 0
      ? budgetUsedOf(
          { windowStartMs: window.startMs, servedTotal: window.servedTotal, servedDegraded: window.servedDegraded },
          budget.fraction,
          expectedRequests(predicted, input.demand.forecast, now, now + iv, window.endMs, iv),
        )
      : undefined;
  const reason = explain({
    input,
    intensity,
    fallbackForecast: view.fallback,
    flags,
    from: cur,
    fromReplicas: curReplicas,
    to: target,
    replicas,
    changed: targetIdx !== curIdx,
    budgetUsed: used,
    plan: choice.plan,
    notes,
  });
  return {
    variant: target.name,
    replicas,
    nextEvaluationMs: now + iv,
    reason,
    expectedEmissionsGPerHour: noSignal
      ? null
      : emissionsRateGPerHour(target, replicas, predicted, input.pue, intensity, input.embodiedGPerGpuHour),
    expectedPowerWatts: servicePowerWatts(target, replicas, predicted),
    degraded: targetIdx !== 0,
    flags,
    ...(used !== undefined ? { budgetUsed: used } : {}),
  };
}

function initialFlags(noSignal: boolean): DecisionFlags {
  return {
    sloAtRisk: false,
    budgetExhausted: false,
    gpuLimited: false,
    noSignal,
    relaxedLatency: false,
    fallbackForecast: false,
  };
}

/** Replicas for the chosen variant at the SLO in force, with the scale-down dead band; sets the sizing flags. */
function sizeReplicas(
  input: DecisionInput,
  sizer: Sizer,
  target: VariantProfile,
  sameVariant: boolean,
  relaxed: boolean,
  planRps: number,
  flags: DecisionFlags,
): number {
  const { slo, state } = input;
  const sz = sizer.size(target, relaxed ? slo.relaxedLatencyP95Ms! : slo.latencyP95Ms, planRps);
  let replicas = sz.replicas;
  const curReplicas = state.replicas ?? 0;
  if (sameVariant && curReplicas > replicas && state.replicas !== undefined) {
    // Scale-down dead band: do not shed a few replicas on noise; scale-ups are never delayed.
    const keep = Math.min(curReplicas, sizer.maxReplicas(target));
    if (replicas >= keep * (1 - input.policy.hysteresis)) replicas = Math.max(replicas, keep);
  }
  flags.gpuLimited = sz.gpuLimited;
  flags.sloAtRisk = sz.gpuLimited || sz.specLimited || !Number.isFinite(sz.wanted);
  return Number.isFinite(replicas) ? replicas : sizer.maxReplicas(target);
}

/** One step per interval along the eligible variants (full → next smaller eligible → …): a swap costs a rolling
 *  restart, so big moves are spread over intervals. Returning to full is one step; GPU scarcity may jump. */
function oneStep(choice: EcoChoice, curIdx: number, degradedIdx: number[], eco: boolean): number {
  let t = eco ? choice.targetIdx : 0;
  if (eco && !choice.gpuForced && t !== 0 && t !== curIdx) {
    const between =
      t > curIdx ? degradedIdx.filter((i) => i > curIdx && i <= t) : degradedIdx.filter((i) => i < curIdx && i >= t);
    if (between.length > 0) t = t > curIdx ? between[0]! : between[between.length - 1]!;
  }
  return t;
}
