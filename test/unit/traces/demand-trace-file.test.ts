// Demand traces read by the same time-series rules as carbon traces, on files cut from data/demand
// (test/fixtures/traces/SOURCES.md): each layout (day/hour/date, t_start_s, 10-minute time_of_day), gaps rejected
// or filled on request, duplicated hours, columns that disagree, and the same values as the file's own text.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parseDemandSeries } from '../../../operator/traces/demand-series.ts';
import { TraceFormatError } from '../../../operator/traces/trace-format-error.ts';
import { DemandFormatError, parseDemandTrace } from '../../../operator/simulator/demand-trace.ts';
import { hourlyCountsToRps } from '../../../operator/demand/trace-demand-source.ts';
import { DemandError } from '../../../operator/demand/demand-source.ts';

const FIX = new URL('../../fixtures/traces/', import.meta.url);
const text = (name: string) => readFileSync(new URL(name, FIX), 'utf8');
const H = 3_600_000;

/** The file's own cells for `header`, per data line. */
function cells(name: string, header: string): string[] {
  const lines = text(name).trim().split('\n');
  const i = lines[0]!.split(',').indexOf(header);
  return lines.slice(1).map((l) => l.split(',')[i]!);
}

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error');
}

describe('demand trace reader: layouts', () => {
  it('day + hour + date (Azure 2024): one count per hour, and the date must advance with the day', () => {
    const f = 'azure2024-conv-day0-1-gap.csv';
    const s = parseDemandSeries(text(f), f, { column: 'conversation', gapFill: 'hold' });
    expect(s.layout).to.equal('day-hour');
    expect(s.stepMs).to.equal(H);
    expect(s.points).to.have.length(48);
    const lines = text(f).split('\n');
    lines[30] = lines[30]!.replace('2024-05-13', '2024-05-14');
    expect(message(() => parseDemandSeries(lines.join('\n'), f, { column: 'conversation', gapFill: 'hold' }))).to.equal(
      `${f}: line 31: column 'date': value '2024-05-14' does not match day 1 (day 0 is 2024-05-12)`,
    );
  });

  it('t_start_s + day + time_of_day (ServeGen 10-minute): a 10-minute step, and the columns must agree', () => {
    const f = 'servegen-10min-day0.csv';
    const s = parseDemandSeries(text(f), f, { column: 'm_small_requests' });
    expect(s.layout).to.equal('seconds');
    expect(s.stepMs).to.equal(600_000);
    expect(s.points.map((p) => p.count)).to.deep.equal(cells(f, 'm_small_requests').map(Number));
    const bad = text(f).replace('\n600,0,00:10,', '\n600,0,00:20,');
    expect(message(() => parseDemandSeries(bad, f, { column: 'm_small_requests' }))).to.match(
      /servegen-10min-day0\.csv: line 3: column 't_start_s': value '600' disagrees with the day and time columns on the same line \(day 0 00:20 is 1200 s\)/,
    );
  });

  it('the 10-minute cut summed into hours equals the shipped hourly file for the same day', () => {
    const f = 'servegen-10min-day0.csv';
    const hourly = hourlyCountsToRps(text(f), 'm_small_requests', { file: f });
    const ref = readFileSync(new URL('../../../data/demand/servegen_language_hourly.csv', import.meta.url), 'utf8');
    const day0 = ref
      .trim()
      .split('\n')
      .slice(1, 25)
      .map((l) => Number(l.split(',')[5]) / 3600);
    expect(hourly).to.have.length(24);
    hourly.forEach((v, i) => expect(v, `hour ${i}`).to.be.closeTo(day0[i]!, 1e-9));
  });
});

describe('demand trace reader: gaps and duplicates', () => {
  const f = 'azure2024-conv-day0-1-gap.csv';

  it('a gap is an error naming the line after it and the missing hours (day clock)', () => {
    const m = message(() => parseDemandTrace(text(f), f));
    expect(m).to.equal(
      `${f}: line 12: gap: 3 missing 1-hour steps from day 0 10:00 to day 0 12:00 (the row before is line 11 at ` +
        'day 0 09:00); gaps are filled only when asked (gapFill: hold or linear; CLI --gap-fill)',
    );
    expect(() => parseDemandTrace(text(f), f)).to.throw(DemandFormatError);
    expect(() => hourlyCountsToRps(text(f), 'conversation', { file: f })).to.throw(
      DemandError,
      /line 12: gap: 3 missing/,
    );
  });

  it('filled when asked: the simulator trace and the hourly series say how many steps were filled', () => {
    const counts = cells(f, 'conversation').map(Number);
    const t = parseDemandTrace(text(f), f, { gapFill: 'linear' });
    expect(t.filledSteps).to.equal(3);
    expect(t.days).to.have.length(2);
    const [at9, at13] = [counts[9]!, counts[10]!];
    expect(t.days[0]!.slice(10, 13)).to.deep.equal([1, 2, 3].map((k) => at9 + ((at13 - at9) * k) / 4));
    const rps = hourlyCountsToRps(text(f), 'conversation', { file: f, gapFill: 'hold' });
    expect(rps.slice(9, 14)).to.deep.equal([at9, at9, at9, at9, at13].map((c) => c / 3600));
  });

  it('a duplicated hour names both lines', () => {
    const d = 'burstgpt-day0-duplicate-hour.csv';
    expect(message(() => parseDemandTrace(text(d), d))).to.match(
      /^burstgpt-day0-duplicate-hour\.csv: line 15: timestamp day 0 12:00 also appears on line 14 \(identical rows/,
    );
  });

  it('a trace must cover whole days for the simulator, and whole hours for the hourly series', () => {
    const lines = text(f).trim().split('\n');
    const cut = lines.slice(0, -2).join('\n');
    expect(message(() => parseDemandTrace(cut, f, { gapFill: 'hold' }))).to.match(
      /line 44: the trace ends at day 1 21:00, before the day's last 60-minute slot/,
    );
    const sg = text('servegen-10min-day0.csv').trim().split('\n').slice(0, -1).join('\n');
    expect(message(() => hourlyCountsToRps(sg, 'm_small_requests', { file: 'sg' }))).to.match(
      /sg: lines 2\.\.144 do not cover whole hours/,
    );
  });

  it('errors name the column and value; files without time columns say which layouts are read', () => {
    expect(message(() => parseDemandSeries('day,hour,n\n0,0,5\n0,1,-2\n', 'x.csv', { column: 'n' }))).to.equal(
      "x.csv: line 3: column 'n': value '-2' is not a count (a number ≥ 0)",
    );
    expect(message(() => parseDemandSeries('day,hour,n\n0,24,5\n', 'x.csv', { column: 'n' }))).to.equal(
      "x.csv: line 2: column 'hour': value '24' is not an hour 0..23",
    );
    expect(() => parseDemandSeries('n\n5\n', 'x.csv', { column: 'n' }))
      .to.throw(TraceFormatError)
      .with.property('message')
      .that.matches(/x\.csv: line 1: no time columns/);
  });
});
