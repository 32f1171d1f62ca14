// Totals of one service over one period, from its usage rows (docs/audit.md, "Attestations"): the numbers an
// attestation's predicate carries and `audit verify --attestations` recomputes. Pure: rows in, totals out.
// Sums run in stream_seq order (the caller feeds rows in that order) so a recomputation gives the same doubles.
// Unknown values (no intensity: emissions; embodied not counted) add nothing and are counted instead.
import type { Row } from '../audit/schema.ts';

/** What a tier of the service used in the period: the billing inputs (operator/billing/). */
export interface TierUsage {
  intervals: number;
  requests: number;
  /** Requests served by a variant that is not the full model (variant_is_full = false). */
  degraded_requests: number;
  inferences: number;
  gpu_hours: number;
}

export interface ServiceTotals {
  cluster_id: string;
  namespace: string;
  name: string;
  uid: string;
  /** Tiers seen in the period's rows, sorted (normally one). */
  tiers: string[];
  by_tier: Record<string, TierUsage>;
  methodology_versions: string[];
  intervals: number;
  first_interval_start: string;
  last_interval_end: string;
  energy_it_kwh: number;
  energy_facility_kwh: number;
  /** Facility kWh of rows with energy_method = measured (meter readings). */
  energy_measured_facility_kwh: number;
  /** Facility kWh of rows with energy_method = estimated (power profile model). */
  energy_estimated_facility_kwh: number;
  /** measured / facility kWh; 0 when nothing is measured (or there is no energy). */
  energy_measured_share: number;
  gpu_hours: number;
  operational_co2e_g: number;
  /** Operational emissions of the rows whose energy was measured. */
  operational_co2e_g_measured_energy: number;
  embodied_co2e_g: number;
  total_co2e_g: number;
  baseline_total_co2e_g: number;
  savings_co2e_g: number;
  /** Rows without an intensity (ci_missing): their energy is above, their emissions are unknown and not summed. */
  ci_missing_intervals: number;
  energy_facility_kwh_without_intensity: number;
  embodied_not_counted_intervals: number;
  ci_signal_counts: Record<string, number>;
  ci_basis_counts: Record<string, number>;
  requests: number;
  requests_measured: number;
  requests_modelled: number;
  inferences: number;
  inferences_measured: number;
  inferences_modelled: number;
  /** Σ total_co2e_g / Σ inferences of the rows with known emissions × 1000; null without such inferences. */
  sci_g_per_1k_inferences: number | null;
  /** Rows whose runtime counted tokens (prompt_tokens and generated_tokens not null; schema 2.1.0). */
  token_intervals: number;
  /** Σ prompt_tokens / Σ generated_tokens of those rows; null when no row counted tokens. */
  prompt_tokens: number | null;
  generated_tokens: number | null;
  /** Σ total_co2e_g / Σ (prompt + generated) tokens of the rows with known emissions and tokens × 1000 (SCI for
   * AI, per token); null without such tokens. */
  sci_g_per_1k_tokens: number | null;
  degraded_requests: number;
  /** degraded_requests / requests; null without requests. */
  degraded_request_share: number | null;
  /** Request-weighted 95th percentile of the rows' latency_p95_ms (see latencyP95Of); null when none is known. */
  latency_p95_ms: number | null;
  latency_known_intervals: number;
  slo_met_intervals: number;
  slo_missed_intervals: number;
  slo_unknown_intervals: number;
  /** slo_met / (slo_met + slo_missed); null when no interval knows. */
  slo_met_share: number | null;
  degradation_budget_used_max: number;
  /** degradation_budget_used of the period's last interval (by interval_start). */
  degradation_budget_used_last: number;
}

type Acc = Omit<
  ServiceTotals,
  | 'tiers'
  | 'methodology_versions'
  | 'first_interval_start'
  | 'last_interval_end'
  | 'energy_measured_share'
  | 'sci_g_per_1k_inferences'
  | 'prompt_tokens'
  | 'generated_tokens'
  | 'sci_g_per_1k_tokens'
  | 'degraded_request_share'
  | 'latency_p95_ms'
  | 'slo_met_share'
> & {
  tierSet: Set<string>;
  methodologies: Set<string>;
  firstStart: number;
  lastEnd: number;
  lastStart: number;
  knownTotalInferences: number;
  latencies: [number, number][];
  prompt: number;
  generated: number;
  tokenTotalG: number;
  knownTokens: number;
};

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const known = (v: unknown): boolean => v !== null && v !== undefined;

