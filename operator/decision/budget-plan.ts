// Where to spend the rest of the window's degradation budget: the oracle's own programme, solved online on the
// forecast and re-solved every interval (model-predictive control; ADR 0103). Slots run from now to the end of the
// horizon; each has the requests it is expected to carry, what serving them degraded would save and what a swap
// at its start would cost. The programme picks, per slot, the full or the degraded variant to maximise the saving
// net of swaps, under the rules the operator lives by: a swap only after the minimum dwell (so a degraded run is
// only entered when the budget can pay for its dwell), and at most the window's capacity of requests degraded. Slots past the
// window's end spend the next window's budget. Only the choice for slot 0 (now) is acted on; the rest explains it.
//
// Exact dynamic programme over (variant, slots since the last swap capped at the dwell, budget units used).
// Budget units are 1/BUDGET_UNITS of a window's capacity; slot 0 is rounded up (it must truly fit), later slots to
// the nearest unit (an unbiased plan: it is re-solved every interval). Cost: slots × 2 × dwell × 121 × 2 steps.

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
  /** Hysteresis: a swap now must beat staying by this share of slot 0's saving (policy.hysteresis). */
  hysteresis?: number;
}

export interface BudgetPlan {
  /** The schedule from now: true = degraded in that slot. */
  degraded: boolean[];
  /** Slot 0 cannot be served degraded within the capacity. */
  nowUnaffordable: boolean;
}

/** Budget units per slot: slot 0 rounded up, later ones to the nearest unit; `never` when it cannot fit at all. */
function unitsPerSlot(slots: readonly PlanSlot[], o: PlanOptions, never: number): Int32Array {
  const unit = o.capacity > 0 ? o.capacity / BUDGET_UNITS : Infinity;
  const unit2 = (o.nextCapacity ?? 0) > 0 ? o.nextCapacity! / BUDGET_UNITS : Infinity;
  const w = new Int32Array(slots.length);
  for (let k = 0; k < slots.length; k++) {
    const q = slots[k]!.requests;
    // No capacity: a slot with any request cannot be degraded (an empty slot costs nothing).
    const r = q > 0 ? q / (slots[k]!.nextWindow ? unit2 : unit) : 0;
    w[k] = !Number.isFinite(r) ? never : k === 0 ? Math.ceil(r - 1e-9) : Math.round(r);
  }
  return w;
}

export function planBudget(slots: readonly PlanSlot[], start: PlanStart, o: PlanOptions): BudgetPlan {
  const n = slots.length;
  if (n === 0) return { degraded: [], nowUnaffordable: false };
  const D = Math.max(1, Math.floor(o.dwellSlots));
  const B = BUDGET_UNITS + 1;
  const w = unitsPerSlot(slots, o, B);
  const nowUnaffordable = !(o.capacity > 0) || slots[0]!.requests > o.capacity;
  if (nowUnaffordable) w[0] = B;
  const S = 2 * D * B;
  const idx = (v: number, a: number, b: number) => (v * D + (a - 1)) * B + b;
  const stick = Math.max(0, o.hysteresis ?? 0) * Math.abs(slots[0]!.savingG);
  // Backward over the slots. value[state] = best net saving from slot k on; choice[k·S + state] = the variant of
  // slot k (0 full, 1 degraded), for state = (variant before slot k, its age, budget units used before slot k).
  let next = new Float64Array(S);
  let cur = new Float64Array(S);
  const choice = new Uint8Array(n * S);
  for (let k = n - 1; k >= 0; k--) {
    const { savingG, switchG } = slots[k]!;
    const wk = w[k]!;
    // Hysteresis at slot 0 only: leaving the variant the workload runs must beat staying by `stick`.
    const bias = k === 0 ? stick : 0;
    for (let v = 0; v < 2; v++)
      for (let a = 1; a <= D; a++) {
        const aStay = a < D ? a + 1 : D;
        const canSwap = a >= D;
        for (let b = 0; b < B; b++) {
          const fits = b + wk < B;
          let full = -Infinity;
          if (v === 0) full = next[idx(0, aStay, b)]!;
          else if (canSwap) full = next[idx(0, 1, b)]! - switchG;
          // Cutting a dwell short because the budget ran out is what the plan must avoid: allowed only as a last
          // resort (the policy leaves a degraded variant the budget cannot pay for), never planned for.
          else if (!fits) full = next[idx(0, 1, b)]! - switchG - FORCED_EXIT_PENALTY_G;
          let deg = -Infinity;
          if (fits) {
            if (v === 1) deg = savingG + next[idx(1, aStay, b + wk)]!;
            else if (canSwap) deg = savingG - switchG + next[idx(1, 1, b + wk)]!;
          }
          const i = idx(v, a, b);
          const takeDeg = v === 1 ? deg + bias >= full : deg > full + bias;
          cur[i] = takeDeg ? deg : full;
          choice[k * S + i] = takeDeg ? 1 : 0;
        }
      }
    // Going back across the window's end: the next window starts with its budget untouched.
    if (k > 0 && slots[k]!.nextWindow && !slots[k - 1]!.nextWindow) resetBudget(cur, D, B);
    const t = next;
    next = cur;
    cur = t;
  }
  return { degraded: replay(slots, w, choice, start, D, B), nowUnaffordable };
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
