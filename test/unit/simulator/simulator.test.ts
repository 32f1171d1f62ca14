// The simulator on real shipped data: the claims, and the oracle as a true bound.
import { expect } from 'chai';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { parseCarbonTrace, type CarbonTrace } from '../../../operator/carbon/trace-file.ts';
import { defaultVariants } from '../../../operator/simulator/simulate-cli.ts';
import { parseDemandTrace } from '../../../operator/simulator/demand-trace.ts';
import { runOracle } from '../../../operator/simulator/oracle.ts';
import { runCarbonscale, runDemandOnly, runStatic, runThreshold } from '../../../operator/simulator/policies.ts';
import {
  compare,
  type Comparison,
  defaultService,
  prepare,
  simInputs,
  summarise,
  type Summary,
} from '../../../operator/simulator/simulate.ts';

const root = new URL('../../../', import.meta.url);
const read = (p: string) => readFileSync(new URL(p, root), 'utf8');
const variants = defaultVariants(new URL('.', root).pathname);
const demand = parseDemandTrace(read('data/demand/azure2024_conv_hourly.csv'), 'azure2024_conv_hourly.csv');

describe('simulator on the DACF Germany trace (real day-ahead forecast), eco budget 20%/day', function () {
  this.timeout(60_000);
  let eco: Comparison;
  let premium: Comparison;
  let s: Summary;
  before(() => {
    const trace = parseCarbonTrace(read('data/carbon/DE_carbon_from_src_prod_forecasts_direct.csv'), 'DE');
    const prepared = prepare(simInputs(trace, demand, 1));
    eco = compare(defaultService({ tier: 'eco', variants, meanRps: 1 }), prepared, { compareForecast: true });
    premium = compare(defaultService({ tier: 'premium', variants, meanRps: 1 }), prepared, { oracle: false });
    s = summarise(eco);
  });

  it('eco saves more than demand-only autoscaling (b) and the threshold policy (c)', () => {
    expect(s.savingVs['demand-only']).to.be.greaterThan(0);
    expect(s.savingVs.threshold).to.be.greaterThan(0);
    expect(eco.runs.carbonscale!.metrics.emissionsKg).to.be.below(eco.runs.threshold!.metrics.emissionsKg);
  });

  it('eco reaches at least 85% of the oracle’s saving versus (b), and the oracle is never beaten', () => {
    expect(s.oracleShare).to.be.at.least(0.85);
    for (const r of Object.values(eco.runs)) expect(r.metrics.emissionsKg).to.be.at.least(eco.oracleBoundKg! - 1e-6);
  });

  it('has zero premium SLO-violation minutes and zero eco budget overruns, within the quality floor', () => {
    expect(premium.runs.carbonscale!.metrics.sloViolationMinutes).to.equal(0);
    expect(premium.runs.carbonscale!.metrics.degradedRequests).to.equal(0);
    const m = eco.runs.carbonscale!.metrics;
    expect(m.budgetOverruns).to.equal(0);
    expect(m.budgetMaxShare).to.be.at.most(0.2 + 1e-9);
    expect(m.degradedRequests).to.be.greaterThan(0);
    expect(m.qualityWeightedRequests / m.requests).to.be.at.least(0.95);
  });

  it('gains from the real day-ahead forecast over the history fallback', () => {
    expect(eco.forecastGain!.withForecastKg).to.be.below(eco.forecastGain!.fallbackKg);
  });

  it('books the oracle’s schedule at exactly the programme’s optimum', () => {
    expect(eco.runs.oracle!.metrics.emissionsKg).to.be.closeTo(eco.oracleBoundKg!, 1e-6);
  });
});

describe('simulator properties on random carbon traces (fast-check)', function () {
  this.timeout(60_000);
  const H = 3_600_000;
  const traceOf = (values: number[]): CarbonTrace => ({
    basis: 'direct',
    stepMs: H,
    hasForecast: false,
    points: values.map((v, i) => ({ timeMs: Date.UTC(2023, 4, 1) + i * H, valueGPerKWh: v, estimated: false })),
  });

  it('the oracle bound is below every policy; eco never overruns; premium never misses its SLO', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 20, max: 800, noNaN: true }), { minLength: 96, maxLength: 96 }),
        fc.double({ min: 0.3, max: 4, noNaN: true }),
        fc.double({ min: 0.05, max: 0.4, noNaN: true }),
        (values, meanRps, budget) => {
          const p = prepare(simInputs(traceOf(values), demand, meanRps));
          const eco = defaultService({ tier: 'eco', variants, meanRps, budgetFraction: budget });
          const bound = runOracle(eco, p, 200).boundKg;
          const run = runCarbonscale(eco, p);
          const ours = run.metrics;
          expect(ours.budgetOverruns).to.equal(0);
          // Every variant change is at least the dwell time (2 steps) after the previous one.
          let last = -Infinity;
          for (let t = 1; t < values.length; t++)
            if (run.timeline.variant[t] !== run.timeline.variant[t - 1]) {
              expect(t - last).to.be.at.least(2);
              last = t;
            }
          for (const m of [
            ours,
            runDemandOnly(eco, p).metrics,
            runStatic(eco, p).metrics,
            runThreshold(eco, p).metrics,
          ])
            expect(m.emissionsKg).to.be.at.least(bound - 1e-9);
          const prem = runCarbonscale(defaultService({ tier: 'premium', variants, meanRps }), p).metrics;
          expect(prem.sloViolationMinutes).to.equal(0);
          expect(prem.degradedRequests).to.equal(0);
        },
      ),
      { numRuns: 25 },
    );
  });
});
