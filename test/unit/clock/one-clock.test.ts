// One clock (ADR 0005, operator/clock.ts): with the embedded default's replay clock — 60× from the rule's start on
// the embedded carbon trace — the real reconciler, its demand port reading a shipped demand trace, and the
// accountant on the boundary scheduler all run on trace time. The wall under the replay is a ManualClock, so the
// only time that moves is the one the test moves: a component that read Date.now() instead would see a 2026 date
// and no time passing, and each case below would fail (the budget window's day, the dwell that ends one wall
// minute after a swap, the demand hour, the usage rows' interval bounds).
// The cluster, carbon signal and books store are the reconciler suite's in-memory ports (fake-cluster.ts); the
// clock and the demand port are the ones main.ts wires.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import winston from 'winston';
import { EMBEDDED_TRACE_FILE, loadTrace } from '../../../operator/carbon/trace-provider.ts';
import { ManualClock, onEveryBoundary, replayClock, type OperatorClock } from '../../../operator/clock.ts';
import { windowStartFor } from '../../../operator/decision/budget-window.ts';
import { intervalStartFor } from '../../../operator/decision/engine.ts';
import { hourlyCountsToRps } from '../../../operator/demand/index.ts';
import { Accountant } from '../../../operator/reconciler/accounting.ts';
import { Reconciler } from '../../../operator/reconciler/reconciler.ts';
import { replayStartFor } from '../../../operator/replay-start.ts';
import { demandPort } from '../../../operator/wiring/demand-port.ts';
import { ROOT } from '../cli/run-cli.ts';
import { FakeCluster, HOUR, service, spellForecast } from '../reconciler/fake-cluster.ts';

const KEY = 'ns/svc';
const MIN = 60_000;
const SPEEDUP = 60;
const ACCOUNTING_MS = 60_000;
const DEMAND_FILE = 'data/demand/azure2024_conv_hourly.csv';
const PEAK_RPS = 150;
/** The embedded default's start: a rule over its trace (2023-01-03 04:00 UTC on DE-LU 2023), never a date. */
const START = replayStartFor(loadTrace(EMBEDDED_TRACE_FILE).points);

interface Rig {
  wall: ManualClock;
  clock: OperatorClock;
  fc: FakeCluster;
  r: Reconciler;
  /** Moves the wall clock by `wallMs` and lets the fake signal's history follow the replayed time. */
  advance(wallMs: number): Promise<void>;
}

function rig(over: Record<string, unknown> = {}): Rig {
  const wall = new ManualClock(Date.UTC(2026, 11, 2, 15));
  const clock = replayClock(START, SPEEDUP, wall);
  const fc = new FakeCluster();
  fc.now = clock.now();
  fc.add(
    service('svc', {
      demand: { source: 'trace', trace: { file: DEMAND_FILE, peakRps: PEAK_RPS } },
      ...over,
    }),
  );
  const ports = fc.ports();
  ports.clock = clock;
  ports.demand = demandPort(clock, ports.cache.podsOf);
  const r = new Reconciler(
    ports,
    {
      clusterId: 'test',
      operatorVersion: 'test',
      clockSpeedup: SPEEDUP,
      statusHeartbeatMs: 15 * MIN,
      accountingIntervalMs: ACCOUNTING_MS,
    },
    winston.createLogger({ silent: true }),
  );
  const advance = async (wallMs: number) => {
    await wall.advance(wallMs);
    fc.now = clock.now();
  };
  return { wall, clock, fc, r, advance };
}

/** The trace's rate for the UTC hour holding `t`, as the demand port anchors it (hour floor(t / 1 h) mod length). */
function traceRpsAt(t: number): number {
  const text = readFileSync(join(ROOT, DEMAND_FILE), 'utf8');
  const column = text.slice(0, text.indexOf('\n')).split(',').at(-1)!.trim();
  const series = hourlyCountsToRps(text, column);
  const peak = Math.max(...series);
  return (series[Math.floor(t / HOUR) % series.length]! * PEAK_RPS) / peak;
}

