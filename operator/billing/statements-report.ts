// Tenant statements for `carbonscale audit report --pricing PLAN`: one per namespace and billing period, read
// from the Parquet rows (operator/attestation/trail.ts), as a text table, CSV, and an HTML section that the report
// page includes (renderTenantStatementsHtml). Billing periods are whole: a statement covers its whole period
// even when --from/--to cut into it, because a discount is earned over the period.
import { nodeAuditFs, type AuditFs } from '../audit/audit-fs.ts';
import { scanPartFiles } from '../audit/part-files.ts';
import { STREAMS } from '../audit/schema.ts';
import { periodsCovering } from '../attestation/period.ts';
import { readPeriodTrail } from '../attestation/trail.ts';
import { pricingPlanDigest, type PricingPlan } from './pricing-plan.ts';
import { tenantStatement, type TenantStatement } from './tenant-statement.ts';

export interface StatementsOptions {
  fromMs?: number;
  toMs?: number;
  namespace?: string;
  fs?: AuditFs;
}

export interface TenantStatements {
  plan: PricingPlan;
  plan_sha256: string;
  statements: TenantStatement[];
}

export async function buildTenantStatements(
  dir: string,
  plan: PricingPlan,
  o: StatementsOptions = {},
): Promise<TenantStatements> {
  const fs = o.fs ?? nodeAuditFs;
  const scan = await scanPartFiles(fs, dir);
  const days = [...new Set(STREAMS.flatMap((k) => scan.parts[k].map((p) => p.day)))];
  const statements: TenantStatement[] = [];
  for (const period of periodsCovering(plan.billingPeriod, days)) {
    if (o.fromMs !== undefined && period.endMs <= o.fromMs) continue;
    if (o.toMs !== undefined && period.startMs >= o.toMs) continue;
    const trail = await readPeriodTrail(dir, period, fs);
    for (const tenant of trail.tenants) {
      if (o.namespace !== undefined && tenant.namespace !== o.namespace) continue;
      statements.push(tenantStatement(plan, period, tenant, trail.services));
    }
  }
  return { plan, plan_sha256: pricingPlanDigest(plan), statements };
}

const money = (v: number): string => v.toFixed(2);
const pct = (v: number | null): string => (v === null ? '-' : `${(v * 100).toFixed(1)}%`);
const n3 = (v: number | null): string => (v === null ? '-' : v.toFixed(3));

