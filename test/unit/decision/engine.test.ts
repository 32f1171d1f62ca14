// The decision engine's contract (operator/decision/engine.ts, ADR 0101): booking, one plan per interval, the dwell
// from the applied variant, books that survive a JSON round trip, the demand outlook and the one "budget used".
import { expect } from 'chai';
import {
  DecisionInputError,
  demandOutlook,
  engineStep,
  newBooks,
  type EngineBooks,
  type EngineObservation,
  type EngineStep,
  type ServicePolicy,
} from '../../../operator/decision/index.ts';
import { baseInput, DAY, FULL, HOUR, series, SMALL, T0 } from './fixtures.ts';

function service(over: Partial<ServicePolicy> = {}): ServicePolicy {
  const b = baseInput();
  return {
    variants: b.variants,
    tier: b.tier,
    replicas: b.replicas,
    slo: b.slo,
    pue: b.pue,
    embodiedGPerGpuHour: b.embodiedGPerGpuHour,
    policy: b.policy,
    ...over,
  };
}

/** Hourly demand history ending just before `now` at a constant rate (8 days and an hour: the weekly rule applies
 *  and its error over the last day can be measured). */
function flatDemand(now: number, rps: number, days = 8): { timeMs: number; rps: number }[] {
  const n = days * 24 + 1;
  return Array.from({ length: n }, (_, i) => ({ timeMs: now - (n - i) * HOUR, rps }));
}

/** A day that is clean except a dirty block from 06:00 to 08:00 UTC, with a 24 h forecast. */
function obsAt(now: number, over: Partial<EngineObservation> = {}): EngineObservation {
  const hour = (t: number) => new Date(t).getUTCHours();
  const I = (t: number) => (hour(t) >= 6 && hour(t) < 8 ? 600 : 200);
  return {
    now,
    service: service(),
    observed: { clusterGpuHeadroom: 10_000 },
    carbon: {
      nowGPerKWh: I(now),
      forecast: series(Math.floor(now / HOUR) * HOUR + HOUR, 24, (i) => I(now + (i + 1) * HOUR)),
      history: series(now - 48 * HOUR, 48, (i) => I(now - (48 - i) * HOUR)),
    },
    demand: { history: flatDemand(now, 1) },
    ...over,
  };
}

/** Runs a controller-like loop: each pass applies the plan at once (observed = the last plan). */
function passes(times: number[], books: EngineBooks, mk: (t: number) => EngineObservation): EngineStep[] {
  const out: EngineStep[] = [];
  for (const t of times) {
    const o = mk(t);
    const plan = books.plan;
    const s = engineStep(books, {
      ...o,
      observed: { ...o.observed, ...(plan ? { variant: plan.variant, replicas: plan.replicas } : {}) },
    });
    books = s.books;
    out.push(s);
  }
  return out;
}

