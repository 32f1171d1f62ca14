// The predicate of an inference-emissions attestation (predicateType PREDICATE_TYPE; docs/audit.md,
// "Attestations", documents every field). Built from the period's totals, chain heads and billing lines; the
// verifier builds it again from the rows and compares every field. Only `issued_at`, `issuer`, the declared SLO
// target and the embedded pricing plan are taken from the statement itself (they are not in the rows).
import type { BillingLine } from '../billing/tenant-statement.ts';
import type { PricingPlan } from '../billing/pricing-plan.ts';
import type { Period } from './period.ts';
import type { ServiceTotals } from './period-totals.ts';
import type { DayHead } from './trail.ts';

export const PREDICATE_TYPE = 'https://carbonscale.dev/attestation/inference-emissions/v1';
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const HASH_SCHEME = 'sha256-canonical-v1';

/** What no methodology's rows carry: outside the service, or the provider's. */
const EXCLUDED_BY_EVERY_METHODOLOGY = [
  {
    item: 'Kubernetes control plane, networking, storage and clients',
    reason: 'outside the service; not metered per service',
  },
  { item: 'idle capacity not held by the service', reason: 'belongs to the provider, not to this consumer' },
  {
    item: 'model training and fine-tuning',
    reason: 'the provider perspective; reported separately (SCI for AI 9.1)',
  },
] as const;

/** SCI for AI (Green Software Foundation) boundary of these numbers: what is in, what is out and why. Rows of
 * methodology carbonscale-sci-2 and before (no meters, no token counts): kept as it was, so their envelopes verify. */
export const BOUNDARY = {
  perspective: 'consumer',
  standard: 'SCI for AI (Green Software Foundation); SCI ISO/IEC 21031:2024',
  included: [
    'inference: the GPUs of the replicas serving the service (estimated from measured power profiles, or metered), scaled by the facility PUE',
    'embodied emissions of those GPUs, amortised per GPU-hour, where embodied_counted is true',
  ],
  excluded: [
    {
      item: 'orchestration, scaling and monitoring (the carbonscale operator pod, Prometheus)',
      reason:
        'not accounted yet: no rows carry it (issue 14 section 4); SCI for AI 6.1 puts it inside the consumer boundary, so these totals understate it',
    },
    ...EXCLUDED_BY_EVERY_METHODOLOGY,
  ],
} as const;

/** The boundary of rows of methodology carbonscale-sci-3 (docs/audit.md, "SCI for AI"): metered energy where a
 * meter covers an interval; the operator's own footprint declared excluded, with its reason and its measure. */
export const BOUNDARY_SCI_3 = {
  perspective: 'consumer',
  standard: 'SCI for AI (Green Software Foundation); SCI ISO/IEC 21031:2024',
  included: [
    "inference: the service's replicas, metered where energy_method is measured (kepler: the pods' CPU and GPU energy; dcgm: the GPUs the pods hold; model-server: the GPUs through NVML), else estimated from the variant's measured power profile; scaled by the facility PUE",
    'embodied emissions of the GPUs, amortised per GPU-hour, where embodied_counted is true',
  ],
  excluded: [
    {
      item: 'orchestration, scaling and monitoring (the carbonscale operator pod, Prometheus, the meters)',
      reason:
        'shared by every service of the cluster and not metered per service, so no row carries it; SCI for AI 6.1 puts it inside the consumer boundary, so these totals understate it by the share docs/audit.md ("SCI for AI") measures for the operator',
    },
    ...EXCLUDED_BY_EVERY_METHODOLOGY,
  ],
} as const;

/** The boundary the rows' methodology declares: the newest methodology among them decides. */
export function boundaryOf(methodologyVersions: readonly string[]): typeof BOUNDARY | typeof BOUNDARY_SCI_3 {
  return methodologyVersions.some((v) => /^carbonscale-sci-([3-9]|\d{2,})$/.test(v)) ? BOUNDARY_SCI_3 : BOUNDARY;
}

/** SCI for AI 8.1: per token for an LLM (the rows count tokens), per inference for a classical model. */
function functionalUnit(t: ServiceTotals): Record<string, unknown> {
  return {
    unit: t.token_intervals > 0 ? 'token' : 'inference',
    per: 1000,
    prompt_tokens: t.prompt_tokens,
    generated_tokens: t.generated_tokens,
    sci_g_per_1k_tokens: t.sci_g_per_1k_tokens,
  };
}

export interface PredicateDeclared {
  /** When the statement was made (ISO 8601 UTC). */
  issued_at: string;
  issuer: { tool: 'carbonscale'; version: string };
  /** The service's declared latency SLO (spec.slo.latencyP95Ms) when the attestor knew it; not in the rows. */
  slo_latency_p95_ms: number | null;
  plan: PricingPlan | null;
  plan_sha256: string | null;
}

export interface PredicateInput extends PredicateDeclared {
  period: Period;
  totals: ServiceTotals;
  heads: readonly DayHead[];
  lines: readonly BillingLine[] | null;
}

function intensityBasis(t: ServiceTotals): string {
  const marginal = t.ci_signal_counts.marginal ?? 0;
  if (marginal === 0) return 'location-based';
  // GHG Protocol Scope 2: a marginal signal is not a location-based figure and must not be mixed in silently.
  return 'mixed: includes marginal-signal intervals, not a Scope 2 location-based total';
}

