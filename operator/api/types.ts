// TypeScript view of the carbonscale.dev/v1alpha1 API. The CRD schema in `inference-service-schema.ts` is the
// source of truth for what the API server accepts; `test/unit/api/schema-drift.test.ts` fails when this file
// and the schema disagree on any field, and `crds/` is generated from the schema (`scripts/gen-crds.ts`).
//
// Two views of one object: `RawInferenceService` is what the API server stores and serves (a field with a CRD
// default may still be missing: objects written before a CRD upgrade, or by a server that skipped defaulting);
// `Defaulted<InferenceService>` is what `api/defaults.ts` `withDefaults` returns, the only view the reconciler
// takes, in which every defaulted field is set — so no code downstream writes `?? default` for them.

export const GROUP = 'carbonscale.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'InferenceService';
export const PLURAL = 'inferenceservices';

export type Tier = 'premium' | 'eco';
export type Mode = 'active' | 'observe';

export interface ModelLocation {
  /** `file:///models/x.onnx`, `http(s)://…`, `pvc://claim/path` or any URI the runtime understands. */
  uri: string;
  /** Optional sha256 digest of the model file, recorded in the audit trail. */
  sha256?: string;
}

export interface VariantSpec {
  name: string;
  model: ModelLocation;
  quality: number;
  capacityRps: number;
  latencyP95Ms: number;
  gpusPerReplica: number;
  /** Extended resource name, `nvidia.com/gpu` or a MIG profile such as `nvidia.com/mig-1g.10gb`. */
  gpuResource: string;
  powerBusyWatts: number;
  powerIdleWatts: number;
}

export interface RuntimeSpec {
  /** `carbonscale`: the project's model server, switched in place. `custom`: a user pod template. */
  type: 'carbonscale' | 'custom';
  image?: string;
  args?: string[];
  /** For `custom`: the env var that receives the variant name (the model URI goes to `<name>_URI`). */
  variantEnv: string;
  /** For `custom`: the container that serves (default: the first). */
  containerName?: string;
  /** For `custom`: a PodTemplateSpec (metadata + spec). */
  podTemplate?: Record<string, unknown>;
  /** CPU/memory requests and limits for the serving container. */
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}

export interface DegradationBudget {
  /** Share of requests per window that may be served below the full variant, 0..1. */
  fraction: number;
  window: 'day' | 'week';
}

export interface SloSpec {
  latencyP95Ms: number;
  qualityFloor: number;
  relaxedLatencyP95Ms?: number;
  degradationBudget?: DegradationBudget;
}

export interface CarbonSpec {
  region: string;
  sourceRef: string;
  pue: number;
  embodiedGPerGpuHour: number;
}

export interface DemandSpec {
  source: 'static' | 'trace' | 'prometheus' | 'scrape';
  staticRps?: number;
  trace?: { file: string; peakRps: number };
  prometheusUrl?: string;
}

export interface EnergySpec {
  /** kepler | dcgm | model-server | profile (operator/energy/registry.ts). */
  source: 'kepler' | 'dcgm' | 'model-server' | 'profile';
  prometheusUrl?: string;
}

export interface PolicySpec {
  mode: Mode;
  paused: boolean;
  hysteresis: number;
  minDwellSeconds: number;
  intervalSeconds: number;
  switchCostJoules: number;
  fallbackVariant?: string;
}

export interface InferenceServiceSpec {
  tier: Tier;
  variants: VariantSpec[];
  runtime: RuntimeSpec;
  replicas: { min: number; max: number };
  slo: SloSpec;
  carbon: CarbonSpec;
  demand: DemandSpec;
  /** Absent: the operator's --energy-source default. */
  energy?: EnergySpec;
  policy: PolicySpec;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface InferenceServiceStatus {
  observedGeneration?: number;
  activeVariant?: string;
  desiredReplicas?: number;
  readyReplicas?: number;
  carbon?: {
    valueGPerKWh: number;
    unit: string;
    region: string;
    provider: string;
    signal: string;
    dataTime: string;
    fallbackLevel: string;
  };
  demand?: { requestsPerSecond: number; source: string; sampledAt: string };
  lastDecision?: { time: string; variant: string; replicas: number; reason: string; applied: boolean };
  emissions?: { rateGPerHour?: number; todayG: number; day: string; until: string; estimated: boolean };
  budget?: { windowStart: string; usedFraction: number };
  clock?: InferenceServiceStatusClock;
  conditions?: Condition[];
}

export interface InferenceServiceStatusClock {
  /** `replay`: the operator runs on an accelerated trace clock; absent on the wall clock. */
  mode: 'replay';
  /** Clock seconds per wall-clock second. */
  speedup: number;
}

export interface InferenceService {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    uid?: string;
    generation?: number;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    creationTimestamp?: string | Date;
  };
  spec: InferenceServiceSpec;
  status?: InferenceServiceStatus;
}

declare const defaultedBrand: unique symbol;
/** An object the API layer has defaulted (`withDefaults`): every field with a CRD default is set. */
export type Defaulted<T> = T & { readonly [defaultedBrand]: true };

type DeepPartial<T> =
  T extends Array<infer U> ? Array<DeepPartial<U>> : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

/** An InferenceService as the API server serves it: defaulted fields may be missing (see the header). */
export interface RawInferenceService {
  apiVersion?: string;
  kind?: string;
  metadata: InferenceService['metadata'];
  spec: DeepPartial<InferenceServiceSpec>;
  status?: InferenceServiceStatus;
}
