// What the owner declared, mapped from a defaulted InferenceService onto the engine's ServicePolicy (units in the
// names). The one mapping: the reconciler's decide phase and the audit rows use it, so the fingerprint the engine
// keeps (a changed policy replans at once) changes exactly when a field the policy reads changes.
import type { Defaulted, InferenceService, VariantSpec } from '../api/types.ts';
import { windowOfBudget } from '../decision/budget-window.ts';
import type { ServicePolicy } from '../decision/engine.ts';
import type { Slo, VariantProfile } from '../decision/types.ts';

export function variantProfile(v: VariantSpec): VariantProfile {
  return {
    name: v.name,
    quality: v.quality,
    capacityRps: v.capacityRps,
    latencyP95Ms: v.latencyP95Ms,
    gpusPerReplica: v.gpusPerReplica,
    powerBusyWatts: v.powerBusyWatts,
    powerIdleWatts: v.powerIdleWatts,
  };
}

export function servicePolicyOf(isvc: Defaulted<InferenceService>): ServicePolicy {
  const s = isvc.spec;
  const slo: Slo = { latencyP95Ms: s.slo.latencyP95Ms, qualityFloor: s.slo.qualityFloor };
  if (s.slo.relaxedLatencyP95Ms !== undefined) slo.relaxedLatencyP95Ms = s.slo.relaxedLatencyP95Ms;
  if (s.slo.degradationBudget)
    slo.degradationBudget = { fraction: s.slo.degradationBudget.fraction, window: s.slo.degradationBudget.window };
  const p = s.policy;
  return {
    variants: s.variants.map(variantProfile),
    tier: s.tier,
    replicas: { min: s.replicas.min, max: s.replicas.max },
    slo,
    pue: s.carbon.pue,
    embodiedGPerGpuHour: s.carbon.embodiedGPerGpuHour,
    policy: {
      hysteresis: p.hysteresis,
      minDwellMs: p.minDwellSeconds * 1000,
      switchCostJoules: p.switchCostJoules,
      intervalMs: p.intervalSeconds * 1000,
      ...(p.fallbackVariant !== undefined ? { fallbackVariant: p.fallbackVariant } : {}),
    },
  };
}

/** The budget window of a service (a day without a budget: the engine's books roll daily either way). */
export function budgetWindowOf(isvc: Defaulted<InferenceService>): 'day' | 'week' {
  return windowOfBudget(isvc.spec.slo.degradationBudget);
}
