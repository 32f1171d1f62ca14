import { expect } from 'chai';
import { discountRate } from '../../../operator/billing/discount.ts';
import {
  parsePricingPlan,
  pricingPlanDigest,
  PricingPlanError,
  validatePricingPlan,
  type PricingPlan,
} from '../../../operator/billing/pricing-plan.ts';
import { billingLines } from '../../../operator/billing/tenant-statement.ts';
import type { ServiceTotals, TierUsage } from '../../../operator/attestation/period-totals.ts';

const PLAN_YAML = `
apiVersion: carbonscale.dev/pricing-plan/v1
name: standard-2026
currency: EUR
basis: per_1k_inferences
billingPeriod: month
prices: { premium: 0.50, eco: 0.50 }
ecoDiscount: { rule: proportional, basePercent: 5, perDegradedPercent: 0.5, capPercent: 30 }
`;

function service(tier: string, t: TierUsage): ServiceTotals {
  return {
    namespace: 'team-a',
    name: 'chat',
    uid: 'u1',
    tiers: [tier],
    by_tier: { [tier]: t },
  } as unknown as ServiceTotals;
}

describe('billing: pricing plan and the eco discount rule', () => {
  it('parses the documented plan and gives the same digest for the same plan however it is written', () => {
    const plan = parsePricingPlan(PLAN_YAML, 'plan.yaml');
    expect(plan.ecoDiscount).to.deep.equal({
      rule: 'proportional',
      basePercent: 5,
      perDegradedPercent: 0.5,
      capPercent: 30,
    });
    const json = JSON.stringify({ ...plan, prices: { eco: 0.5, premium: 0.5 } });
    expect(pricingPlanDigest(parsePricingPlan(json, 'plan.json'))).to.equal(pricingPlanDigest(plan));
    expect(pricingPlanDigest({ ...plan, prices: { premium: 0.5, eco: 0.49 } })).to.not.equal(pricingPlanDigest(plan));
  });

  it('computes the worked example of docs/audit.md ("Pricing")', () => {
    const plan = parsePricingPlan(PLAN_YAML, 'plan.yaml');
    // 2,000,000 inferences, 20 % of the requests degraded: 2,000 units × 0.50 = 1,000 EUR, 15 % off.
    const eco = billingLines(
      plan,
      service('eco', { intervals: 1, requests: 1000, degraded_requests: 200, inferences: 2_000_000, gpu_hours: 10 }),
    )[0]!;
    expect(eco).to.include({ units: 2000, gross: 1000, discount_rate: 0.15, discount: 150, net: 850 });
    // 60 % degraded: 5 + 0.5 × 60 = 35 %, capped at 30 %.
    expect(discountRate(plan, 'eco', 0.6)).to.equal(0.3);
    // Never degraded: the base rate; no requests at all: the base rate too.
    expect(discountRate(plan, 'eco', 0)).to.equal(0.05);
    expect(discountRate(plan, 'eco', null)).to.equal(0.05);
    // Premium never gets a discount, whatever was degraded.
    expect(discountRate(plan, 'premium', 0.9)).to.equal(0);
    const fixed: PricingPlan = {
      ...plan,
      basis: 'per_gpu_hour',
      prices: { premium: 4, eco: 3 },
      ecoDiscount: { rule: 'fixed', percent: 10 },
    };
    const gpu = billingLines(
      fixed,
      service('eco', { intervals: 1, requests: 10, degraded_requests: 0, inferences: 0, gpu_hours: 12.5 }),
    )[0]!;
    expect(gpu).to.include({ units: 12.5, unit_price: 3, gross: 37.5, discount_rate: 0.1 });
    expect(gpu.net).to.be.closeTo(33.75, 1e-12);
  });

  it('rejects bad plans naming the field and the value', () => {
    const base = parsePricingPlan(PLAN_YAML, 'plan.yaml') as unknown as Record<string, unknown>;
    const cases: [Record<string, unknown>, string, string][] = [
      [{ ...base, basis: 'per_token' }, 'basis', 'must be one of per_1k_inferences, per_gpu_hour (got "per_token")'],
      [{ ...base, currency: 'euro' }, 'currency', 'must be an ISO 4217 code'],
      [{ ...base, name: 'Bad Name' }, 'name', 'must be a DNS-style name'],
      [{ ...base, prices: { premium: -1, eco: 1 } }, 'prices.premium', 'must be a number >= 0 (got -1)'],
      [{ ...base, prices: { premium: 1 } }, 'prices.eco', 'must be a number >= 0 (got undefined)'],
      [{ ...base, billingPeriod: 'week' }, 'billingPeriod', 'must be one of day, month'],
      [{ ...base, discount: 3 }, 'discount', 'is not a known field'],
      [
        { ...base, ecoDiscount: { rule: 'fixed', percent: 120 } },
        'ecoDiscount.percent',
        'must be a number in 0..100 (got 120)',
      ],
      [
        { ...base, ecoDiscount: { rule: 'fixed', percent: 5, capPercent: 9 } },
        'ecoDiscount.capPercent',
        'applies to rule proportional only',
      ],
      [
        { ...base, ecoDiscount: { rule: 'proportional', basePercent: 20, perDegradedPercent: 1, capPercent: 10 } },
        'ecoDiscount.capPercent',
        'must be >= basePercent (10 < 20)',
      ],
      [
        { ...base, ecoDiscount: { rule: 'proportional', basePercent: 5, capPercent: 10 } },
        'ecoDiscount.perDegradedPercent',
        'must be a number',
      ],
      [{ ...base, ecoDiscount: { rule: 'tiered' } }, 'ecoDiscount.rule', 'must be one of fixed, proportional'],
      [{ ...base, apiVersion: 'v0' }, 'apiVersion', 'must be carbonscale.dev/pricing-plan/v1'],
    ];
    for (const [raw, field, msg] of cases) {
      try {
        validatePricingPlan(raw, 'values pricing.plan');
        expect.fail(`accepted ${JSON.stringify(raw)}`);
      } catch (err) {
        expect(err, field).to.be.instanceOf(PricingPlanError);
        expect((err as PricingPlanError).field).to.equal(field);
        expect((err as Error).message)
          .to.include('pricing plan values pricing.plan')
          .and.include(msg);
      }
    }
    expect(() => parsePricingPlan('name: a\nprices: [1,\n', 'p.yaml')).to.throw(
      PricingPlanError,
      /pricing plan p\.yaml line \d+: \(document\) is not valid YAML/,
    );
  });
});
