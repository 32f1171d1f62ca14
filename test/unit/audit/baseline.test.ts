// The counterfactual of carbonscale-sci-4 (docs/audit.md, "Baseline"): an interval that ran the full variant was not
// shaped, so its baseline is what ran and it saves nothing, whatever its replica-time; a degraded interval's
// baseline is the replicas the demand alone needs. Rows built by the operator's own row builder, checked by verify.
import { expect } from 'chai';
import { withDefaults } from '../../../operator/api/defaults.ts';
import { baselineReplicas, usageRow, type UsageRowFacts } from '../../../operator/audit/rows-from-pass.ts';
import type { Row } from '../../../operator/audit/schema.ts';
import { derivedMismatches } from '../../../operator/audit/verify.ts';
import { service } from '../reconciler/fake-cluster.ts';

const T0 = Date.UTC(2023, 0, 3, 6);
const MIN = 60_000;

function facts(tier: 'eco' | 'premium', variant: 0 | 1, average: number, rps: number): UsageRowFacts {
  const isvc = withDefaults(service('a', { tier }));
  return {
    clusterId: 'test',
    operatorVersion: 'test',
    isvc,
    fromMs: T0,
    toMs: T0 + MIN,
    variant: isvc.spec.variants[variant]!,
    replicas: { desired: 2, ready: 2, average, method: 'time_weighted' },
    rps,
    signal: { valueGPerKWh: 400, available: true, fallbackLevel: 'primary', forecast: null },
    fallbackIndex: 0,
    budgetUsed: 0,
  };
}

describe('audit baseline: an unshaped interval is its own counterfactual', () => {
  it('a premium interval with fewer ready replica-seconds than the demand needs (a scale-up) saves nothing', () => {
    const f = facts('premium', 0, 1.25, 150);
    expect(baselineReplicas(f.isvc, f.rps), 'the modelled count differs from what ran').to.not.equal(1.25);
    const row = usageRow(f);
    expect(row.baseline_replicas).to.equal(1.25);
    expect(row.baseline_utilization).to.equal(row.utilization);
    expect(row.savings_co2e_g).to.equal(0);
    expect(row.methodology_version).to.equal('carbonscale-sci-5');
    expect(derivedMismatches(row as unknown as Row)).to.deep.equal([]);
  });

  it('an eco interval on the full variant saves nothing; on the smaller one the baseline is modelled from demand', () => {
    expect(usageRow(facts('eco', 0, 2, 150)).savings_co2e_g).to.equal(0);
    const f = facts('eco', 1, 1, 150);
    const row = usageRow(f);
    expect(row.variant_is_full).to.equal(false);
    expect(row.baseline_replicas).to.equal(baselineReplicas(f.isvc, 150));
    expect(Number(row.savings_co2e_g)).to.be.greaterThan(0);
    expect(derivedMismatches(row as unknown as Row)).to.deep.equal([]);
  });

  it('verify names a sci-4 full-variant row whose baseline is not what ran', () => {
    const row = { ...usageRow(facts('premium', 0, 1.25, 150)) } as unknown as Row;
    row.baseline_replicas = 2;
    expect(derivedMismatches(row).join('\n')).to.match(/baseline_replicas=2 but recomputed 1\.25/);
  });
});