describe('decision engine (engineStep)', () => {
  it('books the requests since the last pass at the measured rate, against the standing plan’s variant', () => {
    const t1 = T0 + 7 * HOUR;
    const first = engineStep(newBooks(t1, service()), obsAt(t1));
    expect(first.books.budget.servedTotal).to.equal(0); // nothing booked before the first pass
    expect(first.decision.variant).to.equal(SMALL.name); // dirty hour, budget untouched
    // 30 minutes later, same interval: 1800 s at 1 req/s, all degraded (the plan runs the smaller variant).
    const t2 = t1 + 30 * 60_000;
    const o2 = obsAt(t2);
    const s2 = engineStep(first.books, { ...o2, observed: { variant: SMALL.name, clusterGpuHeadroom: 10_000 } });
    expect(s2.books.budget.servedTotal).to.be.closeTo(1800, 1e-9);
    expect(s2.books.budget.servedDegraded).to.be.closeTo(1800, 1e-9);
    expect(s2.books.bookedUntilMs).to.equal(t2);
    // A full-variant plan books requests as not degraded; the rate is the measured one (here 2 req/s). The day's
    // budget is spent (with budget left, the flat rest of the day is one tie and degrading now is as good as later).
    const t3 = T0 + 13 * HOUR;
    const b3: EngineBooks = { budget: { windowStartMs: T0, servedTotal: 20_000, servedDegraded: 20_000 } };
    const s3 = engineStep(b3, obsAt(t3));
    expect(s3.decision.variant).to.equal(FULL.name);
    const t4 = t3 + HOUR;
    const h4 = flatDemand(t4, 2);
    const s4 = engineStep(s3.books, obsAt(t4, { demand: { history: h4 } }));
    expect(s4.books.budget.servedTotal).to.be.closeTo(20_000 + 7200, 1e-9);
    expect(s4.books.budget.servedDegraded).to.equal(20_000);
  });

  it('rolls the books to the new window at midnight (UTC day) and drops the closed window’s requests', () => {
    const late = T0 + 23 * HOUR + 30 * 60_000;
    const books: EngineBooks = {
      budget: { windowStartMs: T0, servedTotal: 50_000, servedDegraded: 9_000 },
      bookedUntilMs: late,
    };
    const s = engineStep(books, obsAt(T0 + DAY + 10 * 60_000));
    expect(s.books.budget.windowStartMs).to.equal(T0 + DAY);
    // Only the 10 minutes after midnight count in the new window.
    expect(s.books.budget.servedTotal).to.be.closeTo(600, 1e-9);
    expect(s.books.budget.servedDegraded).to.equal(0);
  });

  it('plans once per interval and reading: later passes return the standing plan whatever else changed', () => {
    const t1 = T0 + 7 * HOUR;
    const a = engineStep(newBooks(t1, service()), obsAt(t1));
    expect(a.replanned).to.equal(true);
    // Same interval and intensity now, another forecast, a lagging observed variant and more demand: it stands.
    const t2 = t1 + 20 * 60_000;
    const o = obsAt(t2, {
      carbon: { nowGPerKWh: 600, history: [] },
      observed: { variant: FULL.name, replicas: 3, clusterGpuHeadroom: 10_000 },
      demand: { history: flatDemand(t2, 5) },
    });
    const b = engineStep(a.books, o);
    expect(b.replanned).to.equal(false);
    expect(b.decision).to.deep.equal(a.decision);
    expect(b.budgetUsed).to.equal(a.budgetUsed);
    // The next interval replans.
    const c = engineStep(b.books, obsAt(t1 + HOUR));
    expect(c.replanned).to.equal(true);
    expect(c.books.plan!.intervalStartMs).to.equal(t1 + HOUR);
    expect(c.decision.nextEvaluationMs).to.equal(t1 + 2 * HOUR);
  });

  it('replans once, as of the interval start, when a new intensity arrives within the interval', () => {
    const t1 = T0 + 7 * HOUR;
    const a = engineStep(newBooks(t1, service()), obsAt(t1));
    expect(a.decision.variant).to.equal(SMALL.name);
    expect(a.books.plan!.carbonGPerKWh).to.equal(600);
    // Ten minutes in, the grid is clean: a new reading plans the interval again, at once.
    const clean = (t: number) =>
      obsAt(t, {
        carbon: { nowGPerKWh: 50, history: [] },
        observed: a.input.state.variant
          ? { variant: SMALL.name, replicas: a.decision.replicas, clusterGpuHeadroom: 10_000 }
          : { clusterGpuHeadroom: 10_000 },
      });
    const b = engineStep(a.books, clean(t1 + 10 * 60_000));
    expect(b.replanned).to.equal(true);
    expect(b.books.plan!.intervalStartMs).to.equal(a.books.plan!.intervalStartMs);
    expect(b.books.plan!.carbonGPerKWh).to.equal(50);
    // The same reading again: the new plan stands.
    const c = engineStep(b.books, clean(t1 + 20 * 60_000));
    expect(c.replanned).to.equal(false);
    expect(c.decision).to.deep.equal(b.decision);
    // Losing the signal is a new reading too (the no-signal plan has none).
    const d = engineStep(c.books, obsAt(t1 + 30 * 60_000, { carbon: { history: [] } }));
    expect(d.replanned).to.equal(true);
    expect(d.books.plan!.carbonGPerKWh).to.equal(undefined);
    expect(engineStep(d.books, obsAt(t1 + 40 * 60_000, { carbon: { history: [] } })).replanned).to.equal(false);
  });

  it('books written before the plan kept its reading replan once, then stand', () => {
    const t1 = T0 + 7 * HOUR;
    const a = engineStep(newBooks(t1, service()), obsAt(t1));
    const { carbonGPerKWh: _c, ...old } = a.books.plan!;
    const b = engineStep({ ...a.books, plan: old }, obsAt(t1 + 60_000));
    expect(b.replanned).to.equal(true);
    expect(b.decision.variant).to.equal(a.decision.variant);
    expect(engineStep(b.books, obsAt(t1 + 120_000)).replanned).to.equal(false);
  });

  it('replans at once when the service policy changes within the interval', () => {
    const t1 = T0 + 7 * HOUR;
    const a = engineStep(newBooks(t1, service()), obsAt(t1));
    expect(a.decision.variant).to.equal(SMALL.name);
    const premium = service({ tier: 'premium' });
    const b = engineStep(a.books, obsAt(t1 + 60_000, { service: premium }));
    expect(b.replanned).to.equal(true);
    expect(b.decision.variant).to.equal(FULL.name);
  });

  it('plans as of the interval’s start, so a late pass plans exactly as an on-time one', () => {
    const t = T0 + 7 * HOUR;
    const onTime = engineStep(newBooks(t, service()), obsAt(t));
    const late = engineStep(newBooks(t, service()), { ...obsAt(t), now: t + 7_000 });
    expect(late.decision).to.deep.equal(onTime.decision);
  });

  it('is deterministic, and its books survive a JSON round trip exactly (a restart changes nothing)', () => {
    const times = Array.from({ length: 30 }, (_, i) => T0 + 4 * HOUR + i * 20 * 60_000);
    const mk = (t: number) => obsAt(t);
    const run1 = passes(times, newBooks(times[0]!, service()), mk);
    const run2 = passes(times, newBooks(times[0]!, service()), mk);
    expect(run2.map((s) => s.decision)).to.deep.equal(run1.map((s) => s.decision));
    // Restart after pass 12: books restored from their JSON, the rest of the run is identical.
    const restored = JSON.parse(JSON.stringify(run1[12]!.books)) as EngineBooks;
    expect(restored).to.deep.equal(run1[12]!.books);
    const rest = passes(times.slice(13), restored, mk);
    expect(rest.map((s) => s.decision)).to.deep.equal(run1.slice(13).map((s) => s.decision));
    expect(rest.map((s) => s.books)).to.deep.equal(run1.slice(13).map((s) => s.books));
  });

  it('measures the dwell from the applied variant: a swap is not reverted in the next interval', () => {
    // 06:00 the dirty block starts: swap to small. 07:00: the workload is SET to small (applied), though pods may
    // still serve the full one; the engine must keep small, not hold a stale "full" for the dwell.
    const t1 = T0 + 6 * HOUR;
    const a = engineStep(
      newBooks(t1, service()),
      obsAt(t1, { observed: { variant: FULL.name, clusterGpuHeadroom: 1e4 } }),
    );
    expect(a.decision.variant).to.equal(SMALL.name);
    expect(a.books.lastChangeMs).to.equal(t1);
    const b = engineStep(
      a.books,
      obsAt(t1 + HOUR, { observed: { variant: SMALL.name, replicas: a.decision.replicas, clusterGpuHeadroom: 1e4 } }),
    );
    expect(b.decision.variant).to.equal(SMALL.name);
    expect(b.books.lastChangeMs).to.equal(t1);
  });

  it('treats an applied variant the policy no longer lists as none applied (no crash, no dwell)', () => {
    const t = T0 + 7 * HOUR;
    const s = engineStep(
      newBooks(t, service()),
      obsAt(t, { observed: { variant: 'gone-3b', clusterGpuHeadroom: 1e4 } }),
    );
    expect(s.input.state.variant).to.equal(undefined);
    expect([FULL.name, SMALL.name]).to.include(s.decision.variant);
  });

  it('prints the one "budget used" in the reason, and returns it exactly', () => {
    const t = T0 + 10 * HOUR;
    const books: EngineBooks = {
      budget: { windowStartMs: T0, servedTotal: 36_000, servedDegraded: 3_600 },
      bookedUntilMs: t,
    };
    const s = engineStep(books, obsAt(t));
    // Allowance: 20% of (36,000 served + 14 h × 3,600 expected) = 17,280; 3,600 of it used.
    expect(s.budgetUsed).to.be.closeTo(3600 / (0.2 * (36_000 + 14 * 3600)), 1e-9);
    expect(s.budgetLive.used).to.be.closeTo(s.budgetUsed, 1e-9);
    expect(s.decision.reason).to.contain(`${Math.round(s.budgetUsed * 100)}% of today's degradation budget used`);
    // Premium has no budget: 0, and no budget words.
    const p = engineStep(books, obsAt(t, { service: service({ tier: 'premium' }) }));
    expect(p.budgetUsed).to.equal(0);
    expect(p.decision.reason).not.to.contain('budget');
  });

  it('rejects a bad demand history naming the point and the field', () => {
    const t = T0 + 7 * HOUR;
    const h = flatDemand(t, 1);
    h[3] = { timeMs: h[3]!.timeMs, rps: NaN };
    expect(() => engineStep(newBooks(t, service()), obsAt(t, { demand: { history: h } }))).to.throw(
      DecisionInputError,
      /demand\.history\[3\]\.rps/,
    );
    const unordered = flatDemand(t, 1);
    unordered[5] = { ...unordered[4]! };
    expect(() => engineStep(newBooks(t, service()), obsAt(t, { demand: { history: unordered } }))).to.throw(
      DecisionInputError,
      /demand\.history\[5\]\.timeMs/,
    );
  });
});

