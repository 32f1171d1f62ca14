// The shipped real traces read exactly as their text says: for every file in data/carbon and data/demand, the
// reader's points are compared with a naive reading of the text (count, first and last timestamps, sums of values,
// forecasts and estimated flags), and the carbon means with the statistics data/carbon/SOURCES.md publishes. A
// reader change that drops, shifts, fills or misreads a row of a clean file fails here.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parseCarbonTrace } from '../../../operator/carbon/trace-file.ts';
import { parseDemandTrace } from '../../../operator/simulator/demand-trace.ts';
import { hourlyCountsToRps } from '../../../operator/demand/trace-demand-source.ts';

const ROOT = new URL('../../../', import.meta.url);
const read = (p: string) => readFileSync(new URL(p, ROOT), 'utf8');

/** Naive: split on line ends and commas (none of these files quotes a field), pick columns by exact name. */
function naive(p: string, cols: string[]): { rows: string[][]; idx: number[] } {
  const lines = read(p)
    .split(/\r?\n/)
    .filter((l) => l !== '');
  const h = lines[0]!.split(',');
  return { rows: lines.slice(1).map((l) => l.split(',')), idx: cols.map((c) => h.indexOf(c)) };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('shipped carbon traces read as their text says', () => {
  const em = [
    ['DE-LU_2023_hourly.csv', 307.7, 367.0, 'DE'],
    ['GB_2023_hourly.csv', 128.6, 187.5, 'GB'],
    ['US-CAL-CISO_2023_hourly.csv', 194.0, 260.7, 'US-CAL-CISO'],
  ] as const;
  for (const [file, meanDirect, meanLca, zone] of em) {
    it(`${file}: every row, both bases, zone and estimated flags; means as in SOURCES.md`, () => {
      const cols = ['Datetime (UTC)', 'Carbon Intensity gCO₂eq/kWh (direct)', 'Carbon Intensity gCO₂eq/kWh (LCA)'];
      const { rows, idx } = naive(`data/carbon/${file}`, [...cols, 'Data Estimated']);
      for (const [basis, col, mean] of [
        ['direct', idx[1]!, meanDirect],
        ['lifecycle', idx[2]!, meanLca],
      ] as const) {
        const t = parseCarbonTrace(read(`data/carbon/${file}`), file, { basis });
        expect(t.points).to.have.length(rows.length);
        expect(t.points[0]!.timeMs).to.equal(Date.parse(`${rows[0]![idx[0]!]!.replace(' ', 'T')}Z`));
        expect(t.points.at(-1)!.timeMs).to.equal(Date.parse(`${rows.at(-1)![idx[0]!]!.replace(' ', 'T')}Z`));
        expect(sum(t.points.map((p) => p.valueGPerKWh))).to.be.closeTo(sum(rows.map((r) => Number(r[col]))), 1e-6);
        expect(sum(t.points.map((p) => p.valueGPerKWh)) / t.points.length).to.be.closeTo(mean, 0.05);
        expect(t.points.filter((p) => p.estimated).length).to.equal(rows.filter((r) => r[idx[3]!] === 'true').length);
        expect(t.points.every((p) => !p.filled && p.forecastGPerKWh === undefined)).to.equal(true);
        expect(t).to.include({ zone, stepMs: 3_600_000, hasForecast: false, filledSteps: 0 });
      }
    });
  }

  for (const file of [
    'CISO_carbon_from_src_prod_forecasts_direct.csv',
    'DE_carbon_from_src_prod_forecasts_direct.csv',
  ]) {
    it(`${file}: every row, actuals and day-ahead forecasts`, () => {
      const { rows, idx } = naive(`data/carbon/${file}`, ['UTC time', 'carbon_intensity', 'carbon_from_src_forecasts']);
      const t = parseCarbonTrace(read(`data/carbon/${file}`), file);
      expect(t.points).to.have.length(rows.length);
      expect(t.points[0]!.timeMs).to.equal(Date.UTC(2021, 6, 1));
      expect(t.points.at(-1)!.timeMs).to.equal(Date.UTC(2021, 11, 31, 23));
      expect(sum(t.points.map((p) => p.valueGPerKWh))).to.be.closeTo(sum(rows.map((r) => Number(r[idx[1]!]))), 1e-6);
      expect(sum(t.points.map((p) => p.forecastGPerKWh!))).to.be.closeTo(
        sum(rows.map((r) => Number(r[idx[2]!]))),
        1e-6,
      );
      expect(t).to.include({ stepMs: 3_600_000, hasForecast: true, filledSteps: 0 });
      expect(t.zone).to.equal(undefined);
    });
  }
});

describe('shipped demand traces read as their text says', () => {
  const files = [
    ['azure2024_conv_hourly.csv', 'conversation', 60],
    ['burstgpt_hourly.csv', 'conversation', 60],
    ['servegen_language_hourly.csv', 'm_small_requests', 60],
    ['servegen_language_10min.csv', 'm_small_requests', 10],
  ] as const;
  for (const [file, column, slot] of files) {
    it(`${file}: every slot of every day, and the hourly series`, () => {
      const { rows, idx } = naive(`data/demand/${file}`, [column, 'day']);
      const t = parseDemandTrace(read(`data/demand/${file}`), file);
      expect(t.slotMinutes).to.equal(slot);
      expect(t.days).to.have.length(Number(rows.at(-1)![idx[1]!]) + 1);
      expect(t.days.flat()).to.deep.equal(rows.map((r) => Number(r[idx[0]!])));
      expect(t.filledSteps).to.equal(undefined);
      const hourly = hourlyCountsToRps(read(`data/demand/${file}`), column, { file });
      expect(hourly).to.have.length(t.days.length * 24);
      expect(sum(hourly) * 3600).to.be.closeTo(sum(rows.map((r) => Number(r[idx[0]!]))), 1e-3);
    });
  }
});
