// Public face of the decision package: the one engine, the pure policy and the models the controller and the audit
// reuse.
export { engineStep, newBooks, intervalStartFor, policyKey } from './engine.ts';
export type { ServicePolicy, StandingPlan, EngineBooks, EngineObservation, EngineStep, BudgetLive } from './engine.ts';
export { budgetUsed, bookRequests, requestsServed, emptyBudget, windowEndFor } from './budget-books.ts';
export {
  demandOutlook,
  expectedRequests,
  overForecastShare,
  underForecastShare,
  rateAt,
  DEMAND_HISTORY_MS,
} from './demand-forecast.ts';
export { planBudget, BUDGET_UNITS } from './budget-plan.ts';
export type { PlanSlot, BudgetPlan } from './budget-plan.ts';
export type { DemandOutlook, DemandBasis } from './demand-forecast.ts';
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
export { buildFallbackForecast, valueAt, DAY_MS, CARBON_HISTORY_MS } from './fallback-forecast.ts';
export type * from './types.ts';
