// The demand history a service's forecast is built from (reconciler/demand-ledger.ts, ADR 0102) survives an
// operator restart: it persists with the engine's books (service-state.ts, the state ConfigMap), written only when
// a restart could not reconstruct it. Two operators over twin fake clusters (fake-cluster.ts), one killed and
// started again with empty memory over the same store: from the first pass after the restart the ledgers and the
// demand outlook they give are the same. The demand sources cannot backfill (backfillMs 0, as the scrape source),
// so a history the store did not keep cannot be read again: it would be one point, the outlook only 'current'.
import { expect } from 'chai';
import { describe, it } from 'mocha';
import { demandOutlook } from '../../../operator/decision/demand-forecast.ts';
import { intervalStartFor } from '../../../operator/decision/engine.ts';
import type { DemandLedger } from '../../../operator/reconciler/demand-ledger.ts';
import type { DemandPort } from '../../../operator/reconciler/ports.ts';
import type { Reconciler } from '../../../operator/reconciler/reconciler.ts';
import { decodeState } from '../../../operator/reconciler/service-state.ts';
import { FakeCluster, HOUR, service } from './fake-cluster.ts';

const KEY = 'ns/svc';
const MIN = 60_000;
const IV = 5 * MIN;

/** A daily shape, one rate per UTC hour (constant within it: most intervals need no save). */
const hourlyRate = (t: number) => Math.round(120 + 80 * Math.sin((2 * Math.PI * Math.floor(t / HOUR)) / 24));

/** Answers for the span asked (Prometheus at an evaluation time, a trace), but not before the first pass. */
function spanPort(): DemandPort {
  return { backfillMs: () => 0, read: async (_i, fromMs) => ({ rps: hourlyRate(fromMs), source: 'fake-span' }) };
}

/** Answers the rate measured now, whatever span is asked (the scrape source's counters). */
function nowPort(fc: FakeCluster): DemandPort {
  return { backfillMs: () => 0, read: async () => ({ rps: hourlyRate(fc.now - 1), source: 'fake-now' }) };
}

function operator(fc: FakeCluster, port: (fc: FakeCluster) => DemandPort): Reconciler {
  const r = fc.reconciler();
  r.ctx.ports.demand = port(fc);
  return r;
}

function twin(): FakeCluster {
  const fc = new FakeCluster();
  fc.add(service('svc', { tier: 'premium', slo: { latencyP95Ms: 100 } }));
  return fc;
}

const ledgerOf = (r: Reconciler): DemandLedger => r.memoryOf(KEY)!.state.demand;
const outlookOf = (l: DemandLedger, now: number) =>
  demandOutlook(l.points, intervalStartFor(now, IV), IV, intervalStartFor(now, IV) + 24 * HOUR);

/** The two ledgers hold the same points (rates to float rounding: hourly means are sums in another order). */
function expectSameHistory(got: DemandLedger, want: DemandLedger, label: string): void {
  expect(got.closedUntilMs, `${label}: read up to`).to.equal(want.closedUntilMs);
  expect(
    got.points.map((p) => p.timeMs),
    `${label}: point times`,
  ).to.deep.equal(want.points.map((p) => p.timeMs));
  for (const [i, p] of got.points.entries())
    expect(p.rps, `${label}: point ${i} rps`).to.be.closeTo(want.points[i]!.rps, 1e-9 * want.points[i]!.rps);
}

const cases = [
  { name: 'a source that answers for the span asked, down 40 minutes', port: () => spanPort(), downMs: 40 * MIN },
  { name: 'a source that answers only for now, restarted at once', port: nowPort, downMs: 0 },
];

describe('demand history across an operator restart', () => {
  for (const c of cases)
    it(`${c.name}: the restarted operator has the same history and demand outlook as one that never stopped`, async () => {
      const a = twin();
      const b = twin();
      const ra = operator(a, c.port);
      let rb = operator(b, c.port);
      // 30 h and 35 min: compacted hours back past the daily lag, and six intervals since the hour's one save.
      const restartAt = a.now + 30 * HOUR + 35 * MIN;
      const endAt = restartAt + 3 * HOUR;
      let restarted = false;
      for (let t = a.now; t <= endAt; t += IV / 2) {
        a.now = t;
        await ra.reconcile(KEY);
        if (t < restartAt || t >= restartAt + c.downMs) {
          b.now = t;
          if (t >= restartAt && !restarted) {
            const saved = decodeState(b.states.get(KEY)!).state!;
            const behind = (intervalStartFor(restartAt, IV) - saved.demand.closedUntilMs!) / IV;
            expect(behind, 'intervals the store is behind the ledger (nothing saved since)').to.equal(6);
            rb = operator(b, c.port); // kill -9 and start again: same store and cluster, empty memory
            restarted = true;
            await rb.reconcile(KEY);
            const got = ledgerOf(rb);
            expectSameHistory(got, ledgerOf(ra), 'first pass after the restart');
            expect(got.points.length, 'points after the restart').to.be.greaterThan(24);
            expect(outlookOf(got, t).basis, 'the outlook after the restart').to.equal('day');
            expect(outlookOf(got, t)).to.deep.equal(outlookOf(ledgerOf(ra), t));
          }
          await rb.reconcile(KEY);
          if (restarted) expectSameHistory(ledgerOf(rb), ledgerOf(ra), new Date(t).toISOString());
        }
      }
      expect(restarted).to.equal(true);
    });
});
