// The carbonscale policy: carbon intensity, demand and SLOs in; a variant, a replica count and the reason out.
// Pure and deterministic: no I/O, no clock (the caller passes `now`), no randomness. docs/policy.md explains every
// rule; the comments here say why each step is where it is.
import { budgetUsed as budgetUsedOf } from './budget-books.ts';
import { budgetWindowMs } from './budget-window.ts';
import { validateDecisionInput } from './decision-input-error.ts';
import { expectedRequests } from './demand-forecast.ts';
import { emissionsRateGPerHour, MS_PER_HOUR, servicePowerWatts, switchEmissionsG } from './energy-model.ts';
import { buildFallbackForecast, DAY_MS } from './fallback-forecast.ts';
import { replicasNeeded } from './latency-model.ts';
import type { Decision, DecisionFlags, DecisionInput, IntensityPoint, VariantProfile } from './types.ts';

export const DEFAULT_HEADROOM = 0.1;
export const DEFAULT_BUDGET_DEMAND_SAFETY = 0.8;

interface Slot {
  /** Requests the slot is expected to carry. */
  weight: number;
  /** Emissions saved per degraded request-hour, relative units (only the order matters). */
  score: number;
}

interface Sizing {
  replicas: number;
  /** Replicas the SLO asks for before the GPU and spec limits. */
  wanted: number;
  gpuLimited: boolean;
  specLimited: boolean;
}

