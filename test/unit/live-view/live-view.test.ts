// The live view on recorded states: audit rows recorded from a run of the embedded demo
// (test/fixtures/live-view/demo-run.json) folded by reduceLive and rendered by renderLiveView. The expected
// numbers are recomputed here from the rows themselves, so a view that sums, rounds or labels wrongly fails.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DecisionRecord } from '../../../operator/audit/decision.ts';
import type { UsageRecord } from '../../../operator/audit/usage.ts';
import {
  decisionInWords,
  initialLiveState,
  reduceLive,
  serviceKey,
  type LiveEvent,
  type LiveState,
} from '../../../operator/live-view/live-state.ts';
import { mass, renderLiveView } from '../../../operator/live-view/render-live-view.ts';
import { startTerminalView, statusLines } from '../../../operator/live-view/terminal-view.ts';

const FIXTURE = join(import.meta.dirname, '../../fixtures/live-view/demo-run.json');
const recorded = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { usage: UsageRecord[]; decision: DecisionRecord[] };

/** The recorded rows as the tap delivers them: each decision before the usage row of the interval after it. */
function events(): LiveEvent[] {
  const all: Array<{ t: number; e: LiveEvent }> = [
    ...recorded.usage.map((row) => ({ t: row.interval_end, e: { type: 'usage', row } as LiveEvent })),
    ...recorded.decision.map((row) => ({ t: row.time, e: { type: 'decision', row } as LiveEvent })),
  ];
  return all.sort((a, b) => a.t - b.t).map((x) => x.e);
}

