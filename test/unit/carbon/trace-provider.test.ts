// The embedded default replays DE-LU 2023 with the right timestamps and values (spot-checked against the CSV
// text itself), the real-time ↔ trace-time mapping (anchor, offset, speedup, wrap-around), and forecasts from a
// DACF forecast column vs the labelled oracle replay.
import { expect } from 'chai';
import { createProvider, embeddedDefaultSpec, validateCarbonSourceSpec } from '../../../operator/carbon/index.ts';
import type { CarbonProvider } from '../../../operator/carbon/index.ts';
import { FakeClock, HOUR, csvValue } from './provider-cases.ts';

const EM_DIRECT = 'Carbon Intensity gCO₂eq/kWh (direct)';
const DE = 'DE-LU_2023_hourly.csv';

function trace(clock: FakeClock, t: Record<string, unknown>): CarbonProvider {
  const v = validateCarbonSourceSpec({ provider: 'trace', trace: t });
  if (!v.spec) throw new Error(v.errors.join('; '));
  return createProvider(v.spec, undefined, { now: clock.now });
}

describe('trace provider', () => {
  it('embedded default: DE-LU 2023, same hour of the year, values and timestamps as in the CSV', async () => {
    const clock = new FakeClock(Date.parse('2026-03-05T14:30:00Z'));
    const p = createProvider(embeddedDefaultSpec(), undefined, { now: clock.now });
    for (const [real, row] of [
      ['2026-03-05T14:30:00Z', '2023-03-05T14:00:00Z'],
      ['2026-01-01T00:00:00Z', '2023-01-01T00:00:00Z'],
      ['2026-07-20T03:59:59Z', '2023-07-20T03:00:00Z'],
      ['2026-12-31T23:10:00Z', '2023-12-31T23:00:00Z'],
    ] as const) {
      clock.t = Date.parse(real);
      const r = await p.current('DE');
      expect(new Date(r.sourceTimeMs!).toISOString()).to.equal(new Date(row).toISOString());
      expect(r.valueGPerKWh).to.equal(csvValue(DE, EM_DIRECT, Date.parse(row)));
      expect(r.timeMs).to.equal(Math.floor(clock.t / HOUR) * HOUR);
      expect(r).to.include({ provider: 'trace', signal: 'average', basis: 'direct', forecast: false });
    }
  });

  it('the CSV row 2023-01-01 00:00 is 140.51 gCO2eq/kWh (direct), as the file says', async () => {
    const clock = new FakeClock(Date.parse('2024-01-01T00:10:00Z'));
    const r = await createProvider(embeddedDefaultSpec(), undefined, { now: clock.now }).current('DE');
    expect(r.valueGPerKWh).to.equal(140.51);
  });

  it('lifecycle basis reads the LCA column', async () => {
    const clock = new FakeClock(Date.parse('2023-01-01T00:10:00Z'));
    const v = validateCarbonSourceSpec({
      provider: 'trace',
      emissionFactorType: 'lifecycle',
      trace: { file: `data/carbon/${DE}` },
    });
    const r = await createProvider(v.spec!, undefined, { now: clock.now }).current('DE');
    expect(r.valueGPerKWh).to.equal(185.8);
    expect(r.basis).to.equal('lifecycle');
  });

  it('speedup 60 plays one trace hour per real minute, from the anchor plus the offset', async () => {
    const anchor = Date.parse('2026-11-23T10:00:00Z');
    const clock = new FakeClock(anchor);
    const p = trace(clock, {
      file: `data/carbon/${DE}`,
      anchor: '2026-11-23T10:00:00Z',
      speedup: 60,
      offsetSeconds: 60,
    });
    // offset 60 real s × 60 = one trace hour in: 2023-01-01 01:00.
    let r = await p.current('DE');
    expect(new Date(r.sourceTimeMs!).toISOString()).to.equal('2023-01-01T01:00:00.000Z');
    expect(r.timeMs).to.equal(anchor);
    clock.advance(5 * 60_000 + 30_000);
    r = await p.current('DE');
    expect(new Date(r.sourceTimeMs!).toISOString()).to.equal('2023-01-01T06:00:00.000Z');
    expect(r.valueGPerKWh).to.equal(csvValue(DE, EM_DIRECT, Date.parse('2023-01-01T06:00:00Z')));
    // Real start of that trace hour: anchor + (6 h − 1 h offset) / 60.
    expect(r.timeMs).to.equal(anchor + 5 * 60_000);
    // [now, now + 3 real min) = trace 06:30 to 09:30: the hours starting 06:00 to 09:00.
    const f = (await p.forecast('DE', 3 * 60_000))!;
    expect(f.map((x) => new Date(x.sourceTimeMs!).toISOString().slice(11, 16))).to.deep.equal([
      '06:00',
      '07:00',
      '08:00',
      '09:00',
    ]);
    expect(f[1]!.timeMs - f[0]!.timeMs).to.equal(60_000);
  });

  it('wraps around the end of the trace', async () => {
    const clock = new FakeClock(Date.parse('2024-01-01T00:30:00Z'));
    const p = trace(clock, { file: `data/carbon/${DE}`, anchor: '2023-01-01T00:00:00Z' });
    // 2024-01-01 is 8,760 h after the anchor: the 2023 trace has wrapped back to its first row.
    expect(new Date((await p.current('DE')).sourceTimeMs!).toISOString()).to.equal('2023-01-01T00:00:00.000Z');
    clock.t = Date.parse('2023-12-31T22:30:00Z');
    const f = (await p.forecast('DE', 4 * HOUR))!;
    expect(f.map((x) => new Date(x.sourceTimeMs!).toISOString().slice(5, 16))).to.deep.equal([
      '12-31T22:00',
      '12-31T23:00',
      '01-01T00:00',
      '01-01T01:00',
      '01-01T02:00',
    ]);
    for (let i = 1; i < f.length; i++) expect(f[i]!.timeMs - f[i - 1]!.timeMs).to.equal(HOUR);
  });

  it('without a forecast column the forecast is the actual future, labelled oracle', async () => {
    const clock = new FakeClock(Date.parse('2023-06-15T12:20:00Z'));
    const p = trace(clock, { file: `data/carbon/${DE}`, anchor: '2023-01-01T00:00:00Z' });
    // 12:20 + 3 h: the hours starting 12:00, 13:00, 14:00 and 15:00.
    const f = (await p.forecast('DE', 3 * HOUR))!;
    expect(f).to.have.length(4);
    for (const x of f) {
      expect(x).to.include({ forecast: true, oracle: true });
      expect(x.valueGPerKWh).to.equal(csvValue(DE, EM_DIRECT, x.sourceTimeMs!));
    }
    const none = trace(clock, { file: `data/carbon/${DE}`, anchor: '2023-01-01T00:00:00Z', forecast: 'none' });
    expect(await none.forecast('DE', 3 * HOUR)).to.equal(null);
  });

  it('a DACF file: actuals from carbon_intensity, forecast from carbon_from_src_forecasts', async () => {
    const file = 'CISO_carbon_from_src_prod_forecasts_direct.csv';
    const clock = new FakeClock(Date.parse('2021-08-10T05:45:00Z'));
    const p = trace(clock, { file: `data/carbon/${file}`, anchor: '2021-07-01T00:00:00Z' });
    const r = await p.current('US-CAL-CISO');
    expect(r.valueGPerKWh).to.equal(csvValue(file, 'carbon_intensity', clock.t));
    const f = (await p.forecast('US-CAL-CISO', 4 * HOUR))!;
    expect(f).to.have.length(5);
    for (const x of f) {
      expect(x.oracle).to.equal(undefined);
      expect(x.forecast).to.equal(true);
      expect(x.valueGPerKWh).to.equal(csvValue(file, 'carbon_from_src_forecasts', x.sourceTimeMs!));
    }
    expect(f[0]!.valueGPerKWh).to.not.equal(r.valueGPerKWh);
  });

  it('a missing trace file is a config error naming the file', () => {
    const clock = new FakeClock();
    expect(() => trace(clock, { file: 'data/carbon/nope.csv' })).to.throw(
      /trace: cannot read 'data\/carbon\/nope.csv': ENOENT/,
    );
  });
});