export function decide(input: DecisionInput, now: number): Decision {
  validateDecisionInput(input);
  if (!Number.isFinite(now)) throw new RangeError('now: must be a finite time in ms');
  const { variants, slo, policy, state } = input;
  const full = variants[0]!;
  const headroom = policy.headroom ?? DEFAULT_HEADROOM;
  const hyst = policy.hysteresis;
  const predicted = input.demand.predictedRps ?? input.demand.currentRps;
  // Size for the larger of what we see and what we expect: scale up early, never down on a prediction alone.
  const planRps = Math.max(input.demand.currentRps, predicted);
  const curIdx = state.variant === undefined ? 0 : variants.findIndex((v) => v.name === state.variant);
  const cur = variants[curIdx]!;
  const curReplicas = state.replicas ?? 0;
  const gpuPool = curReplicas * cur.gpusPerReplica + input.clusterGpuHeadroom;
  const intensity = input.carbon.nowGPerKWh;
  const noSignal = intensity === undefined;
  const flags: DecisionFlags = {
    sloAtRisk: false,
    budgetExhausted: false,
    gpuLimited: false,
    noSignal,
    relaxedLatency: false,
    fallbackForecast: false,
  };

  const maxReplicasFor = (v: VariantProfile): number =>
    Math.min(input.replicas.max, v.gpusPerReplica > 0 ? Math.floor(gpuPool / v.gpusPerReplica + 1e-9) : Infinity);
  const size = (v: VariantProfile, sloMs: number, rps: number): Sizing => {
    const need = replicasNeeded(v, rps, sloMs, headroom);
    const wanted = Math.max(need, input.replicas.min);
    const cap = maxReplicasFor(v);
    const gpuCap = v.gpusPerReplica > 0 ? Math.floor(gpuPool / v.gpusPerReplica + 1e-9) : Infinity;
    return {
      replicas: Math.min(wanted, cap),
      wanted,
      gpuLimited: wanted > gpuCap && gpuCap < input.replicas.max,
      specLimited: need > input.replicas.max,
    };
  };

  const eco = input.tier === 'eco';
  const budget = eco ? slo.degradationBudget : undefined;
  // Eligible degraded variants: eco only, at or above the quality floor.
  const degradedIdx: number[] = [];
  if (eco) for (let i = 1; i < variants.length; i++) if (variants[i]!.quality >= slo.qualityFloor) degradedIdx.push(i);

  // ---- carbon view: forecast (given or built) and whether this is a high-carbon hour
  const forecast = eco && !noSignal ? forecastFor(input, now, flags) : [];
  const highCarbon =
    eco && !noSignal ? isHighCarbon(input, now, intensity, flags.fallbackForecast ? [] : forecast) : false;
  const relaxed = highCarbon && slo.relaxedLatencyP95Ms !== undefined;
  const sloFor = (useRelaxed: boolean): number =>
    useRelaxed && slo.relaxedLatencyP95Ms !== undefined ? slo.relaxedLatencyP95Ms : slo.latencyP95Ms;

  // ---- budget window (rolled forward if the caller has not reset it yet)
  let servedTotal = state.budget.servedTotal;
  let servedDegraded = state.budget.servedDegraded;
  let windowStart = state.budget.windowStartMs;
  let windowEnd = now + policy.intervalMs;
  if (budget) {
    const w = budgetWindowMs(budget.window);
    if (now >= windowStart + w) {
      windowStart += Math.floor((now - windowStart) / w) * w;
      servedTotal = 0;
      servedDegraded = 0;
    }
    windowEnd = windowStart + w;
  }
  const w0 = planRps * (policy.intervalMs / 1000);

  const canChangeVariant = state.lastChangeMs === undefined || now - state.lastChangeMs >= policy.minDwellMs;
  const curIsDegraded = curIdx !== 0;
  const notes: string[] = [];

  // ---- choose the variant
  let targetIdx = 0;
  let gpuForced = false;
  let allowed = 0;
  let cutoffShare: number | undefined;
  if (eco && degradedIdx.length > 0 && budget && budget.fraction > 0) {
    const restWeight = (slots: Slot[]) => slots.reduce((a, s) => a + s.weight, 0);
    // The degraded candidate: the eligible variant with the lowest emissions now.
    let candIdx = -1;
    let candRate = Infinity;
    const fullSize = size(full, sloFor(relaxed), planRps);
    const I = intensity ?? 0;
    const fullRate = emissionsRateGPerHour(full, fullSize.replicas, planRps, input.pue, I, input.embodiedGPerGpuHour);
    for (const i of degradedIdx) {
      const v = variants[i]!;
      const s = size(v, sloFor(relaxed), planRps);
      const r = emissionsRateGPerHour(v, s.replicas, planRps, input.pue, I, input.embodiedGPerGpuHour);
      if (r < candRate) {
        candRate = r;
        candIdx = i;
      }
    }
    const slots = noSignal || candIdx < 0 ? [] : futureSlots(input, now, windowEnd, forecast, variants[candIdx]!);
    const safety = policy.budgetDemandSafety ?? DEFAULT_BUDGET_DEMAND_SAFETY;
    const rest = slots.length > 0 ? restWeight(slots) : restDemand(input, now, windowEnd);
    allowed = budget.fraction * (servedTotal + w0 + safety * rest) - servedDegraded;
    const fitsBudget = allowed >= w0;
    if (!fitsBudget) flags.budgetExhausted = true;

    if (noSignal) {
      const fb =
        policy.fallbackVariant === undefined ? 0 : variants.findIndex((v) => v.name === policy.fallbackVariant);
      targetIdx = fb > 0 && degradedIdx.includes(fb) && fitsBudget ? fb : 0;
      notes.push('no carbon signal: running the fallback variant');
    } else if (fullSize.gpuLimited && fitsBudget) {
      // Scarcity: the full model cannot be scheduled for this demand. A smaller one serves more per GPU, so the
      // floor and budget permitting, serving everyone slightly degraded beats missing the SLO.
      const fitting = degradedIdx.find((i) => !size(variants[i]!, sloFor(relaxed), planRps).gpuLimited);
      if (fitting !== undefined) {
        targetIdx = fitting;
        gpuForced = true;
        notes.push('not enough GPUs for the full variant at this demand');
      }
    } else if (fitsBudget && candIdx > 0 && candRate < fullRate) {
      const s0 = savingPerRps(input, full, variants[candIdx]!, planRps, I);
      // Dead band: entering needs the hour to beat the cut-off by `hyst`; staying needs it within `hyst` below.
      const x = curIsDegraded ? s0 * (1 + hyst) : s0 / (1 + hyst);
      let ahead = 0;
      for (const s of slots) if (s.score > x) ahead += s.weight;
      let degrade = ahead + w0 <= allowed;
      // Say why a high-carbon hour keeps the full variant, so the reason is not a puzzle to the service's owner.
      if (!degrade && highCarbon) {
        notes.push('the budget left in this window is kept for hours ahead that save as much or more');
      }
      if (degrade && !curIsDegraded) {
        // A swap in and out costs model loads: only enter when the hours we must stay (dwell) repay them.
        const stayH = Math.max(policy.minDwellMs, policy.intervalMs) / MS_PER_HOUR;
        const switchG = 2 * switchEmissionsG(policy.switchCostJoules, fullSize.replicas, input.pue, I);
        if ((fullRate - candRate) * stayH <= switchG) {
          degrade = false;
          notes.push('a swap would not repay its model loads within the minimum dwell');
        }
        // Enter only if the budget can pay for the whole dwell (within this window), so the budget never has to
        // cut a dwell short.
        const dwellEnd = Math.min(now + Math.max(policy.minDwellMs, policy.intervalMs), windowEnd);
        if (degrade && allowed < dwellDemand(input, now, dwellEnd, planRps)) {
          degrade = false;
          notes.push('the budget left in this window cannot pay for the minimum dwell');
        }
      }
      if (degrade) targetIdx = candIdx;
      const total = restWeight(slots) + w0;
      cutoffShare = total > 0 ? (ahead + w0) / total : undefined;
    }
    // Dwell: hold the current variant unless the budget or the floor forbid it.
    if (targetIdx !== curIdx && !canChangeVariant) {
      const mustLeave = curIsDegraded && (!fitsBudget || !degradedIdx.includes(curIdx));
      if (!mustLeave) {
        targetIdx = curIdx;
        notes.push('holding the variant for the minimum dwell time');
      }
    }
  }
  // One step per interval along the eligible variants (full → next smaller eligible → …): a swap costs a rolling
  // restart, so big moves are spread over intervals. Returning to full is one step; GPU scarcity may jump.
  if (eco && !gpuForced && targetIdx !== 0 && targetIdx !== curIdx) {
    const between =
      targetIdx > curIdx
        ? degradedIdx.filter((i) => i > curIdx && i <= targetIdx)
        : degradedIdx.filter((i) => i < curIdx && i >= targetIdx);
    if (between.length > 0) targetIdx = targetIdx > curIdx ? between[0]! : between[between.length - 1]!;
  }
  if (!eco) targetIdx = 0;

  // ---- size the replicas
  const target = variants[targetIdx]!;
  const relaxedUsed = eco && relaxed && !noSignal;
  flags.relaxedLatency = relaxedUsed;
  const sz = size(target, sloFor(relaxedUsed), planRps);
  let replicas = sz.replicas;
  if (targetIdx === curIdx && curReplicas > replicas && state.replicas !== undefined) {
    // Scale-down dead band: do not shed a few replicas on noise; scale-ups are never delayed.
    const keep = Math.min(curReplicas, maxReplicasFor(target), input.replicas.max);
    if (replicas >= keep * (1 - hyst)) replicas = Math.max(replicas, keep);
  }
  flags.gpuLimited = sz.gpuLimited;
  flags.sloAtRisk = sz.gpuLimited || sz.specLimited || !Number.isFinite(sz.wanted);
  if (!Number.isFinite(replicas)) replicas = Math.min(input.replicas.max, maxReplicasFor(target));

  const expectedPowerWatts = servicePowerWatts(target, replicas, predicted);
  const expectedEmissionsGPerHour = noSignal
    ? null
    : emissionsRateGPerHour(target, replicas, predicted, input.pue, intensity, input.embodiedGPerGpuHour);

  // The one "budget used" (budget-books.ts): of the allowance of this window's expected requests.
  const used =
    budget && degradedIdx.length > 0
      ? budgetUsedOf(
          { windowStartMs: windowStart, servedTotal, servedDegraded },
          budget.fraction,
          expectedRequests(
            predicted,
            input.demand.forecast,
            now,
            now + policy.intervalMs,
            windowEnd,
            policy.intervalMs,
          ),
        )
      : undefined;
  const reason = explain({
    input,
    now,
    intensity,
    forecast,
    flags,
    from: cur,
    fromReplicas: curReplicas,
    to: target,
    replicas,
    changed: targetIdx !== curIdx,
    budgetUsedShare: used,
    cutoffShare,
    notes,
    highCarbon,
  });

  return {
    variant: target.name,
    replicas,
    nextEvaluationMs: now + policy.intervalMs,
    reason,
    expectedEmissionsGPerHour,
    expectedPowerWatts,
    degraded: targetIdx !== 0,
    flags,
    ...(used !== undefined ? { budgetUsed: used } : {}),
  };
}

