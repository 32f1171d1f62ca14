// Pure usage accounting: one record per InferenceService per accounting interval. No I/O, no clock: the
// controller passes everything in, so an auditor can recompute every derived column from the row alone
// (methodology in docs/audit.md, methodology version METHODOLOGY_VERSION).
import { AuditInputError, finite, nonNegative, nonNegativeInt, requireString, stableId } from './validate.ts';
import {
  embodiedEmissionsG,
  energyKWhOfSeconds,
  facilityEnergyKWh,
  operationalEmissionsG,
  powerAtUtilisationWatts,
} from '../decision/energy-model.ts';
import type { Unchecked } from '../decision/unchecked.ts';

/** 2.3.0: the columns of 2.2.0; latency measured from the runtime's histogram and slo_met set (docs/audit.md). */
export const SCHEMA_VERSION = '2.3.0';
/** carbonscale-sci-5: carbonscale-sci-4 (measured energy where a meter covers the interval, counted requests, SCI for
 * AI per token, an unshaped interval is its own baseline) with latency_p50_ms/latency_p95_ms measured from the
 * runtime's request-duration histogram and slo_met against the ceiling in force (docs/audit.md, "Methodology"). */
export const METHODOLOGY_VERSION = 'carbonscale-sci-5';

export type Tier = 'premium' | 'eco';
export type EnergyMethod = 'measured' | 'estimated';
export type SignalKind = 'average' | 'marginal';
export type SignalBasis = 'direct' | 'lifecycle';
/** How a value was obtained: read from a meter or counter, or computed from a model (a rate, a capacity). */
export type ValueMethod = 'measured' | 'modelled';
/** How replicas_avg was obtained: a time average over pod transitions, or one ready count taken as the average. */
export type ReplicasAverageMethod = 'time_weighted' | 'snapshot';

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

/**
 * No intensity was available for the interval (every source and fallback failed). The interval still gets its
 * row: energy is kept, the intensity and emission columns are null and `ci_missing` is true.
 */
export interface MissingCarbonReading {
  missing: true;
  region: string;
  /** The configured provider that could not deliver. */
  provider: string;
  /** The fallback level the chain reached (0 = primary), as for a reading. */
  fallbackLevel?: number;
}

/** The embodied emissions factor and where it comes from (a spec field, a documented default). */
export interface EmbodiedFactor {
  gPerGpuHour: number;
  source: string;
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
  /** The meter: 'kepler', 'dcgm', 'model-server'. */
  source: string;
}

/** Longest fallback reason kept in a row (a meter's words are bounded, never a body). */
export const MAX_FALLBACK_REASON = 500;

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
  /**
   * Measured IT energy; when present it is used and `energy_method` is `measured` (a `power` given as well is the
   * profile's estimate of the same interval: `energy_profile_it_kwh`, what ProfileDrift compares).
   */
  measuredEnergy?: MeasuredEnergy;
  /** The meter configured for the service (energy.source other than profile), measured or not. */
  energyMeter?: string;
  /** Why the interval is estimated although `energyMeter` is set (required then: the row must say why). */
  energyFallbackReason?: string;
  pue: number;
  carbon: CarbonReading | MissingCarbonReading;
  /** Embodied emissions factor with its source; when given, embodied emissions are counted (even a factor of 0). */
  embodied?: EmbodiedFactor;
  /**
   * Embodied (manufacturing) emissions amortised per GPU-hour, gCO2e/GPU-h, without a named source (older
   * callers). A positive factor is counted with source 'configured'; 0 or absent means not counted: the row says
   * `embodied_counted = false` and carries null, never a 0 that looks counted.
   */
  embodiedGPerGpuHour?: number;
  /** Default 'snapshot' (the honest label when the caller does not say). */
  replicasAverageMethod?: ReplicasAverageMethod;
  /** How `power.utilization` was obtained; default 'modelled'. */
  utilizationMethod?: ValueMethod;
  requests: number;
  /** Default 'modelled' (a rate × the interval). */
  requestsMethod?: ValueMethod;
  inferences: number;
  /** Default 'modelled'. */
  inferencesMethod?: ValueMethod;
  /** Prompt and generated tokens counted by the runtime (SCI for AI's per-token unit); absent: not counted. */
  promptTokens?: number;
  generatedTokens?: number;
  /** Latency measured from the runtime's request-duration histogram (docs/audit.md); absent: unknown. */
  latencyP50Ms?: number;
  latencyP95Ms?: number;
  /** The measured p95 within the ceiling in force (rows-from-pass.ts sloMetOf), when known. */
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
  replicas_avg_method: ReplicasAverageMethod;
  gpus_per_replica: number;
  gpu_model: string | null;
  gpu_seconds: number;
  gpu_hours: number;
  power_idle_w: number | null;
  power_busy_w: number | null;
  utilization: number | null;
  utilization_method: ValueMethod | null;
  energy_it_kwh: number;
  energy_facility_kwh: number;
  energy_method: EnergyMethod;
  energy_source: string;
  energy_meter: string | null;
  energy_fallback_reason: string | null;
  energy_profile_it_kwh: number | null;
  pue: number;
  ci_g_per_kwh: number | null;
  ci_unit: string;
  ci_region: string;
  ci_provider: string;
  ci_signal: SignalKind | null;
  ci_basis: SignalBasis | null;
  ci_data_time: number | null;
  ci_data_age_s: number | null;
  ci_estimated: boolean | null;
  ci_forecast: boolean | null;
  ci_fallback_level: number;
  ci_fallback_used: boolean;
  ci_missing: boolean;
  operational_co2e_g: number | null;
  embodied_g_per_gpu_hour: number | null;
  embodied_counted: boolean;
  embodied_source: string | null;
  embodied_co2e_g: number | null;
  total_co2e_g: number | null;
  requests: number;
  requests_method: ValueMethod;
  inferences: number;
  inferences_method: ValueMethod;
  prompt_tokens: number | null;
  generated_tokens: number | null;
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
  baseline_operational_co2e_g: number | null;
  baseline_embodied_co2e_g: number | null;
  baseline_total_co2e_g: number | null;
  savings_co2e_g: number | null;
  sci_g_per_1k_inferences: number | null;
  sci_g_per_1k_tokens: number | null;
  degradation_budget_used: number;
}

