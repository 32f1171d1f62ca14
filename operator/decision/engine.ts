// The one decision engine: the operator calls engineStep() on every reconcile pass, the simulator once per replayed
// interval, with the same books and the same input assembly, so the policy the results page measures is the policy
// the operator runs (issue 12, ADR 0101). Pure and deterministic: same books + observation → same step; no clock,
// no I/O (the lint block for operator/decision/ enforces it).
//
//   engineStep(books, obs) → { decision, books, input, budgetUsed, budgetLive, demand, replanned }
//
// 1. Book: the requests served from books.bookedUntilMs to obs.now (up to the end of the last measured interval),
//    at the measured rates of obs.demand.history, count against the variant of the standing plan (what was decided
//    to serve) in the window windowStartFor(now). The point of an interval that just ended must be in the history
//    at the first pass of the next interval (it is booked against the plan that served it).
// 2. Plan once per decision interval (boundaries at multiples of policy.intervalMs since the epoch) and carbon
//    reading: a pass inside an interval whose plan stands, under the same ServicePolicy and the same intensity now,
//    returns that plan unchanged (replanned = false), so extra passes (Deployment status changes, pod events,
//    restarts) can never swap, revert or re-swap. A new intensity inside the interval (the hour's reading that
//    arrives after the boundary's pass, a step) plans the interval again, as of its start, once per reading.
// 3. Otherwise assemble the DecisionInput (demand outlook from the history: demand-forecast.ts; state from
//    obs.observed, the variant the workload is SET to run, never the lagging served one) and decide() for the
//    interval's start. The dwell counts from the interval in which the planned variant left the applied one.
//
// The books are plain JSON (numbers, strings, booleans, null): persist them as they are and a restart restores the
// engine exactly. Interfaces below; docs/policy.md ("The engine") has the same contract in prose.
import { bookRequests, budgetUsed, emptyBudget, windowEndFor } from './budget-books.ts';
import { windowStartFor } from './budget-window.ts';
import { decide } from './decide.ts';
import { DecisionInputError } from './decision-input-error.ts';
import type { Unchecked } from './unchecked.ts';
import {
  demandOutlook,
  expectedRequests,
  overForecastShare,
  underForecastShare,
  type DemandOutlook,
} from './demand-forecast.ts';
import type {
  BudgetState,
  Decision,
  DecisionInput,
  DemandPoint,
  IntensityPoint,
  PolicyKnobs,
  Slo,
  Tier,
  VariantProfile,
} from './types.ts';

/** What the owner declared, mapped from the InferenceService spec (units in the names). Treated as immutable:
 *  the engine fingerprints each object once (policyKey), so pass a new object when the spec changes. */
export interface ServicePolicy {
  /** Full variant first. */
  variants: VariantProfile[];
  tier: Tier;
  replicas: { min: number; max: number };
  slo: Slo;
  /** Power usage effectiveness of the site, ≥ 1. */
  pue: number;
  /** Embodied emissions per GPU-hour (SCI "M"), gCO2e. */
  embodiedGPerGpuHour: number;
  policy: PolicyKnobs;
}

/** The decision that stands for one interval, as taken (flags and estimates included). */
export interface StandingPlan extends Decision {
  /** Start of the interval the plan is for, ms since epoch (a multiple of policy.intervalMs). */
  intervalStartMs: number;
  /** Fingerprint of the ServicePolicy it was made under: a different policy replans at once. */
  policyKey: string;
  /** The intensity now it was made with, gCO2eq/kWh (absent: made without a signal): another one replans at once.
   *  Absent from books written before it existed, which therefore replan once. */
  carbonGPerKWh?: number;
}