function quality(t: ServiceTotals, sloTarget: number | null): Record<string, unknown> {
  return {
    degraded_requests: t.degraded_requests,
    degraded_request_share: t.degraded_request_share,
    latency_p95_ms: t.latency_p95_ms,
    latency_p95_basis: 'request-weighted 95th percentile of the intervals latency_p95_ms (docs/audit.md)',
    latency_known_intervals: t.latency_known_intervals,
    slo_latency_p95_ms: sloTarget,
    slo_latency_p95_ms_basis:
      sloTarget === null ? 'unknown to the attestor' : 'declared (spec.slo.latencyP95Ms), not in the rows',
    slo_met_intervals: t.slo_met_intervals,
    slo_missed_intervals: t.slo_missed_intervals,
    slo_unknown_intervals: t.slo_unknown_intervals,
    slo_met_share: t.slo_met_share,
    degradation_budget_used_max: t.degradation_budget_used_max,
    degradation_budget_used_last: t.degradation_budget_used_last,
  };
}

function totals(t: ServiceTotals): Record<string, unknown> {
  return {
    intervals: t.intervals,
    first_interval_start: t.first_interval_start,
    last_interval_end: t.last_interval_end,
    energy_it_kwh: t.energy_it_kwh,
    energy_facility_kwh: t.energy_facility_kwh,
    energy_measured_share: t.energy_measured_share,
    gpu_hours: t.gpu_hours,
    operational_co2e_g: t.operational_co2e_g,
    embodied_co2e_g: t.embodied_co2e_g,
    total_co2e_g: t.total_co2e_g,
    baseline_total_co2e_g: t.baseline_total_co2e_g,
    savings_co2e_g: t.savings_co2e_g,
    requests: t.requests,
    inferences: t.inferences,
    sci_g_per_1k_inferences: t.sci_g_per_1k_inferences,
    ci_missing_intervals: t.ci_missing_intervals,
    energy_facility_kwh_without_intensity: t.energy_facility_kwh_without_intensity,
    embodied_not_counted_intervals: t.embodied_not_counted_intervals,
  };
}

/** How each number was obtained: measured (a meter or counter), estimated (a power model) or modelled. */
function provenance(t: ServiceTotals): Record<string, unknown> {
  return {
    energy_facility_kwh: {
      measured: t.energy_measured_facility_kwh,
      estimated: t.energy_estimated_facility_kwh,
    },
    operational_co2e_g: {
      from_measured_energy: t.operational_co2e_g_measured_energy,
      from_estimated_energy: t.operational_co2e_g - t.operational_co2e_g_measured_energy,
      intensity: 'reported by the carbon provider (grid average, location-based)',
    },
    embodied_co2e_g: 'modelled: GPU-hours × a configured amortised factor (embodied_source in the rows)',
    baseline_total_co2e_g: 'modelled: the full variant at demand-only replicas (counterfactual)',
    requests: { measured: t.requests_measured, modelled: t.requests_modelled },
    inferences: { measured: t.inferences_measured, modelled: t.inferences_modelled },
  };
}

export function buildPredicate(i: PredicateInput): Record<string, unknown> {
  const t = i.totals;
  return {
    period: {
      kind: i.period.kind,
      id: i.period.id,
      start: new Date(i.period.startMs).toISOString(),
      end: new Date(i.period.endMs).toISOString(),
    },
    service: { cluster_id: t.cluster_id, namespace: t.namespace, name: t.name, uid: t.uid, tiers: t.tiers },
    issued_at: i.issued_at,
    issuer: i.issuer,
    methodology: {
      versions: t.methodology_versions,
      formulas: 'docs/audit.md, "Methodology" and "Attestations"',
      intensity_basis: intensityBasis(t),
      ci_signal_counts: t.ci_signal_counts,
      ci_basis_counts: t.ci_basis_counts,
    },
    boundary: boundaryOf(t.methodology_versions),
    functional_unit: functionalUnit(t),
    totals: totals(t),
    provenance: provenance(t),
    quality: quality(t, i.slo_latency_p95_ms),
    chain: { hash_scheme: HASH_SCHEME, days: i.heads },
    billing:
      i.plan === null
        ? null
        : { plan: i.plan, plan_sha256: i.plan_sha256, currency: i.plan.currency, lines: i.lines ?? [] },
  };
}

/** The fields of a predicate that are declared by the attestor rather than recomputed from rows. */
export function declaredOf(predicate: Record<string, unknown>): PredicateDeclared {
  const q = (predicate.quality ?? {}) as Record<string, unknown>;
  const b = predicate.billing as { plan?: PricingPlan; plan_sha256?: string } | null | undefined;
  return {
    issued_at: String(predicate.issued_at),
    issuer: predicate.issuer as PredicateDeclared['issuer'],
    slo_latency_p95_ms: typeof q.slo_latency_p95_ms === 'number' ? q.slo_latency_p95_ms : null,
    plan: b?.plan ?? null,
    plan_sha256: b?.plan_sha256 ?? null,
  };
}

export interface Subject {
  name: string;
  digest: { sha256: string };
}

export interface Statement {
  _type: typeof STATEMENT_TYPE;
  subject: Subject[];
  predicateType: typeof PREDICATE_TYPE;
  predicate: Record<string, unknown>;
}

export function buildStatement(subjects: readonly Subject[], predicate: Record<string, unknown>): Statement {
  return { _type: STATEMENT_TYPE, subject: [...subjects], predicateType: PREDICATE_TYPE, predicate };
}
