// Billing lines and tenant statements (ADR 0500). A line prices one service's use of one tier in a billing
// period; a tenant (namespace) statement adds its lines and says what the tenant received (requests, share
// degraded, p95 latency, SLO, budget) and emitted against the baseline. Pure: totals and a plan in, numbers out;
// every number is recomputable from the Parquet rows with the formulas in docs/audit.md ("Pricing").
import type { ServiceTotals, TierUsage } from '../attestation/period-totals.ts';
import type { Period } from '../attestation/period.ts';
import { discountRate } from './discount.ts';
import type { PricingPlan } from './pricing-plan.ts';

export interface BillingLine {
  namespace: string;
  name: string;
  uid: string;
  tier: string;
  basis: PricingPlan['basis'];
  /** Basis units used: inferences / 1000, or GPU-hours. */
  units: number;
  unit_price: number;
  /** units × unit_price (currency units, unrounded). */
  gross: number;
  degraded_request_share: number | null;
  /** 0..1, from the eco discount rule (0 for premium). */
  discount_rate: number;
  /** gross × discount_rate. */
  discount: number;
  /** gross − discount. */
  net: number;
}

export function unitsOf(plan: PricingPlan, t: TierUsage): number {
  return plan.basis === 'per_1k_inferences' ? t.inferences / 1000 : t.gpu_hours;
}

/** One line per tier the service used in the period (normally one), tiers in name order. */
export function billingLines(plan: PricingPlan, s: ServiceTotals): BillingLine[] {
  return s.tiers.map((tier) => {
    const t = s.by_tier[tier] as TierUsage;
    const units = unitsOf(plan, t);
    const unitPrice = tier === 'eco' ? plan.prices.eco : plan.prices.premium;
    const gross = units * unitPrice;
    const share = t.requests > 0 ? t.degraded_requests / t.requests : null;
    const rate = discountRate(plan, tier, share);
    const discount = gross * rate;
    return {
      namespace: s.namespace,
      name: s.name,
      uid: s.uid,
      tier,
      basis: plan.basis,
      units,
      unit_price: unitPrice,
      gross,
      degraded_request_share: share,
      discount_rate: rate,
      discount,
      net: gross - discount,
    };
  });
}

export interface TenantStatement {
  namespace: string;
  period: { kind: Period['kind']; id: string; start: string; end: string };
  plan: string;
  currency: string;
  services: number;
  /** What the tenant received. */
  requests: number;
  inferences: number;
  degraded_request_share: number | null;
  latency_p95_ms: number | null;
  slo_met_share: number | null;
  degradation_budget_used_max: number;
  /** What it emitted against the baseline (gCO2e, location-based; intervals without intensity not summed). */
  total_co2e_g: number;
  baseline_total_co2e_g: number;
  savings_co2e_g: number;
  ci_missing_intervals: number;
  energy_facility_kwh: number;
  energy_measured_share: number;
  /** What it pays: sums of its lines (unrounded; an invoice rounds the total to the currency's minor unit). */
  gross: number;
  discount: number;
  net: number;
  lines: BillingLine[];
}

/**
 * The tenant's statement: `tenant` holds the totals of all its services' rows together (a collector grouped by
 * tenant, so its p95 and shares are over all its intervals), `services` each service's totals (for the lines).
 */
export function tenantStatement(
  plan: PricingPlan,
  period: Period,
  tenant: ServiceTotals,
  services: readonly ServiceTotals[],
): TenantStatement {
  const lines = services.filter((s) => s.namespace === tenant.namespace).flatMap((s) => billingLines(plan, s));
  let gross = 0;
  let discount = 0;
  let net = 0;
  for (const l of lines) {
    gross += l.gross;
    discount += l.discount;
    net += l.net;
  }
  return {
    namespace: tenant.namespace,
    period: {
      kind: period.kind,
      id: period.id,
      start: new Date(period.startMs).toISOString(),
      end: new Date(period.endMs).toISOString(),
    },
    plan: plan.name,
    currency: plan.currency,
    services: new Set(lines.map((l) => l.uid)).size,
    requests: tenant.requests,
    inferences: tenant.inferences,
    degraded_request_share: tenant.degraded_request_share,
    latency_p95_ms: tenant.latency_p95_ms,
    slo_met_share: tenant.slo_met_share,
    degradation_budget_used_max: tenant.degradation_budget_used_max,
    total_co2e_g: tenant.total_co2e_g,
    baseline_total_co2e_g: tenant.baseline_total_co2e_g,
    savings_co2e_g: tenant.savings_co2e_g,
    ci_missing_intervals: tenant.ci_missing_intervals,
    energy_facility_kwh: tenant.energy_facility_kwh,
    energy_measured_share: tenant.energy_measured_share,
    gross,
    discount,
    net,
    lines,
  };
}
