// Eco's variant choice: which eligible variant, and whether to degrade now, by the budget plan (budget-plan.ts)
// over the rest of the window and a day ahead. Also: no signal (the fallback variant), GPU scarcity (a smaller
// variant that fits), the budget allowance and the dwell hold. The notes it returns are the reason's words.
import { planBudget } from './budget-plan.ts';
import type { CarbonLevel } from './carbon-view.ts';
import { expectedRequests } from './demand-forecast.ts';
import { planGrid, type SlotGrid } from './plan-slots.ts';
import type { DecisionFlags, DecisionInput, IntensityPoint, VariantProfile } from './types.ts';

export const DEFAULT_BUDGET_DEMAND_SAFETY = 0.8;

/** The reason notes of a decision the minimum dwell held (the soak's fault 6 counts them in status reasons). */
export const DwellNote = {
  held: 'holding the variant for the minimum dwell time',
  within: 'within the minimum dwell since the last swap',
} as const;

export interface EcoContext {
  input: DecisionInput;
  now: number;
  /** Index of the variant the workload is set to run. */
  curIdx: number;
  /** Eligible degraded variants (quality ≥ floor), by index. */
  degradedIdx: number[];
  intensity: number | undefined;
  forecast: IntensityPoint[];
  /** Now is a high-carbon hour (at or above the last day's mean). */
  highCarbon: boolean;
  /** Now against the high-carbon line (carbon-view.ts carbonLevel; `highCarbon` is its `high`): the reason's words
   *  when budget is spent in an hour below it. */
  level?: CarbonLevel;
  window: { startMs: number; endMs: number; servedTotal: number; servedDegraded: number };
  canChangeVariant: boolean;
  /** The expected request rate for this interval, requests/s. */
  predictedRps: number;
  flags: DecisionFlags;
  notes: string[];
  /** Emissions rate of `v` sized for the plan at the SLO in force now, gCO2e/h (estimated); gpuLimited flag. */
  rate: (v: VariantProfile) => { gPerHour: number; gpuLimited: boolean };
}

export interface EcoChoice {
  targetIdx: number;
  /** GPU scarcity chose the variant (it may skip steps along the list). */
  gpuForced: boolean;
  /** The slots and, when a plan was solved, its schedule: for the reason text. */
  plan?: { grid: SlotGrid; degraded?: boolean[] };
}

/**
 * A new service: the demand history is too short to measure how far the outlook misses (both shares are 1, their
 * "unmeasured"), so no expected request, neither the rest of the window nor this interval's own, can be counted.
 * The budget is then what the window has already earned — the fraction of the requests served so far — and a
 * degraded interval spends its expected requests with no margin: degrading never runs ahead of what was served, so
 * the window cannot overrun short of a burst above 1/(1 − fraction) of the outlook in its last interval (ADR 0102).
 * Once a day of history measures the margins, the forecast-based allowance takes over.
 */
export function earnedOnly(input: DecisionInput): boolean {
  const d = input.demand;
  return input.policy.budgetDemandSafety === undefined && d.overForecastShare === 1 && d.underForecastShare === 1;
}

/** Requests the window may still serve degraded, counting the rest of the window's forecast at `safety`. */
function allowance(c: EcoContext, fraction: number, restRequests: number, w0: number): number {
  if (earnedOnly(c.input)) return fraction * c.window.servedTotal - c.window.servedDegraded;
  const p = c.input.policy;
  const safety =
    p.budgetDemandSafety ??
    (c.input.demand.overForecastShare !== undefined
      ? 1 - c.input.demand.overForecastShare
      : DEFAULT_BUDGET_DEMAND_SAFETY);
  return fraction * (c.window.servedTotal + w0 + safety * restRequests) - c.window.servedDegraded;
}

