// The carbon trace reader on small files cut from the shipped real traces (test/fixtures/traces/SOURCES.md): both
// Electricity Maps header generations, gaps (rejected, or filled on request and counted), the trace's own step,
// duplicated and out-of-order hours, rows off the grid, BOM + CRLF + blank lines (physical line numbers), empty
// forecast cells, several zones in one file, and strict cells. Each error is checked for the file, line, column
// and value it must name.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parseCarbonTrace, TraceFormatError } from '../../../operator/carbon/trace-file.ts';
import type { CarbonTrace, ParseTraceOptions } from '../../../operator/carbon/trace-file.ts';

const FIX = new URL('../../fixtures/traces/', import.meta.url);
const text = (name: string) => readFileSync(new URL(name, FIX), 'utf8');
const parse = (name: string, opts?: ParseTraceOptions) => parseCarbonTrace(text(name), name, opts);
const H = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** What the file's own text says for `column` on each data line (the independent reading the tests compare to). */
function column(name: string, header: string): { line: number; time: string; cell: string }[] {
  const lines = text(name)
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/);
  const h = lines[0]!.split(',');
  const i = h.indexOf(header);
  expect(i, `${header} in ${name}`).to.be.greaterThanOrEqual(0);
  return lines
    .map((l, n) => ({ line: n + 1, cells: l.split(',') }))
    .filter((r) => r.line > 1 && r.cells.length > 1)
    .map((r) => ({ line: r.line, time: r.cells[0]!, cell: r.cells[i]! }));
}

function throwsAt(fn: () => unknown, file: string, line: number | undefined, ...parts: RegExp[]): TraceFormatError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'an error').to.be.instanceOf(TraceFormatError);
  const e = err as TraceFormatError;
  expect(e.file).to.equal(file);
  expect(e.line).to.equal(line);
  expect(e.message.startsWith(line === undefined ? `${file}: ` : `${file}: line ${line}: `), e.message).to.equal(true);
  for (const p of parts) expect(e.message).to.match(p);
  return e;
}

describe('carbon trace reader: Electricity Maps headers', () => {
  const oldH = 'de-lu-2023-04-14-old-header.csv';
  const newH = 'de-lu-2023-04-14-new-header.csv';

  it("reads the 2023 header ('Carbon Intensity … (direct)', 'Zone Id', 'Data Estimated'): values, zone, estimated", () => {
    const t = parse(oldH);
    const want = column(oldH, 'Carbon Intensity gCO₂eq/kWh (direct)');
    expect(t.points.map((p) => p.valueGPerKWh)).to.deep.equal(want.map((r) => Number(r.cell)));
    expect(t.points.map((p) => iso(p.timeMs))).to.deep.equal(want.map((r) => `${r.time.replace(' ', 'T')}.000Z`));
    expect(t.zone).to.equal('DE');
    const flags = column(oldH, 'Data Estimated').map((r) => r.cell === 'true');
    expect(flags.filter(Boolean).length, 'the cut holds estimated rows').to.be.greaterThan(0);
    expect(t.points.map((p) => p.estimated)).to.deep.equal(flags);
    expect(t.stepMs).to.equal(H);
    expect(t.filledSteps).to.equal(0);
  });

  it("reads today's header ('Carbon intensity … (Life cycle)', 'Zone id', 'Data estimated') as the same data", () => {
    for (const basis of ['direct', 'lifecycle'] as const) {
      const a = parse(oldH, { basis });
      const b = parse(newH, { basis });
      expect(b.points, basis).to.deep.equal(a.points);
      expect(b.zone).to.equal('DE');
    }
    const lca = column(newH, 'Carbon intensity gCO₂eq/kWh (Life cycle)').map((r) => Number(r.cell));
    expect(parse(newH, { basis: 'lifecycle' }).points.map((p) => p.valueGPerKWh)).to.deep.equal(lca);
  });

  it('matches headers by meaning: case, ₂ vs 2, spacing and the portal spelling (life cycle assessment)', () => {
    const base = text(newH);
    const variants = [
      base.replace('Carbon intensity gCO₂eq/kWh (direct)', 'CARBON INTENSITY gCO2eq / kWh (Direct)'),
      base.replace('Carbon intensity gCO₂eq/kWh (Life cycle)', 'Carbon Intensity gCO₂eq/kWh (life cycle assessment)'),
      base.replace('Zone id', 'zone_id').replace('Data estimated', 'data_estimated'),
    ];
    const want = parse(newH, { basis: 'lifecycle' });
    for (const v of variants) expect(parseCarbonTrace(v, newH, { basis: 'lifecycle' })).to.deep.equal(want);
  });

  it('a unit other than gCO2eq/kWh, two columns of the same meaning, or no time column: errors naming them', () => {
    const base = text(newH);
    throwsAt(
      () => parseCarbonTrace(base.replace('gCO₂eq/kWh (direct)', 'lbsCO2/MWh (direct)'), newH),
      newH,
      1,
      /column 'Carbon intensity lbsCO2\/MWh \(direct\)'/,
      /not gCO2eq\/kWh/,
    );
    throwsAt(
      () => parseCarbonTrace(base.replace('Carbon-free energy percentage (CFE%)', 'carbon intensity (direct)'), newH),
      newH,
      1,
      /'Carbon intensity gCO₂eq\/kWh \(direct\)' and 'carbon intensity \(direct\)' mean the same/,
    );
    throwsAt(
      () => parseCarbonTrace(base.replace('Datetime (UTC)', 'Datetime (local)'), newH),
      newH,
      1,
      /no UTC time column/,
      /'Datetime \(local\)'/,
    );
  });
});

