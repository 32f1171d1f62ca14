// The CRD's defaults, applied again in the operator: objects written before a CRD upgrade, or served by an API
// server that skipped defaulting, still reconcile with the documented values.
import type { InferenceService } from './types.ts';

export function withDefaults(isvc: InferenceService): InferenceService {
  const s = isvc.spec;
  s.runtime ??= { type: 'carbonscale' };
  s.runtime.type ??= 'carbonscale';
  s.runtime.variantEnv ??= 'CARBONSCALE_VARIANT';
  s.replicas.min ??= 1;
  s.slo.qualityFloor ??= 0;
  if (s.slo.degradationBudget) s.slo.degradationBudget.window ??= 'day';
  s.carbon.sourceRef ??= 'default';
  s.carbon.pue ??= 1;
  s.carbon.embodiedGPerGpuHour ??= 0;
  s.demand ??= { source: 'scrape' };
  s.demand.source ??= 'scrape';
  const p = (s.policy ??= {} as InferenceService['spec']['policy']);
  p.mode ??= 'active';
  p.paused ??= false;
  p.hysteresis ??= 0.1;
  p.minDwellSeconds ??= 900;
  p.intervalSeconds ??= 300;
  p.switchCostJoules ??= 0;
  for (const v of s.variants) {
    v.gpusPerReplica ??= 1;
    v.gpuResource ??= 'nvidia.com/gpu';
  }
  return isvc;
}