export function ecoChoice(c: EcoContext): EcoChoice {
  const { input, degradedIdx } = c;
  const budget = input.slo.degradationBudget;
  if (degradedIdx.length === 0 || !budget || !(budget.fraction > 0)) return { targetIdx: 0, gpuForced: false };
  const variants = input.variants;
  const full = variants[0]!;
  // The degraded candidate: the eligible variant with the lowest emissions now.
  let candIdx = degradedIdx[0]!;
  for (const i of degradedIdx) if (c.rate(variants[i]!).gPerHour < c.rate(variants[candIdx]!).gPerHour) candIdx = i;
  const iv = input.policy.intervalMs;
  const w0 = c.predictedRps * (iv / 1000);
  const grid =
    c.intensity === undefined
      ? undefined
      : planGrid({
          input,
          now: c.now,
          intensity: c.intensity,
          forecast: c.forecast,
          full,
          deg: variants[candIdx]!,
          windowEnd: c.window.endMs,
          // Past the window's end only as far as a dwell begun in it can reach (the one thing coupling two windows).
          horizonEnd: c.window.endMs + Math.max(input.policy.minDwellMs, iv),
        });
  const rest = grid
    ? grid.slots.reduce((s, x) => (x.nextWindow ? s : s + x.requests), 0) - grid.slots[0]!.requests
    : restRequestsFlat(c);
  // The budget is judged on the expected requests (the outlook), the same numbers the plan uses; the margin for a
  // quieter day than forecast is the measured over-forecast (allowance()).
  const allowed = allowance(c, budget.fraction, Math.max(0, rest), w0);
  // A degraded interval spends its expected requests plus the measured under-forecast (a burst while degraded).
  const earned = earnedOnly(input);
  const spend = earned ? 1 : 1 + (input.demand.underForecastShare ?? 0);
  const fits = allowed >= w0 * spend;
  if (!fits) c.flags.budgetExhausted = true;
  if (earned) c.notes.push('new service: the budget is the share of the requests served so far in this window');

  let out: EcoChoice = { targetIdx: 0, gpuForced: false };
  if (c.intensity === undefined) {
    const fb = input.policy.fallbackVariant;
    const i = fb === undefined ? 0 : variants.findIndex((v) => v.name === fb);
    out.targetIdx = i > 0 && degradedIdx.includes(i) && fits ? i : 0;
    c.notes.push('no carbon signal: running the fallback variant');
  } else if (c.rate(full).gpuLimited && fits) {
    // Scarcity: the full model cannot be scheduled for this demand. A smaller one serves more per GPU, so the
    // floor and budget permitting, serving everyone slightly degraded beats missing the SLO.
    const fitting = degradedIdx.find((i) => !c.rate(variants[i]!).gpuLimited);
    if (fitting !== undefined) {
      out = { targetIdx: fitting, gpuForced: true };
      c.notes.push('not enough GPUs for the full variant at this demand');
    }
  } else if (grid && c.rate(variants[candIdx]!).gPerHour < c.rate(full).gPerHour) {
    out = planChoice(c, grid, candIdx, allowed, fits, budget.fraction, spend);
  }
  // Dwell: hold the current variant unless the budget or the floor forbid it.
  if (out.targetIdx !== c.curIdx && !c.canChangeVariant) {
    const mustLeave = c.curIdx !== 0 && (!fits || !degradedIdx.includes(c.curIdx));
    if (!mustLeave) {
      out.targetIdx = c.curIdx;
      c.notes.push(DwellNote.held);
    }
  }
  return out;
}

/** Degrade now iff the budget plan does; say why not when the hour is high-carbon. */
function planChoice(
  c: EcoContext,
  grid: SlotGrid,
  candIdx: number,
  allowed: number,
  fits: boolean,
  fraction: number,
  spend: number,
): EcoChoice {
  const cur = c.curIdx !== 0;
  // No budget for this interval: nothing to plan (a degraded variant is left; the dwell hold knows it must).
  if (!fits) return { targetIdx: 0, gpuForced: false, plan: { grid } };
  // Inside the dwell there is nothing to choose: the variant stays (the dwell hold below says so).
  if (!c.canChangeVariant) {
    if (cur || c.highCarbon) c.notes.push(DwellNote.within);
    return { targetIdx: c.curIdx, gpuForced: false, plan: { grid } };
  }
  const { lastChangeMs } = c.input.state;
  const age = lastChangeMs === undefined ? grid.dwellSlots : Math.floor((c.now - lastChangeMs) / grid.slotMs + 1e-9);
  const nextRequests = grid.slots.reduce((s, x) => (x.nextWindow ? s + x.requests : s), 0);
  const slots = spend === 1 ? grid.slots : grid.slots.map((x) => ({ ...x, requests: x.requests * spend }));
  const plan = planBudget(
    slots,
    { degraded: cur, age },
    {
      dwellSlots: grid.dwellSlots,
      capacity: allowed,
      nextCapacity: fraction * nextRequests,
      hysteresis: c.input.policy.hysteresis,
    },
  );
  let degrade = plan.degraded[0] === true;
  if (degrade && !cur && allowed < dwellRequests(c, grid) * spend) {
    // Enter only if the budget can pay for the whole dwell (within this window), so it never cuts a dwell short.
    degrade = false;
    c.notes.push('the budget left in this window cannot pay for the minimum dwell');
  }
  if (!degrade && c.highCarbon) c.notes.push(whyNotNow(c, grid, plan.degraded, allowed / spend));
  // Known limitation (docs/policy.md): the plan may spend budget it cannot place in a dirtier hour before the window
  // ends in an hour below the high-carbon line. Say so rather than let the reason read like a dirty-hour swap.
  if (degrade && !c.highCarbon && c.level) c.notes.push(belowLineWords(c.level, c.intensity!, c.window.endMs));
  return { targetIdx: degrade ? candIdx : 0, gpuForced: false, plan: { grid, degraded: plan.degraded } };
}