describe('one clock: a replay at 60× drives every consumer of time', () => {
  it('the replay clock reads trace time: START, then 60 clock seconds per wall second', async () => {
    const { clock, advance } = rig();
    expect(new Date(START).toISOString()).to.equal('2023-01-03T04:00:00.000Z');
    expect(clock.now()).to.equal(START);
    await advance(90_000);
    expect(clock.now()).to.equal(START + 90 * MIN);
  });

  it('budget window: the books and status.budget open the trace day, status times are trace times', async () => {
    const { clock, fc, r, advance } = rig();
    await r.reconcile(KEY);
    await advance(2 * MIN); // two trace hours
    await r.reconcile(KEY);
    const st = fc.isvcs.get(KEY)!.status!;
    const day = windowStartFor(clock.now(), 'day');
    expect(new Date(day).toISOString()).to.equal('2023-01-03T00:00:00.000Z');
    expect(r.memoryOf(KEY)!.state.books.budget.windowStartMs).to.equal(day);
    expect(st.budget!.windowStart).to.equal('2023-01-03T00:00:00.000Z');
    expect(st.lastDecision!.time!.slice(0, 10)).to.equal('2023-01-03');
    expect(st.clock).to.deep.equal({ mode: 'replay', speedup: SPEEDUP });
  });

  it('budget window: a trace midnight, 20 wall minutes in, opens the next day', async () => {
    const { clock, r, advance } = rig();
    await r.reconcile(KEY);
    await advance(20 * MIN + 30_000); // 20.5 trace hours: past 2023-01-04 00:00
    await r.reconcile(KEY);
    expect(new Date(clock.now()).toISOString().slice(0, 10)).to.equal('2023-01-04');
    expect(r.memoryOf(KEY)!.state.books.budget.windowStartMs).to.equal(Date.UTC(2023, 0, 4));
  });

  it('dwell: a one-hour minimum dwell holds the small variant 30 wall seconds after a swap, released after 61', async () => {
    const { clock, fc, r, advance } = rig({
      demand: { source: 'static', staticRps: 150 },
      policy: { intervalSeconds: 300, minDwellSeconds: 3600 },
    });
    for (let h = -48; h < 0; h++) fc.signal.set(100 + ((h + 48) % 24), clock.now() + h * HOUR);
    fc.signal.set(100, clock.now());
    await passes(r, advance, 10 * MIN);
    expect(variantOf(fc)).to.equal('full');
    fc.signal.set(900, clock.now());
    fc.signal.forecast = spellForecast(clock.now(), 2, 900, 100);
    let swappedAt: number | undefined;
    for (let i = 0; i < 12 && swappedAt === undefined; i++) {
      await r.reconcile(KEY);
      if (variantOf(fc) === 'small') swappedAt = clock.now();
      else await advance(MIN / SPEEDUP);
    }
    expect(swappedAt, 'eco swaps to the small variant in the dirty spell').to.be.a('number');
    // The spell ends at once and the dirty hours are ahead: the plan wants the full variant now (its budget is for
    // those hours), and only the dwell keeps the small one.
    fc.signal.set(50, clock.now());
    fc.signal.forecast = spellForecast(clock.now(), 25, 900, 900);
    await passes(r, advance, 30 * MIN);
    expect(clock.now() - swappedAt!).to.equal(30 * MIN);
    expect(variantOf(fc), 'held: 30 trace minutes of a 60-minute dwell (30 wall seconds)').to.equal('small');
    await passes(r, advance, 31 * MIN);
    expect(variantOf(fc), 'released 61 trace minutes (61 wall seconds) after the swap').to.equal('full');
  });

  it('demand trace: the ledger closes trace-time intervals at the trace hour’s rate', async () => {
    const { clock, r, advance } = rig();
    await r.reconcile(KEY);
    await advance(3 * MIN + 7_000); // 3 h 7 min of trace
    await r.reconcile(KEY);
    const iv = 300_000;
    const ledger = r.memoryOf(KEY)!.state.demand;
    expect(ledger.closedUntilMs).to.equal(intervalStartFor(clock.now(), iv));
    const last = ledger.points.at(-1)!;
    expect(last.timeMs).to.equal(intervalStartFor(clock.now(), iv) - iv);
    expect(last.rps).to.be.closeTo(traceRpsAt(last.timeMs), 1e-9);
    // The hour before the replay started is backfilled from the same trace (it can answer for the past).
    const before = ledger.points.find((p) => p.timeMs === START - HOUR);
    expect(before?.rps).to.be.closeTo(traceRpsAt(START - HOUR), 1e-9);
  });

  it('audit intervals: the boundary scheduler fires on trace minutes and the usage rows cover them', async () => {
    const { clock, fc, r, advance } = rig();
    await r.reconcile(KEY);
    const accountant = new Accountant(r.ctx);
    const fired: number[] = [];
    let running: Promise<unknown> = Promise.resolve();
    const stop = onEveryBoundary(clock, ACCOUNTING_MS, (t) => {
      fired.push(t);
      running = running.then(() => accountant.accountDue(t));
    });
    await advance(5_000); // five trace minutes in five wall seconds
    stop();
    await running;
    expect(fired).to.deep.equal([1, 2, 3, 4, 5].map((i) => START + i * MIN));
    const rows = fc.audit.rows.usage.map((u) => [u.interval_start, u.interval_end]);
    expect(rows.length).to.be.at.least(4);
    for (const [a, b] of rows) {
      expect(Number(b) - Number(a)).to.equal(ACCOUNTING_MS);
      expect(Number(a)).to.be.within(START, START + 4 * MIN);
    }
  });
});

/** Passes every trace minute for `clockMs` of trace time (a minute is a wall second at 60×), ending on a pass. */
async function passes(r: Reconciler, advance: Rig['advance'], clockMs: number): Promise<void> {
  for (let t = 0; t < clockMs; t += MIN) {
    await r.reconcile(KEY);
    await advance(Math.min(MIN, clockMs - t) / SPEEDUP);
  }
  await r.reconcile(KEY);
}

function variantOf(fc: FakeCluster): string | undefined {
  const cm = fc.objects.get('ConfigMap/ns/svc-carbonscale') as { data: Record<string, string> } | undefined;
  return cm?.data['active-variant'];
}