// The power, energy and emissions arithmetic is decision/energy-model.ts's, the one the policy and the simulator
// use, so a row accounts for an interval by the same model that decided it. audit/verify.ts keeps its own copy of
// the formula on purpose: it is the independent recomputation an auditor runs over a row, and a defect shared with
// the writer would pass unnoticed if it called the same functions.

/** IT energy in kWh of `replicaSeconds` at the modelled power of one replica (utilisation already checked in 0..1). */
export function estimatedEnergyKWh(power: PowerProfile, replicaSeconds: number): number {
  return energyKWhOfSeconds(powerAtUtilisationWatts(power.idleW, power.busyW, power.utilization), replicaSeconds);
}

function checkPower(p: PowerProfile | undefined, field: string): PowerProfile {
  if (!p) throw new AuditInputError(field, 'is required when measuredEnergy is not given');
  nonNegative(p.idleW, `${field}.idleW`);
  nonNegative(p.busyW, `${field}.busyW`);
  finite(p.utilization, `${field}.utilization`);
  if (p.utilization < 0 || p.utilization > 1) throw new AuditInputError(`${field}.utilization`, 'must be in 0..1');
  return p;
}

function oneOf<T extends string>(v: T | undefined, allowed: readonly T[], fallback: T, field: string): T {
  if (v === undefined) return fallback;
  if (!allowed.includes(v)) throw new AuditInputError(field, `must be ${allowed.join('|')} (got ${String(v)})`);
  return v;
}

const METHODS: readonly ValueMethod[] = ['measured', 'modelled'];

function isMissing(c: CarbonReading | MissingCarbonReading): c is MissingCarbonReading {
  // As checkCarbon reads it: only `missing: true` marks a missing reading; any other value is a reading.
  return (c as { missing?: unknown }).missing === true;
}

function checkCarbon(c: Unchecked<CarbonReading | MissingCarbonReading> | null | undefined): void {
  if (!c) throw new AuditInputError('carbon', 'is required (a reading, or { missing: true, ... })');
  requireString(c.region, 'carbon.region');
  requireString(c.provider, 'carbon.provider');
  if ('missing' in c && c.missing === true) {
    if (c.fallbackLevel !== undefined) nonNegativeInt(c.fallbackLevel, 'carbon.fallbackLevel');
    return;
  }
  // Not flagged missing: `in` cannot narrow a union whose every field is optional, so say which member it is.
  const r = c as Unchecked<CarbonReading>;
  nonNegative(r.valueGPerKWh, 'carbon.valueGPerKWh');
  if (r.signal !== 'average' && r.signal !== 'marginal')
    throw new AuditInputError('carbon.signal', 'must be average|marginal');
  if (r.basis !== 'direct' && r.basis !== 'lifecycle')
    throw new AuditInputError('carbon.basis', 'must be direct|lifecycle');
  finite(r.dataTimeMs, 'carbon.dataTimeMs');
  if (typeof r.estimated !== 'boolean') throw new AuditInputError('carbon.estimated', 'must be a boolean');
  if (typeof r.forecast !== 'boolean') throw new AuditInputError('carbon.forecast', 'must be a boolean');
  nonNegativeInt(r.fallbackLevel, 'carbon.fallbackLevel');
}

