// Where to spend the rest of the window's degradation budget: the oracle's own programme, solved online on the
// forecast and re-solved every interval (model-predictive control; ADR 0103). Slots run from now to the end of the
// horizon; each has the requests it is expected to carry, what serving them degraded would save and what a swap
// at its start would cost. The programme picks, per slot, the full or the degraded variant to maximise the saving
// net of swaps, under the rules the operator lives by: a swap only after the minimum dwell (so a degraded run is
// only entered when the budget can pay for its dwell), and at most the window's capacity of requests degraded. Slots past the
// window's end spend the next window's budget. Only the choice for slot 0 (now) is acted on; the rest explains it.
//
// Exact dynamic programme over (variant, slots since the last swap capped at the dwell, budget units used).
// Budget units are 1/BUDGET_UNITS of a window's capacity, every slot rounded to the nearest unit (an unbiased plan:
// it is re-solved every interval). Now is rounded like the rest: rounding it up made now dearer than an equal later
// slot, so a tight budget deferred an entry, or left a degraded run to re-enter later, for one unit of rounding. Now
// still truly fits: a slot 0 of more requests than the capacity never fits (nowUnaffordable), and the caller checks
// its real requests against the budget before it degrades. Cost: slots × 2 × dwell × 121 states, about 0.1 ms for a day of hourly slots.

export const BUDGET_UNITS = 120;
/** A cost no saving outweighs: a plan only leaves a degraded run inside its dwell when nothing else is feasible. */
const FORCED_EXIT_PENALTY_G = 1e15;

export interface PlanSlot {
  /** Requests the slot is expected to carry. */
  requests: number;
  /** Emissions saved by serving the slot degraded instead of full, gCO2e (estimated; may be ≤ 0). */
  savingG: number;
  /** Emissions of a swap at the start of the slot (either way), gCO2e (estimated). */
  switchG: number;
  /** The slot lies in the next budget window: it spends that window's capacity. */
  nextWindow?: boolean;
}

export interface PlanStart {
  /** The workload is set to run the degraded variant. */
  degraded: boolean;
  /** Whole slots since the last swap (≥ the dwell: a swap is allowed now). */
  age: number;
}

export interface PlanOptions {
  /** Whole slots a variant must run before the next swap (≥ 1). */
  dwellSlots: number;
  /** Requests that may still be served degraded in this window (≤ 0: none). */
  capacity: number;
  /** The same for the next window's slots. */
  nextCapacity?: number;
  /** Hysteresis (policy.hysteresis): every swap of the plan is charged this share of one dwell's saving at now's
   *  rate on top of its emissions, so a swap must promise that much more than the plan that does not make it. */
  hysteresis?: number;
}

export interface BudgetPlan {
  /** The schedule from now: true = degraded in that slot. */
  degraded: boolean[];
  /** Slot 0 cannot be served degraded within the capacity. */
  nowUnaffordable: boolean;
}

/** Budget units per slot (U units = a window's capacity): slot 0 rounded up, later ones to the nearest unit;
 *  U + 1 (never fits) when there is no capacity. */
function unitsPerSlot(slots: readonly PlanSlot[], o: PlanOptions, U: number): Int32Array {
  const never = U + 1;
  const unit = o.capacity > 0 ? o.capacity / U : Infinity;
  const unit2 = (o.nextCapacity ?? 0) > 0 ? o.nextCapacity! / U : Infinity;
  const w = new Int32Array(slots.length);
  for (let k = 0; k < slots.length; k++) {
    const q = slots[k]!.requests;
    // No capacity: a slot with any request cannot be degraded (an empty slot costs nothing).
    const r = q > 0 ? q / (slots[k]!.nextWindow ? unit2 : unit) : 0;
    w[k] = !Number.isFinite(r) ? never : Math.round(r);
  }
  return w;
}

// Working arrays reused from call to call (a plan runs every interval for every eco service; allocating them each
// time was a tenth of its cost). Nothing survives a call: every cell read is written first in the same call.
const scratch = {
  size: 0,
  v: [new Float64Array(0), new Float64Array(0)],
  c: new Uint8Array(0),
  /** Two value arrays of exactly `n` cells (exact length keeps V8's typed-array loops on the fast path). */
  values(n: number): Float64Array[] {
    if (this.size !== n) {
      this.v = [new Float64Array(n), new Float64Array(n)];
      this.size = n;
    }
    return this.v;
  },
  choices(n: number): Uint8Array {
    if (this.c.length < n) this.c = new Uint8Array(n * 2);
    return this.c;
  },
};

