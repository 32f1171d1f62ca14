// The reason when eco spends budget in an hour below the high-carbon line (a known limitation, docs/policy.md): the
// plan spends budget it cannot place in a dirtier hour before the window ends, and the reason must say that the
// hour is not a high-carbon one, with the numbers it was compared on, rather than read like a dirty-hour swap.
import { expect } from 'chai';
import { decide } from '../../../operator/decision/index.ts';
import { baseInput, DAY, HOUR, series, T0 } from './fixtures.ts';

/** 21:00 UTC with most of the day's budget left and the rest of the day (and the next) at `rest` gCO2eq/kWh. */
function lateInTheDay(nowGPerKWh: number, history: { timeMs: number; valueGPerKWh: number }[], rest: number[]) {
  const now = T0 + 21 * HOUR;
  return decide(
    baseInput({
      carbon: { nowGPerKWh, forecast: series(now + HOUR, rest.length, (i) => rest[i]!), history },
      // 21 h served at 1 req/s, nothing degraded yet.
      state: { budget: { windowStartMs: T0, servedTotal: 21 * 3600, servedDegraded: 0 } },
    }),
    now,
  );
}

describe('decide(): eco spending budget below the high-carbon line says so', () => {
  const now = T0 + 21 * HOUR;
  // The last day at 320 gCO2eq/kWh: the mean the test compares with includes now's value (carbonLevel).
  const dirtyDay = series(now - DAY, 24, () => 320);

  it('names the hour as not high-carbon, the mean it is below and the window end', () => {
    const d = lateInTheDay(210, dirtyDay, Array(26).fill(210));
    expect(d.variant, 'budget left with 3 h of the day to go is spent').to.equal('small-7b');
    const mean = Math.round((23 * 320 + 210) / 24);
    expect(d.reason).to.include(
      `not a high-carbon hour: 210 gCO2eq/kWh, below the last 24 h mean of ${mean}; spending budget left that the ` +
        'plan cannot place in a dirtier hour before this window ends (2023-03-02 00:00 UTC)',
    );
    expect(d.flags.relaxedLatency).to.equal(false);
  });

  it('says nothing of the kind in a high-carbon hour', () => {
    const d = lateInTheDay(400, dirtyDay, Array(26).fill(400));
    expect(d.variant).to.equal('small-7b');
    expect(d.reason).not.to.include('not a high-carbon hour');
    expect(d.flags.relaxedLatency).to.equal(true);
  });

  it('with under 12 h of measurements, names the provider forecast’s median it is below', () => {
    // No history: the line is the median of the provider's next 24 h (3 h at 210, then 500 into the next day).
    const rest = Array.from({ length: 24 }, (_, i) => (i < 2 ? 210 : 500));
    const d = lateInTheDay(210, [], rest);
    expect(d.variant).to.equal('small-7b');
    expect(d.reason).to.include(
      'not a high-carbon hour: 210 gCO2eq/kWh, below the median of the next 24 h forecast, 500',
    );
  });
});
