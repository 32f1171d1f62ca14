import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import {
  alignDemand,
  DemandFormatError,
  daysByWeekday,
  parseDemandTrace,
} from '../../../operator/simulator/demand-trace.ts';

const root = new URL('../../../', import.meta.url);
const azure = parseDemandTrace(readFileSync(new URL('data/demand/azure2024_conv_hourly.csv', root), 'utf8'), 'azure');
const burst = parseDemandTrace(readFileSync(new URL('data/demand/burstgpt_hourly.csv', root), 'utf8'), 'burst');
const H = 3_600_000;

describe('demand traces aligned to carbon hours', () => {
  it('reads the Azure 2024 trace on UTC with day 0 a Sunday; Saturday borrows Sunday', () => {
    expect(azure.days).to.have.length(6);
    expect(azure.utcOffsetHours).to.equal(0);
    expect(azure.days[0]![4]).to.equal(75_636); // the documented minimum: Sun 2024-05-12 04:00 UTC
    const w = daysByWeekday(azure);
    expect(w[0]).to.deep.equal([0]);
    expect(w[6]).to.deep.equal([0]);
    expect(w[2]).to.deep.equal([2]); // Tuesday = 2024-05-14
  });

  it('maps each UTC hour to the same weekday and hour, scaled to the requested mean', () => {
    // 2023-01-01 was a Sunday; 2023-01-03 14:00 UTC a Tuesday afternoon (the trace's peak hour, 269,237 requests).
    const times = Array.from({ length: 24 * 14 }, (_, i) => Date.UTC(2023, 0, 1) + i * H);
    const rps = alignDemand(azure, times, 2);
    const mean = rps.reduce((a, b) => a + b, 0) / rps.length;
    expect(mean).to.be.closeTo(2, 1e-9);
    const k = rps[24 * 2 + 14]! / 269_237;
    expect(rps[4]! / k).to.be.closeTo(75_636, 1e-6); // Sunday 04:00
    expect(rps[24 * 6 + 4]! / k).to.be.closeTo(75_636, 1e-6); // Saturday 04:00 borrows Sunday
    expect(rps[24 * 7 + 4]! / k).to.be.closeTo(75_636, 1e-6); // next Sunday repeats
  });

  it('puts a service-local clock (BurstGPT, UTC+8) on UTC', () => {
    expect(burst.utcOffsetHours).to.equal(8);
    expect(burst.day0Weekday).to.equal(3);
    // 2023-01-04 (a Wednesday) 00:00 UTC is 08:00 local on a Wednesday: demand day 0, 7, 14, … hour 8.
    const t = Date.UTC(2023, 0, 4);
    const one = alignDemand(burst, [t, t + H], 1);
    const ratios = daysByWeekday(burst)[3]!.map((d) => burst.days[d]![8]! / burst.days[d]![9]!);
    expect(ratios.some((r) => Math.abs(r - one[0]! / one[1]!) < 1e-9)).to.equal(true);
    // …and not as if the clock were UTC (hour 0 / hour 1 of those days).
    const utcRatios = daysByWeekday(burst)[3]!.map((d) => burst.days[d]![0]! / burst.days[d]![1]!);
    expect(utcRatios.some((r) => Math.abs(r - one[0]! / one[1]!) < 1e-9)).to.equal(false);
  });

  it('reads ten-minute files (ServeGen) and keeps their resolution', () => {
    const sg = parseDemandTrace(readFileSync(new URL('data/demand/servegen_language_10min.csv', root), 'utf8'), 'sg');
    expect(sg.slotMinutes).to.equal(10);
    expect(sg.days).to.have.length(14);
    expect(sg.days[0]).to.have.length(144);
    expect(sg.days[0]![0]).to.equal(485_857); // m_small_requests, day 0 00:00
    // Two UTC times 10 minutes apart fall in consecutive slots (00:00 and 00:10 local = 16:00 and 16:10 UTC).
    const t = Date.UTC(2023, 0, 1, 16);
    const v = alignDemand(sg, [t, t + 600_000], 1);
    expect(v[0]).to.not.equal(v[1]);
    expect(() =>
      parseDemandTrace('day,time_of_day,m_small_requests\n0,00:00,3\n0,00:10,4\n0,00:25,5\n', 'z.csv'),
    ).to.throw(/z\.csv: line 4: column 'time_of_day'|z\.csv: line 4: timestamp .* is off the trace's 10-minute grid/);
  });

  it('rejects malformed files with the line and column', () => {
    expect(() => parseDemandTrace('day,hour,conversation\n0,25,10\n', 'x.csv')).to.throw(
      DemandFormatError,
      /x\.csv: line 2: column 'hour'/,
    );
    expect(() => parseDemandTrace('day,hour,conversation\n0,1,-3\n', 'x.csv')).to.throw(
      /x\.csv: line 2: column 'conversation': value '-3' is not a count/,
    );
    expect(() => parseDemandTrace('a,b\n1,2\n', 'y.csv')).to.throw(
      /y\.csv: line 1: no time columns: a demand trace needs/,
    );
  });
});