/** Everything the engine remembers between passes. Plain JSON; restore it exactly after a restart. */
export interface EngineBooks {
  /** The degradation budget's window and its requests so far (all, and served degraded). */
  budget: BudgetState;
  /** Requests are booked up to here, ms since epoch (absent before the first pass). */
  bookedUntilMs?: number;
  /** Start of the interval in which the planned variant last changed away from the applied one (the dwell). */
  lastChangeMs?: number;
  /** The standing plan (absent before the first pass). */
  plan?: StandingPlan;
}

export interface EngineObservation {
  /** The pass's time, ms since epoch (the injected clock). */
  now: number;
  service: ServicePolicy;
  /** What the workload is set to run: the last APPLIED plan as the cluster holds it (Deployment spec, not the
   *  served/ready variant, which lags); in observe mode, the plan the operator would have applied. GPUs
   *  schedulable beyond what the service holds (Infinity for no limit). */
  observed: { variant?: string; replicas?: number; clusterGpuHeadroom: number };
  /** Intensity now (undefined = no signal), gCO2eq/kWh; a provider forecast (future points); measured history
   *  (ascending; CARBON_HISTORY_MS = 8 days for the fallback forecast's profile, at least the last 24 h); whether the
   *  forecast was built from history. */
  carbon: { nowGPerKWh?: number; forecast?: IntensityPoint[]; history: IntensityPoint[]; forecastIsFallback?: boolean };
  /** Measured mean request rates, one point per decision interval (timeMs = the interval's start), ascending, up
   *  to now: the interval that just ended included from the first pass of the next. The points younger than
   *  DEMAND_HISTORY_MS (8 days and an hour) are all the outlook uses (ADR 0102). */
  demand: { history: DemandPoint[] };
}

/** The budget at this pass, exact (for fields; the reason and budgetUsed stay as planned). */
export interface BudgetLive extends BudgetState {
  /** Requests the demand outlook expects from now to the end of the window. */
  expectedRestRequests: number;
  /** budgetUsed() of the live books: moves with every pass. */
  used: number;
}

export interface EngineStep {
  /** The decision in force for this interval (the standing plan's when replanned is false). */
  decision: Decision;
  /** The books to keep for the next pass. */
  books: EngineBooks;
  /** The policy input of this pass, as decide() got it (or would have, on a pass where the plan stands). */
  input: DecisionInput;
  /** The one "budget used" (fraction of the window's allowance) of the standing plan, for status, the reason
   *  text and the audit column alike; 0 without a budget. */
  budgetUsed: number;
  /** The same budget at this pass, exact. */
  budgetLive: BudgetLive;
  /** The demand outlook the input was built from (basis: which rule made it). */
  demand: DemandOutlook;
  /** True when this pass made a new plan; false when the interval's plan stood. */
  replanned: boolean;
}

/** Start of the decision interval holding `t`: intervals are aligned to multiples of `intervalMs` on the epoch. */
export function intervalStartFor(t: number, intervalMs: number): number {
  return Math.floor(t / intervalMs) * intervalMs;
}

// Fingerprints by object: a caller that passes the same ServicePolicy object every pass (the simulator) pays once.
// Memoisation of a pure function; the key is recomputed for a new object even with equal contents.
const keys = new WeakMap<ServicePolicy, string>();

/** A short, stable fingerprint of a ServicePolicy (64-bit FNV-1a over its JSON, hex). */
export function policyKey(service: ServicePolicy): string {
  const known = keys.get(service);
  if (known !== undefined) return known;
  const key = fingerprint(JSON.stringify(service));
  keys.set(service, key);
  return key;
}

function fingerprint(s: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
  }
  return h1.toString(16).padStart(8, '0') + h2.toString(16).padStart(8, '0');
}

/** Books for a service that has none yet (the window holding `now`). */
export function newBooks(now: number, service: ServicePolicy): EngineBooks {
  return { budget: emptyBudget(now, budgetWindowOf(service)) };
}

/** Also runs before any check (newBooks): a service without an slo reads as a daily window. */
function budgetWindowOf(service: Unchecked<ServicePolicy>): 'day' | 'week' {
  return service.slo?.degradationBudget?.window === 'week' ? 'week' : 'day';
}

