// What a service must remember across operator restarts: the engine's books (budget window and counts, booked-up-
// to time, dwell start, the standing plan), its demand history and the mode it ran in. Pure: the reconciler keeps
// it per service, kube/service-state-store.ts persists it (a ConfigMap per service, docs/adr/0006-controller-state-in-configmaps.md).
//
// Written only when it departs from what a restart would reconstruct (`mustSave`): a restored record is projected
// forward by the same rules the engine follows between passes — requests booked at the last measured rate against
// the standing plan's variant, each interval measured at that rate. So at steady state (same demand, same plan)
// nothing is written, and after a kill -9 the books are what they would have been (to float rounding): the
// budget shown never jumps.
import { bookRequests } from '../decision/budget-books.ts';
import type { EngineBooks, StandingPlan } from '../decision/engine.ts';
import type { BudgetState, DemandPoint } from '../decision/types.ts';
import type { Mode } from '../api/types.ts';
import { compacted, type DemandLedger } from './demand-ledger.ts';

/** 2: demand points as two arrays, times as deltas (version 1, a list of {timeMs, rps}, is still read). */
export const STATE_VERSION = 2;

export interface ServiceState {
  books: EngineBooks;
  demand: DemandLedger;
  mode: Mode;
}

export interface SavedState extends ServiceState {
  savedAtMs: number;
}

/** A float equal within a relative 1e-9 (sums booked in other pieces differ in the last digits). */
function near(a: number, b: number): boolean {
  return a === b || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
}

function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return near(a, b);
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => sameValue(x, b[i]));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
    const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return a === b;
}

/** The plan without what advances by itself every interval: its interval and the reading it was made with, and the
 *  figures a replan words anew (reason, budget used, expected emissions and power) while it keeps the same
 *  decision. A restart from an older plan replans the interval from the same books and history, so it decides the
 *  same. */
function planContent(p: StandingPlan | undefined): unknown {
  if (!p) return undefined;
  const {
    intervalStartMs: _s,
    carbonGPerKWh: _c,
    nextEvaluationMs: _n,
    reason: _r,
    budgetUsed: _b,
    expectedEmissionsGPerHour: _e,
    expectedPowerWatts: _w,
    ...rest
  } = p;
  return rest;
}

/** The saved demand history extended to `closedUntilMs` at its last rate (what a restart assumes). */
function heldDemand(saved: DemandLedger, closedUntilMs: number | undefined): DemandPoint[] {
  const pts = saved.points.slice();
  const last = pts[pts.length - 1];
  if (!last || saved.closedUntilMs === undefined || closedUntilMs === undefined) return pts;
  for (let t = saved.closedUntilMs; t < closedUntilMs; t += saved.intervalMs) pts.push({ timeMs: t, rps: last.rps });
  return pts;
}

/** The saved budget booked forward to `untilMs` at the saved rates against the saved plan's variant. */
function heldBudget(saved: SavedState, fullVariant: string, window: 'day' | 'week', untilMs: number): BudgetState {
  const from = saved.books.bookedUntilMs ?? untilMs;
  const degraded = saved.books.plan !== undefined && saved.books.plan.variant !== fullVariant;
  return bookRequests(saved.books.budget, window, saved.demand.points, from, untilMs, degraded);
}

/**
 * True when `cur` holds something a restart from `saved` would not reconstruct: another plan, dwell, mode,
 * window or interval length, a measured rate other than the last one, or budget counts the held rate does not
 * explain.
 */
export function mustSave(
  saved: SavedState | undefined,
  cur: ServiceState,
  fullVariant: string,
  window: 'day' | 'week',
  now: number,
): boolean {
  if (!saved) return true;
  if (saved.mode !== cur.mode || saved.demand.intervalMs !== cur.demand.intervalMs) return true;
  if (saved.books.lastChangeMs !== cur.books.lastChangeMs) return true;
  if (!sameValue(planContent(saved.books.plan), planContent(cur.books.plan))) return true;
  const held = compacted({ ...cur.demand, points: heldDemand(saved.demand, cur.demand.closedUntilMs) }, now);
  if (!sameValue(held.points, compacted(cur.demand, now).points)) return true;
  const budget = heldBudget(saved, fullVariant, window, cur.books.bookedUntilMs ?? now);
  return !sameValue(budget, cur.books.budget);
}

/** The record as a restart resumes from it: the books as saved (the engine books the gap itself). */
export function restoreState(saved: SavedState): ServiceState {
  return { books: saved.books, demand: saved.demand, mode: saved.mode };
}