// The builders' callers type their input, but nothing has checked it (a row restored from JSON, a test's hand-built
// input): the checks read it as Unchecked so that each one stays honest to the type checker.
function checkInput(input: Unchecked<UsageInput>): void {
  const startMs = finite(input.intervalStartMs, 'intervalStartMs');
  const endMs = finite(input.intervalEndMs, 'intervalEndMs');
  if (!(endMs > startMs)) {
    throw new AuditInputError('intervalEndMs', 'must be after intervalStartMs');
  }
  for (const f of ['clusterId', 'operatorVersion', 'namespace', 'name', 'uid'] as const) requireString(input[f], f);
  if (input.tier !== 'premium' && input.tier !== 'eco') throw new AuditInputError('tier', "must be 'premium' or 'eco'");
  requireString(input.variant?.name, 'variant.name');
  finite(input.variant?.quality, 'variant.quality');
  nonNegativeInt(input.replicas?.desired, 'replicas.desired');
  nonNegativeInt(input.replicas?.ready, 'replicas.ready');
  nonNegative(input.replicas?.average, 'replicas.average');
  nonNegativeInt(input.gpusPerReplica, 'gpusPerReplica');
  if (finite(input.pue, 'pue') < 1) throw new AuditInputError('pue', 'must be >= 1');
  checkCarbon(input.carbon);
  if (input.embodied) {
    nonNegative(input.embodied.gPerGpuHour, 'embodied.gPerGpuHour');
    requireString(input.embodied.source, 'embodied.source');
  } else if (input.embodiedGPerGpuHour !== undefined) nonNegative(input.embodiedGPerGpuHour, 'embodiedGPerGpuHour');
  nonNegativeInt(input.requests, 'requests');
  nonNegativeInt(input.inferences, 'inferences');
  if (input.promptTokens !== undefined) nonNegativeInt(input.promptTokens, 'promptTokens');
  if (input.generatedTokens !== undefined) nonNegativeInt(input.generatedTokens, 'generatedTokens');
  checkMeter(input);
  if (input.latencyP50Ms !== undefined) nonNegative(input.latencyP50Ms, 'latencyP50Ms');
  if (input.latencyP95Ms !== undefined) nonNegative(input.latencyP95Ms, 'latencyP95Ms');
  if (input.sloMet !== undefined && typeof input.sloMet !== 'boolean')
    throw new AuditInputError('sloMet', 'must be a boolean when given');
  nonNegative(input.baseline?.replicas, 'baseline.replicas');
  nonNegativeInt(input.baseline?.gpusPerReplica, 'baseline.gpusPerReplica');
  finite(input.degradationBudgetUsed, 'degradationBudgetUsed');
}

/** A fallback reason belongs to an estimated row of a service with a meter, and only there. */
function checkMeter(input: Unchecked<UsageInput>): void {
  if (input.energyMeter !== undefined) requireString(input.energyMeter, 'energyMeter');
  const reason = input.energyFallbackReason;
  if (reason === undefined) {
    if (input.energyMeter !== undefined && !input.measuredEnergy)
      throw new AuditInputError('energyFallbackReason', 'is required when energyMeter is set and energy is estimated');
    return;
  }
  const words = requireString(reason, 'energyFallbackReason');
  if (input.measuredEnergy) throw new AuditInputError('energyFallbackReason', 'must be absent when energy is measured');
  if (input.energyMeter === undefined) throw new AuditInputError('energyFallbackReason', 'needs energyMeter');
  if (words.length > MAX_FALLBACK_REASON)
    throw new AuditInputError('energyFallbackReason', `must be at most ${MAX_FALLBACK_REASON} characters`);
}

/** The embodied factor to count, or null: a factor without a source is counted only when positive. */
function embodiedFactor(input: UsageInput): EmbodiedFactor | null {
  if (input.embodied) return input.embodied;
  const g = input.embodiedGPerGpuHour ?? 0;
  return g > 0 ? { gPerGpuHour: g, source: 'configured' } : null;
}