export function engineStep(books: EngineBooks, obs: EngineObservation): EngineStep {
  checkObservation(books, obs);
  const { now, service } = obs;
  const iv = service.policy.intervalMs;
  const window = budgetWindowOf(service);
  const full = service.variants[0]!;
  const history = obs.demand.history;

  // 1. Book what was served since the last pass, against the standing plan's variant: only up to the end of the
  //    last measured interval, so the books do not depend on when or how often passes happen.
  const last = history[history.length - 1];
  const measuredUntil = Math.min(now, last ? last.timeMs + iv : now);
  const from = books.bookedUntilMs ?? measuredUntil;
  const bookedUntilMs = Math.max(from, measuredUntil);
  const degraded = books.plan !== undefined && books.plan.variant !== full.name;
  let budget = bookRequests(books.budget, window, history, from, bookedUntilMs, degraded);
  // A new window starts empty even before its first interval is measured (what is unbooked of the old one closed).
  if (windowStartFor(now, window) !== budget.windowStartMs) budget = emptyBudget(now, window);

  // 2. The demand outlook and the input, assembled the same way on every pass.
  const start = intervalStartFor(now, iv);
  const windowEnd = windowEndFor(budget.windowStartMs, window);
  const outlook = demandOutlook(history, start, iv, Math.max(windowEnd, start + 86_400_000));
  const input = assembleInput(obs, budget, books.lastChangeMs, outlook);
  const fraction = service.tier === 'eco' ? (service.slo.degradationBudget?.fraction ?? 0) : 0;
  const rest = expectedRequests(outlook.predictedRps, outlook.forecast, now, start + iv, windowEnd, iv);
  const budgetLive: BudgetLive = { ...budget, expectedRestRequests: rest, used: budgetUsed(budget, fraction, rest) };

  const key = policyKey(service);
  const stands =
    books.plan !== undefined &&
    books.plan.intervalStartMs === start &&
    books.plan.policyKey === key &&
    books.plan.carbonGPerKWh === obs.carbon.nowGPerKWh;
  if (stands) {
    const plan = books.plan!;
    return {
      decision: decisionOf(plan),
      books: { ...books, budget, bookedUntilMs },
      input,
      budgetUsed: plan.budgetUsed ?? 0,
      budgetLive,
      demand: outlook,
      replanned: false,
    };
  }

  // 3. Plan this interval, as of its start (so a pass a few seconds late plans exactly as an on-time one).
  const d = decide(input, start);
  const decision: Decision = { ...d, nextEvaluationMs: start + iv };
  const applied = input.state.variant;
  const lastChangeMs = applied !== undefined && d.variant !== applied ? start : books.lastChangeMs;
  const used = d.budgetUsed ?? 0;
  const plan: StandingPlan = { ...decision, intervalStartMs: start, policyKey: key };
  if (obs.carbon.nowGPerKWh !== undefined) plan.carbonGPerKWh = obs.carbon.nowGPerKWh;
  const next: EngineBooks = { budget, bookedUntilMs, plan };
  if (lastChangeMs !== undefined) next.lastChangeMs = lastChangeMs;
  return { decision, books: next, input, budgetUsed: used, budgetLive, demand: outlook, replanned: true };
}

function decisionOf(plan: StandingPlan): Decision {
  const { intervalStartMs: _s, policyKey: _k, carbonGPerKWh: _c, ...d } = plan;
  return { ...d, flags: { ...d.flags } };
}