function fold(es: LiveEvent[], s: LiveState = initialLiveState('carbonscale test', 0)): LiveState {
  return es.reduce(reduceLive, s);
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('live view: state folded from recorded audit rows', () => {
  it('sums emissions and baseline per service, and shows the newest variant, replicas, budget and intensity', () => {
    const s = fold(events());
    const names = [...new Set(recorded.usage.map((r) => r.name))].sort();
    expect(Object.keys(s.services).sort()).to.deep.equal(names.map((n) => serviceKey('default', n)));
    for (const name of names) {
      const rows = recorded.usage.filter((r) => r.name === name);
      const last = rows.reduce((a, b) => (b.interval_end >= a.interval_end ? b : a));
      const v = s.services[serviceKey('default', name)]!;
      expect(v.emissionsG).to.be.closeTo(sum(rows.map((r) => r.total_co2e_g ?? 0)), 1e-9);
      expect(v.baselineG).to.be.closeTo(sum(rows.map((r) => r.baseline_total_co2e_g ?? 0)), 1e-9);
      expect(v.rows).to.equal(rows.length);
      expect([v.variant, v.replicasDesired, v.replicasReady, v.tier]).to.deep.equal([
        last.variant,
        last.replicas_desired,
        last.replicas_ready,
        last.tier,
      ]);
      expect(v.budgetUsed).to.equal(last.tier === 'eco' ? last.degradation_budget_used : null);
    }
    const newest = recorded.usage.reduce((a, b) => ((b.ci_data_time ?? 0) >= (a.ci_data_time ?? 0) ? b : a));
    expect(s.regions[newest.ci_region]!.valueGPerKWh).to.equal(newest.ci_g_per_kwh);
    expect(s.usageRows).to.equal(recorded.usage.length);
    expect(s.decisionRows).to.equal(recorded.decision.length);
  });

  it('renders each service line with its numbers, units and the saving against the baseline', () => {
    const s = fold(events());
    const lines = renderLiveView(s, { width: 200 });
    for (const v of Object.values(s.services)) {
      const line = lines.find((l) => l.startsWith(`${v.name} `));
      expect(line, `a line for ${v.name} in\n${lines.join('\n')}`).to.not.equal(undefined);
      const pct = Math.round(((v.baselineG - v.emissionsG) / v.baselineG) * 1000) / 10;
      const rel = pct === 0 ? 'same as' : pct > 0 ? `−${pct}% vs` : `+${-pct}% vs`;
      expect(line).to.contain(`${mass(v.emissionsG)} (${rel} ${mass(v.baselineG)})`);
      expect(line).to.contain(`${v.replicasReady}/${v.replicasDesired}`);
      expect(line).to.contain(v.variant);
    }
    const region = Object.values(s.regions)[0]!;
    expect(lines.join('\n')).to.contain(`${Math.round(region.valueGPerKWh!)} gCO2eq/kWh`);
    expect(lines.join('\n')).to.contain('estimated from the declared power per replica');
  });

  it('fits the terminal: no line wider than it, and the decision list shrinks to the rows available', () => {
    const s = fold(events());
    for (const width of [40, 80, 132])
      for (const l of renderLiveView(s, { width })) expect(l.length).to.be.at.most(width);
    const tall = renderLiveView(s, { width: 120, height: 200 });
    const short = renderLiveView(s, { width: 120, height: 12 });
    const shown = (ls: string[]) => ls.filter((l) => /^ {2}\d\d:\d\d {2}/.test(l)).length;
    expect(shown(tall)).to.equal(recorded.decision.length);
    expect(shown(short)).to.be.lessThan(shown(tall));
    expect(shown(short)).to.be.at.least(3);
  });

  it('says a decision in words: the change first, then the reason without restating the change', () => {
    const swap: DecisionRecord = {
      ...recorded.decision[0]!,
      kind: 'swap',
      before_variant: 'digits-full',
      after_variant: 'digits-small',
      before_replicas: 3,
      after_replicas: 2,
      reason:
        "grid at 612 gCO2/kWh (eco); switched digits-full → digits-small, 3→2 replicas; saving per degraded request ranks 1st of the 60 slots left in today's window; 12% of today's degradation budget used",
    };
    expect(decisionInWords(swap)).to.equal(
      "swapped digits-full → digits-small, 3→2 replicas: grid at 612 gCO2/kWh (eco); saving per degraded request ranks 1st of the 60 slots left in today's window; 12% of today's degradation budget used",
    );
    expect(decisionInWords({ ...swap, kind: 'scale', before_replicas: null, after_replicas: 1, reason: 'x' })).to.equal(
      'started 1 replica of digits-small: x',
    );
  });

  it('keeps decisions in time order when services report out of order, and counts rows without intensity', () => {
    const [a, b] = [recorded.decision[0]!, recorded.decision[1]!];
    const s = fold([
      { type: 'decision', row: { ...b, time: 2000 } },
      { type: 'decision', row: { ...a, time: 1000 } },
    ]);
    expect(s.decisions.map((d) => d.timeMs)).to.deep.equal([1000, 2000]);
    const u = recorded.usage[0]!;
    const t = fold([
      { type: 'usage', row: u },
      {
        type: 'usage',
        row: {
          ...u,
          interval_end: u.interval_end + 60_000,
          ci_g_per_kwh: null,
          total_co2e_g: null,
          baseline_total_co2e_g: null,
          ci_missing: true,
        },
      },
    ]);
    const v = t.services[serviceKey(u.namespace, u.name)]!;
    expect([v.rows, v.rowsWithoutIntensity, v.emissionsG]).to.deep.equal([2, 1, u.total_co2e_g]);
    expect(renderLiveView(t, { width: 200 }).join('\n')).to.contain('(1 intervals without intensity)');
  });
});

describe('live view on a pipe (not a TTY): appended lines', () => {
  it('prints the facts once, each decision once when it happens, and a status line per service at the end', () => {
    let text = '';
    let wall = 1_000;
    const view = startTerminalView({
      title: 't',
      out: { isTTY: false, write: (c: string) => ((text += c), true) },
      wallNow: () => wall,
    });
    view.dispatch({ type: 'fact', key: 'kubeconfig', text: 'kubeconfig: /x' });
    for (const e of events()) view.dispatch(e);
    wall += 60_000;
    view.stop();
    expect(text.split('\n').filter((l) => l === 'kubeconfig: /x')).to.have.length(1);
    for (const d of recorded.decision)
      expect(text.split('\n').filter((l) => l.includes(`${d.name}: ${decisionInWords(d)}`))).to.have.length(1);
    for (const l of statusLines(view.state)) expect(text).to.contain(l);
    expect(statusLines(view.state)).to.have.length(Object.keys(view.state.services).length);
  });
});