type EnergyColumns = Pick<
  UsageRecord,
  | 'power_idle_w'
  | 'power_busy_w'
  | 'utilization'
  | 'utilization_method'
  | 'energy_it_kwh'
  | 'energy_method'
  | 'energy_source'
  | 'energy_profile_it_kwh'
>;

function energyColumns(input: UsageInput, replicaSeconds: number): EnergyColumns {
  if (input.measuredEnergy) {
    nonNegative(input.measuredEnergy.kWh, 'measuredEnergy.kWh');
    requireString(input.measuredEnergy.source, 'measuredEnergy.source');
    return {
      power_idle_w: null,
      power_busy_w: null,
      utilization: null,
      utilization_method: null,
      energy_it_kwh: input.measuredEnergy.kWh,
      energy_method: 'measured',
      energy_source: input.measuredEnergy.source,
      energy_profile_it_kwh: input.power ? estimatedEnergyKWh(checkPower(input.power, 'power'), replicaSeconds) : null,
    };
  }
  const power = checkPower(input.power, 'power');
  return {
    power_idle_w: power.idleW,
    power_busy_w: power.busyW,
    utilization: power.utilization,
    utilization_method: oneOf(input.utilizationMethod, METHODS, 'modelled', 'utilizationMethod'),
    energy_it_kwh: estimatedEnergyKWh(power, replicaSeconds),
    energy_method: 'estimated',
    energy_source: 'power-profile',
    energy_profile_it_kwh: null,
  };
}

type CarbonColumns = Pick<
  UsageRecord,
  | 'ci_g_per_kwh'
  | 'ci_unit'
  | 'ci_region'
  | 'ci_provider'
  | 'ci_signal'
  | 'ci_basis'
  | 'ci_data_time'
  | 'ci_data_age_s'
  | 'ci_estimated'
  | 'ci_forecast'
  | 'ci_fallback_level'
  | 'ci_fallback_used'
  | 'ci_missing'
>;

function carbonColumns(c: CarbonReading | MissingCarbonReading, intervalEndMs: number): CarbonColumns {
  const common = { ci_unit: 'gCO2eq/kWh', ci_region: c.region, ci_provider: c.provider };
  const level = c.fallbackLevel ?? 0;
  if (isMissing(c)) {
    return {
      ...common,
      ci_g_per_kwh: null,
      ci_signal: null,
      ci_basis: null,
      ci_data_time: null,
      ci_data_age_s: null,
      ci_estimated: null,
      ci_forecast: null,
      ci_fallback_level: level,
      ci_fallback_used: level > 0,
      ci_missing: true,
    };
  }
  return {
    ...common,
    ci_g_per_kwh: c.valueGPerKWh,
    ci_signal: c.signal,
    ci_basis: c.basis,
    ci_data_time: c.dataTimeMs,
    // Age at the end of the interval: how stale the signal was when the interval was accounted.
    ci_data_age_s: (intervalEndMs - c.dataTimeMs) / 1000,
    ci_estimated: c.estimated,
    ci_forecast: c.forecast,
    ci_fallback_level: level,
    ci_fallback_used: level > 0,
    ci_missing: false,
  };
}

/** Emissions of some facility energy and GPU-hours: operational null without an intensity, embodied null when not counted. */
function emissions(
  facilityKWh: number,
  gpuHours: number,
  ci: number | null,
  emb: EmbodiedFactor | null,
): { operational: number | null; embodied: number | null; total: number | null } {
  const operational = ci === null ? null : operationalEmissionsG(facilityKWh, ci);
  const embodied = emb === null ? null : embodiedEmissionsG(gpuHours, emb.gPerGpuHour);
  return { operational, embodied, total: operational === null ? null : operational + (embodied ?? 0) };
}

/**
 * The counterfactual is the full variant without carbon shaping (carbonscale-sci-4). An interval that ran the full
 * variant was not shaped, so its baseline is what ran (the same replica-time and utilisation): a premium service, or
 * eco on its full variant, saves nothing by construction, not the gap between a modelled replica count and the
 * measured replica-time (a scale-up's pods not yet Ready counted as if they served). A degraded interval keeps the
 * caller's modelled baseline: the replicas the demand alone needs.
 */
function baselineOf(input: UsageInput): UsageInput['baseline'] {
  const b = input.baseline;
  if (!input.variant.isFull) return b;
  // A metered row may carry no power profile: its baseline keeps the caller's modelled utilisation.
  const utilization = input.power?.utilization ?? b.power.utilization;
  return { ...b, replicas: input.replicas.average, power: { ...b.power, utilization } };
}

