// Pure usage accounting: one record per InferenceService per accounting interval. No I/O, no clock: the
// controller passes everything in, so an auditor can recompute every derived column from the row alone
// (methodology in docs/audit.md, methodology version METHODOLOGY_VERSION).
import {
  AuditInputError,
  finite,
  nonNegative,
  nonNegativeInt,
  optionalFinite,
  requireString,
  stableId,
} from './validate.ts';

export const SCHEMA_VERSION = '1.0.0';
export const METHODOLOGY_VERSION = 'carbonscale-sci-1';

export type Tier = 'premium' | 'eco';
export type EnergyMethod = 'measured' | 'estimated';
export type SignalKind = 'average' | 'marginal';
export type SignalBasis = 'direct' | 'lifecycle';

/** Grid carbon intensity used for an interval, as the carbon signal delivered it. */
export interface CarbonReading {
  /** gCO2eq/kWh; 0 is legitimate (e.g. an all-renewable hour). */
  valueGPerKWh: number;
  region: string;
  provider: string;
  signal: SignalKind;
  basis: SignalBasis;
  /** When the provider says the value applies (ms since epoch, UTC). */
  dataTimeMs: number;
  /** The provider flagged the value as estimated (not measured generation data). */
  estimated: boolean;
  /** The value is a forecast, not an observation. */
  forecast: boolean;
  /** 0 = primary provider; n = the n-th fallback in the chain (cache, secondary provider, static default). */
  fallbackLevel: number;
}

/** Power model of one replica: P = idle + (busy − idle) × utilisation, in watts (IT power, before PUE). */
export interface PowerProfile {
  idleW: number;
  busyW: number;
  /** Mean utilisation over the interval, 0..1. */
  utilization: number;
}

export interface MeasuredEnergy {
  /** IT energy over the interval, kWh, as measured by the source. */
  kWh: number;
  /** e.g. 'model-server-counters', 'kepler', 'dcgm'. */
  source: string;
}

export interface BaselineInput {
  /** Replicas the full variant would need for the demand alone (no carbon shaping). May be fractional (time-averaged). */
  replicas: number;
  gpusPerReplica: number;
  power: PowerProfile;
}

export interface UsageInput {
  intervalStartMs: number;
  intervalEndMs: number;
  clusterId: string;
  operatorVersion: string;
  namespace: string;
  name: string;
  uid: string;
  tier: Tier;
  variant: { name: string; quality: number; modelDigest?: string; isFull: boolean };
  replicas: { desired: number; ready: number; average: number };
  gpusPerReplica: number;
  gpuModel?: string;
  /** Estimated energy: required unless `measuredEnergy` is given. */
  power?: PowerProfile;
  /** Measured IT energy; when present it is used and `energy_method` is `measured`. */
  measuredEnergy?: MeasuredEnergy;
  pue: number;
  carbon: CarbonReading;
  /** Embodied (manufacturing) emissions amortised per GPU-hour, gCO2e/GPU-h. */
  embodiedGPerGpuHour: number;
  requests: number;
  inferences: number;
  latencyP50Ms?: number;
  latencyP95Ms?: number;
  /** Whether the service met its latency SLO over the interval, when known. */
  sloMet?: boolean;
  baseline: BaselineInput;
  /** Fraction (0..1) of the degradation budget used so far in the budget window. */
  degradationBudgetUsed: number;
}

/** One usage row. Column names carry units; see docs/audit.md. Timestamps are ms since epoch (UTC). */
export interface UsageRecord {
  record_id: string;
  schema_version: string;
  methodology_version: string;
  operator_version: string;
  cluster_id: string;
  namespace: string;
  name: string;
  uid: string;
  tier: string;
  variant: string;
  variant_quality: number;
  variant_is_full: boolean;
  model_digest: string | null;
  interval_start: number;
  interval_end: number;
  interval_s: number;
  replicas_desired: number;
  replicas_ready: number;
  replicas_avg: number;
  gpus_per_replica: number;
  gpu_model: string | null;
  gpu_seconds: number;
  gpu_hours: number;
  power_idle_w: number | null;
  power_busy_w: number | null;
  utilization: number | null;
  energy_it_kwh: number;
  energy_facility_kwh: number;
  energy_method: EnergyMethod;
  energy_source: string;
  pue: number;
  ci_g_per_kwh: number;
  ci_unit: string;
  ci_region: string;
  ci_provider: string;
  ci_signal: SignalKind;
  ci_basis: SignalBasis;
  ci_data_time: number;
  ci_data_age_s: number;
  ci_estimated: boolean;
  ci_forecast: boolean;
  ci_fallback_level: number;
  ci_fallback_used: boolean;
  operational_co2e_g: number;
  embodied_g_per_gpu_hour: number;
  embodied_co2e_g: number;
  total_co2e_g: number;
  requests: number;
  inferences: number;
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
  slo_met: boolean | null;
  baseline_replicas: number;
  baseline_gpus_per_replica: number;
  baseline_power_idle_w: number;
  baseline_power_busy_w: number;
  baseline_utilization: number;
  baseline_energy_it_kwh: number;
  baseline_energy_facility_kwh: number;
  baseline_operational_co2e_g: number;
  baseline_embodied_co2e_g: number;
  baseline_total_co2e_g: number;
  savings_co2e_g: number;
  sci_g_per_1k_inferences: number | null;
  degradation_budget_used: number;
}

