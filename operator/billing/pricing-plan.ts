// The pricing plan (ADR 0500): what a unit of service costs per tier and how eco earns its discount. It is a
// document (Helm values `pricing.plan`, or a YAML/JSON file for the CLI) validated here, field by field, with
// errors that name the field and the value. Every attestation embeds the plan it priced with, and its SHA-256.
import { createHash } from 'node:crypto';
import { load } from 'js-yaml';
import type { PeriodKind } from '../attestation/period.ts';

export const PRICING_PLAN_API_VERSION = 'carbonscale.dev/pricing-plan/v1';

/** per_1k_inferences: the SCI functional unit; per_gpu_hour: capacity held. */
export type PriceBasis = 'per_1k_inferences' | 'per_gpu_hour';
export const PRICE_BASES: readonly PriceBasis[] = ['per_1k_inferences', 'per_gpu_hour'];

export type EcoDiscount =
  | { rule: 'fixed'; percent: number }
  | {
      rule: 'proportional';
      /** Discount of an eco service whose requests were never degraded, percent. */
      basePercent: number;
      /** Discount points added per percentage point of requests served degraded. */
      perDegradedPercent: number;
      /** The discount never exceeds this, percent. */
      capPercent: number;
    };

export interface PricingPlan {
  apiVersion: typeof PRICING_PLAN_API_VERSION;
  /** Identifies the plan on statements (e.g. standard-2026). */
  name: string;
  /** ISO 4217 code, e.g. EUR. */
  currency: string;
  basis: PriceBasis;
  billingPeriod: PeriodKind;
  /** List price of one basis unit per tier, in currency units. */
  prices: { premium: number; eco: number };
  ecoDiscount: EcoDiscount;
}

export class PricingPlanError extends Error {
  readonly field: string;
  constructor(source: string, field: string, problem: string) {
    super(`pricing plan ${source}: ${field} ${problem}`);
    this.name = 'PricingPlanError';
    this.field = field;
  }
}

type Obj = Record<string, unknown>;

/** `prices.eco`; top-level fields are named alone (`basis`, not `(plan).basis`). */
const join = (path: string, key: string): string => (path === '(plan)' ? key : `${path}.${key}`);

function fields(o: unknown, path: string, allowed: readonly string[], source: string): Obj {
  if (!o || typeof o !== 'object' || Array.isArray(o)) throw new PricingPlanError(source, path, 'must be an object');
  for (const k of Object.keys(o))
    if (!allowed.includes(k))
      throw new PricingPlanError(source, join(path, k), `is not a known field (known: ${allowed.join(', ')})`);
  return o as Obj;
}

function percent(o: Obj, key: string, path: string, source: string, max = 100): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > max)
    throw new PricingPlanError(source, join(path, key), `must be a number in 0..${max} (got ${JSON.stringify(v)})`);
  return v;
}

function oneOf<T extends string>(o: Obj, key: string, allowed: readonly T[], path: string, source: string): T {
  const v = o[key];
  if (!allowed.includes(v as T))
    throw new PricingPlanError(
      source,
      join(path, key),
      `must be one of ${allowed.join(', ')} (got ${JSON.stringify(v)})`,
    );
  return v as T;
}

function discountOf(raw: unknown, source: string): EcoDiscount {
  const path = 'ecoDiscount';
  const d = fields(raw, path, ['rule', 'percent', 'basePercent', 'perDegradedPercent', 'capPercent'], source);
  const rule = oneOf(d, 'rule', ['fixed', 'proportional'] as const, path, source);
  if (rule === 'fixed') {
    for (const k of ['basePercent', 'perDegradedPercent', 'capPercent'])
      if (k in d) throw new PricingPlanError(source, join(path, k), 'applies to rule proportional only');
    return { rule, percent: percent(d, 'percent', path, source) };
  }
  if ('percent' in d) throw new PricingPlanError(source, `${path}.percent`, 'applies to rule fixed only');
  const basePercent = percent(d, 'basePercent', path, source);
  const capPercent = percent(d, 'capPercent', path, source);
  if (capPercent < basePercent)
    throw new PricingPlanError(source, `${path}.capPercent`, `must be >= basePercent (${capPercent} < ${basePercent})`);
  // 1,000 points per degraded point is far beyond any sensible plan; the cap applies anyway.
  return { rule, basePercent, perDegradedPercent: percent(d, 'perDegradedPercent', path, source, 1000), capPercent };
}

function priceOf(p: Obj, tier: string, source: string): number {
  const v = p[tier];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
    throw new PricingPlanError(source, `prices.${tier}`, `must be a number >= 0 (got ${JSON.stringify(v)})`);
  return v;
}

/** Validates a parsed plan object; `source` (a file name, "values pricing.plan") is named in errors. */
export function validatePricingPlan(raw: unknown, source: string): PricingPlan {
  const o = fields(
    raw,
    '(plan)',
    ['apiVersion', 'name', 'currency', 'basis', 'billingPeriod', 'prices', 'ecoDiscount'],
    source,
  );
  if (o.apiVersion !== undefined && o.apiVersion !== PRICING_PLAN_API_VERSION)
    throw new PricingPlanError(
      source,
      'apiVersion',
      `must be ${PRICING_PLAN_API_VERSION} (got ${JSON.stringify(o.apiVersion)})`,
    );
  if (typeof o.name !== 'string' || !/^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$/.test(o.name))
    throw new PricingPlanError(
      source,
      'name',
      `must be a DNS-style name, e.g. standard-2026 (got ${JSON.stringify(o.name)})`,
    );
  if (typeof o.currency !== 'string' || !/^[A-Z]{3}$/.test(o.currency))
    throw new PricingPlanError(
      source,
      'currency',
      `must be an ISO 4217 code such as EUR (got ${JSON.stringify(o.currency)})`,
    );
  const prices = fields(o.prices, 'prices', ['premium', 'eco'], source);
  return {
    apiVersion: PRICING_PLAN_API_VERSION,
    name: o.name,
    currency: o.currency,
    basis: oneOf(o, 'basis', PRICE_BASES, '(plan)', source),
    billingPeriod:
      o.billingPeriod === undefined ? 'month' : oneOf(o, 'billingPeriod', ['day', 'month'] as const, '(plan)', source),
    prices: { premium: priceOf(prices, 'premium', source), eco: priceOf(prices, 'eco', source) },
    ecoDiscount: discountOf(o.ecoDiscount, source),
  };
}

/** Parses YAML or JSON text (a file); syntax errors name the line. */
export function parsePricingPlan(text: string, source: string): PricingPlan {
  let raw: unknown;
  try {
    raw = load(text);
  } catch (err) {
    const e = err as { mark?: { line: number }; reason?: string; message: string };
    const line = e.mark ? ` line ${e.mark.line + 1}` : '';
    throw new PricingPlanError(source + line, '(document)', `is not valid YAML/JSON: ${e.reason ?? e.message}`);
  }
  return validatePricingPlan(raw, source);
}

function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Obj)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/** SHA-256 of the plan's canonical JSON (keys sorted, no spaces): the same plan always has the same digest. */
export function pricingPlanDigest(plan: PricingPlan): string {
  return createHash('sha256').update(canonicalJson(plan)).digest('hex');
}
