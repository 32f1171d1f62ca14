// What the simulator replays: one service's spec, and the aligned per-step carbon and demand series.
import type { PolicyKnobs, Slo, Tier, VariantProfile } from '../decision/types.ts';

export interface ServiceSpec {
  name: string;
  tier: Tier;
  /** Full variant first. */
  variants: VariantProfile[];
  replicas: { min: number; max: number };
  slo: Slo;
  pue: number;
  embodiedGPerGpuHour: number;
  policy: PolicyKnobs;
  /** GPUs the cluster can give this service in total (Infinity: unlimited). */
  clusterGpus: number;
}

export interface SimInputs {
  /** Step starts, ms since epoch (UTC), ascending, evenly spaced by stepMs. */
  timesMs: number[];
  stepMs: number;
  /** Actual intensity per step, gCO2eq/kWh. */
  intensity: Float64Array;
  /** Forecast issued ahead for each step (DACF day-ahead), gCO2eq/kWh; absent when the trace has none, NaN for a
   *  step it gives none (a missing forecast stays missing: perfect foresight is the oracle's, not the policy's). */
  forecast?: Float64Array;
  /** Measured intensity of the steps before the first (same step), gCO2eq/kWh: the carbon history the operator's
   *  signal service seeds from the provider (up to CARBON_HISTORY_MS), so the replay starts with it too. */
  intensityPreRoll?: Float64Array;
  /** Actual demand per step, requests/s. */
  demandRps: Float64Array;
  /** Demand over the 8 days before the first step (same alignment and scale), so predictors start warm. */
  demandPreRollRps?: Float64Array;
}