/** Emissions saved per request-hour by serving `rps` with `deg` instead of `full` at an intensity, both sized at
 *  the strict SLO (a ranking score: the same formula for this hour and the forecast ones). */
function savingPerRps(input: DecisionInput, full: VariantProfile, deg: VariantProfile, rps: number, I: number): number {
  if (rps <= 0) return 0;
  const headroom = input.policy.headroom ?? DEFAULT_HEADROOM;
  const sloMs = input.slo.latencyP95Ms;
  const nf = Math.max(replicasNeeded(full, rps, sloMs, headroom), input.replicas.min);
  const nd = Math.max(replicasNeeded(deg, rps, sloMs, headroom), input.replicas.min);
  const ef = emissionsRateGPerHour(full, nf, rps, input.pue, I, input.embodiedGPerGpuHour);
  const ed = emissionsRateGPerHour(deg, nd, rps, input.pue, I, input.embodiedGPerGpuHour);
  return (ef - ed) / rps;
}

/** The intervals after this one up to the end of the budget window, with their demand and saving score. */
function futureSlots(
  input: DecisionInput,
  now: number,
  windowEnd: number,
  forecast: IntensityPoint[],
  deg: VariantProfile,
): Slot[] {
  const out: Slot[] = [];
  const start = now + input.policy.intervalMs;
  const full = input.variants[0]!;
  const demandFc = input.demand.forecast;
  const flat = input.demand.predictedRps ?? input.demand.currentRps;
  for (let i = 0; i < forecast.length; i++) {
    const p = forecast[i]!;
    const next = forecast[i + 1]?.timeMs ?? p.timeMs + (i > 0 ? p.timeMs - forecast[i - 1]!.timeMs : MS_PER_HOUR);
    const a = Math.max(p.timeMs, start);
    const b = Math.min(next, windowEnd);
    if (b <= a) continue;
    let rps = flat;
    if (demandFc && demandFc.length > 0) {
      const d = nearestDemand(demandFc, p.timeMs);
      if (d !== undefined) rps = d;
    }
    if (rps <= 0) continue;
    out.push({ weight: rps * ((b - a) / 1000), score: savingPerRps(input, full, deg, rps, p.valueGPerKWh) });
  }
  return out;
}

