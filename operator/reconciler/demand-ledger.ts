// A service's measured demand history, one point per decision interval (timeMs = the interval's start, rps = its
// mean request rate), as the engine wants it (decision/engine.ts EngineObservation.demand). Pure: the reconcile's
// gather phase asks `intervalsToClose` which intervals have ended since the last pass, reads each from the demand
// port, and adds the points with `withPoint`; `compacted` bounds the size:
//   - the last RAW_KEEP_MS (two hours: the current rate and the booking since the last pass) at interval
//     resolution;
//   - older points as hourly means (decision/demand-forecast.ts pointSpanMs lets an hourly point reach its hour:
//     the outlook's daily and weekly lags read them), back to DEMAND_HISTORY_MS (8 days: the weekly lag plus a
//     day, ADR 0102); anything older is dropped. A backfill of older hours reads them as hourly spans directly.
// With an interval of an hour or more nothing is bucketed: the history is exactly one point per interval.
// The ledger persists with the engine's books (service-state.ts), so a restart keeps the forecast's history.
import { DEMAND_HISTORY_MS } from '../decision/demand-forecast.ts';
import { intervalStartFor } from '../decision/engine.ts';
import type { DemandPoint } from '../decision/types.ts';

const HOUR_MS = 3_600_000;
export const RAW_KEEP_MS = 2 * HOUR_MS;
/** Most intervals read in one pass: a long outage leaves a gap before this many (the outlook tolerates gaps). */
export const MAX_CATCH_UP_INTERVALS = 2_400;

export interface DemandLedger {
  intervalMs: number;
  /** Ascending by timeMs. */
  points: DemandPoint[];
  /** End of the last interval read (absent before the first pass). */
  closedUntilMs?: number;
}

export interface IntervalSpan {
  fromMs: number;
  toMs: number;
}

export function emptyLedger(intervalMs: number): DemandLedger {
  return { intervalMs, points: [] };
}

/**
 * Intervals that have ended by `now` and are not in the ledger yet, oldest first. A fresh ledger starts
 * `backfillMs` back (a demand source that can answer for the past fills the engine's history at once; one that
 * cannot gets the interval just ended). The first span may be shorter when the interval length changed.
 */
export function intervalsToClose(ledger: DemandLedger, now: number, backfillMs: number): IntervalSpan[] {
  const iv = ledger.intervalMs;
  const last = intervalStartFor(now, iv);
  const from = ledger.closedUntilMs ?? intervalStartFor(last - Math.max(iv, backfillMs), iv);
  if (!(last > from)) return [];
  // Spans older than the raw window are read an hour at a time (compacted() would fold them into hours anyway).
  const rawFrom = iv < HOUR_MS ? Math.max(from, intervalStartFor(last - RAW_KEEP_MS, iv)) : from;
  const spans: IntervalSpan[] = [];
  let a = from;
  while (a < rawFrom) {
    const b = Math.min(intervalStartFor(a, HOUR_MS) + HOUR_MS, rawFrom);
    spans.push({ fromMs: a, toMs: b });
    a = b;
  }
  const firstEnd = intervalStartFor(a, iv) + iv;
  if (a < last && firstEnd > a && firstEnd <= last && a % iv !== 0) {
    spans.push({ fromMs: a, toMs: firstEnd });
    a = firstEnd;
  }
  for (; a < last; a += iv) spans.push({ fromMs: a, toMs: a + iv });
  return spans.slice(-MAX_CATCH_UP_INTERVALS);
}

/** The ledger with the mean rate of one closed interval added (a span already read replaces its point). */
export function withPoint(ledger: DemandLedger, span: IntervalSpan, rps: number): DemandLedger {
  const points = ledger.points.filter((p) => p.timeMs !== span.fromMs);
  let i = points.length;
  while (i > 0 && points[i - 1]!.timeMs > span.fromMs) i--;
  points.splice(i, 0, { timeMs: span.fromMs, rps });
  return { ...ledger, points, closedUntilMs: Math.max(ledger.closedUntilMs ?? span.toMs, span.toMs) };
}

/** The ledger marked read up to `span.toMs` without a point (the source failed: the engine sees a gap). */
export function withGap(ledger: DemandLedger, span: IntervalSpan): DemandLedger {
  return { ...ledger, closedUntilMs: Math.max(ledger.closedUntilMs ?? span.toMs, span.toMs) };
}

/** A ledger for a new interval length: the points stay (rates do not depend on the interval). */
export function withInterval(ledger: DemandLedger, intervalMs: number): DemandLedger {
  return ledger.intervalMs === intervalMs ? ledger : { ...ledger, intervalMs };
}

/** Older points folded into hourly time-weighted means, the oldest dropped (see the header). Idempotent. */
export function compacted(ledger: DemandLedger, now: number): DemandLedger {
  const oldest = now - DEMAND_HISTORY_MS - HOUR_MS;
  const rawFrom = intervalStartFor(now - RAW_KEEP_MS, HOUR_MS);
  const kept = ledger.points.filter((p) => p.timeMs >= oldest);
  if (ledger.intervalMs >= HOUR_MS) return kept.length === ledger.points.length ? ledger : { ...ledger, points: kept };
  const old = kept.filter((p) => p.timeMs < rawFrom);
  const raw = kept.filter((p) => p.timeMs >= rawFrom);
  const buckets = new Map<number, { weighted: number; span: number; only?: DemandPoint }>();
  for (let i = 0; i < old.length; i++) {
    const p = old[i]!;
    const hour = intervalStartFor(p.timeMs, HOUR_MS);
    // A point's rate holds until the next point (the engine's own rule), within its hour.
    const end = Math.min(old[i + 1]?.timeMs ?? rawFrom, hour + HOUR_MS);
    const span = Math.max(1, end - p.timeMs);
    let b = buckets.get(hour);
    if (!b) buckets.set(hour, (b = { weighted: 0, span: 0, only: p }));
    else delete b.only;
    b.weighted += p.rps * span;
    b.span += span;
  }
  // An hour already compacted (its one point, at the hour, with the same rate) keeps its object: every pass
  // compacts the whole week, and new objects each time were most of the pass's garbage and a second copy of the
  // history beside the saved state's.
  const hourly = [...buckets.entries()]
    .sort((x, y) => x[0] - y[0])
    .map(([timeMs, b]) => {
      const rps = b.weighted / b.span;
      return b.only && b.only.timeMs === timeMs && b.only.rps === rps ? b.only : { timeMs, rps };
    });
  return { ...ledger, points: hourly.concat(raw) };
}

/** The latest point: the rate of the last interval measured. */
export function latestPoint(ledger: DemandLedger): DemandPoint | undefined {
  return ledger.points[ledger.points.length - 1];
}
