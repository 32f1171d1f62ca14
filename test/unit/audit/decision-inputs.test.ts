// A decision row's inputs_json keeps the demand forecast as a digest (points, extent, min/max/mean rps), not its
// points: a week's forecast at one-minute intervals is ~10,000 points, 180 KB of JSON in every decision row, which
// the sink holds until its hourly rotation (2,000 services: hundreds of MiB). The digest is computed from the points
// the policy was given, so it can be checked against them.
import { expect } from 'chai';
import { describe, it } from 'mocha';
import { decisionRow, demandDigest, type DecisionRowFacts } from '../../../operator/audit/rows-from-pass.ts';

const WEEK_MIN = 7 * 24 * 60;
const forecast = Array.from({ length: WEEK_MIN }, (_, i) => ({
  timeMs: 1_700_000_000_000 + i * 60_000,
  rps: 50 + 30 * Math.sin(i / 200),
}));

function facts(demand: DecisionRowFacts['input']['demand']): DecisionRowFacts {
  return {
    clusterId: 'c',
    operatorVersion: '0.0.0',
    isvc: { metadata: { namespace: 'ns', name: 'svc', uid: 'u-1' } } as DecisionRowFacts['isvc'],
    timeMs: 1_700_000_000_000,
    kind: 'swap',
    before: { variant: 'full', replicas: 2 },
    after: { variant: 'small', replicas: 2 },
    reason: 'a swap',
    input: {
      carbon: { nowGPerKWh: 400, forecast: [], history: [] },
      demand,
      state: { budget: { windowStartMs: 0, servedTotal: 10, servedDegraded: 1 } },
      clusterGpuHeadroom: 4,
    } as unknown as DecisionRowFacts['input'],
    flags: { sloAtRisk: false },
    budgetUsed: 0.1,
    signal: { available: true, valueGPerKWh: 400, fallbackLevel: 'primary', forecast: null },
    fallbackIndex: 0,
  };
}

describe('decision rows: the demand input', () => {
  it('a week of forecast points becomes a digest of its extent and rates, and the row stays small', () => {
    const row = decisionRow(facts({ currentRps: 60, predictedRps: 61, forecast, overForecastShare: 0.05 }));
    const inputs = JSON.parse(row.inputs_json);
    const rates = forecast.map((p) => p.rps);
    expect(inputs.demand).to.deep.equal({
      currentRps: 60,
      predictedRps: 61,
      overForecastShare: 0.05,
      forecast: {
        points: WEEK_MIN,
        fromMs: forecast[0]!.timeMs,
        toMs: forecast[WEEK_MIN - 1]!.timeMs,
        minRps: Math.min(...rates),
        maxRps: Math.max(...rates),
        meanRps: rates.reduce((a, b) => a + b, 0) / WEEK_MIN,
      },
    });
    expect(row.inputs_json.length).to.be.below(2000);
    expect(inputs.budgetUsed).to.equal(0.1);
  });

  it('no forecast stays absent; an empty one says 0 points and no rates', () => {
    expect(demandDigest({ currentRps: 3 })).to.deep.equal({ currentRps: 3 });
    expect(demandDigest({ currentRps: 3, forecast: [] }).forecast).to.deep.equal({
      points: 0,
      fromMs: null,
      toMs: null,
      minRps: null,
      maxRps: null,
      meanRps: null,
    });
  });
});
