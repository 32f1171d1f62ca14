// The measurement every simulated policy goes through, so that all of them are measured the same way: emissions
// (operational at the trace's actual intensity × PUE, embodied per GPU-hour, variant swaps), energy, requests,
// quality-weighted requests, the share of each budget window's requests served degraded (and the windows over
// budget), switches and minutes in SLO violation. It measures a run after the fact; it is not the budget rule a
// policy decides by (the engine keeps its own books: decision/budget-books.ts), only the same window rule.
import { windowOfBudget, windowStartFor } from '../decision/budget-window.ts';
import {
  energyKWh,
  operationalEmissionsGPerHour,
  servicePowerWatts,
  switchEmissionsG,
} from '../decision/energy-model.ts';
import { sloCapacityRps } from '../decision/latency-model.ts';
import type { ServiceSpec, SimInputs } from './sim-types.ts';

export interface Metrics {
  policy: string;
  tier: 'premium' | 'eco';
  /** Total estimated emissions, kgCO2e (operational + embodied + swaps). */
  emissionsKg: number;
  operationalKg: number;
  embodiedKg: number;
  switchKg: number;
  /** IT energy of the GPUs, kWh (before PUE), estimated from the power model. */
  energyKWh: number;
  requests: number;
  qualityWeightedRequests: number;
  degradedRequests: number;
  /** Largest share of a window's requests served degraded, and the mean over windows. */
  budgetMaxShare: number;
  budgetMeanShare: number;
  budgetOverruns: number;
  windows: number;
  switches: number;
  sloViolationMinutes: number;
  gpuHours: number;
}

export interface Timeline {
  variant: Int16Array;
  replicas: Int32Array;
  emissionsG: Float64Array;
  relaxed: Uint8Array;
}

export class Ledger {
  readonly m: Metrics;
  readonly timeline: Timeline;
  /** Measured requests of the window in progress (all, and served degraded). */
  private readonly win = { windowStartMs: NaN, servedTotal: 0, servedDegraded: 0 };
  private readonly spec: ServiceSpec;
  private readonly inp: SimInputs;
  private readonly window: 'day' | 'week';
  private readonly fraction: number;
  private shareSum = 0;
  private lastVariant = -1;

  constructor(policy: string, spec: ServiceSpec, inp: SimInputs) {
    this.spec = spec;
    this.inp = inp;
    this.window = windowOfBudget(spec.slo.degradationBudget);
    this.fraction = spec.slo.degradationBudget?.fraction ?? 0;
    const n = inp.timesMs.length;
    this.timeline = {
      variant: new Int16Array(n),
      replicas: new Int32Array(n),
      emissionsG: new Float64Array(n),
      relaxed: new Uint8Array(n),
    };
    this.m = {
      policy,
      tier: spec.tier,
      emissionsKg: 0,
      operationalKg: 0,
      embodiedKg: 0,
      switchKg: 0,
      energyKWh: 0,
      requests: 0,
      qualityWeightedRequests: 0,
      degradedRequests: 0,
      budgetMaxShare: 0,
      budgetMeanShare: 0,
      budgetOverruns: 0,
      windows: 0,
      switches: 0,
      sloViolationMinutes: 0,
      gpuHours: 0,
    };
  }

  /** Measured requests of the window holding step t, before step t (a new window starts empty). */
  windowSoFar(t: number): { servedTotal: number; servedDegraded: number } {
    this.roll(t);
    return { servedTotal: this.win.servedTotal, servedDegraded: this.win.servedDegraded };
  }

  private roll(t: number): void {
    const start = windowStartFor(this.inp.timesMs[t]!, this.window);
    if (start !== this.win.windowStartMs) {
      this.closeWindow();
      this.win.windowStartMs = start;
      this.win.servedTotal = 0;
      this.win.servedDegraded = 0;
    }
  }

  private closeWindow(): void {
    const b = this.win;
    if (b.servedTotal <= 0) return;
    const share = b.servedDegraded / b.servedTotal;
    this.m.windows++;
    this.shareSum += share;
    if (share > this.m.budgetMaxShare) this.m.budgetMaxShare = share;
    if (share > this.fraction + 1e-9) this.m.budgetOverruns++;
  }

  /** Books step t run with variant index `v`, `n` replicas, under the relaxed ceiling or not. */
  step(t: number, v: number, n: number, relaxed: boolean): void {
    this.roll(t);
    const { spec, inp } = this;
    const variant = spec.variants[v]!;
    const stepMs = inp.stepMs;
    const hours = stepMs / 3_600_000;
    const d = inp.demandRps[t]!;
    const I = inp.intensity[t]!;
    const power = servicePowerWatts(variant, n, d);
    const opG = operationalEmissionsGPerHour(power, spec.pue, I) * hours;
    const emG = n * variant.gpusPerReplica * spec.embodiedGPerGpuHour * hours;
    let swG = 0;
    if (this.lastVariant >= 0 && this.lastVariant !== v) {
      swG = switchEmissionsG(spec.policy.switchCostJoules, n, spec.pue, I);
      this.m.switches++;
    }
    this.lastVariant = v;
    const requests = d * (stepMs / 1000);
    const m = this.m;
    m.operationalKg += opG / 1000;
    m.embodiedKg += emG / 1000;
    m.switchKg += swG / 1000;
    m.emissionsKg += (opG + emG + swG) / 1000;
    m.energyKWh += energyKWh(power, stepMs);
    m.requests += requests;
    m.qualityWeightedRequests += requests * variant.quality;
    m.gpuHours += n * variant.gpusPerReplica * hours;
    if (v !== 0) m.degradedRequests += requests;
    this.win.servedTotal += requests;
    if (v !== 0) this.win.servedDegraded += requests;
    // The SLO in force: premium always the strict one; eco the relaxed one in the hours it used it.
    const sloMs =
      spec.tier === 'eco' && relaxed && spec.slo.relaxedLatencyP95Ms !== undefined
        ? spec.slo.relaxedLatencyP95Ms
        : spec.slo.latencyP95Ms;
    if (d > sloCapacityRps(variant, n, sloMs) * (1 + 1e-9)) m.sloViolationMinutes += stepMs / 60_000;
    this.timeline.variant[t] = v;
    this.timeline.replicas[t] = n;
    this.timeline.emissionsG[t] = opG + emG + swG;
    this.timeline.relaxed[t] = relaxed ? 1 : 0;
  }

  finish(): Metrics {
    this.closeWindow();
    this.m.budgetMeanShare = this.m.windows > 0 ? this.shareSum / this.m.windows : 0;
    return this.m;
  }
}