export function planBudget(slots: readonly PlanSlot[], start: PlanStart, o: PlanOptions): BudgetPlan {
  const n = slots.length;
  if (n === 0) return { degraded: [], nowUnaffordable: false };
  const D = Math.max(1, Math.floor(o.dwellSlots));
  const U = BUDGET_UNITS;
  const B = U + 1;
  const w = unitsPerSlot(slots, o, U);
  const nowUnaffordable = !(o.capacity > 0) || slots[0]!.requests > o.capacity;
  if (nowUnaffordable) w[0] = B;
  const S = 2 * D * B;
  // Backward over the slots after now. value[state] = best net saving from slot k on; choice[k·S + state] = the
  // variant of slot k (0 full, 1 degraded), for state = (variant before slot k, its age, budget units used before).
  let [next, cur] = scratch.values(S) as [Float64Array, Float64Array];
  const choice = scratch.choices(n * S);
  // The dead band (policy.hysteresis × one dwell's saving at now's rate: a swap commits to at least a dwell) is
  // charged on every swap of the plan, now or later, entry or exit. Charged on a swap now only, it favoured every
  // plan that makes the same swap a little later, and re-solved each interval that deferral never ended.
  const band = Math.max(0, o.hysteresis ?? 0) * D * Math.abs(slots[0]!.savingG);
  // Past the horizon a degraded run still has to swap back: ending degraded is charged that swap, or a run placed
  // at the horizon's end would look cheaper by an exit it only postpones.
  next.fill(0);
  next.fill(-(slots[n - 1]!.switchG + band), D * B);
  for (let k = n - 1; k >= 1; k--) {
    const { savingG, switchG } = slots[k]!;
    stepSlot(next, cur, choice, k * S, savingG, switchG + band, w[k]!, D, B);
    // Going back across the window's end: the next window starts with its budget untouched.
    if (slots[k]!.nextWindow && !slots[k - 1]!.nextWindow) resetBudget(cur, D, B);
    const t = next;
    next = cur;
    cur = t;
  }
  // Now (slot 0), from the start state only.
  const v0 = start.degraded ? 1 : 0;
  const a0 = Math.min(D, Math.max(1, Math.floor(start.age)));
  const c0 = slotZero(next, { ...slots[0]!, switchG: slots[0]!.switchG + band }, w[0]!, v0, a0, D, B, band);
  choice[(v0 * D + (a0 - 1)) * B] = c0;
  return { degraded: replay(slots, w, choice, start, D, B), nowUnaffordable };
}

/**
 * One slot of the backward programme: `cur` (values from this slot on) from `next` (from the next slot on), and the
 * choice per state. State layout: ((variant · D) + age − 1) · B + budget units used. Written as two tight loops
 * (full, degraded) over the budget axis, split where the slot stops fitting, because this runs ~10⁴ times per
 * decision.
 */
function stepSlot(
  next: Float64Array,
  cur: Float64Array,
  choice: Uint8Array,
  off: number,
  savingG: number,
  switchG: number,
  wk: number,
  D: number,
  B: number,
): void {
  const fitEnd = Math.max(0, Math.min(B, B - wk)); // b < fitEnd: the slot fits in the budget left
  const deg1 = D * B; // (degraded, age 1); (full, age 1) is at 0
  for (let a = 1; a <= D; a++) {
    const aStay = a < D ? a + 1 : D;
    // Full before this slot: stay full, or (after the dwell) swap to degraded where the slot fits.
    const i0 = (a - 1) * B;
    const stay0 = (aStay - 1) * B;
    let b = 0;
    if (a >= D)
      for (; b < fitEnd; b++) {
        const full = next[stay0 + b]!;
        const deg = savingG - switchG + next[deg1 + b + wk]!;
        const take = deg > full;
        cur[i0 + b] = take ? deg : full;
        choice[off + i0 + b] = take ? 1 : 0;
      }
    for (; b < B; b++) {
      cur[i0 + b] = next[stay0 + b]!;
      choice[off + i0 + b] = 0;
    }
    // Degraded before this slot: stay degraded where the slot fits, or swap to full: after the dwell, or as a last
    // resort where the budget is out.
    const i1 = (D + a - 1) * B;
    const stay1 = (D + aStay - 1) * B;
    const leave = a >= D ? switchG : switchG + FORCED_EXIT_PENALTY_G;
    for (b = 0; b < fitEnd; b++) {
      const deg = savingG + next[stay1 + b + wk]!;
      const full = a >= D ? next[b]! - switchG : -Infinity;
      const take = deg >= full;
      cur[i1 + b] = take ? deg : full;
      choice[off + i1 + b] = take ? 1 : 0;
    }
    for (; b < B; b++) {
      cur[i1 + b] = next[b]! - leave;
      choice[off + i1 + b] = 0;
    }
  }
}