/** The DecisionInput of a pass. An applied variant the policy no longer lists is treated as none applied. */
function assembleInput(
  obs: EngineObservation,
  budget: BudgetState,
  lastChangeMs: number | undefined,
  outlook: DemandOutlook,
): DecisionInput {
  const s = obs.service;
  const known = obs.observed.variant !== undefined && s.variants.some((v) => v.name === obs.observed.variant);
  const carbon: DecisionInput['carbon'] = { history: obs.carbon.history };
  if (obs.carbon.nowGPerKWh !== undefined) carbon.nowGPerKWh = obs.carbon.nowGPerKWh;
  if (obs.carbon.forecast !== undefined) carbon.forecast = obs.carbon.forecast;
  if (obs.carbon.forecastIsFallback) carbon.forecastIsFallback = true;
  const state: DecisionInput['state'] = { budget };
  if (known) state.variant = obs.observed.variant!;
  if (obs.observed.replicas !== undefined) state.replicas = obs.observed.replicas;
  if (lastChangeMs !== undefined) state.lastChangeMs = lastChangeMs;
  return {
    variants: s.variants,
    tier: s.tier,
    replicas: s.replicas,
    slo: s.slo,
    carbon,
    pue: s.pue,
    embodiedGPerGpuHour: s.embodiedGPerGpuHour,
    policy: s.policy,
    demand: {
      currentRps: outlook.currentRps,
      predictedRps: outlook.predictedRps,
      forecast: outlook.forecast,
      ...(s.tier === 'eco' && s.slo.degradationBudget
        ? {
            overForecastShare: overForecastShare(obs.demand.history, s.policy.intervalMs, outlook.basis),
            underForecastShare: underForecastShare(obs.demand.history, s.policy.intervalMs, outlook.basis),
          }
        : {}),
    },
    state,
    clusterGpuHeadroom: obs.observed.clusterGpuHeadroom,
  };
}

/** What decide() does not check itself: the books, the clock and the demand history. */
function checkObservation(books: Unchecked<EngineBooks> | null, obs: Unchecked<EngineObservation> | null): void {
  if (!obs || typeof obs !== 'object') throw new DecisionInputError('observation', 'must be an object');
  if (!Number.isFinite(obs.now)) throw new DecisionInputError('now', 'must be a finite time in ms');
  if (!obs.service || !obs.service.policy) throw new DecisionInputError('service.policy', 'missing');
  if (!Array.isArray(obs.service.variants) || obs.service.variants.length === 0)
    throw new DecisionInputError('service.variants', 'needs at least one variant (the full one first)');
  // Number() is what `>=` applies to its operand anyway: the comparison is the same, and typed.
  if (!(Number(obs.service.policy.intervalMs) >= 1))
    throw new DecisionInputError('service.policy.intervalMs', 'must be a finite number ≥ 1');
  if (!books || !books.budget) throw new DecisionInputError('books.budget', 'missing');
  if (books.bookedUntilMs !== undefined && !Number.isFinite(books.bookedUntilMs))
    throw new DecisionInputError('books.bookedUntilMs', 'must be a finite time in ms');
  const h = obs.demand?.history;
  if (!Array.isArray(h)) throw new DecisionInputError('demand.history', 'must be an array (empty for none)');
  let prev = -Infinity;
  for (let i = 0; i < h.length; i++) {
    const p = h[i];
    // Number.isFinite is false for every non-number, so the typeof tests reject nothing more; they type the values.
    if (!p || typeof p.timeMs !== 'number' || !Number.isFinite(p.timeMs))
      throw new DecisionInputError(`demand.history[${i}].timeMs`, 'must be a time');
    if (typeof p.rps !== 'number' || !(p.rps >= 0) || !Number.isFinite(p.rps))
      throw new DecisionInputError(`demand.history[${i}].rps`, `must be a finite rate ≥ 0, got ${String(p.rps)}`);
    if (p.timeMs <= prev)
      throw new DecisionInputError(`demand.history[${i}].timeMs`, `not after the point before (${prev} ≥ ${p.timeMs})`);
    prev = p.timeMs;
  }
  if (!obs.carbon || !Array.isArray(obs.carbon.history))
    throw new DecisionInputError('carbon.history', 'must be an array (empty for none)');
}
