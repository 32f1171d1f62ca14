// Public face of the decision package: the pure policy and the models the controller and the audit reuse.
export { decide, DEFAULT_HEADROOM, DEFAULT_BUDGET_DEMAND_SAFETY } from './decide.ts';
export { budgetWindowMs, windowStartFor } from './budget-window.ts';
export { DecisionInputError, validateDecisionInput } from './decision-input-error.ts';
export {
  replicaPowerWatts,
  servicePowerWatts,
  utilisation,
  operationalEmissionsGPerHour,
  emissionsRateGPerHour,
  switchEmissionsG,
  energyKWh,
  JOULES_PER_KWH,
  MS_PER_HOUR,
} from './energy-model.ts';
export { utilisationCap, p95LatencyMs, sloCapacityRps, replicasNeeded } from './latency-model.ts';
export { buildFallbackForecast, valueAt, DAY_MS } from './fallback-forecast.ts';
export type * from './types.ts';
