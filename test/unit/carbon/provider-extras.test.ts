// Endpoints beyond the common contract: WattTime signal-index and region-from-loc, Electricity Maps 24 h history,
// UK regional values (forecast-only) by region id and postcode.
import { expect } from 'chai';
import type { ElectricityMapsProvider } from '../../../operator/carbon/electricity-maps.ts';
import type { WattTimeProvider } from '../../../operator/carbon/watt-time.ts';
import type { CheckedProvider } from '../../../operator/carbon/index.ts';
import { FakeClock, HOUR, HTTP_CASES } from './provider-cases.ts';

const start = (name: string, clock: FakeClock) => HTTP_CASES.find((c) => c.name === name)!.start(clock);

describe('provider extras', () => {
  const clock = new FakeClock();

  it('WattTime: geo:<lat>,<lon> resolves once through region-from-loc; signal-index is a percentile', async () => {
    const s = await start('wattTime', clock);
    try {
      const wt = (s.provider as CheckedProvider).inner as WattTimeProvider;
      expect(await wt.regionFromLocation(37.77, -122.42)).to.equal('CAISO_NORTH');
      const a = await wt.current('geo:37.77,-122.42');
      const b = await wt.current('CAISO_NORTH');
      expect(a.valueGPerKWh).to.equal(b.valueGPerKWh);
      await wt.current('geo:37.77,-122.42');
      expect(s.emulator!.count('/v3/region-from-loc')).to.equal(2); // the explicit call + one resolution, then cached
      const idx = await wt.signalIndex('CAISO_NORTH');
      expect(idx).to.be.within(0, 100);
    } finally {
      await s.close();
    }
  });

  it('Electricity Maps: recent() returns the last 24 hourly values ending at the current hour', async () => {
    const s = await start('electricityMaps', clock);
    try {
      const h = await ((s.provider as CheckedProvider).inner as ElectricityMapsProvider).recent('DE');
      expect(h).to.have.length(24);
      expect(h.at(-1)!.timeMs).to.equal(Math.floor(clock.t / HOUR) * HOUR);
      expect(h[0]!.timeMs).to.equal(h.at(-1)!.timeMs - 23 * HOUR);
    } finally {
      await s.close();
    }
  });

  it('UK regional: by region id and by postcode, labelled forecast and estimated', async () => {
    const uk = HTTP_CASES.find((c) => c.name === 'ukCarbonIntensity')!;
    const s = await uk.start(clock);
    try {
      for (const region of ['regionid:13', 'postcode:RG10']) {
        const r = await s.provider.current(region);
        expect(r).to.include({ region, forecast: true, estimated: true });
        expect(r.valueGPerKWh).to.equal(uk.expected(clock.t));
      }
      const e = await s.provider.current('regionid:99').catch((x: Error) => x);
      expect((e as Error).message).to.match(/unknown region 'regionid:99': use 'GB', 'regionid:1'…'regionid:17'/);
    } finally {
      await s.close();
    }
  });
});