const J_PER_KWH = 3_600_000;

/** IT energy in kWh of `replicaSeconds` at the modelled power of one replica. */
export function estimatedEnergyKWh(power: PowerProfile, replicaSeconds: number): number {
  const watts = power.idleW + (power.busyW - power.idleW) * power.utilization;
  return (watts * replicaSeconds) / J_PER_KWH;
}

function checkPower(p: PowerProfile | undefined, field: string): PowerProfile {
  if (!p) throw new AuditInputError(field, 'is required when measuredEnergy is not given');
  nonNegative(p.idleW, `${field}.idleW`);
  nonNegative(p.busyW, `${field}.busyW`);
  finite(p.utilization, `${field}.utilization`);
  if (p.utilization < 0 || p.utilization > 1) throw new AuditInputError(`${field}.utilization`, 'must be in 0..1');
  return p;
}

/** Computes one usage row from the interval's inputs. Throws AuditInputError naming the bad field. */
export function computeUsageRecord(input: UsageInput): UsageRecord {
  finite(input.intervalStartMs, 'intervalStartMs');
  finite(input.intervalEndMs, 'intervalEndMs');
  if (!(input.intervalEndMs > input.intervalStartMs)) {
    throw new AuditInputError('intervalEndMs', 'must be after intervalStartMs');
  }
  for (const f of ['clusterId', 'operatorVersion', 'namespace', 'name', 'uid'] as const) requireString(input[f], f);
  if (input.tier !== 'premium' && input.tier !== 'eco') throw new AuditInputError('tier', "must be 'premium' or 'eco'");
  requireString(input.variant?.name, 'variant.name');
  finite(input.variant.quality, 'variant.quality');
  nonNegativeInt(input.replicas?.desired, 'replicas.desired');
  nonNegativeInt(input.replicas.ready, 'replicas.ready');
  nonNegative(input.replicas.average, 'replicas.average');
  nonNegativeInt(input.gpusPerReplica, 'gpusPerReplica');
  finite(input.pue, 'pue');
  if (input.pue < 1) throw new AuditInputError('pue', 'must be >= 1');
  const c = input.carbon;
  if (!c) throw new AuditInputError('carbon', 'is required');
  nonNegative(c.valueGPerKWh, 'carbon.valueGPerKWh');
  requireString(c.region, 'carbon.region');
  requireString(c.provider, 'carbon.provider');
  if (c.signal !== 'average' && c.signal !== 'marginal')
    throw new AuditInputError('carbon.signal', 'must be average|marginal');
  if (c.basis !== 'direct' && c.basis !== 'lifecycle')
    throw new AuditInputError('carbon.basis', 'must be direct|lifecycle');
  finite(c.dataTimeMs, 'carbon.dataTimeMs');
  nonNegativeInt(c.fallbackLevel, 'carbon.fallbackLevel');
  nonNegative(input.embodiedGPerGpuHour, 'embodiedGPerGpuHour');
  nonNegativeInt(input.requests, 'requests');
  nonNegativeInt(input.inferences, 'inferences');
  optionalFinite(input.latencyP50Ms, 'latencyP50Ms');
  optionalFinite(input.latencyP95Ms, 'latencyP95Ms');
  nonNegative(input.baseline?.replicas, 'baseline.replicas');
  nonNegativeInt(input.baseline.gpusPerReplica, 'baseline.gpusPerReplica');
  finite(input.degradationBudgetUsed, 'degradationBudgetUsed');

  const intervalS = (input.intervalEndMs - input.intervalStartMs) / 1000;
  const replicaSeconds = input.replicas.average * intervalS;
  const gpuSeconds = replicaSeconds * input.gpusPerReplica;
  const gpuHours = gpuSeconds / 3600;

  let energyIt: number;
  let method: EnergyMethod;
  let source: string;
  let power: PowerProfile | null = null;
  if (input.measuredEnergy) {
    nonNegative(input.measuredEnergy.kWh, 'measuredEnergy.kWh');
    requireString(input.measuredEnergy.source, 'measuredEnergy.source');
    energyIt = input.measuredEnergy.kWh;
    method = 'measured';
    source = input.measuredEnergy.source;
  } else {
    power = checkPower(input.power, 'power');
    energyIt = estimatedEnergyKWh(power, replicaSeconds);
    method = 'estimated';
    source = 'power-profile';
  }
  const energyFacility = energyIt * input.pue;
  const operational = energyFacility * c.valueGPerKWh;
  const embodied = gpuHours * input.embodiedGPerGpuHour;
  const total = operational + embodied;

  const b = input.baseline;
  const bPower = checkPower(b.power, 'baseline.power');
  const bReplicaSeconds = b.replicas * intervalS;
  const bEnergyIt = estimatedEnergyKWh(bPower, bReplicaSeconds);
  const bEnergyFacility = bEnergyIt * input.pue;
  const bOperational = bEnergyFacility * c.valueGPerKWh;
  const bEmbodied = ((bReplicaSeconds * b.gpusPerReplica) / 3600) * input.embodiedGPerGpuHour;
  const bTotal = bOperational + bEmbodied;

  return {
    record_id: usageRecordId(input.clusterId, input.uid, input.intervalStartMs, input.intervalEndMs),
    schema_version: SCHEMA_VERSION,
    methodology_version: METHODOLOGY_VERSION,
    operator_version: input.operatorVersion,
    cluster_id: input.clusterId,
    namespace: input.namespace,
    name: input.name,
    uid: input.uid,
    tier: input.tier,
    variant: input.variant.name,
    variant_quality: input.variant.quality,
    variant_is_full: input.variant.isFull,
    model_digest: input.variant.modelDigest ?? null,
    interval_start: input.intervalStartMs,
    interval_end: input.intervalEndMs,
    interval_s: intervalS,
    replicas_desired: input.replicas.desired,
    replicas_ready: input.replicas.ready,
    replicas_avg: input.replicas.average,
    gpus_per_replica: input.gpusPerReplica,
    gpu_model: input.gpuModel ?? null,
    gpu_seconds: gpuSeconds,
    gpu_hours: gpuHours,
    power_idle_w: power ? power.idleW : null,
    power_busy_w: power ? power.busyW : null,
    utilization: power ? power.utilization : null,
    energy_it_kwh: energyIt,
    energy_facility_kwh: energyFacility,
    energy_method: method,
    energy_source: source,
    pue: input.pue,
    ci_g_per_kwh: c.valueGPerKWh,
    ci_unit: 'gCO2eq/kWh',
    ci_region: c.region,
    ci_provider: c.provider,
    ci_signal: c.signal,
    ci_basis: c.basis,
    ci_data_time: c.dataTimeMs,
    // Age at the end of the interval: how stale the signal was when the interval was accounted.
    ci_data_age_s: (input.intervalEndMs - c.dataTimeMs) / 1000,
    ci_estimated: c.estimated,
    ci_forecast: c.forecast,
    ci_fallback_level: c.fallbackLevel,
    ci_fallback_used: c.fallbackLevel > 0,
    operational_co2e_g: operational,
    embodied_g_per_gpu_hour: input.embodiedGPerGpuHour,
    embodied_co2e_g: embodied,
    total_co2e_g: total,
    requests: input.requests,
    inferences: input.inferences,
    latency_p50_ms: input.latencyP50Ms ?? null,
    latency_p95_ms: input.latencyP95Ms ?? null,
    slo_met: input.sloMet ?? null,
    baseline_replicas: b.replicas,
    baseline_gpus_per_replica: b.gpusPerReplica,
    baseline_power_idle_w: bPower.idleW,
    baseline_power_busy_w: bPower.busyW,
    baseline_utilization: bPower.utilization,
    baseline_energy_it_kwh: bEnergyIt,
    baseline_energy_facility_kwh: bEnergyFacility,
    baseline_operational_co2e_g: bOperational,
    baseline_embodied_co2e_g: bEmbodied,
    baseline_total_co2e_g: bTotal,
    savings_co2e_g: bTotal - total,
    // Never divide by zero: an interval without inferences has no per-inference score.
    sci_g_per_1k_inferences: input.inferences > 0 ? (total / input.inferences) * 1000 : null,
    degradation_budget_used: input.degradationBudgetUsed,
  };
}

/** Stable id: the same service and interval always give the same id, so a replayed interval is deduplicated. */
export function usageRecordId(clusterId: string, uid: string, startMs: number, endMs: number): string {
  return 'u-' + stableId([clusterId, uid, String(startMs), String(endMs)]);
}