/** The choice for slot 0 from the start state (no budget used yet), given the values from slot 1 on; `s0.switchG`
 *  includes the band, as every later swap's does. */
function slotZero(
  next: Float64Array,
  s0: PlanSlot,
  w0: number,
  v0: number,
  a0: number,
  D: number,
  B: number,
  band: number,
): number {
  const at = (v: number, a: number, b: number) => next[(v * D + (a - 1)) * B + b]!;
  const aStay = a0 < D ? a0 + 1 : D;
  const canSwap = a0 >= D;
  const fits = w0 < B;
  let full = -Infinity;
  if (v0 === 0) full = at(0, aStay, 0);
  else if (canSwap) full = at(0, 1, 0) - s0.switchG;
  else if (!fits) full = at(0, 1, 0) - s0.switchG - FORCED_EXIT_PENALTY_G;
  let deg = -Infinity;
  if (fits)
    deg = v0 === 1 ? s0.savingG + at(1, aStay, w0) : canSwap ? s0.savingG - s0.switchG + at(1, 1, w0) : -Infinity;
  if (deg === -Infinity) return 0;
  if (full === -Infinity) return 1;
  const tol = tieTolerance(deg, full);
  // Degraded: stay on a tie (the run continues rather than leaving to re-enter slots worth the same later).
  if (v0 === 1) return full > deg + tol ? 0 : 1;
  // Full: `full` may be a plan that enters later in slots worth the same (an hourly forecast on 5-minute intervals
  // gives 12 equal slots an hour, and a later exit lands in a cleaner hour where a swap costs a little less). Holding
  // an entry back spends nothing, so it could be deferred again at every interval; a later entry must promise more
  // than the dead band to be worth the wait, and now wins within it (the earliest of slots worth the same). An entry
  // must still pay for its swaps and their bands (deg > 0 against the plan that never swaps, worth 0).
  return deg > tol && deg >= full - Math.max(band, tol) ? 1 : 0;
}

/** Two plan values this close are equal: they differ only by the rounding of sums taken in another order. */
function tieTolerance(a: number, b: number): number {
  return 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

/** Values at the first slot of the next window do not depend on the budget used in this one. */
function resetBudget(value: Float64Array, D: number, B: number): void {
  for (let v = 0; v < 2; v++)
    for (let a = 1; a <= D; a++) {
      const base = (v * D + (a - 1)) * B;
      const fresh = value[base]!;
      for (let b = 1; b < B; b++) value[base + b] = fresh;
    }
}

/** The chosen schedule, replayed forward from the start state. */
function replay(
  slots: readonly PlanSlot[],
  w: Int32Array,
  choice: Uint8Array,
  start: PlanStart,
  D: number,
  B: number,
): boolean[] {
  const S = 2 * D * B;
  const out = new Array<boolean>(slots.length);
  let v = start.degraded ? 1 : 0;
  let a = Math.min(D, Math.max(1, Math.floor(start.age)));
  let b = 0;
  for (let k = 0; k < slots.length; k++) {
    if (k > 0 && slots[k]!.nextWindow && !slots[k - 1]!.nextWindow) b = 0;
    const c = choice[k * S + (v * D + (a - 1)) * B + b]!;
    out[k] = c === 1;
    if (c === 1) b = Math.min(B - 1, b + w[k]!);
    a = c === v ? Math.min(D, a + 1) : 1;
    v = c;
  }
  return out;
}
