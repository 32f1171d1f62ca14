// Every default of the InferenceService API, applied in one place. The CRD schema carries the same defaults (the
// API server applies them on write); the operator applies them again on read because objects written before a
// CRD upgrade, or served by an API server that skipped defaulting, may lack them. `test/unit/api/defaults.test.ts`
// walks the CRD schema and fails when the two disagree. Downstream code takes only `Defaulted<InferenceService>`
// and never writes `?? default` for a field listed here.
import {
  API_VERSION,
  KIND,
  type CarbonSpec,
  type DegradationBudget,
  type DemandSpec,
  type Defaulted,
  type InferenceService,
  type InferenceServiceSpec,
  type PolicySpec,
  type RawInferenceService,
  type RuntimeSpec,
  type SloSpec,
  type VariantSpec,
} from './types.ts';

/** The CarbonSource a service reads when it names none. */
export const DEFAULT_SOURCE_REF = 'default';

/** The (source, region) a stored object reads, defaulted without copying it (hot paths that scan every service;
 *  a cache entry may even lack its spec). */
export function carbonRefOf(raw: { spec?: RawInferenceService['spec'] }): { sourceRef: string; region?: string } {
  const c = raw.spec?.carbon;
  return { sourceRef: c?.sourceRef ?? DEFAULT_SOURCE_REF, ...(c?.region !== undefined ? { region: c.region } : {}) };
}

type Maybe<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>;
/** The object as withDefaults fills it in: the fields with a default below may be missing (so `??=` is typed as
 *  needed); those the CRD schema requires are there, or the API server would have refused the object. */
interface Undefaulted {
  apiVersion?: string;
  kind?: string;
  metadata: InferenceService['metadata'];
  spec: Omit<InferenceServiceSpec, 'runtime' | 'replicas' | 'slo' | 'carbon' | 'demand' | 'policy' | 'variants'> & {
    runtime?: Maybe<RuntimeSpec, 'type' | 'variantEnv'>;
    replicas: Maybe<InferenceServiceSpec['replicas'], 'min'>;
    slo: Maybe<Omit<SloSpec, 'degradationBudget'>, 'qualityFloor'> & {
      degradationBudget?: Maybe<DegradationBudget, 'window'>;
    };
    carbon: Maybe<CarbonSpec, 'sourceRef' | 'pue' | 'embodiedGPerGpuHour'>;
    demand?: Maybe<DemandSpec, 'source'>;
    policy?: Maybe<
      PolicySpec,
      'mode' | 'paused' | 'hysteresis' | 'minDwellSeconds' | 'intervalSeconds' | 'switchCostJoules'
    >;
    variants: Maybe<VariantSpec, 'gpusPerReplica' | 'gpuResource'>[];
  };
  status?: InferenceService['status'];
}

/** A defaulted copy of `raw` (the input, often a cache entry, is never changed). */
export function withDefaults(raw: RawInferenceService): Defaulted<InferenceService> {
  const isvc = structuredClone(raw) as unknown as Undefaulted;
  isvc.apiVersion ??= API_VERSION;
  isvc.kind ??= KIND;
  const s = isvc.spec;
  s.runtime ??= { type: 'carbonscale' };
  s.runtime.type ??= 'carbonscale';
  s.runtime.variantEnv ??= 'CARBONSCALE_VARIANT';
  s.replicas.min ??= 1;
  s.slo.qualityFloor ??= 0;
  if (s.slo.degradationBudget) s.slo.degradationBudget.window ??= 'day';
  s.carbon.sourceRef ??= DEFAULT_SOURCE_REF;
  s.carbon.pue ??= 1;
  s.carbon.embodiedGPerGpuHour ??= 0;
  s.demand ??= { source: 'scrape' };
  s.demand.source ??= 'scrape';
  s.policy ??= {};
  const p = s.policy;
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
  return isvc as unknown as Defaulted<InferenceService>;
}
