// The slots the budget plan (budget-plan.ts) chooses among: from now to the horizon on a grid of `slotMs`, split at
// the budget window's end, each with its expected requests (the demand outlook), its intensity (the carbon view)
// and what degrading it would save. Savings and swap costs use the estimated energy model at the strict SLO for
// both variants, so every slot, now included, is scored by the same formula.
import { meanIntensity } from './carbon-view.ts';
import { expectedRequests } from './demand-forecast.ts';
import { emissionsRateGPerHour, MS_PER_HOUR, switchEmissionsG } from './energy-model.ts';
import { DEFAULT_HEADROOM, replicasNeeded } from './latency-model.ts';
import type { PlanSlot } from './budget-plan.ts';
import type { DecisionInput, IntensityPoint, VariantProfile } from './types.ts';

/** At most this many slots in a plan: the grid coarsens for short intervals or long windows. */
export const MAX_PLAN_SLOTS = 96;
/** At most this many slots per minimum dwell: finer grids cost more and gain nothing measurable. */
export const SLOTS_PER_DWELL = 4;

export interface SlotGrid {
  slotMs: number;
  /** Slots a variant must run before the next swap. */
  dwellSlots: number;
  slots: (PlanSlot & { startMs: number; endMs: number; intensity: number })[];
}

/** A grid of whole intervals: fine enough for the dwell, coarse enough for MAX_PLAN_SLOTS over the horizon. */
export function slotLength(intervalMs: number, minDwellMs: number, horizonMs: number): number {
  const perDwell = Math.ceil(Math.ceil(minDwellMs / intervalMs - 1e-9) / SLOTS_PER_DWELL);
  const perHorizon = Math.ceil(horizonMs / (MAX_PLAN_SLOTS * intervalMs) - 1e-9);
  return intervalMs * Math.max(1, perDwell, perHorizon);
}

export interface GridInput {
  input: DecisionInput;
  now: number;
  /** The current intensity, gCO2eq/kWh (slot 0). */
  intensity: number;
  forecast: IntensityPoint[];
  full: VariantProfile;
  deg: VariantProfile;
  windowEnd: number;
  horizonEnd: number;
}

export function planGrid(g: GridInput): SlotGrid {
  const { input } = g;
  const iv = input.policy.intervalMs;
  const slotMs = slotLength(iv, input.policy.minDwellMs, g.horizonEnd - g.now);
  const dwellSlots = Math.max(1, Math.ceil(input.policy.minDwellMs / slotMs - 1e-9));
  const predicted = input.demand.predictedRps ?? input.demand.currentRps;
  const slots: SlotGrid['slots'] = [];
  for (let a = g.now; a < g.horizonEnd;) {
    // Split at the window's end: slots after it spend the next window's budget.
    const b = Math.min(a + slotMs, a < g.windowEnd ? g.windowEnd : g.horizonEnd, g.horizonEnd);
    const requests = expectedRequests(predicted, input.demand.forecast, a, g.now + iv, b, iv);
    const I = a === g.now ? g.intensity : meanIntensity(g.forecast, a, b, g.intensity);
    const rps = requests / ((b - a) / 1000);
    const { savingG, switchG } = slotSaving(input, g.full, g.deg, rps, I, (b - a) / MS_PER_HOUR);
    slots.push({ requests, savingG, switchG, startMs: a, endMs: b, intensity: I, nextWindow: a >= g.windowEnd });
    a = b;
  }
  return { slotMs, dwellSlots, slots };
}

/** Emissions saved by serving `rps` with `deg` instead of `full` over `hours`, and a swap's emissions, both sized
 *  at the strict SLO, gCO2e (estimated). */
export function slotSaving(
  input: DecisionInput,
  full: VariantProfile,
  deg: VariantProfile,
  rps: number,
  I: number,
  hours: number,
): { savingG: number; switchG: number } {
  const headroom = input.policy.headroom ?? DEFAULT_HEADROOM;
  const sloMs = input.slo.latencyP95Ms;
  const nf = Math.max(replicasNeeded(full, rps, sloMs, headroom), input.replicas.min);
  const nd = Math.max(replicasNeeded(deg, rps, sloMs, headroom), input.replicas.min);
  if (!Number.isFinite(nf) || !Number.isFinite(nd)) return { savingG: 0, switchG: 0 };
  const ef = emissionsRateGPerHour(full, nf, rps, input.pue, I, input.embodiedGPerGpuHour);
  const ed = emissionsRateGPerHour(deg, nd, rps, input.pue, I, input.embodiedGPerGpuHour);
  return { savingG: (ef - ed) * hours, switchG: switchEmissionsG(input.policy.switchCostJoules, nf, input.pue, I) };
}
