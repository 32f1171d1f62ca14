// The eco discount rule (ADR 0500, docs/audit.md "Pricing"). Premium never gets a discount: it always gets
// the full model. Eco gets either a fixed rate, or a rate that grows with the degradation actually delivered:
//   rate = min(capPercent, basePercent + perDegradedPercent × 100 × degraded_request_share) / 100
// where degraded_request_share = requests served by a non-full variant / requests (0 when there were none).
import type { PricingPlan } from './pricing-plan.ts';

export function discountRate(plan: PricingPlan, tier: string, degradedRequestShare: number | null): number {
  if (tier !== 'eco') return 0;
  const d = plan.ecoDiscount;
  if (d.rule === 'fixed') return d.percent / 100;
  const degradedPercent = (degradedRequestShare ?? 0) * 100;
  return Math.min(d.capPercent, d.basePercent + d.perDegradedPercent * degradedPercent) / 100;
}
