// The trace provider on what the reader now tells it, with files cut from the shipped traces
// (test/fixtures/traces/SOURCES.md): an empty forecast cell is a missing forecast point (neither 0 nor the actual
// value passed off as a forecast); a file with a gap is a config error naming the line unless filling was asked
// for, and then the filled hours are replayed labelled estimated; a file with several zones replays the one asked.
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { CarbonProviderError } from '../../../operator/carbon/provider-error.ts';
import { TraceProvider, loadTrace } from '../../../operator/carbon/trace-provider.ts';
import { FakeClock, HOUR } from './provider-cases.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/traces/${name}`, import.meta.url));

function provider(file: string, clock: FakeClock, opts: Parameters<typeof loadTrace>[2] = {}): TraceProvider {
  const trace = loadTrace(fixture(file), 'direct', opts);
  return new TraceProvider({ trace, file, now: clock.now, anchorMs: trace.points[0]!.timeMs });
}

describe('trace provider: what the reader says', () => {
  it('forecast column: hours with an empty forecast cell are left out of the forecast, never 0 or the actual', async () => {
    const f = 'ciso-dacf-2021-07-01-empty-forecasts.csv';
    const clock = new FakeClock(Date.UTC(2021, 6, 1, 3, 30));
    const p = provider(f, clock);
    const fc = (await p.forecast('US-CAL-CISO', 5 * HOUR))!;
    // 03:30 + 5 h: the hours 03:00 to 08:00, of which 05:00 and 06:00 have empty forecast cells.
    expect(fc.map((r) => new Date(r.sourceTimeMs!).getUTCHours())).to.deep.equal([3, 4, 7, 8]);
    for (const r of fc) expect(r).to.include({ forecast: true, estimated: true }).and.not.have.property('oracle');
    const actual = await p.history('US-CAL-CISO', Date.UTC(2021, 6, 1, 5), Date.UTC(2021, 6, 1, 7));
    expect(actual.map((r) => r.valueGPerKWh)).to.deep.equal([
      loadTrace(fixture(f)).points[5]!.valueGPerKWh,
      loadTrace(fixture(f)).points[6]!.valueGPerKWh,
    ]);
  });

  it('a gap is a config error naming the file, line and span; filled on request and replayed as estimated', async () => {
    const f = 'gb-2023-01-01-gap-6h.csv';
    let err: unknown;
    try {
      provider(f, new FakeClock());
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(CarbonProviderError);
    expect((err as CarbonProviderError).reason).to.equal('config');
    expect((err as Error).message).to.match(
      /trace: .*gb-2023-01-01-gap-6h\.csv: line 10: gap: 6 missing 1-hour steps from 2023-01-01T08:00Z to 2023-01-01T13:00Z/,
    );
    const clock = new FakeClock(Date.UTC(2023, 0, 1, 10, 15));
    const p = provider(f, clock, { gapFill: 'hold' });
    const now = await p.current('GB');
    expect(now).to.include({ sourceTimeMs: Date.UTC(2023, 0, 1, 10), estimated: true });
    const at7 = (await p.history('GB', Date.UTC(2023, 0, 1, 7), Date.UTC(2023, 0, 1, 8)))[0]!;
    expect(at7).to.include({ estimated: false });
    expect(now.valueGPerKWh).to.equal(at7.valueGPerKWh);
    const h = await p.history('GB', Date.UTC(2023, 0, 1, 6), Date.UTC(2023, 0, 1, 16));
    expect(h.map((r) => r.estimated)).to.deep.equal([false, false, true, true, true, true, true, true, false, false]);
  });

  it('several zones: the one asked for', async () => {
    const f = 'de-gb-2023-01-01-two-zones.csv';
    expect(() => provider(f, new FakeClock())).to.throw(CarbonProviderError, /line 8: zone 'GB' after zone 'DE'/);
    const gb = loadTrace(fixture(f), 'direct', { zone: 'GB' });
    expect(gb.zone).to.equal('GB');
    const p = new TraceProvider({
      trace: gb,
      file: f,
      now: () => Date.UTC(2023, 0, 1, 2, 5),
      anchorMs: Date.UTC(2023, 0, 1),
    });
    expect((await p.current('GB')).valueGPerKWh).to.equal(57.35); // GB_2023_hourly.csv, 2023-01-01 02:00
  });
});
