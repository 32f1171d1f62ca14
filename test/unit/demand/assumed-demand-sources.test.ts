// StaticDemandSource and TraceDemandSource (the embedded default's demand), with the real Azure 2024 hourly
// conversation trace that ships in data/demand/.
import { expect } from 'chai';
import fc from 'fast-check';
import { describe, it } from 'mocha';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DemandError } from '../../../operator/demand/demand-source.ts';
import { parsePrometheusText } from '../../../operator/demand/prometheus-text.ts';
import { StaticDemandSource } from '../../../operator/demand/static-demand-source.ts';
import { TraceDemandSource, hourlyCountsToRps } from '../../../operator/demand/trace-demand-source.ts';
import { ROOT } from '../model-server/support.ts';

const target = { namespace: 'ml', name: 'digits' };
const H = 3_600_000;

describe('StaticDemandSource', () => {
  it('returns the configured rate as assumed demand', async () => {
    const s = await new StaticDemandSource({ requestsPerSecond: 12, inferencesPerRequest: 4 }).demand(
      target,
      60_000,
      5,
    );
    expect(s).to.deep.equal({
      requestsPerSecond: 12,
      inferencesPerSecond: 48,
      servedByVariant: {},
      windowMs: 60_000,
      source: 'static',
      sampledAtMs: 5,
      basis: 'assumed',
      warnings: [],
    });
  });
  it('rejects a negative rate, naming the field', () => {
    expect(() => new StaticDemandSource({ requestsPerSecond: -1 })).to.throw(DemandError, /requestsPerSecond/);
  });
});

describe('TraceDemandSource', () => {
  const csv = readFileSync(join(ROOT, 'data', 'demand', 'azure2024_conv_hourly.csv'), 'utf8');
  const counts = csv
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => Number(l.split(',').pop()));

  it("replays the real hourly trace: the rate in an hour is that hour's count / 3600", async () => {
    const rps = hourlyCountsToRps(csv, 'conversation');
    expect(rps).to.have.length(144);
    const start = Date.UTC(2024, 4, 12);
    const src = new TraceDemandSource({ hourlyRequestsPerSecond: rps, startMs: start, label: 'azure2024' });
    for (const h of [0, 4, 38, 143]) {
      const s = await src.demand(target, 60_000, start + h * H + 30 * 60_000);
      expect(s.requestsPerSecond, `hour ${h}`).to.be.closeTo(counts[h]! / 3600, 1e-9);
      expect(s.source).to.equal('trace:azure2024');
    }
    // It loops: hour 144 is hour 0 again.
    expect(src.rateAt(start + 144 * H + 1)).to.equal(rps[0]);
  });

  it('averages over windows that straddle hours, weighted by time', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 140 }), fc.integer({ min: 1, max: H - 1 }), async (h, offset) => {
        const rps = hourlyCountsToRps(csv, 'conversation');
        const src = new TraceDemandSource({ hourlyRequestsPerSecond: rps, startMs: 0, label: 't' });
        const now = h * H + offset;
        const s = await src.demand(target, H, now);
        const want = (rps[h - 1]! * (H - offset) + rps[h]! * offset) / H;
        expect(s.requestsPerSecond).to.be.closeTo(want, 1e-9);
      }),
      { numRuns: 50 },
    );
  });

  it('scales a trace to a chosen mean, keeping its shape', () => {
    const rps = hourlyCountsToRps(csv, 'conversation', { meanRequestsPerSecond: 10 });
    const mean = rps.reduce((a, b) => a + b, 0) / rps.length;
    expect(mean).to.be.closeTo(10, 1e-9);
    expect(rps[14]! / rps[4]!).to.be.closeTo(counts[14]! / counts[4]!, 1e-9);
  });

  it('bad input names the field or line', () => {
    expect(() => hourlyCountsToRps(csv, 'api')).to.throw(DemandError, /no column 'api' \(the header is/);
    expect(() => hourlyCountsToRps('day,hour,n\n0,0,5\n0,1,x\n', 'n')).to.throw(
      /demand trace: line 3: column 'n': value 'x' is not a count/,
    );
    expect(() => new TraceDemandSource({ hourlyRequestsPerSecond: [1, NaN], startMs: 0, label: 'x' })).to.throw(
      /hourlyRequestsPerSecond\[1\]/,
    );
  });
});

describe('parsePrometheusText', () => {
  it('reads names, escaped labels and values; rejects a malformed line naming it', () => {
    const samples = parsePrometheusText(
      '# HELP x y\n# TYPE a counter\na_total{variant="v\\"1",code="200"} 3\nb 4.5 1700000000\nc{le="+Inf"} +Inf\nd Nan\n',
    );
    expect(samples).to.deep.equal([
      { name: 'a_total', labels: { variant: 'v"1', code: '200' }, value: 3 },
      { name: 'b', labels: {}, value: 4.5 },
      { name: 'c', labels: { le: '+Inf' }, value: Infinity },
      { name: 'd', labels: {}, value: NaN },
    ]);
    expect(() => parsePrometheusText('ok 1\nnot a metric line\n')).to.throw(/metrics line 2/);
    expect(() => parsePrometheusText('ok 1\nbad 1,5\n')).to.throw(/metrics line 2: bad value "1,5"/);
  });
});
