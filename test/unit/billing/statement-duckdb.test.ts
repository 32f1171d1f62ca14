// The tenant statement with its discount, recomputed by DuckDB from the Parquet files alone with the formulas of
// docs/audit.md ("Pricing"), equals the report's numbers (buildTenantStatements, and the CSV) to 1e-9.
import { expect } from 'chai';
import { rm } from 'node:fs/promises';
import { buildTenantStatements, statementsCsv } from '../../../operator/billing/statements-report.ts';
import { parsePricingPlan } from '../../../operator/billing/pricing-plan.ts';
import { python } from '../../fixtures/audit/python.ts';
import { writeTrail, type Trail } from '../attestation/trail-fixture.ts';

const PLAN = parsePricingPlan(
  `name: standard-2026
currency: EUR
basis: per_1k_inferences
billingPeriod: month
prices: { premium: 0.62, eco: 0.55 }
ecoDiscount: { rule: proportional, basePercent: 5, perDegradedPercent: 0.5, capPercent: 30 }`,
  'test plan',
);

// Only the Parquet files and the plan's parameters: no project code.
const DUCKDB = `
import duckdb, json, sys
d, price_p, price_e, base, per, cap = sys.argv[1], *map(float, sys.argv[2:7])
con = duckdb.connect()
con.execute(f"""create view u as select * from read_parquet('{d}/stream=usage/*/*.parquet', hive_partitioning = true)
  where interval_start >= TIMESTAMP '2023-01-01' and interval_start < TIMESTAMP '2023-02-01'""")
lines = con.execute(f"""
  with l as (select namespace, uid, tier, sum(inferences) / 1000.0 as units, sum(requests) as req,
               sum(case when variant_is_full then 0 else requests end) as deg from u group by all),
       r as (select *, units * (case when tier = 'eco' then {price_e} else {price_p} end) as gross,
               case when tier = 'eco' then least({cap}, {base} + {per} * 100.0 * (case when req > 0 then deg / req else 0 end)) / 100.0
                    else 0 end as rate from l)
  select namespace, uid, tier, units, gross, rate, gross * rate as discount, gross - gross * rate as net from r order by all""").fetchall()
tenants = con.execute("""
  with p as (select namespace, latency_p95_ms as l,
               sum(requests) over (partition by namespace order by latency_p95_ms rows between unbounded preceding and current row) as cum,
               sum(requests) over (partition by namespace) as tot
             from u where latency_p95_ms is not null),
       p95 as (select namespace, min(l) as p95 from p where tot > 0 and cum >= 0.95 * tot group by namespace)
  select namespace, sum(requests), sum(inferences),
         sum(case when variant_is_full then 0 else requests end) / sum(requests),
         (select p95 from p95 where p95.namespace = u.namespace),
         count(*) filter (where slo_met) / count(slo_met),
         max(degradation_budget_used), sum(total_co2e_g), sum(baseline_total_co2e_g), sum(savings_co2e_g),
         sum(energy_facility_kwh)
  from u group by namespace order by namespace""").fetchall()
print(json.dumps({"lines": [list(r) for r in lines], "tenants": [list(r) for r in tenants]}))
`;

describe('billing: tenant statements recomputed with DuckDB from the Parquet files', function () {
  this.timeout(120_000);
  let trail: Trail;
  before(async () => {
    trail = await writeTrail(2, 6, { rotateIntervalMs: 6 * 3_600_000 });
  });
  after(async () => {
    await rm(trail.dir, { recursive: true, force: true });
  });

  it('gets the report numbers to 1e-9: lines (units, gross, discount rate, discount, net) and tenant totals', async () => {
    const st = await buildTenantStatements(trail.dir, PLAN);
    expect(st.statements.map((s) => s.namespace)).to.deep.equal(['ns-0', 'ns-1', 'ns-2', 'ns-3', 'ns-4']);
    const d = PLAN.ecoDiscount as { basePercent: number; perDegradedPercent: number; capPercent: number };
    const out = JSON.parse(
      python(DUCKDB, [
        trail.dir,
        ...[PLAN.prices.premium, PLAN.prices.eco, d.basePercent, d.perDegradedPercent, d.capPercent].map(String),
      ]),
    ) as { lines: (string | number)[][]; tenants: (string | number | null)[][] };
    const close = (a: number | null, b: number | null, what: string): void => {
      if (a === null || b === null) return void expect(a, what).to.equal(b);
      expect(Math.abs(a - b), `${what}: ${a} vs ${b}`).to.be.at.most(1e-9 * Math.max(1, Math.abs(a), Math.abs(b)));
    };
    const mine = st.statements
      .flatMap((s) => s.lines)
      .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.uid.localeCompare(b.uid));
    expect(mine).to.have.length(out.lines.length);
    // The trail has eco services with degraded hours, so the proportional rule is exercised above its base.
    expect(mine.some((l) => l.tier === 'eco' && l.discount_rate > 0.05)).to.equal(true);
    out.lines.forEach(([ns, uid, tier, units, gross, rate, discount, net], i) => {
      const l = mine[i]!;
      expect([l.namespace, l.uid, l.tier]).to.deep.equal([ns, uid, tier]);
      close(l.units, units as number, `${uid} units`);
      close(l.gross, gross as number, `${uid} gross`);
      close(l.discount_rate, rate as number, `${uid} rate`);
      close(l.discount, discount as number, `${uid} discount`);
      close(l.net, net as number, `${uid} net`);
    });
    out.tenants.forEach(([ns, req, inf, deg, p95, slo, budget, total, baseline, savings, kwh], i) => {
      const t = st.statements[i]!;
      expect(t.namespace).to.equal(ns);
      expect(t.requests).to.equal(req);
      expect(t.inferences).to.equal(inf);
      close(t.degraded_request_share, deg as number, `${ns} degraded`);
      close(t.latency_p95_ms, p95 as number, `${ns} p95`);
      close(t.slo_met_share, slo as number, `${ns} slo`);
      close(t.degradation_budget_used_max, budget as number, `${ns} budget`);
      close(t.total_co2e_g, total as number, `${ns} total`);
      close(t.baseline_total_co2e_g, baseline as number, `${ns} baseline`);
      close(t.savings_co2e_g, savings as number, `${ns} savings`);
      close(t.energy_facility_kwh, kwh as number, `${ns} kWh`);
      const lines = out.lines.filter((l) => l[0] === ns);
      close(
        t.net,
        lines.reduce((a, l) => a + (l[7] as number), 0),
        `${ns} net`,
      );
      close(
        t.discount,
        lines.reduce((a, l) => a + (l[6] as number), 0),
        `${ns} discount`,
      );
    });
    // The CSV carries the same unrounded numbers.
    const csv = statementsCsv(st).trim().split('\n');
    const head = csv[0]!.split(',');
    const rows = csv.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [head[i], v])));
    for (const t of st.statements) {
      const total = rows.find((r) => r.namespace === t.namespace && r.service === '*')!;
      expect(Number(total.net)).to.equal(t.net);
      expect(Number(total.discount)).to.equal(t.discount);
    }
  });
});
