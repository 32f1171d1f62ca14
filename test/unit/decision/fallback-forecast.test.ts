import { expect } from 'chai';
import { buildFallbackForecast } from '../../../operator/decision/index.ts';
import { DAY, HOUR, series, T0 } from './fixtures.ts';

describe('fallback forecast (the recent days’ profile, shifted by today’s level)', () => {
  const daily = (i: number) => 300 + 100 * Math.sin((2 * Math.PI * i) / 24);

  it('reproduces a repeating day exactly', () => {
    const history = series(T0, 48, daily);
    const now = T0 + 48 * HOUR;
    const fc = buildFallbackForecast(history, now, daily(48), DAY, HOUR);
    expect(fc).to.have.length(24);
    fc.forEach((p, k) => {
      expect(p.timeMs).to.equal(now + (k + 1) * HOUR);
      expect(p.valueGPerKWh).to.be.closeTo(daily(49 + k), 1e-9);
    });
  });

  it('carries today’s offset from the profile, fading with lead time (τ = 24 h)', () => {
    const history = series(T0, 48, daily);
    const now = T0 + 48 * HOUR;
    const fc = buildFallbackForecast(history, now, daily(48) + 60, DAY, HOUR);
    fc.forEach((p, k) => expect(p.valueGPerKWh - daily(49 + k)).to.be.closeTo(60 * Math.exp(-(k + 1) / 24), 1e-9));
  });

  it('averages the same hour over up to 7 days, so one odd day moves the profile by a seventh', () => {
    // 8 days of the same shape; the day before yesterday 70 gCO2eq/kWh higher all day.
    const odd = (i: number) => daily(i) + (Math.floor(i / 24) === 5 ? 70 : 0);
    const history = series(T0, 8 * 24, odd);
    const now = T0 + 8 * DAY;
    // Now on the shape: the profile at now is daily(now) + 10, so the offset is −10 and fades.
    const fc = buildFallbackForecast(history, now, daily(0), DAY, HOUR);
    fc.forEach((p, k) => {
      const lead = k + 1;
      // The odd day is one of the 7 measured days back from t; at 24 h ahead one of only 6 (a day back is now).
      const profile = daily(lead) + (lead === 24 ? 70 / 6 : 70 / 7);
      expect(p.valueGPerKWh).to.be.closeTo(profile - 10 * Math.exp(-lead / 24), 1e-9);
    });
  });

  it('falls back to persistence without a day of history, and repeats itself beyond 24 h', () => {
    const fc = buildFallbackForecast(
      series(T0, 5, () => 200),
      T0 + 5 * HOUR,
      250,
      DAY,
      HOUR,
    );
    expect(new Set(fc.map((p) => p.valueGPerKWh))).to.deep.equal(new Set([250]));
    const history = series(T0, 48, daily);
    const long = buildFallbackForecast(history, T0 + 48 * HOUR, daily(48), 2 * DAY, HOUR);
    expect(long).to.have.length(48);
    for (let k = 24; k < 48; k++) expect(long[k]!.valueGPerKWh).to.be.closeTo(long[k - 24]!.valueGPerKWh, 1e-9);
  });
});
