// One contract, every provider (the four HTTP APIs against their emulators, the trace replay and the static
// value): the same questions, the same guarantees about units, labels, ordering and errors.
import { expect } from 'chai';
import { CarbonProviderError, CheckedProvider, MAX_INTENSITY_G_PER_KWH } from '../../../operator/carbon/index.ts';
import type { CarbonReading } from '../../../operator/carbon/index.ts';
import type { ProviderCase, Started } from './provider-cases.ts';
import { FakeClock, HOUR, HTTP_CASES, LOCAL_CASES } from './provider-cases.ts';

function checkReading(r: CarbonReading, c: ProviderCase, region: string) {
  expect(r.region).to.equal(region);
  expect(r.provider).to.equal(c.name);
  expect(r.signal).to.equal(c.signal);
  expect(r.basis).to.equal(c.basis);
  expect(r.valueGPerKWh).to.be.a('number').within(0, MAX_INTENSITY_G_PER_KWH);
  expect(r.estimated).to.be.a('boolean');
  expect(r.forecast).to.be.a('boolean');
  expect(Number.isFinite(r.timeMs)).to.equal(true);
}

for (const c of [...HTTP_CASES, ...LOCAL_CASES]) {
  describe(`carbon provider contract: ${c.name}`, () => {
    const clock = new FakeClock();
    let s: Started;
    before(async () => {
      s = await c.start(clock);
    });
    after(() => s.close());
    beforeEach(() => {
      clock.t = Date.parse('2023-06-15T12:20:00Z');
    });

    it('current(): the trace value for this hour, in gCO2eq/kWh, with its labels', async () => {
      const r = await s.provider.current(c.region);
      checkReading(r, c, c.region);
      expect(r.forecast).to.equal(false);
      expect(r.timeMs)
        .to.be.at.most(clock.t)
        .and.above(clock.t - HOUR);
      expect(r.valueGPerKWh).to.be.closeTo(c.expected(clock.t), c.tolerance);
    });

    it('current() is the latest value at or before now, at any minute of the hour (never a later point)', async () => {
      // Built through the registry, so the shared reading checks wrap it whatever it is.
      expect(s.provider).to.be.instanceOf(CheckedProvider);
      for (const minute of [0, 1, 29, 30, 31, 59]) {
        clock.t = Date.parse('2023-06-15T12:00:00Z') + minute * 60_000;
        const r = await s.provider.current(c.region);
        expect(r.timeMs, `at minute ${minute}`).to.be.at.most(clock.t);
        expect(r.timeMs).to.be.above(clock.t - HOUR);
      }
    });

    it('current() follows the clock: three hours later it reads that hour', async () => {
      clock.advance(3 * HOUR);
      const r = await s.provider.current(c.region);
      expect(r.valueGPerKWh).to.be.closeTo(c.expected(clock.t), c.tolerance);
    });

    it(
      c.hasForecast
        ? 'forecast(): ascending points over the horizon, labelled forecast'
        : 'forecast(): says it has none (null)',
      async () => {
        const f = await s.provider.forecast(c.region, 6 * HOUR);
        if (!c.hasForecast) {
          expect(f).to.equal(null);
          return;
        }
        expect(f).to.be.an('array').with.length.above(0);
        const pts = f!;
        for (const p of pts) {
          checkReading(p, c, c.region);
          expect(p.forecast).to.equal(true);
        }
        for (let i = 1; i < pts.length; i++) expect(pts[i]!.timeMs).to.be.above(pts[i - 1]!.timeMs);
        expect(pts[0]!.timeMs).to.be.at.most(clock.t + HOUR);
        expect(pts.at(-1)!.timeMs)
          .to.be.at.least(clock.t + 4 * HOUR)
          .and.at.most(clock.t + 7 * HOUR);
      },
    );

    if (c.hasHistory)
      it('history(): observed values in [from, to), ascending, matching the trace', async () => {
        const from = Date.parse('2023-06-15T06:00:00Z');
        const to = Date.parse('2023-06-15T10:00:00Z');
        const h = await s.provider.history!(c.region, from, to);
        expect(h).to.have.length.above(0);
        for (const p of h) {
          checkReading(p, c, c.region);
          expect(p.timeMs).to.be.at.least(from).and.below(to);
          expect(p.valueGPerKWh).to.be.closeTo(c.expected(p.timeMs), c.tolerance);
        }
        for (let i = 1; i < h.length; i++) expect(h[i]!.timeMs).to.be.above(h[i - 1]!.timeMs);
      });

    if (c.unknownRegion !== undefined)
      it('an unknown region is an unknown-region error naming it', async () => {
        const err = await s.provider.current(c.unknownRegion!).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).to.be.instanceOf(CarbonProviderError);
        expect((err as CarbonProviderError).reason).to.equal('unknown-region');
        expect((err as CarbonProviderError).message).to.include(c.unknownRegion!);
      });

    it('a cancelled call rejects with reason aborted', async () => {
      const ac = new AbortController();
      ac.abort();
      const err = await s.provider.current(c.region, ac.signal).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((err as CarbonProviderError).reason).to.equal('aborted');
    });
  });
}