/** Requests the dwell from now to `end` will carry if spent degraded: each interval at the larger of this one's
 *  planned rate and the demand forecast for it (later intervals are sized on what this one will have shown). */
function dwellDemand(input: DecisionInput, now: number, end: number, planRps: number): number {
  const fc = input.demand.forecast;
  const step = input.policy.intervalMs;
  let sum = 0;
  for (let a = now; a < end; a += step) {
    const b = Math.min(a + step, end);
    const f = a > now && fc && fc.length > 0 ? (nearestDemand(fc, a) ?? 0) : 0;
    sum += Math.max(planRps, f) * ((b - a) / 1000);
  }
  return sum;
}

/** Requests expected from the end of this interval to the end of the window (no carbon needed). */
function restDemand(input: DecisionInput, now: number, windowEnd: number): number {
  const flat = input.demand.predictedRps ?? input.demand.currentRps;
  const next = now + input.policy.intervalMs;
  return expectedRequests(flat, input.demand.forecast, next, next, windowEnd, input.policy.intervalMs);
}

function nearestDemand(points: { timeMs: number; rps: number }[], t: number): number | undefined {
  // Ascending points (as the caller supplies them): binary search for the neighbours of t.
  let lo = 0;
  let hi = points.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (points[mid]!.timeMs < t) lo = mid + 1;
    else hi = mid;
  }
  let best: number | undefined;
  let bestGap = Infinity;
  for (const k of [lo - 1, lo]) {
    const p = points[k];
    if (!p) continue;
    const g = Math.abs(p.timeMs - t);
    if (g < bestGap) {
      bestGap = g;
      best = p.rps;
    }
  }
  return bestGap <= MS_PER_HOUR ? best : undefined;
}

