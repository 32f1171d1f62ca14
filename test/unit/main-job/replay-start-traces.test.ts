// The embedded demo's replay start (operator/replay-start.ts) on every carbon trace shipped in data/carbon, not just
// the default: the start leaves the policy two days of history, is the same on every call (no wall-clock date), and
// the dirtiest hour of the day ahead — where a budget plan spends — arrives within the demo's first five minutes
// (five trace hours at the embedded 60×), on a day with a real spread between its clean and dirty hours.
import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadTrace } from '../../../operator/carbon/trace-provider.ts';
import { replayStartFor } from '../../../operator/replay-start.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const HOUR = 3_600_000;
const TRACES = readdirSync(join(ROOT, 'data/carbon')).filter((f) => f.endsWith('.csv'));

describe('replay start on every shipped carbon trace', () => {
  it('finds the traces', () => expect(TRACES.length).to.be.at.least(5));

  for (const file of TRACES)
    it(`${file}: two days of history, deterministic, the day's dirtiest hour within 5 trace hours`, () => {
      const points = loadTrace(`data/carbon/${file}`).points;
      const start = replayStartFor(points);
      expect(replayStartFor(points)).to.equal(start);
      expect(start - points[0]!.timeMs).to.be.at.least(48 * HOUR);
      const span = (a: number, b: number) =>
        points.filter((p) => p.timeMs >= start + a * HOUR && p.timeMs < start + b * HOUR).map((p) => p.valueGPerKWh);
      const day = span(0, 24).sort((a, b) => a - b);
      expect(day.length, 'a whole day of trace after the start').to.be.at.least(23);
      const soon = Math.max(...span(0, 5));
      expect(soon, 'the dirtiest hour of the day ahead comes within 5 h').to.equal(day[day.length - 1]);
      const median = day[Math.floor(day.length / 2)]!;
      // A day worth showing: its peak stands clear of its median by at least a tenth of its range.
      expect(soon - median).to.be.at.least(0.1 * (day[day.length - 1]! - day[0]!));
    });
});