describe('carbon trace reader: gaps and the step', () => {
  const gap = 'gb-2023-01-01-gap-6h.csv';

  it('rejects a gap by default, naming the line after it, the missing span and its size', () => {
    // 07:00 is on line 9; 14:00, the next row, on line 10.
    throwsAt(
      () => parse(gap),
      gap,
      10,
      /6 missing 1-hour steps from 2023-01-01T08:00Z to 2023-01-01T13:00Z/,
      /the row before is line 9 at 2023-01-01T07:00Z/,
      /gapFill/,
    );
  });

  it("fills it only when asked: 'hold' repeats the last value, 'linear' interpolates; filled points are counted and marked", () => {
    const v = column(gap, 'Carbon Intensity gCO₂eq/kWh (direct)');
    const at7 = Number(v[7]!.cell);
    const at14 = Number(v[8]!.cell);
    for (const mode of ['hold', 'linear'] as const) {
      const t = parse(gap, { gapFill: mode });
      expect(t.points).to.have.length(24);
      expect(t.filledSteps).to.equal(6);
      expect(t.gaps).to.deep.equal([
        {
          fromMs: Date.UTC(2023, 0, 1, 8),
          toMs: Date.UTC(2023, 0, 1, 13),
          steps: 6,
          after: { file: gap, line: 9 },
          before: { file: gap, line: 10 },
        },
      ]);
      for (let h = 0; h < 24; h++) expect(t.points[h]!.timeMs).to.equal(Date.UTC(2023, 0, 1, h));
      const filled = t.points.slice(8, 14);
      for (const p of filled) expect(p).to.include({ filled: true, estimated: true });
      expect(t.points.filter((p) => p.filled)).to.have.length(6);
      const want = filled.map((_, k) => (mode === 'hold' ? at7 : at7 + ((at14 - at7) * (k + 1)) / 7));
      filled.forEach((p, k) => expect(p.valueGPerKWh).to.be.closeTo(want[k]!, 1e-6));
    }
  });

  it('a gap longer than the longest fill stays an error', () => {
    throwsAt(
      () => parse(gap, { gapFill: 'hold', maxGapMs: 5 * H }),
      gap,
      10,
      /longer than the longest gap filled \(5 h\)/,
    );
    expect(parse(gap, { gapFill: 'linear', maxGapMs: 6 * H }).filledSteps).to.equal(6);
  });

  it('one missing second row does not make the step two hours: the step is the most common difference', () => {
    const f = 'gb-2023-01-01-missing-second-row.csv';
    throwsAt(
      () => parse(f),
      f,
      3,
      /gap: 1 missing 1-hour step at 2023-01-01T01:00Z \(the row before is line 2 at 2023-01-01T00:00Z\)/,
    );
    const t = parse(f, { gapFill: 'linear' });
    expect(t.stepMs).to.equal(H);
    expect(t.points).to.have.length(24);
    expect(t.points.at(-1)!.timeMs).to.equal(Date.UTC(2023, 0, 1, 23));
  });

  it('a declared step is checked against every row', () => {
    const f = 'de-lu-2023-04-14-old-header.csv';
    expect(parse(f, { stepMs: H }).points).to.have.length(18);
    throwsAt(() => parse(f, { stepMs: 2 * H }), f, 3, /off the trace's 2-hour grid/);
  });

  it('a row off the grid is an error naming it (not a gap and a shifted replay)', () => {
    const f = 'gb-2023-01-01-off-grid.csv';
    throwsAt(
      () => parse(f),
      f,
      6,
      /timestamp 2023-01-01T04:30Z is off the trace's 1-hour grid/,
      /its rows are at 2023-01-01T00:00Z \+ k × 1-hour steps/,
    );
  });
});

describe('carbon trace reader: duplicates and order', () => {
  it('a repeated hour is an error naming both lines; identical repeats collapse only when asked', () => {
    const f = 'gb-2023-01-01-duplicate-hour.csv';
    throwsAt(() => parse(f), f, 8, /timestamp 2023-01-01T05:00Z also appears on line 7 \(identical rows/);
    const t = parse(f, { duplicates: 'collapse-identical' });
    expect(t.collapsedDuplicates).to.equal(1);
    expect(t.points).to.have.length(12);
  });

  it('a repeated hour with another value is an error even when collapsing', () => {
    const f = 'gb-2023-01-01-conflicting-duplicate.csv';
    throwsAt(
      () => parse(f, { duplicates: 'collapse-identical' }),
      f,
      8,
      /2023-01-01T05:00Z also appears on line 7 with different values/,
    );
  });

  it('an earlier row names both timestamps and both lines', () => {
    const f = 'gb-2023-01-01-out-of-order.csv';
    throwsAt(
      () => parse(f),
      f,
      9,
      /timestamp 2023-01-01T06:00Z is earlier than 2023-01-01T07:00Z on line 8: rows must be in increasing time/,
    );
  });
});

describe('carbon trace reader: physical lines, forecasts, zones, cells', () => {
  it('BOM + CRLF + blank lines: the same points, and errors on the line an editor shows', () => {
    const f = 'us-cal-ciso-2023-01-01-bom-crlf.csv';
    const t = parse(f);
    expect(t.points).to.have.length(12);
    expect(t.zone).to.equal('US-CAL-CISO');
    const want = column(f, 'Carbon Intensity gCO₂eq/kWh (direct)');
    expect(t.points.map((p) => p.valueGPerKWh)).to.deep.equal(want.map((r) => Number(r.cell)));
    const bad = 'us-cal-ciso-2023-01-01-bom-crlf-bad-value.csv';
    const line = column(bad, 'Carbon Intensity gCO₂eq/kWh (direct)').find((r) => r.cell === 'n/a')!.line;
    expect(line).to.equal(13); // header, blank, 6 rows, 2 blanks, 06:00, 07:00, then 08:00
    const e = throwsAt(
      () => parse(bad),
      bad,
      13,
      /column 'Carbon Intensity gCO₂eq\/kWh \(direct\)': value 'n\/a' is not a number/,
    );
    expect(e.column).to.equal('Carbon Intensity gCO₂eq/kWh (direct)');
  });

  it('an empty forecast cell is a missing forecast, never 0', () => {
    const f = 'ciso-dacf-2021-07-01-empty-forecasts.csv';
    const t = parse(f);
    const cells = column(f, 'carbon_from_src_forecasts');
    expect(t.hasForecast).to.equal(true);
    t.points.forEach((p, i) => {
      if (cells[i]!.cell === '') expect(p.forecastGPerKWh, `hour ${i}`).to.equal(undefined);
      else expect(p.forecastGPerKWh).to.equal(Number(cells[i]!.cell));
    });
    expect(t.points.filter((p) => p.forecastGPerKWh === undefined)).to.have.length(3);
    expect(t.points.some((p) => p.forecastGPerKWh === 0)).to.equal(false);
  });

  it('an empty actual value is an error by default, a gap to fill when asked', () => {
    const f = 'gb-2023-01-01-duplicate-hour.csv';
    const lines = text(f).split('\r\n');
    lines[2] = lines[2]!.replace(',65.09,', ',,');
    const t = lines.join('\r\n');
    throwsAt(() => parseCarbonTrace(t, f, { duplicates: 'collapse-identical' }), f, 3, /empty carbon intensity/);
    const filled = parseCarbonTrace(t, f, { duplicates: 'collapse-identical', gapFill: 'hold' });
    expect(filled.points[1]).to.include({ valueGPerKWh: 62.55, filled: true, estimated: true });
    expect(filled.filledSteps).to.equal(1);
  });

  it('several zones in one file: an error naming the second zone, or filtered by the zone asked for', () => {
    const f = 'de-gb-2023-01-01-two-zones.csv';
    throwsAt(() => parse(f), f, 8, /zone 'GB' after zone 'DE' on line 2/, /zones 'DE', 'GB'/);
    const gb: CarbonTrace = parse(f, { zone: 'GB' });
    expect(gb.zone).to.equal('GB');
    expect(gb.points.map((p) => p.valueGPerKWh)).to.deep.equal(
      column(f, 'Carbon Intensity gCO₂eq/kWh (direct)')
        .slice(6)
        .map((r) => Number(r.cell)),
    );
    throwsAt(() => parse(f, { zone: 'FR' }), f, undefined, /no rows for zone 'FR'; the file holds zones 'DE', 'GB'/);
    throwsAt(
      () => parse('ciso-dacf-2021-07-01-empty-forecasts.csv', { zone: 'US-CAL-CISO' }),
      'ciso-dacf-2021-07-01-empty-forecasts.csv',
      undefined,
      /the file names no zone/,
    );
  });

  it('strict cells: impossible dates, hex and NaN numbers, bad flags are errors naming line, column and value', () => {
    const f = 'de-lu-2023-04-14-old-header.csv';
    const lines = text(f).split('\r\n');
    const edit = (i: number, from: string, to: string) => {
      const copy = [...lines];
      copy[i] = copy[i]!.replace(from, to);
      return copy.join('\r\n');
    };
    throwsAt(
      () => parseCarbonTrace(edit(2, '2023-04-14 13:00:00', '2023-02-30 13:00:00'), f),
      f,
      3,
      /column 'Datetime \(UTC\)': value '2023-02-30 13:00:00' is not a UTC timestamp/,
    );
    throwsAt(() => parseCarbonTrace(edit(2, ',299.76,', ',0x12,'), f), f, 3, /value '0x12' is not a number/);
    throwsAt(() => parseCarbonTrace(edit(2, ',299.76,', ',NaN,'), f), f, 3, /value 'NaN' is not a number/);
    throwsAt(
      () => parseCarbonTrace(edit(2, ',299.76,', ',2999.76,'), f),
      f,
      3,
      /value '2999.76' is outside \[0, 2000\] gCO2eq\/kWh/,
    );
    throwsAt(
      () => parseCarbonTrace(edit(2, ',false,', ',maybe,'), f),
      f,
      3,
      /column 'Data Estimated': value 'maybe' is not true or false/,
    );
    // An empty estimated flag is unknown: the value is not claimed as measured.
    expect(parseCarbonTrace(edit(2, ',false,', ',,'), f).points[1]!.estimated).to.equal(true);
  });

  it('JSON traces follow the same rules, naming the element', () => {
    const pts = [
      { datetime: '2023-01-01T00:00:00Z', carbonIntensity: 62.55, isEstimated: false },
      { datetime: '2023-01-01T01:00:00Z', carbonIntensity: 65.09, forecast: null },
      { datetime: '2023-01-01T03:00:00Z', carbonIntensity: 57.35, forecast: 60 },
    ];
    throwsAt(
      () => parseCarbonTrace(JSON.stringify(pts), 'gb.json'),
      'gb.json',
      undefined,
      /gb\.json: \[2\]: gap: 1 missing 1-hour step/,
    );
    const t = parseCarbonTrace(JSON.stringify(pts), 'gb.json', { gapFill: 'hold' });
    expect(t.points.map((p) => p.forecastGPerKWh)).to.deep.equal([undefined, undefined, undefined, 60]);
    const bad = [{ datetime: '2023-01-01T00:00:00Z', carbonIntensity: '62' }];
    throwsAt(
      () => parseCarbonTrace(JSON.stringify(bad), 'gb.json'),
      'gb.json',
      undefined,
      /\[0\]\.carbonIntensity: value "62" is not a number/,
    );
  });
});
