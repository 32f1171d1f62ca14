// A trace CarbonSource exposes the reader's options in its spec (gapFill, maxGapHours, duplicates, zone), through
// the same path the CarbonSource controller takes: the validator, then createProvider. Files are cut from the
// shipped traces (test/fixtures/traces/SOURCES.md). Without the options a gap or a repeated hour stays a config
// error naming the line; with them the file replays, filled hours labelled estimated.
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { carbonSourceSpecSchema } from '../../../operator/api/carbon-source-schema.ts';
import { createProvider, validateCarbonSourceSpec } from '../../../operator/carbon/index.ts';
import type { CarbonProvider } from '../../../operator/carbon/index.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/traces/${name}`, import.meta.url));
const GAP = 'gb-2023-01-01-gap-6h.csv';

function build(t: Record<string, unknown>, nowMs = Date.UTC(2023, 0, 1, 10, 15)): CarbonProvider {
  const v = validateCarbonSourceSpec({ provider: 'trace', trace: { anchor: '2023-01-01T00:00:00Z', ...t } });
  if (!v.spec) throw new Error(v.errors.join('; '));
  return createProvider(v.spec, undefined, { now: () => nowMs });
}

function refusal(t: Record<string, unknown>): string {
  try {
    build(t);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(t)}`);
}

describe('trace CarbonSource: the reader options in the spec', () => {
  it('a gap is a config error naming the line and the span unless gapFill asks for filling', () => {
    expect(refusal({ file: fixture(GAP) })).to.match(
      /gb-2023-01-01-gap-6h\.csv: line 10: gap: 6 missing 1-hour steps from 2023-01-01T08:00Z to 2023-01-01T13:00Z/,
    );
    expect(refusal({ file: fixture(GAP), gapFill: 'none' })).to.match(/line 10: gap: 6 missing/);
  });

  it('gapFill hold / linear replay the gap as estimated hours; maxGapHours bounds what is filled', async () => {
    for (const gapFill of ['hold', 'linear']) {
      const r = await build({ file: fixture(GAP), gapFill }).current('GB');
      expect(r, gapFill).to.include({ sourceTimeMs: Date.UTC(2023, 0, 1, 10), estimated: true });
    }
    const held = await build({ file: fixture(GAP), gapFill: 'hold', maxGapHours: 6 }).current('GB');
    expect(held.estimated).to.equal(true);
    expect(refusal({ file: fixture(GAP), gapFill: 'hold', maxGapHours: 5 })).to.match(/line 10: gap: 6 missing/);
  });

  it('maxGapHours without gapFill is refused, naming both fields', () => {
    expect(refusal({ file: fixture(GAP), maxGapHours: 6 })).to.equal(
      'spec.trace.maxGapHours: set to 6, but spec.trace.gapFill is none (gaps are refused, never filled); set gapFill to hold or linear, or remove maxGapHours',
    );
  });

  it('duplicates: collapse-identical drops an identical repeated hour; a conflicting one is still refused', async () => {
    expect(refusal({ file: fixture('gb-2023-01-01-duplicate-hour.csv') })).to.match(/line \d+.*line \d+/);
    const p = build({ file: fixture('gb-2023-01-01-duplicate-hour.csv'), duplicates: 'collapse-identical' });
    expect((await p.current('GB')).valueGPerKWh).to.be.a('number');
    expect(
      refusal({ file: fixture('gb-2023-01-01-conflicting-duplicate.csv'), duplicates: 'collapse-identical' }),
    ).to.match(/line \d+/);
  });

  it('zone: a file holding several zones replays the one named, and is refused without one', async () => {
    const f = fixture('de-gb-2023-01-01-two-zones.csv');
    expect(refusal({ file: f })).to.match(/zone 'GB' after zone 'DE'.*name the zone to replay \(zone\)/);
    const r = await build({ file: f, zone: 'GB' }, Date.UTC(2023, 0, 1, 2, 5)).current('GB');
    expect(r.valueGPerKWh).to.equal(57.35); // GB_2023_hourly.csv, 2023-01-01 02:00
    expect(refusal({ file: f, zone: 'FR' })).to.match(/no rows for zone 'FR'; the file holds zones 'DE', 'GB'/);
  });

  it('bad values are named by the validator, and the CRD schema carries the same fields', () => {
    const v = validateCarbonSourceSpec({
      provider: 'trace',
      trace: { file: 'x.csv', gapFill: 'fill', maxGapHours: 0, duplicates: 'merge', zone: '' },
    });
    expect(v.errors).to.include.members([
      'spec.trace.gapFill: must be one of none, hold, linear',
      'spec.trace.maxGapHours: must be a number > 0 and ≤ 8760 (hours)',
      'spec.trace.duplicates: must be one of reject, collapse-identical',
      'spec.trace.zone: must be a non-empty string',
    ]);
    const props = (carbonSourceSpecSchema as any).properties.trace.properties; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(props.gapFill.enum).to.deep.equal(['none', 'hold', 'linear']);
    expect(props.maxGapHours).to.include({ type: 'number', maximum: 8760 });
    expect(props.duplicates.enum).to.deep.equal(['reject', 'collapse-identical']);
    expect(props.zone).to.include({ type: 'string', minLength: 1 });
  });
});
