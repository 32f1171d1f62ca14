// Latency in the usage rows (carbonscale-sci-5, docs/audit.md "Latency and SLO"): the row builder carries the
// measured p50/p95 and slo_met against the ceiling in force, and leaves all three null without a measurement;
// verify refuses an slo_met without a p95 and a median above the p95, and keeps checking the sci-4 baseline rule on
// rows of older trails (and not on sci-3 rows, which followed another rule).
import { expect } from 'chai';
import { describe, it } from 'mocha';
import { withDefaults } from '../../../operator/api/defaults.ts';
import { usageRow, type UsageRowFacts } from '../../../operator/audit/rows-from-pass.ts';
import type { Row } from '../../../operator/audit/schema.ts';
import { METHODOLOGY_VERSION, SCHEMA_VERSION } from '../../../operator/audit/usage.ts';
import { derivedMismatches } from '../../../operator/audit/verify.ts';
import { service } from '../reconciler/fake-cluster.ts';

const T0 = Date.UTC(2023, 0, 3, 6);

function facts(extra: Partial<UsageRowFacts> = {}): UsageRowFacts {
  const isvc = withDefaults(service('a', { tier: 'eco' }));
  return {
    clusterId: 'test',
    operatorVersion: 'test',
    isvc,
    fromMs: T0,
    toMs: T0 + 60_000,
    variant: isvc.spec.variants[0]!,
    replicas: { desired: 1, ready: 1, average: 1, method: 'time_weighted' },
    rps: 10,
    signal: { valueGPerKWh: 400, available: true, fallbackLevel: 'primary', forecast: null },
    fallbackIndex: 0,
    budgetUsed: 0,
    ...extra,
  };
}

describe('usage rows: latency and slo_met (carbonscale-sci-5)', () => {
  it('the row is of schema 2.3.0 / carbonscale-sci-5', () => {
    expect([SCHEMA_VERSION, METHODOLOGY_VERSION]).to.deep.equal(['2.3.0', 'carbonscale-sci-5']);
  });

  it('carries the measured p50/p95 and slo_met against the strict or relaxed ceiling (100 / 200 ms)', () => {
    const latency = { p50Ms: 40, p95Ms: 150, requests: 600 };
    const strict = usageRow(facts({ latency, relaxedLatency: false }));
    expect(strict).to.deep.include({ latency_p50_ms: 40, latency_p95_ms: 150, slo_met: false });
    expect(usageRow(facts({ latency, relaxedLatency: true })).slo_met).to.equal(true);
    expect(usageRow(facts({ latency })).slo_met, 'ceiling changed inside the interval').to.equal(null);
    expect(derivedMismatches(strict as unknown as Row)).to.deep.equal([]);
  });

  it('no measurement: all three null, never a made-up figure', () => {
    expect(usageRow(facts({ relaxedLatency: false }))).to.deep.include({
      latency_p50_ms: null,
      latency_p95_ms: null,
      slo_met: null,
    });
  });

  it('verify: an slo_met without a p95, and a median above the p95, are named', () => {
    const row = { ...usageRow(facts({ latency: { p50Ms: 40, p95Ms: 90, requests: 50 }, relaxedLatency: false })) };
    expect(row.slo_met).to.equal(true);
    const noP95 = { ...row, latency_p95_ms: null } as unknown as Row;
    expect(derivedMismatches(noP95).join('\n')).to.match(/slo_met is set but latency_p95_ms is null/);
    const upside = { ...row, latency_p50_ms: 120 } as unknown as Row;
    expect(derivedMismatches(upside).join('\n')).to.match(/latency_p50_ms=120 is above latency_p95_ms=90/);
  });

  it('verify keeps the sci-4 baseline rule on sci-4 rows, not on sci-3 rows', () => {
    const row = { ...usageRow(facts()), baseline_replicas: 2 } as unknown as Row;
    for (const m of ['carbonscale-sci-4', 'carbonscale-sci-5'])
      expect(derivedMismatches({ ...row, methodology_version: m }).join('\n'), m).to.match(/baseline_replicas=2/);
    expect(derivedMismatches({ ...row, methodology_version: 'carbonscale-sci-3' }).join('\n')).to.not.match(
      /baseline_replicas=2/,
    );
  });
});