function newAcc(r: Row, groupBy: GroupBy): Acc {
  return {
    cluster_id: String(r.cluster_id),
    namespace: String(r.namespace),
    name: groupBy === 'service' ? String(r.name) : '*',
    uid: groupBy === 'service' ? String(r.uid) : '*',
    by_tier: {},
    tierSet: new Set(),
    methodologies: new Set(),
    intervals: 0,
    firstStart: Infinity,
    lastEnd: -Infinity,
    lastStart: -Infinity,
    energy_it_kwh: 0,
    energy_facility_kwh: 0,
    energy_measured_facility_kwh: 0,
    energy_estimated_facility_kwh: 0,
    gpu_hours: 0,
    operational_co2e_g: 0,
    operational_co2e_g_measured_energy: 0,
    embodied_co2e_g: 0,
    total_co2e_g: 0,
    baseline_total_co2e_g: 0,
    savings_co2e_g: 0,
    ci_missing_intervals: 0,
    energy_facility_kwh_without_intensity: 0,
    embodied_not_counted_intervals: 0,
    ci_signal_counts: {},
    ci_basis_counts: {},
    requests: 0,
    requests_measured: 0,
    requests_modelled: 0,
    inferences: 0,
    inferences_measured: 0,
    inferences_modelled: 0,
    knownTotalInferences: 0,
    token_intervals: 0,
    prompt: 0,
    generated: 0,
    tokenTotalG: 0,
    knownTokens: 0,
    degraded_requests: 0,
    latency_known_intervals: 0,
    latencies: [],
    slo_met_intervals: 0,
    slo_missed_intervals: 0,
    slo_unknown_intervals: 0,
    degradation_budget_used_max: 0,
    degradation_budget_used_last: 0,
  };
}

function addTier(a: Acc, r: Row): void {
  const tier = String(r.tier);
  a.tierSet.add(tier);
  const t = (a.by_tier[tier] ??= { intervals: 0, requests: 0, degraded_requests: 0, inferences: 0, gpu_hours: 0 });
  t.intervals++;
  t.requests += Number(r.requests);
  if (r.variant_is_full === false) t.degraded_requests += Number(r.requests);
  t.inferences += Number(r.inferences);
  t.gpu_hours += Number(r.gpu_hours);
}

function addEnergyAndEmissions(a: Acc, r: Row): void {
  const facility = Number(r.energy_facility_kwh);
  a.energy_it_kwh += Number(r.energy_it_kwh);
  a.energy_facility_kwh += facility;
  const measured = r.energy_method === 'measured';
  if (measured) a.energy_measured_facility_kwh += facility;
  else a.energy_estimated_facility_kwh += facility;
  a.gpu_hours += Number(r.gpu_hours);
  a.operational_co2e_g += num(r.operational_co2e_g);
  if (measured) a.operational_co2e_g_measured_energy += num(r.operational_co2e_g);
  a.embodied_co2e_g += num(r.embodied_co2e_g);
  a.total_co2e_g += num(r.total_co2e_g);
  a.baseline_total_co2e_g += num(r.baseline_total_co2e_g);
  a.savings_co2e_g += num(r.savings_co2e_g);
  if (r.ci_missing === true || !known(r.ci_g_per_kwh)) {
    a.ci_missing_intervals++;
    a.energy_facility_kwh_without_intensity += facility;
  } else {
    const signal = String(r.ci_signal);
    const basis = String(r.ci_basis);
    a.ci_signal_counts[signal] = (a.ci_signal_counts[signal] ?? 0) + 1;
    a.ci_basis_counts[basis] = (a.ci_basis_counts[basis] ?? 0) + 1;
  }
  // Schema 1.0.0 rows have no embodied_counted column: their factor was counted as written.
  if (r.embodied_counted === false) a.embodied_not_counted_intervals++;
}

function addServed(a: Acc, r: Row): void {
  const requests = Number(r.requests);
  const inferences = Number(r.inferences);
  a.requests += requests;
  // Rows before schema 2.0.0 carry no method: their counts were the demand rate × the interval (modelled).
  if (r.requests_method === 'measured') a.requests_measured += requests;
  else a.requests_modelled += requests;
  a.inferences += inferences;
  if (r.inferences_method === 'measured') a.inferences_measured += inferences;
  else a.inferences_modelled += inferences;
  if (known(r.total_co2e_g)) a.knownTotalInferences += inferences;
  if (known(r.prompt_tokens) && known(r.generated_tokens)) {
    const tokens = Number(r.prompt_tokens) + Number(r.generated_tokens);
    a.token_intervals++;
    a.prompt += Number(r.prompt_tokens);
    a.generated += Number(r.generated_tokens);
    if (known(r.total_co2e_g)) {
      a.knownTokens += tokens;
      a.tokenTotalG += Number(r.total_co2e_g);
    }
  }
  if (r.variant_is_full === false) a.degraded_requests += requests;
  if (known(r.latency_p95_ms)) {
    a.latency_known_intervals++;
    a.latencies.push([Number(r.latency_p95_ms), requests]);
  }
  if (r.slo_met === true) a.slo_met_intervals++;
  else if (r.slo_met === false) a.slo_missed_intervals++;
  else a.slo_unknown_intervals++;
  const budget = Number(r.degradation_budget_used);
  if (budget > a.degradation_budget_used_max) a.degradation_budget_used_max = budget;
  const start = Number(r.interval_start);
  if (start >= a.lastStart) {
    a.lastStart = start;
    a.degradation_budget_used_last = budget;
  }
}

