// (d) The offline oracle: knowing the whole carbon trace and every window's request count, the schedule of
// variants with the least emissions under the same quality floor, degradation budget, dwell time, switching cost,
// replica sizing and GPU limits as the online policies. Exact dynamic programme over steps with state
//   (variant, steps since the last swap capped at the dwell, budget used in the window)
// Budget use is counted in units of 1/K of the window's allowance, each step's degraded requests rounded DOWN:
// the programme solves a relaxation of the real budget, so its optimum is a lower bound on every feasible
// schedule's emissions ("the bound nobody can beat"); the schedule it returns may exceed the real budget by less
// than one unit per degraded step (reported by the Ledger like any other policy).
// Replicas per (variant, step) are the fewest that hold the SLO at the planned demand (relaxed ceiling in the
// same high-carbon hours as decide(): intensity at or above the trailing 24 h mean), since fewer replicas always
// draw less power.
import { emissionsRateGPerHour, switchEmissionsG } from '../decision/energy-model.ts';
import { windowOfBudget, windowStartFor } from '../decision/budget-window.ts';
import { Ledger } from './ledger.ts';
import { type PolicyRun, type Prepared, sizeFor } from './policies.ts';
import { highCarbonSteps } from './high-carbon.ts';
import type { ServiceSpec } from './sim-types.ts';

export const DEFAULT_ORACLE_UNITS = 600;

export interface OracleResult extends PolicyRun {
  /** The programme's optimum, kgCO2e: a lower bound on any feasible schedule. */
  boundKg: number;
}

/** The programme's data: sizes and per-step tables, shared by the forward pass and the trace back. */
interface Programme {
  T: number;
  V: number;
  D: number;
  K: number;
  B: number;
  S: number;
  cost: Float64Array;
  swCost: Float64Array;
  weight: Int32Array;
  windowStart: Uint8Array;
}

export function runOracle(spec: ServiceSpec, p: Prepared, units = DEFAULT_ORACLE_UNITS): OracleResult {
  const { inp } = p;
  const T = inp.timesMs.length;
  const eco = spec.tier === 'eco';
  const budget = eco ? spec.slo.degradationBudget : undefined;
  const vIdx = [0];
  if (eco && budget && budget.fraction > 0)
    for (let i = 1; i < spec.variants.length; i++) if (spec.variants[i]!.quality >= spec.slo.qualityFloor) vIdx.push(i);
  const V = vIdx.length;
  const D = Math.max(1, Math.ceil(spec.policy.minDwellMs / inp.stepMs - 1e-9));
  const K = V > 1 ? units : 0;
  const high = highCarbonSteps(inp.intensity, p.stepsPerDay, inp.forecast, inp.intensityPreRoll);
  const relaxedMs = eco ? spec.slo.relaxedLatencyP95Ms : undefined;
  const { reps, cost, swCost } = stepCosts(spec, p, vIdx, high, relaxedMs);
  const { windowStart, weight } = budgetWeights(spec, p, K);
  const g: Programme = { T, V, D, K, B: K + 1, S: V * D * (K + 1), cost, swCost, weight, windowStart };
  const { best, chosen } = traceBack(g, forward(g));
  const ledger = new Ledger('oracle', spec, inp);
  for (let t = 0; t < T; t++) {
    const j = chosen[t]!;
    ledger.step(t, vIdx[j]!, reps[j * T + t]!, relaxedMs !== undefined && high[t] === 1);
  }
  return { metrics: ledger.finish(), timeline: ledger.timeline, boundKg: best / 1000 };
}

/** Per-step costs and replicas for every eligible variant (the fewest replicas holding the SLO in force). */
function stepCosts(spec: ServiceSpec, p: Prepared, vIdx: number[], high: Uint8Array, relaxedMs: number | undefined) {
  const { inp, view } = p;
  const T = inp.timesMs.length;
  const V = vIdx.length;
  const hours = inp.stepMs / 3_600_000;
  const reps = new Int32Array(V * T);
  const cost = new Float64Array(V * T);
  const swCost = new Float64Array(V * T);
  for (let t = 0; t < T; t++) {
    const relaxed = relaxedMs !== undefined && high[t] === 1;
    const sloMs = relaxed ? relaxedMs : spec.slo.latencyP95Ms;
    const I = inp.intensity[t]!;
    for (let j = 0; j < V; j++) {
      const v = spec.variants[vIdx[j]!]!;
      const n = sizeFor(spec, vIdx[j]!, view.plan[t]!, sloMs);
      reps[j * T + t] = n;
      cost[j * T + t] = emissionsRateGPerHour(v, n, inp.demandRps[t]!, spec.pue, I, spec.embodiedGPerGpuHour) * hours;
      swCost[j * T + t] = switchEmissionsG(spec.policy.switchCostJoules, n, spec.pue, I);
    }
  }
  return { reps, cost, swCost };
}

