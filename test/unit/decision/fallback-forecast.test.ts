import { expect } from 'chai';
import { buildFallbackForecast } from '../../../operator/decision/index.ts';
import { DAY, HOUR, series, T0 } from './fixtures.ts';

describe('fallback forecast (same hour yesterday, shifted by today’s level)', () => {
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

  it('carries today’s offset from yesterday, fading with lead time', () => {
    const history = series(T0, 48, daily);
    const now = T0 + 48 * HOUR;
    const fc = buildFallbackForecast(history, now, daily(48) + 60, DAY, HOUR);
    const off = fc.map((p, k) => p.valueGPerKWh - daily(49 + k));
    expect(off[0]).to.be.closeTo(60 * Math.exp(-1 / 6), 1e-9);
    // Up to 23 h ahead; at 24 h "yesterday" is now itself, offset included.
    for (let k = 1; k < 23; k++) expect(off[k]!).to.be.below(off[k - 1]!);
    expect(off[23]).to.be.closeTo(60 + 60 * Math.exp(-4), 1e-9);
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