export function statementsTable(s: TenantStatements): string {
  const head = [
    'period',
    'tenant',
    'services',
    'requests',
    'degraded',
    'p95 ms',
    'SLO met',
    'budget max',
    'gCO2e',
    'baseline gCO2e',
    'saved gCO2e',
    `gross ${s.plan.currency}`,
    'discount',
    'net',
  ];
  const rows = s.statements.map((t) => [
    t.period.id,
    t.namespace,
    String(t.services),
    String(t.requests),
    pct(t.degraded_request_share),
    n3(t.latency_p95_ms),
    pct(t.slo_met_share),
    pct(t.degradation_budget_used_max),
    n3(t.total_co2e_g),
    n3(t.baseline_total_co2e_g),
    n3(t.savings_co2e_g),
    money(t.gross),
    money(t.discount),
    money(t.net),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padStart(widths[i] as number)).join('  ');
  const rule =
    s.plan.ecoDiscount.rule === 'fixed'
      ? `eco discount fixed ${s.plan.ecoDiscount.percent}%`
      : `eco discount min(${s.plan.ecoDiscount.capPercent}%, ${s.plan.ecoDiscount.basePercent}% + ${s.plan.ecoDiscount.perDegradedPercent} × degraded %)`;
  return [
    `Tenant statements: plan ${s.plan.name} (sha256 ${s.plan_sha256.slice(0, 12)}…), ${s.plan.basis}, ${rule}, per ${s.plan.billingPeriod}`,
    line(head),
    ...rows.map(line),
    '',
  ].join('\n');
}

const CSV_COLUMNS = [
  'period_kind',
  'period',
  'namespace',
  'service',
  'uid',
  'tier',
  'plan',
  'currency',
  'basis',
  'units',
  'unit_price',
  'gross',
  'degraded_request_share',
  'discount_rate',
  'discount',
  'net',
  'requests',
  'inferences',
  'latency_p95_ms',
  'slo_met_share',
  'degradation_budget_used_max',
  'total_co2e_g',
  'baseline_total_co2e_g',
  'savings_co2e_g',
  'energy_facility_kwh',
  'energy_measured_share',
] as const;

const cell = (v: unknown): string =>
  v === null || v === undefined ? '' : /[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v);

/**
 * CSV: one row per billing line (service and tier), then a `*` row per tenant with its totals. Numbers are
 * unrounded (shortest round-trip decimal), so a recomputation can compare them exactly.
 */
export function statementsCsv(s: TenantStatements): string {
  const out: string[] = [CSV_COLUMNS.join(',')];
  for (const t of s.statements) {
    const common = {
      period_kind: t.period.kind,
      period: t.period.id,
      namespace: t.namespace,
      plan: t.plan,
      currency: t.currency,
      basis: s.plan.basis,
    };
    for (const l of t.lines)
      out.push(
        CSV_COLUMNS.map((c) =>
          cell(
            (
              {
                ...common,
                service: l.name,
                uid: l.uid,
                tier: l.tier,
                units: l.units,
                unit_price: l.unit_price,
                gross: l.gross,
                degraded_request_share: l.degraded_request_share,
                discount_rate: l.discount_rate,
                discount: l.discount,
                net: l.net,
              } as Record<string, unknown>
            )[c],
          ),
        ).join(','),
      );
    const total: Record<string, unknown> = {
      ...common,
      service: '*',
      uid: '*',
      tier: '*',
      gross: t.gross,
      discount: t.discount,
      net: t.net,
      degraded_request_share: t.degraded_request_share,
      requests: t.requests,
      inferences: t.inferences,
      latency_p95_ms: t.latency_p95_ms,
      slo_met_share: t.slo_met_share,
      degradation_budget_used_max: t.degradation_budget_used_max,
      total_co2e_g: t.total_co2e_g,
      baseline_total_co2e_g: t.baseline_total_co2e_g,
      savings_co2e_g: t.savings_co2e_g,
      energy_facility_kwh: t.energy_facility_kwh,
      energy_measured_share: t.energy_measured_share,
    };
    out.push(CSV_COLUMNS.map((c) => cell(total[c])).join(','));
  }
  return out.join('\n') + '\n';
}

const esc = (v: string): string =>
  v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const td = (key: string, v: number | null, text: string): string =>
  `<td class="num" data-metric="${key}" data-value="${v ?? ''}">${esc(text)}</td>`;

/** The tenant statements as an HTML section (no scripts; exact values in data-value), for the report page. */
export function renderTenantStatementsHtml(s: TenantStatements): string {
  const rows = s.statements.map(
    (t) =>
      `<tr data-tenant="${esc(t.namespace)}" data-period="${esc(t.period.id)}"><td>${esc(t.period.id)}</td><td>${esc(t.namespace)}</td>${td('services', t.services, String(t.services))}${td('requests', t.requests, String(t.requests))}${td('degraded_request_share', t.degraded_request_share, pct(t.degraded_request_share))}${td('latency_p95_ms', t.latency_p95_ms, n3(t.latency_p95_ms))}${td('slo_met_share', t.slo_met_share, pct(t.slo_met_share))}${td('total_co2e_g', t.total_co2e_g, n3(t.total_co2e_g))}${td('baseline_total_co2e_g', t.baseline_total_co2e_g, n3(t.baseline_total_co2e_g))}${td('savings_co2e_g', t.savings_co2e_g, n3(t.savings_co2e_g))}${td('gross', t.gross, money(t.gross))}${td('discount', t.discount, money(t.discount))}${td('net', t.net, money(t.net))}</tr>`,
  );
  return `<section id="tenant-statements"><h2>Tenant statements (${esc(s.plan.name)}, ${esc(s.plan.currency)}, ${esc(s.plan.basis)}, per ${esc(s.plan.billingPeriod)})</h2>
<p>Discounts follow the plan's eco rule (docs/audit.md, "Pricing"); premium gets none. Emissions are location-based gCO2e; intervals without an intensity are not summed. Plan sha256 <code>${esc(s.plan_sha256)}</code>.</p>
<table><thead><tr><th>period</th><th>tenant</th><th>services</th><th>requests</th><th>degraded</th><th>p95 ms</th><th>SLO met</th><th>gCO2e</th><th>baseline gCO2e</th><th>saved gCO2e</th><th>gross</th><th>discount</th><th>net</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table></section>\n`;
}
