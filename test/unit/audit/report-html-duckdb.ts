// What the HTML report's numbers must be, recomputed from the Parquet files by DuckDB alone (no operator code):
// headline totals, per-bucket emission and intensity sums, variant cells per service and bucket, budget points,
// and the table's groups. Buckets are `interval_start // step * step` with the step the page says it used.
import { python } from '../../fixtures/audit/python.ts';

export interface DuckTruth {
  totals: {
    rows: number;
    services: number;
    eco_services: number;
    total_co2e_g: number;
    baseline_total_co2e_g: number;
    savings_co2e_g: number;
    energy_facility_kwh: number;
    measured_kwh: number;
    first_start_ms: number;
    last_end_ms: number;
  };
  /** Per bucket start: Σ total and Σ baseline over the rows with known emissions. */
  emissions: [number, number, number][];
  /** [region, bucket start, mean intensity]. */
  intensity: [string, number, number][];
  /** [service, bucket start, variant, share of the bucket's service time]. */
  cells: [string, number, string, number][];
  /** [service, bucket start, budget used of the latest interval in the bucket]. */
  budget: [string, number, number][];
  /** [day, service, Σ total_co2e_g, Σ energy_facility_kwh, intervals]. */
  groups: [string, string, number, number, number][];
}

const CODE = String.raw`
import sys, glob, json, duckdb
d, step = sys.argv[1], int(sys.argv[2])
# Either partition key (stream= today, kind= in schema 1.0.0 directories): the files are found by path.
files = sorted(glob.glob(d + '/*=usage/dt=*/*.parquet'))
con = duckdb.connect()
lst = '[' + ','.join("'" + f.replace("'", "''") + "'" for f in files) + ']'
con.execute(f"create view u as select *, namespace || '/' || name as svc, (epoch_ms(interval_start) // {step}) * {step} as b from read_parquet({lst}, hive_partitioning = false, union_by_name = true)")
q = lambda sql: con.execute(sql).fetchall()
t = q("""select count(*), count(distinct svc), count(distinct svc) filter (where tier = 'eco'),
  coalesce(sum(total_co2e_g), 0), coalesce(sum(baseline_total_co2e_g), 0), coalesce(sum(savings_co2e_g), 0),
  sum(energy_facility_kwh), coalesce(sum(energy_facility_kwh) filter (where energy_method = 'measured'), 0),
  min(epoch_ms(interval_start)), max(epoch_ms(interval_end)) from u""")[0]
keys = ['rows','services','eco_services','total_co2e_g','baseline_total_co2e_g','savings_co2e_g','energy_facility_kwh','measured_kwh','first_start_ms','last_end_ms']
out = {'totals': dict(zip(keys, t))}
out['emissions'] = q("select b, sum(total_co2e_g), sum(baseline_total_co2e_g) from u where total_co2e_g is not null and baseline_total_co2e_g is not null group by b order by b")
out['intensity'] = q("select ci_region, b, avg(ci_g_per_kwh) from u where ci_g_per_kwh is not null group by 1, 2 order by 1, 2")
out['cells'] = q("""select svc, b, variant, sum(interval_s) / sum(sum(interval_s)) over (partition by svc, b)
  from u group by svc, b, variant order by 1, 2, 3""")
out['budget'] = q("""select svc, b, arg_max(degradation_budget_used, epoch_ms(interval_end)) from u where tier = 'eco'
  group by 1, 2 order by 1, 2""")
out['groups'] = q("""select strftime(interval_start, '%Y-%m-%d'), svc, coalesce(sum(total_co2e_g), 0), sum(energy_facility_kwh), count(*)
  from u group by 1, 2 order by 1, 2""")
print(json.dumps(out))
`;

export function duckTruth(dir: string, stepMs: number): DuckTruth {
  return JSON.parse(python(CODE, [dir, String(stepMs)])) as DuckTruth;
}