/** Computes one usage row from the interval's inputs. Throws AuditInputError naming the bad field. */
export function computeUsageRecord(input: UsageInput): UsageRecord {
  checkInput(input);
  const intervalS = (input.intervalEndMs - input.intervalStartMs) / 1000;
  const replicaSeconds = input.replicas.average * intervalS;
  const gpuHours = (replicaSeconds * input.gpusPerReplica) / 3600;
  const energy = energyColumns(input, replicaSeconds);
  const carbon = carbonColumns(input.carbon, input.intervalEndMs);
  const emb = embodiedFactor(input);
  const facility = facilityEnergyKWh(energy.energy_it_kwh, input.pue);
  const own = emissions(facility, gpuHours, carbon.ci_g_per_kwh, emb);

  const b = baselineOf(input);
  const bPower = checkPower(b.power, 'baseline.power');
  const bEnergyIt = estimatedEnergyKWh(bPower, b.replicas * intervalS);
  const bFacility = facilityEnergyKWh(bEnergyIt, input.pue);
  const base = emissions(bFacility, (b.replicas * b.gpusPerReplica * intervalS) / 3600, carbon.ci_g_per_kwh, emb);

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
    replicas_avg_method: oneOf(
      input.replicasAverageMethod,
      ['time_weighted', 'snapshot'],
      'snapshot',
      'replicasAverageMethod',
    ),
    gpus_per_replica: input.gpusPerReplica,
    gpu_model: input.gpuModel ?? null,
    gpu_seconds: replicaSeconds * input.gpusPerReplica,
    gpu_hours: gpuHours,
    ...energy,
    energy_meter: input.energyMeter ?? null,
    energy_fallback_reason: input.energyFallbackReason ?? null,
    energy_facility_kwh: facility,
    pue: input.pue,
    ...carbon,
    operational_co2e_g: own.operational,
    embodied_g_per_gpu_hour: emb ? emb.gPerGpuHour : null,
    embodied_counted: emb !== null,
    embodied_source: emb ? emb.source : null,
    embodied_co2e_g: own.embodied,
    total_co2e_g: own.total,
    requests: input.requests,
    requests_method: oneOf(input.requestsMethod, METHODS, 'modelled', 'requestsMethod'),
    inferences: input.inferences,
    inferences_method: oneOf(input.inferencesMethod, METHODS, 'modelled', 'inferencesMethod'),
    prompt_tokens: input.promptTokens ?? null,
    generated_tokens: input.generatedTokens ?? null,
    latency_p50_ms: input.latencyP50Ms ?? null,
    latency_p95_ms: input.latencyP95Ms ?? null,
    slo_met: input.sloMet ?? null,
    baseline_replicas: b.replicas,
    baseline_gpus_per_replica: b.gpusPerReplica,
    baseline_power_idle_w: bPower.idleW,
    baseline_power_busy_w: bPower.busyW,
    baseline_utilization: bPower.utilization,
    baseline_energy_it_kwh: bEnergyIt,
    baseline_energy_facility_kwh: bFacility,
    baseline_operational_co2e_g: base.operational,
    baseline_embodied_co2e_g: base.embodied,
    baseline_total_co2e_g: base.total,
    savings_co2e_g: base.total === null || own.total === null ? null : base.total - own.total,
    // Never divide by zero: an interval without inferences has no per-inference score.
    sci_g_per_1k_inferences: input.inferences > 0 && own.total !== null ? (own.total / input.inferences) * 1000 : null,
    sci_g_per_1k_tokens: sciPerToken(own.total, input.promptTokens, input.generatedTokens),
    degradation_budget_used: input.degradationBudgetUsed,
  };
}

/** SCI for AI per 1,000 tokens (prompt + generated), null when either count is unknown, both are 0, or no intensity. */
export function sciPerToken(total: number | null, prompt?: number | null, generated?: number | null): number | null {
  if (total === null || prompt === undefined || prompt === null || generated === undefined || generated === null)
    return null;
  const tokens = prompt + generated;
  return tokens > 0 ? (total / tokens) * 1000 : null;
}

/** Stable id: the same service and interval always give the same id, so a replayed interval is deduplicated. */
export function usageRecordId(clusterId: string, uid: string, startMs: number, endMs: number): string {
  return 'u-' + stableId([clusterId, uid, String(startMs), String(endMs)]);
}
