// The policy's own input and output shapes, decoupled from the InferenceService CRD: the reconciler maps the
// spec, the carbon signal and the observed state onto DecisionInput, and Decision back onto a Deployment.
// Units are in the field names (Ms, Rps, Watts, GPerKWh, Joules) so no caller has to guess.

export type Tier = 'premium' | 'eco';

export interface VariantProfile {
  name: string;
  /** Quality relative to the full variant, 0..1 (the full variant is 1 by convention, but any value is accepted). */
  quality: number;
  /** Saturation throughput of one replica, requests/s (service rate μ in the queueing model). */
  capacityRps: number;
  /** p95 latency of one replica at low load, ms; inflated by 1/(1-ρ) under load (docs/policy.md). */
  latencyP95Ms: number;
  gpusPerReplica: number;
  /** Power of one replica at utilisation 1 and at utilisation 0 (all its GPUs together), W. */
  powerBusyWatts: number;
  powerIdleWatts: number;
}

export interface DegradationBudget {
  /** Largest share of requests in a window that may be served below the full variant, 0..1. */
  fraction: number;
  window: 'day' | 'week';
}

export interface Slo {
  latencyP95Ms: number;
  /** Lowest variant quality an eco service may run. */
  qualityFloor: number;
  /** Eco only, in high-carbon hours: a looser p95 ceiling (ms). Premium ignores it. */
  relaxedLatencyP95Ms?: number;
  /** Eco only. Without one, eco never leaves the full variant. */
  degradationBudget?: DegradationBudget;
}

export interface IntensityPoint {
  timeMs: number;
  valueGPerKWh: number;
}

export interface CarbonSignal {
  /** Grid intensity now, gCO2eq/kWh. undefined = no signal (provider down and no cached value). */
  nowGPerKWh?: number;
  /** Forecast for the coming intervals (e.g. a provider's 24 h forecast or DACF day-ahead), ascending in time. */
  forecast?: IntensityPoint[];
  /** Measured recent past, ascending in time; used for the fallback forecast and the high-carbon test. */
  history?: IntensityPoint[];
  /** The forecast was built from history by the carbon layer (no provider forecast): treated like the policy's
   *  own fallback (flag `fallbackForecast`; not a provider forecast for the high-carbon test). */
  forecastIsFallback?: boolean;
}

export interface DemandPoint {
  timeMs: number;
  rps: number;
  /** Forecast points only: the rate holds until here, ms since epoch (absent: one policy interval from timeMs). A
   *  run of equal intervals is one point, so a week's outlook at a one-minute interval is ~170 points, not 10,080. */
  untilMs?: number;
}

export interface DemandSignal {
  /** Observed request rate over the last interval, requests/s. */
  currentRps: number;
  /** Short-term prediction for the coming interval, requests/s. */
  predictedRps?: number;
  /** Optional longer prediction (the rest of the budget window), ascending in time; without it the policy assumes a
   *  flat rate. */
  forecast?: DemandPoint[];
  /** How much that prediction over-forecast the last day, measured (0..1; demand-forecast.ts overForecastShare):
   *  the budget counts the rest of the window's forecast at (1 − this). Without it: policy.budgetDemandSafety. */
  overForecastShare?: number;
  /** The worst share by which it under-forecast one interval over the last day, measured (0..1;
   *  underForecastShare): a degraded interval is budgeted at its expected requests × (1 + this). Without it: 0. */
  underForecastShare?: number;
}

export interface PolicyKnobs {
  /** Relative dead band, e.g. 0.1: scale down only when 10% fewer replicas suffice; enter/leave degraded mode only
   *  when the hour is 10% beyond the budget's cut-off. */
  hysteresis: number;
  /** Minimum time between two variant changes, ms. */
  minDwellMs: number;
  /** Energy one variant swap costs per replica (model load, warm-up, the surge pod of a rolling restart), J. */
  switchCostJoules: number;
  /** How often the controller asks, ms. */
  intervalMs: number;
  /** Extra capacity planned above the predicted demand, fraction (0.1 = size for 110% of the prediction). */
  headroom?: number;
  /** Share of the forecast remaining demand the budget counts on (guards against overrun when demand falls). Set, it
   *  overrides the measured one (1 − demand.overForecastShare); neither: 0.8. */
  budgetDemandSafety?: number;
  /** What eco runs without a carbon signal; default the full variant. */
  fallbackVariant?: string;
}

export interface BudgetState {
  windowStartMs: number;
  /** Requests served in the window so far, all variants. */
  servedTotal: number;
  /** Of which served by a variant other than the full one. */
  servedDegraded: number;
}

export interface ServiceState {
  variant?: string;
  replicas?: number;
  /** When the variant last changed, ms since epoch. */
  lastChangeMs?: number;
  budget: BudgetState;
}

export interface DecisionInput {
  /** Full variant first. */
  variants: VariantProfile[];
  tier: Tier;
  replicas: { min: number; max: number };
  slo: Slo;
  carbon: CarbonSignal;
  /** Power usage effectiveness of the site, ≥ 1. */
  pue: number;
  /** Embodied emissions per GPU-hour (the SCI "M" term), gCO2e; 0 to leave out. */
  embodiedGPerGpuHour: number;
  policy: PolicyKnobs;
  demand: DemandSignal;
  state: ServiceState;
  /** GPUs schedulable beyond what this service already holds. */
  clusterGpuHeadroom: number;
}

export interface DecisionFlags {
  /** The plan cannot hold the latency SLO at the predicted demand (GPU limit or max replicas). */
  sloAtRisk: boolean;
  /** Eco wanted to degrade but the window's budget is spent. */
  budgetExhausted: boolean;
  /** Fewer replicas planned than demand needs because GPUs are short. */
  gpuLimited: boolean;
  /** No carbon intensity: carbon played no part. */
  noSignal: boolean;
  /** The relaxed latency ceiling was used (eco, high-carbon hour). */
  relaxedLatency: boolean;
  /** The forecast was built from history because none was given. */
  fallbackForecast: boolean;
}

export interface Decision {
  variant: string;
  replicas: number;
  /** When the policy wants to be asked again, ms since epoch. */
  nextEvaluationMs: number;
  reason: string;
  /** Estimated operational + embodied emissions at the current intensity, gCO2e per hour; null without a signal. */
  expectedEmissionsGPerHour: number | null;
  /** Estimated IT power of the planned replicas at the predicted demand, W (before PUE). */
  expectedPowerWatts: number;
  degraded: boolean;
  flags: DecisionFlags;
  /** Eco with a budget: degraded requests of this window as a fraction of its allowance (budget-books.ts
   *  `budgetUsed`, the one definition; estimated until the window closes). The reason prints it rounded. */
  budgetUsed?: number;
}