describe('demand outlook (demandOutlook)', () => {
  // A week-periodic demand: hour-of-week h → 1 + h/100, so every lag is told apart.
  const rate = (t: number) => 1 + ((t / HOUR) % 168) / 100;
  const hist = (now: number, hours: number) =>
    Array.from({ length: hours }, (_, i) => ({
      timeMs: now - (hours - i) * HOUR,
      rps: rate(now - (hours - i) * HOUR),
    }));
  const now = T0 + 5 * DAY + 9 * HOUR;

  it('with 8 days of history: the same interval a week ago, scaled to today’s level (exact on a weekly cycle)', () => {
    const o = demandOutlook(hist(now, 8 * 24), now, HOUR, now + 6 * HOUR);
    expect(o.basis).to.equal('week');
    expect(o.currentRps).to.be.closeTo(rate(now - HOUR), 1e-12);
    expect(o.predictedRps).to.be.closeTo(rate(now), 1e-12);
    expect(o.forecast.map((p) => p.timeMs)).to.deep.equal([1, 2, 3, 4, 5].map((k) => now + k * HOUR));
    for (const p of o.forecast) expect(p.rps).to.be.closeTo(rate(p.timeMs), 1e-12);
  });

  it('with 2 days: the daily shape (repeated), scaled by the level; with under a day: persistence; none: 0', () => {
    const h = hist(now, 48);
    const o = demandOutlook(h, now, HOUR, now + 30 * HOUR);
    expect(o.basis).to.equal('day');
    const scale = rate(now - HOUR) / rate(now - HOUR - DAY);
    expect(o.predictedRps).to.be.closeTo(rate(now - DAY) * scale, 1e-12);
    // 26 h ahead is more than a day past the last point: the shape two days back stands in.
    const p26 = o.forecast.find((p) => p.timeMs === now + 26 * HOUR)!;
    expect(p26.rps).to.be.closeTo(rate(now + 26 * HOUR - 2 * DAY) * scale, 1e-12);
    const short = demandOutlook(hist(now, 10), now, HOUR, now + 6 * HOUR);
    expect(short.basis).to.equal('current');
    expect(short.predictedRps).to.equal(short.currentRps);
    expect(short.forecast).to.deep.equal([]);
    expect(demandOutlook([], now, HOUR, now + 6 * HOUR)).to.deep.equal({
      currentRps: 0,
      predictedRps: 0,
      forecast: [],
      basis: 'none',
    });
  });

  it('leaves a gap in the forecast where the history has one', () => {
    const h = hist(now, 8 * 24).filter((p) => p.timeMs !== now + 2 * HOUR - 7 * DAY);
    const o = demandOutlook(h, now, HOUR, now + 4 * HOUR);
    expect(o.forecast.map((p) => p.timeMs)).to.deep.equal([now + HOUR, now + 3 * HOUR]);
  });
});