/**
 * Request-weighted 95th percentile of per-interval p95 latencies: sort the intervals by latency_p95_ms, and take
 * the smallest value at which the intervals at or below it served at least 95 % of their requests. The rows do
 * not carry single requests' latencies, so this is a percentile of interval p95s, not of requests. Null when no
 * interval has a latency or they served no requests.
 */
export function latencyP95Of(latencies: readonly (readonly [number, number])[]): number | null {
  const sorted = [...latencies].sort((x, y) => x[0] - y[0]);
  let total = 0;
  for (const [, n] of sorted) total += n;
  if (total <= 0) return null;
  let cum = 0;
  for (const [ms, n] of sorted) {
    cum += n;
    if (cum >= 0.95 * total) return ms;
  }
  return sorted[sorted.length - 1]?.[0] ?? null;
}

function finish(a: Acc): ServiceTotals {
  const { tierSet, methodologies, firstStart, lastEnd, lastStart: _ls, knownTotalInferences, latencies, ...acc } = a;
  const { prompt, generated, tokenTotalG, knownTokens, ...rest } = acc;
  const decided = a.slo_met_intervals + a.slo_missed_intervals;
  return {
    ...rest,
    tiers: [...tierSet].sort(),
    methodology_versions: [...methodologies].sort(),
    first_interval_start: new Date(firstStart).toISOString(),
    last_interval_end: new Date(lastEnd).toISOString(),
    energy_measured_share: a.energy_facility_kwh > 0 ? a.energy_measured_facility_kwh / a.energy_facility_kwh : 0,
    sci_g_per_1k_inferences: knownTotalInferences > 0 ? (a.total_co2e_g / knownTotalInferences) * 1000 : null,
    prompt_tokens: a.token_intervals > 0 ? prompt : null,
    generated_tokens: a.token_intervals > 0 ? generated : null,
    sci_g_per_1k_tokens: knownTokens > 0 ? (tokenTotalG / knownTokens) * 1000 : null,
    degraded_request_share: a.requests > 0 ? a.degraded_requests / a.requests : null,
    latency_p95_ms: latencyP95Of(latencies),
    slo_met_share: decided > 0 ? a.slo_met_intervals / decided : null,
  };
}

/** service: one total per InferenceService (uid); tenant: one per namespace (name and uid are `*`). */
export type GroupBy = 'service' | 'tenant';

/** Accumulates usage rows of many services (or tenants) for one period. */
export class PeriodTotalsCollector {
  private readonly accs = new Map<string, Acc>();
  private readonly startMs: number;
  private readonly endMs: number;
  private readonly groupBy: GroupBy;

  constructor(startMs: number, endMs: number, groupBy: GroupBy = 'service') {
    this.startMs = startMs;
    this.endMs = endMs;
    this.groupBy = groupBy;
  }

  /** Adds a usage row if its interval starts in the period (the row's day partition is its interval_start). */
  add(r: Row): void {
    const start = Number(r.interval_start);
    if (start < this.startMs || start >= this.endMs) return;
    const key = this.groupBy === 'service' ? String(r.uid) : String(r.namespace);
    let a = this.accs.get(key);
    if (!a) this.accs.set(key, (a = newAcc(r, this.groupBy)));
    a.intervals++;
    a.methodologies.add(String(r.methodology_version));
    if (start < a.firstStart) a.firstStart = start;
    if (Number(r.interval_end) > a.lastEnd) a.lastEnd = Number(r.interval_end);
    addTier(a, r);
    addEnergyAndEmissions(a, r);
    addServed(a, r);
  }

  /** Totals per service, sorted by namespace, name, uid. */
  totals(): ServiceTotals[] {
    return [...this.accs.values()]
      .map(finish)
      .sort(
        (x, y) => x.namespace.localeCompare(y.namespace) || x.name.localeCompare(y.name) || x.uid.localeCompare(y.uid),
      );
  }
}
