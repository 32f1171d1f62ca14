// A fresh eco service (too little demand history to measure the outlook's margins: both shares 1) spends what its
// window has earned — the budget fraction of the requests served so far — and never more (ADR 0102).
import { expect } from 'chai';
import { decide, type DecisionInput } from '../../../operator/decision/index.ts';
import { baseInput, HOUR, series, SMALL, T0 } from './fixtures.ts';

const NOW = T0 + 10 * HOUR;

/** A dirty hour now, clean after it; 1 request/s expected (3,600 requests this interval); `served` so far. */
function fresh(served: number, margins = { over: 1, under: 1 }): DecisionInput {
  const base = baseInput();
  return baseInput({
    carbon: { nowGPerKWh: 900, forecast: series(NOW + HOUR, 24, () => 100) },
    policy: { ...base.policy, hysteresis: 0, minDwellMs: HOUR },
    demand: { currentRps: 1, predictedRps: 1, overForecastShare: margins.over, underForecastShare: margins.under },
    state: { variant: 'full-13b', replicas: 13, budget: { windowStartMs: T0, servedTotal: served, servedDegraded: 0 } },
  });
}

describe('decide(): a fresh eco service spends the budget it has earned', () => {
  it('nothing served yet: nothing to spend, and the reason says why', () => {
    const d = decide(fresh(0), NOW);
    expect(d.variant).to.equal('full-13b');
    expect(d.flags.budgetExhausted).to.equal(true);
    expect(d.reason).to.include('the share of the requests served so far');
  });

  it('degrades the dirty hour once 20% of the requests served so far covers it (20,000 served: 4,000 ≥ 3,600)', () => {
    const d = decide(fresh(20_000), NOW);
    expect(d.variant).to.equal(SMALL.name);
    expect(d.flags.budgetExhausted).to.equal(false);
  });

  it('never more than earned: 17,000 served (3,400 < 3,600) keeps the full variant', () => {
    const d = decide(fresh(17_000), NOW);
    expect(d.variant).to.equal('full-13b');
    expect(d.flags.budgetExhausted).to.equal(true);
  });

  it('with measured margins the forecast-based allowance applies instead (not the earned rule)', () => {
    const d = decide(fresh(0, { over: 0, under: 0 }), NOW);
    expect(d.reason).to.not.include('the share of the requests served so far');
    expect(d.variant).to.equal(SMALL.name);
  });
});
