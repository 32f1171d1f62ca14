import { expect } from 'chai';
import {
  decodeState,
  encodeState,
  mustSave,
  type SavedState,
  type ServiceState,
} from '../../../operator/reconciler/service-state.ts';

const T = Date.UTC(2026, 2, 2, 4);
const plan = (variant: string, intervalStartMs: number, reason = 'r') =>
  ({
    variant,
    replicas: 2,
    nextEvaluationMs: intervalStartMs + 300_000,
    reason,
    expectedEmissionsGPerHour: 10,
    expectedPowerWatts: 100,
    degraded: variant !== 'full',
    flags: {
      sloAtRisk: false,
      budgetExhausted: false,
      gpuLimited: false,
      noSignal: false,
      relaxedLatency: false,
      fallbackForecast: false,
    },
    budgetUsed: 0,
    intervalStartMs,
    policyKey: 'k',
  }) as const;

function state(atMs: number, variant = 'full', rps = 100): ServiceState {
  const served = rps * ((atMs - T) / 1000);
  return {
    books: {
      budget: {
        windowStartMs: Date.UTC(2026, 2, 2),
        servedTotal: served,
        servedDegraded: variant === 'full' ? 0 : served,
      },
      bookedUntilMs: atMs,
      plan: plan(variant, Math.floor(atMs / 300_000) * 300_000),
    },
    demand: {
      intervalMs: 300_000,
      points: [{ timeMs: T - 300_000, rps }],
      closedUntilMs: Math.floor(atMs / 300_000) * 300_000,
    },
    mode: 'active',
  };
}

describe('service state: saved only when a restart could not reconstruct it', () => {
  const saved: SavedState = { ...state(T), savedAtMs: T };
  saved.demand.closedUntilMs = T;

  it('the same plan and demand, booked forward at the held rate: nothing to save', () => {
    const cur = state(T + 3_600_000);
    cur.demand.points = Array.from({ length: 13 }, (_, i) => ({ timeMs: T - 300_000 + i * 300_000, rps: 100 }));
    expect(mustSave(saved, cur, 'full', 'day', cur.books.bookedUntilMs!)).to.equal(false);
  });

  it('another rate, another plan, another dwell or mode: saved', () => {
    const at = T + 600_000;
    const moreDemand = state(at);
    moreDemand.demand.points = [
      { timeMs: T - 300_000, rps: 100 },
      { timeMs: T, rps: 120 },
    ];
    moreDemand.demand.closedUntilMs = T + 300_000;
    expect(mustSave(saved, moreDemand, 'full', 'day', at), 'rate').to.equal(true);
    const swapped = state(at);
    swapped.books.plan = plan('small', T + 600_000);
    expect(mustSave(saved, swapped, 'full', 'day', at), 'plan').to.equal(true);
    const flagged = state(at);
    flagged.books.plan = { ...plan('full', T + 600_000), flags: { ...plan('full', T).flags, fallbackForecast: true } };
    expect(mustSave(saved, flagged, 'full', 'day', at), 'flags').to.equal(true);
    const dwell = state(at);
    dwell.books.lastChangeMs = T;
    expect(mustSave(saved, dwell, 'full', 'day', at), 'dwell').to.equal(true);
    expect(mustSave(saved, { ...state(at), mode: 'observe' }, 'full', 'day', at), 'mode').to.equal(true);
    const counts = state(at);
    counts.books.budget.servedTotal += 50;
    expect(mustSave(saved, counts, 'full', 'day', at), 'budget counts the held rate does not explain').to.equal(true);
    expect(mustSave(undefined, state(at), 'full', 'day', at), 'nothing saved yet').to.equal(true);
  });

  it('a replan that keeps the decision and only words its figures anew (reason, budget used, estimates): nothing to save', () => {
    const at = T + 600_000;
    const reworded = state(at);
    reworded.demand.points = [0, 1, 2].map((i) => ({ timeMs: T - 300_000 + i * 300_000, rps: 100 }));
    expect(mustSave(saved, reworded, 'full', 'day', at), 'the same plan').to.equal(false);
    reworded.books.plan = {
      ...plan('full', T + 600_000, 'ranks 77th of the 80 slots left'),
      budgetUsed: 0.01,
      expectedEmissionsGPerHour: 11,
      expectedPowerWatts: 101,
    };
    expect(mustSave(saved, reworded, 'full', 'day', at)).to.equal(false);
  });

  it('round trip through the store is exact; a damaged record is an error naming the field, never used', () => {
    const s = state(T + 1234.5);
    s.books.budget.servedTotal = 0.1 + 0.2; // a float JSON must keep exactly
    const back = decodeState(encodeState(s, T));
    expect(back.state!.books).to.deep.equal(s.books);
    expect(back.state!.demand).to.deep.equal(s.demand);
    expect(decodeState('{').error).to.match(/not JSON/);
    const bad = JSON.parse(encodeState(s, T));
    bad.books.budget.servedDegraded = -1;
    expect(decodeState(JSON.stringify(bad)).error).to.match(/books\.budget\.servedDegraded/);
    bad.books.budget.servedDegraded = 0;
    bad.demand.points = [
      { timeMs: 2, rps: 1 },
      { timeMs: 1, rps: 1 },
    ];
    expect(decodeState(JSON.stringify(bad)).error).to.match(/demand\.points\[1\]/);
    expect(decodeState(JSON.stringify({ ...bad, version: 9 })).error).to.match(/version 9/);
  });

  it('stores the demand history as arrays (times as steps), reads version 1 records, and names a bad array', () => {
    const s = state(T + 1234.5);
    s.demand.points = [0, 1, 2, 3].map((i) => ({ timeMs: T - (4 - i) * 300_000, rps: 0.1 * i + 0.2 }));
    const text = encodeState(s, T);
    const stored = JSON.parse(text);
    expect(stored.version).to.equal(2);
    expect(stored.demand.points).to.equal(undefined);
    expect(stored.demand.times).to.have.length(s.demand.points.length);
    expect(stored.demand.times.slice(1).every((dt: number) => dt > 0)).to.equal(true);
    // A version 1 record (the list form) decodes to the same state.
    const v1 = JSON.stringify({ version: 1, savedAtMs: T, mode: s.mode, books: s.books, demand: s.demand });
    expect(decodeState(v1).state!.demand).to.deep.equal(decodeState(text).state!.demand);
    expect(decodeState(v1).state!.demand).to.deep.equal(s.demand);
    expect(text.length).to.be.below(v1.length);
    const bad = JSON.parse(text);
    bad.demand.rps[1] = -3;
    expect(decodeState(JSON.stringify(bad)).error).to.match(/demand\.rps\[1\]/);
    bad.demand.rps.pop();
    expect(decodeState(JSON.stringify(bad)).error).to.match(/demand\.times\/rps .*different lengths/);
    const back = JSON.parse(text);
    back.demand.times[1] = 0;
    expect(decodeState(JSON.stringify(back)).error).to.match(/demand\.times\[1\] is not a step > 0/);
  });
});
