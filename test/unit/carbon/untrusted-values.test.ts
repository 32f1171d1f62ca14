// Values the operator cannot trust, against every HTTP provider's emulator (issue 15 §1): numbers with separators
// or as strings, readings dated in the future, answers for another region, and a missing current point. Each is
// refused with an error naming the field and the value — never read, never guessed, never replaced by a forecast.
import { expect } from 'chai';
import { CLOCK_SKEW_ALLOWANCE_MS, CarbonProviderError } from '../../../operator/carbon/index.ts';
import type { Fault } from '../../emulators/emulator-server.ts';
import type { ProviderCase, Started } from './provider-cases.ts';
import { FakeClock, HOUR, HTTP_CASES } from './provider-cases.ts';

async function failure(p: Promise<unknown>): Promise<CarbonProviderError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e, 'expected the call to fail').to.be.instanceOf(CarbonProviderError);
  return e as CarbonProviderError;
}

/** The region each case asks for in the identity tests (UK: a regional answer, the one that names its region). */
const identityRegion = (c: ProviderCase) => (c.name === 'ukCarbonIntensity' ? 'regionid:13' : c.region);
/** Another region, in the shape of the provider's identity field. */
const OTHER: Record<string, string> = {
  electricityMaps: 'FR',
  wattTime: 'PJM_DC',
  ukCarbonIntensity: '12',
  carbonAwareSdk: 'eastus',
};
/** Providers whose current value is chosen among points by time (a future-only answer has no current point). */
const PICKS_BY_TIME = new Set(['wattTime', 'ukCarbonIntensity', 'carbonAwareSdk']);

for (const c of HTTP_CASES) {
  describe(`untrusted values: ${c.name}`, () => {
    const clock = new FakeClock();
    let s: Started;
    before(async () => {
      s = await c.start(clock);
    });
    after(() => s.close());
    beforeEach(() => {
      clock.t = Date.parse('2023-06-15T12:20:00Z');
    });
    afterEach(() => s.emulator!.clearFault());

    const fail = async (f: Fault, call: () => Promise<unknown> = () => s.provider.current(c.region)) => {
      await s.provider.current(c.region); // a login first, so the fault hits the data call
      s.emulator!.fault(f);
      return failure(call());
    };

    it('a thousands separator ("1,035") is refused, naming the field and the value, not read as 1.035', async () => {
      const e = await fail({ kind: 'value', value: '1,035' });
      expect(e.reason).to.equal('malformed');
      expect(e.message).to.match(new RegExp(`${c.valueField}(\\.\\w+)?: expected a JSON number`));
      expect(e.message).to.include('got "1,035" (a thousands or decimal separator is ambiguous: not read)');
      expect(e.field).to.match(new RegExp(c.valueField));
    });

    it('a numeric string ("1035") is refused: the provider documents a JSON number', async () => {
      const e = await fail({ kind: 'value', value: '1035' });
      expect(e.reason).to.equal('malformed');
      expect(e.message).to.include('got "1035"');
    });

    it('a reading dated a day ahead is never taken as the current value', async () => {
      const e = await fail({ kind: 'shift-time', ms: 24 * HOUR });
      if (PICKS_BY_TIME.has(c.name)) {
        expect(e.reason).to.equal('no-data');
        expect(e.message).to.match(
          /no point at or before now \(2023-06-15T12:20:00.000Z\); the earliest starts 2023-06-16T/,
        );
        expect(e.message).to.include('a forecast point is not a current value');
      } else {
        expect(e.reason).to.equal('future-time');
        expect(e.message).to.match(
          /observation dated 2023-06-16T12:00:00.000Z, 23.7 h after now \(2023-06-15T12:20:00.000Z\)/,
        );
      }
    });

    it('history(): a point dated in the future fails the whole answer, naming it', async () => {
      // A window reaching past now, so the provider's own window filter does not drop the shifted points.
      const from = Date.parse('2023-06-15T06:00:00Z');
      const e = await fail({ kind: 'shift-time', ms: 24 * HOUR }, () =>
        s.provider.history!(c.region, from, from + 48 * HOUR),
      );
      expect(e.reason).to.equal('future-time');
      expect(e.message).to.match(/history\[0\]: observation dated 2023-06-16T06:00:00.000Z, .* after now/);
      expect(e.field).to.equal('history[].timeMs');
    });

    it('an answer for another region is refused, naming both', async () => {
      const region = identityRegion(c);
      await s.provider.current(region);
      s.emulator!.fault({ kind: 'wrong-region', region: OTHER[c.name]! });
      for (const call of [() => s.provider.current(region), () => s.provider.forecast(region, 3 * HOUR)]) {
        const e = await failure(call());
        expect(e.reason).to.equal('wrong-region');
        expect(e.message).to.include(
          `the answer is for "${OTHER[c.name]}", not for '${c.name === 'ukCarbonIntensity' ? '13' : region}' as asked`,
        );
      }
    });

    if (PICKS_BY_TIME.has(c.name))
      it('no current point: the next (forecast) point is not taken instead; forecast() still has it', async () => {
        const e = await fail({ kind: 'no-current' });
        expect(e.reason).to.equal('no-data');
        expect(e.message).to.include('a forecast point is not a current value');
        s.emulator!.clearFault();
        const f = await s.provider.forecast(c.region, 3 * HOUR);
        expect(f![0]!.forecast).to.equal(true);
      });

    if (c.name === 'electricityMaps')
      it(`within the clock-skew allowance (${CLOCK_SKEW_ALLOWANCE_MS / 60_000} min) a reading is accepted`, async () => {
        // The hour's value dated 3 minutes after now: the provider's clock is a little ahead of ours.
        clock.t = Date.parse('2023-06-15T10:57:00Z');
        s.emulator!.fault({ kind: 'shift-time', ms: HOUR });
        const ahead = await s.provider.current(c.region);
        expect(ahead.timeMs - clock.t).to.equal(3 * 60_000);
        s.emulator!.fault({ kind: 'shift-time', ms: HOUR + 3 * 60_000 });
        const e = await failure(s.provider.current(c.region));
        expect(e.reason).to.equal('future-time');
        expect(e.message).to.include('(clock-skew allowance 5 min)');
      });
  });
}