/** Budget windows (1 at each window's first step) and each step's requests in units of 1/K of its window's
 *  allowance, rounded down (the relaxation). */
function budgetWeights(spec: ServiceSpec, p: Prepared, K: number) {
  const { inp } = p;
  const T = inp.timesMs.length;
  const budget = spec.tier === 'eco' ? spec.slo.degradationBudget : undefined;
  const win = windowOfBudget(budget);
  const windowStart = new Uint8Array(T);
  const weight = new Int32Array(T);
  let s = 0;
  while (s < T) {
    const ws = windowStartFor(inp.timesMs[s]!, win);
    let e = s;
    let total = 0;
    while (e < T && windowStartFor(inp.timesMs[e]!, win) === ws) total += inp.demandRps[e++]! * (inp.stepMs / 1000);
    windowStart[s] = 1;
    const unit = budget && K > 0 ? (budget.fraction * total) / K : 0;
    for (let t = s; t < e; t++) {
      const req = inp.demandRps[t]! * (inp.stepMs / 1000);
      weight[t] = unit > 0 ? Math.floor(req / unit + 1e-9) : K + 1;
    }
    s = e;
  }
  return { windowStart, weight };
}

/** The forward pass: least cost per final state, the back-pointers, and at each window start the budget level the
 *  best predecessor of each (variant, age) had. */
function forward(g: Programme) {
  const { T, V, D, K, B, S, cost, swCost, weight, windowStart } = g;
  const idx = (j: number, a: number, b: number) => (j * D + (a - 1)) * B + b;
  let cur = new Float64Array(S).fill(Infinity);
  let nxt = new Float64Array(S);
  const back = new Uint8Array(S * T);
  const collapseArg = new Map<number, Int32Array>();
  // Before the first step any variant may be the starting one, at no swap cost (as the online policies start).
  for (let j = 0; j < V; j++) cur[idx(j, D, 0)] = 0;
  const src = new Float64Array(V * D);
  const srcB = new Int32Array(V * D);
  for (let t = 0; t < T; t++) {
    nxt.fill(Infinity);
    const reset = windowStart[t] === 1;
    if (reset) {
      for (let j = 0; j < V; j++)
        for (let a = 1; a <= D; a++) {
          let best = Infinity;
          let arg = 0;
          for (let b = 0; b < B; b++) {
            const c = cur[idx(j, a, b)]!;
            if (c < best) {
              best = c;
              arg = b;
            }
          }
          src[j * D + a - 1] = best;
          srcB[j * D + a - 1] = arg;
        }
      collapseArg.set(t, Int32Array.from(srcB));
    }
    const w = weight[t]!;
    for (let j = 0; j < V; j++)
      for (let a = 1; a <= D; a++)
        for (let b = 0; b <= (reset ? 0 : K); b++) {
          const c0 = reset ? src[j * D + a - 1]! : cur[idx(j, a, b)]!;
          if (c0 === Infinity) continue;
          for (let j2 = 0; j2 < V; j2++) {
            const sw = j2 !== j;
            if (sw && a < D) continue;
            const a2 = sw ? 1 : Math.min(a + 1, D);
            const b2 = j2 === 0 ? b : b + w;
            if (b2 > K) continue;
            const c = c0 + cost[j2 * T + t]! + (sw ? swCost[j2 * T + t]! : 0);
            const k = idx(j2, a2, b2);
            if (c < nxt[k]!) {
              nxt[k] = c;
              back[t * S + k] = j * 2 + (!sw && a === D ? 1 : 0);
            }
          }
        }
    const tmp = cur;
    cur = nxt;
    nxt = tmp;
  }
  return { final: cur, back, collapseArg };
}

/** The optimum and the variant chosen at each step, traced back from the best final state. */
function traceBack(g: Programme, f: ReturnType<typeof forward>): { best: number; chosen: Int32Array } {
  const { T, D, B, S, weight, windowStart } = g;
  const idx = (j: number, a: number, b: number) => (j * D + (a - 1)) * B + b;
  let best = Infinity;
  let state = 0;
  for (let k = 0; k < S; k++)
    if (f.final[k]! < best) {
      best = f.final[k]!;
      state = k;
    }
  const chosen = new Int32Array(T);
  for (let t = T - 1; t >= 0; t--) {
    const j2 = Math.floor(state / (D * B));
    const a2 = Math.floor((state % (D * B)) / B) + 1;
    const b2 = state % B;
    chosen[t] = j2;
    const code = f.back[t * S + state]!;
    const j = code >> 1;
    const a = j !== j2 ? D : a2 < D ? a2 - 1 : (code & 1) === 1 ? D : D - 1;
    let b = j2 === 0 ? b2 : b2 - weight[t]!;
    if (windowStart[t] === 1) b = f.collapseArg.get(t)![j * D + a - 1]!;
    state = idx(j, Math.max(1, a), b);
  }
  return { best, chosen };
}