/** "not a high-carbon hour: 210 gCO2eq/kWh, below the last 24 h mean of 312; spending budget left that the plan
 *  cannot place in a dirtier hour before this window ends at 00:00 UTC". */
export function belowLineWords(level: CarbonLevel, intensity: number, windowEndMs: number): string {
  const I = Math.round(intensity);
  const ref = Math.round(level.reference ?? NaN);
  const line =
    level.basis === 'mean'
      ? `below the last 24 h mean of ${ref}`
      : level.basis === 'median'
        ? `below the median of the next 24 h forecast, ${ref}`
        : 'with under 12 h of measurements and no provider forecast to compare with';
  const end = new Date(windowEndMs).toISOString();
  const at = end.endsWith('T00:00:00.000Z')
    ? `${end.slice(0, 10)} 00:00 UTC`
    : `${end.slice(0, 16).replace('T', ' ')} UTC`;
  return (
    `not a high-carbon hour: ${I} gCO2eq/kWh, ${line}; spending budget left that the plan cannot place in a ` +
    `dirtier hour before this window ends (${at})`
  );
}

/** Requests the minimum dwell from now is expected to carry within this window (the plan's slots); a dwell that
 *  runs past the window's end is paid by the next window. */
function dwellRequests(c: EcoContext, grid: SlotGrid): number {
  const iv = c.input.policy.intervalMs;
  const end = Math.min(c.now + Math.max(c.input.policy.minDwellMs, iv), c.window.endMs);
  let sum = c.predictedRps * (Math.min(iv, end - c.now) / 1000);
  for (const s of grid.slots) {
    const a = Math.max(s.startMs, c.now + iv);
    const b = Math.min(s.endMs, end);
    if (b > a) sum += s.requests * ((b - a) / (s.endMs - s.startMs));
  }
  return sum;
}

/** In words, why a high-carbon hour keeps the full variant although budget is left. */
function whyNotNow(c: EcoContext, grid: SlotGrid, degraded: boolean[], allowed: number): string {
  const later = grid.slots.findIndex((s, k) => k > 0 && !s.nextWindow && degraded[k]);
  if (later > 0) {
    let end = later;
    while (end + 1 < grid.slots.length && degraded[end + 1] && !grid.slots[end + 1]!.nextWindow) end++;
    const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
    return (
      `the budget left in this window is planned for ${hhmm(grid.slots[later]!.startMs)}–` +
      `${hhmm(grid.slots[end]!.endMs)} UTC: spent there, within the dwell and the budget, it saves more in all`
    );
  }
  if (!c.canChangeVariant) return 'the minimum dwell since the last swap has not passed';
  if (allowed < dwellRequests(c, grid)) return 'the budget left in this window cannot pay for the minimum dwell';
  return 'a swap would not repay its model loads in the hours the budget can pay for';
}

/** Without a carbon signal there is no plan: the rest of the window at the demand outlook. */
function restRequestsFlat(c: EcoContext): number {
  const next = c.now + c.input.policy.intervalMs;
  return expectedRequests(
    c.predictedRps,
    c.input.demand.forecast,
    next,
    next,
    c.window.endMs,
    c.input.policy.intervalMs,
  );
}