/** The given forecast (future points only), extended or replaced by the history-based fallback. */
function forecastFor(input: DecisionInput, now: number, flags: DecisionFlags): IntensityPoint[] {
  const given = (input.carbon.forecast ?? []).filter((p) => p.timeMs > now);
  const history = input.carbon.history ?? [];
  const I = input.carbon.nowGPerKWh!;
  const step = MS_PER_HOUR;
  const budget = input.slo.degradationBudget;
  // Look as far as the budget window can reach (a day, or up to a week).
  const horizon = budget ? budgetWindowMs(budget.window) : DAY_MS;
  if (input.carbon.forecastIsFallback) flags.fallbackForecast = true;
  if (given.length === 0) {
    flags.fallbackForecast = true;
    return buildFallbackForecast(history, now, I, horizon, step);
  }
  const last = given[given.length - 1]!;
  if (last.timeMs >= now + horizon - step) return given;
  const ext = buildFallbackForecast(
    history.concat(given),
    last.timeMs,
    last.valueGPerKWh,
    now + horizon - last.timeMs,
    step,
  );
  return given.concat(ext);
}

/** High-carbon hour: at or above the mean of the last 24 h of measurements; with under 12 of them, at or above the
 *  median of a provider forecast for the next 24 h; with neither, not high-carbon (the strict ceiling holds). */
function isHighCarbon(input: DecisionInput, now: number, I: number, forecast: IntensityPoint[]): boolean {
  const history = input.carbon.history ?? [];
  let sum = I;
  let n = 1;
  for (let i = history.length - 1; i >= 0; i--) {
    const p = history[i]!;
    if (p.timeMs >= now) continue;
    if (p.timeMs < now - DAY_MS + 1) break;
    sum += p.valueGPerKWh;
    n++;
  }
  // Relative tolerance: a flat series must count as "at the mean" whatever the summation order.
  if (n >= 12) return I >= (sum / n) * (1 - 1e-9);
  const next = forecast.filter((p) => p.timeMs <= now + DAY_MS).map((p) => p.valueGPerKWh);
  if (next.length === 0) return false;
  next.sort((a, b) => a - b);
  return I >= next[Math.floor(next.length / 2)]!;
}

interface Explain {
  input: DecisionInput;
  now: number;
  intensity: number | undefined;
  forecast: IntensityPoint[];
  flags: DecisionFlags;
  from: VariantProfile;
  fromReplicas: number;
  to: VariantProfile;
  replicas: number;
  changed: boolean;
  budgetUsedShare: number | undefined;
  cutoffShare: number | undefined;
  notes: string[];
  highCarbon: boolean;
}

function explain(e: Explain): string {
  const parts: string[] = [];
  const tierWord = e.input.tier === 'premium' ? 'premium: full variant always' : 'eco';
  if (e.intensity === undefined) parts.push(`no carbon signal (${tierWord})`);
  else {
    let where = '';
    const day = e.forecast.filter((p) => p.timeMs <= e.now + DAY_MS);
    if (day.length > 0) {
      let above = 0;
      for (const p of day) if (p.valueGPerKWh >= e.intensity) above++;
      const pct = Math.round((100 * (above + 1)) / (day.length + 1));
      where = `, in the dirtiest ${pct}% of the next 24 h${e.flags.fallbackForecast ? ' (forecast built from history)' : ''}`;
    }
    parts.push(`grid at ${Math.round(e.intensity)} gCO2/kWh${where} (${tierWord})`);
  }
  const move = e.changed
    ? `switched ${e.from.name} → ${e.to.name}, ${e.fromReplicas}→${e.replicas} replicas`
    : e.fromReplicas !== e.replicas
      ? `${e.to.name}, ${e.fromReplicas}→${e.replicas} replicas`
      : `${e.to.name}, ${e.replicas} replicas unchanged`;
  parts.push(move);
  if (e.flags.relaxedLatency) parts.push('relaxed latency ceiling (high-carbon hour)');
  for (const n of e.notes) parts.push(n);
  if (e.budgetUsedShare !== undefined) {
    const w = e.input.slo.degradationBudget?.window === 'week' ? "this week's" : "today's";
    parts.push(`${Math.round(Math.min(9.99, e.budgetUsedShare) * 100)}% of ${w} degradation budget used`);
  }
  if (e.flags.budgetExhausted) {
    // Budget not all used, but what is left of the window is too short for it: "exhausted" alone reads like a bug.
    const unused = e.budgetUsedShare !== undefined && e.budgetUsedShare < 0.999;
    parts.push(
      unused ? 'budget exhausted (what is left of this window cannot cover this interval)' : 'budget exhausted',
    );
  }
  if (e.flags.gpuLimited) parts.push('GPU-limited: fewer replicas than demand needs');
  else if (e.flags.sloAtRisk) parts.push('SLO at risk: max replicas reached');
  return parts.join('; ');
}