/**
 * JSON for the store. Numbers are written as JavaScript prints them (shortest round trip: exact). The demand
 * history goes as `times` (the first a time, then differences) and `rps`: a week of {timeMs, rps} objects was
 * most of the record (10 of 12 KB, held in the ConfigMap cache of every replica), as arrays it is about a third.
 * Differences of integer ms are exact; a history with other times keeps the list form.
 */
export function encodeState(s: ServiceState, savedAtMs: number): string {
  const { points, ...ledger } = s.demand;
  const demand = points.every((p) => Number.isSafeInteger(p.timeMs))
    ? {
        ...ledger,
        times: points.map((p, i) => (i === 0 ? p.timeMs : p.timeMs - points[i - 1]!.timeMs)),
        rps: points.map((p) => p.rps),
      }
    : s.demand;
  return JSON.stringify({ version: STATE_VERSION, savedAtMs, mode: s.mode, books: s.books, demand });
}

/** The demand points of a stored record: version 1's list, or version 2's arrays; a string names what is wrong. */
function storedPoints(d: Record<string, unknown>): DemandPoint[] | string {
  if (Array.isArray(d.points)) return d.points as DemandPoint[];
  const { times, rps } = d;
  if (!Array.isArray(times) || !Array.isArray(rps) || times.length !== rps.length)
    return 'state.json: demand.times/rps missing or of different lengths';
  const points: DemandPoint[] = [];
  let t = 0;
  for (let i = 0; i < times.length; i++) {
    const dt = times[i];
    if (!isNum(dt) || (i > 0 && !(dt > 0)))
      return `state.json: demand.times[${i}] is not ${i ? 'a step > 0' : 'a time'}`;
    t = i === 0 ? dt : t + dt;
    points.push({ timeMs: t, rps: rps[i] as number });
  }
  return points;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Parses a stored record; anything that does not hold together is an error naming the field (never used). */
export function decodeState(text: string): { state?: SavedState; error?: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { error: `state.json: not JSON (${(e as Error).message})` };
  }
  if (!isObj(raw)) return { error: 'state.json: not an object' };
  if (raw.version !== STATE_VERSION && raw.version !== 1)
    return { error: `state.json: version ${String(raw.version)}, expected ${STATE_VERSION} (or 1)` };
  if (!isNum(raw.savedAtMs)) return { error: 'state.json: savedAtMs is not a time' };
  if (raw.mode !== 'active' && raw.mode !== 'observe') return { error: `state.json: mode ${String(raw.mode)}` };
  const books = raw.books;
  if (!isObj(books) || !isObj(books.budget)) return { error: 'state.json: books.budget missing' };
  const b = books.budget;
  for (const f of ['windowStartMs', 'servedTotal', 'servedDegraded'] as const)
    if (!isNum(b[f]) || (f !== 'windowStartMs' && b[f] < 0))
      return { error: `state.json: books.budget.${f} is not a number ≥ 0` };
  for (const f of ['bookedUntilMs', 'lastChangeMs'] as const)
    if (books[f] !== undefined && !isNum(books[f])) return { error: `state.json: books.${f} is not a time` };
  if (
    books.plan !== undefined &&
    (!isObj(books.plan) || typeof books.plan.variant !== 'string' || !isNum(books.plan.replicas))
  )
    return { error: 'state.json: books.plan has no variant/replicas' };
  const d = raw.demand;
  if (!isObj(d) || !isNum(d.intervalMs) || !(d.intervalMs > 0) || (raw.version === 1 && !Array.isArray(d.points)))
    return { error: 'state.json: demand.intervalMs/points missing' };
  const points = storedPoints(d);
  if (typeof points === 'string') return { error: points };
  let prev = -Infinity;
  for (const [i, p] of points.entries()) {
    if (!isObj(p) || !isNum(p.timeMs) || !isNum(p.rps) || p.rps < 0 || p.timeMs <= prev)
      return {
        error: Array.isArray(d.points)
          ? `state.json: demand.points[${i}] is not an ascending {timeMs, rps ≥ 0}`
          : `state.json: demand.rps[${i}] is not a rate ≥ 0 (or demand.times[${i}] not after the one before)`,
      };
    prev = p.timeMs;
  }
  if (d.closedUntilMs !== undefined && !isNum(d.closedUntilMs))
    return { error: 'state.json: demand.closedUntilMs is not a time' };
  const { times: _t, rps: _r, ...ledger } = d;
  return { state: { ...(raw as unknown as SavedState), demand: { ...(ledger as unknown as DemandLedger), points } } };
}
