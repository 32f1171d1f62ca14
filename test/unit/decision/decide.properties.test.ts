// Invariants of decide() over random inputs (fast-check).
import { expect } from 'chai';
import fc from 'fast-check';
import {
  decide,
  engineStep,
  newBooks,
  type EngineBooks,
  type EngineObservation,
  type ServicePolicy,
  replicasNeeded,
  sloCapacityRps,
  type DecisionInput,
  type IntensityPoint,
} from '../../../operator/decision/index.ts';
import { baseInput, DAY, FULL, HOUR, SMALL, T0 } from './fixtures.ts';

const intensity = fc.double({ min: 0, max: 900, noNaN: true });
const rps = fc.double({ min: 0, max: 15, noNaN: true });

const arbInput: fc.Arbitrary<{ input: DecisionInput; now: number }> = fc
  .record({
    tier: fc.constantFrom('premium' as const, 'eco' as const),
    hourOfDay: fc.integer({ min: 0, max: 23 }),
    now: fc.option(intensity, { nil: undefined }),
    forecast: fc.array(intensity, { maxLength: 24 }),
    history: fc.array(intensity, { maxLength: 30 }),
    current: rps,
    predicted: fc.option(rps, { nil: undefined }),
    variant: fc.option(fc.constantFrom(FULL.name, SMALL.name), { nil: undefined }),
    replicas: fc.integer({ min: 0, max: 400 }),
    sinceChangeH: fc.option(fc.double({ min: 0, max: 10, noNaN: true }), { nil: undefined }),
    servedTotal: fc.double({ min: 0, max: 100_000, noNaN: true }),
    degradedShare: fc.double({ min: 0, max: 1, noNaN: true }),
    headroom: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.constant(Infinity)),
    fraction: fc.double({ min: 0, max: 0.5, noNaN: true }),
    floor: fc.double({ min: 0.5, max: 1, noNaN: true }),
    min: fc.integer({ min: 0, max: 3 }),
    max: fc.integer({ min: 3, max: 500 }),
  })
  .map((r) => {
    const now = T0 + r.hourOfDay * HOUR;
    const carbon: DecisionInput['carbon'] = {};
    if (r.now !== undefined) carbon.nowGPerKWh = r.now;
    carbon.forecast = r.forecast.map((v, i): IntensityPoint => ({ timeMs: now + (i + 1) * HOUR, valueGPerKWh: v }));
    carbon.history = r.history.map((v, i) => ({ timeMs: now - (r.history.length - i) * HOUR, valueGPerKWh: v }));
    const base = baseInput();
    const input = baseInput({
      tier: r.tier,
      carbon,
      replicas: { min: r.min, max: r.max },
      slo: { ...base.slo, qualityFloor: r.floor, degradationBudget: { fraction: r.fraction, window: 'day' } },
      demand: { currentRps: r.current, ...(r.predicted !== undefined ? { predictedRps: r.predicted } : {}) },
      state: {
        ...(r.variant !== undefined ? { variant: r.variant, replicas: r.replicas } : {}),
        ...(r.sinceChangeH !== undefined ? { lastChangeMs: now - r.sinceChangeH * HOUR } : {}),
        budget: { windowStartMs: T0, servedTotal: r.servedTotal, servedDegraded: r.servedTotal * r.degradedShare },
      },
      clusterGpuHeadroom: r.headroom,
    });
    return { input, now };
  });

const planOf = (i: DecisionInput) => Math.max(i.demand.currentRps, i.demand.predictedRps ?? i.demand.currentRps);
const poolOf = (i: DecisionInput) => {
  const cur = i.variants.find((v) => v.name === i.state.variant) ?? i.variants[0]!;
  return (i.state.replicas ?? 0) * cur.gpusPerReplica + i.clusterGpuHeadroom;
};

describe('decide() invariants (property-based)', () => {
  it('never runs below the quality floor; premium is never degraded', () => {
    fc.assert(
      fc.property(arbInput, ({ input, now }) => {
        const d = decide(input, now);
        const v = input.variants.find((x) => x.name === d.variant)!;
        if (input.tier === 'premium') expect(d.variant).to.equal(input.variants[0]!.name);
        if (d.degraded) expect(v.quality).to.be.at.least(input.slo.qualityFloor);
        expect(d.degraded).to.equal(d.variant !== input.variants[0]!.name);
      }),
      { numRuns: 300 },
    );
  });

  it('never plans more GPUs than can be scheduled, nor more replicas than the spec allows', () => {
    fc.assert(
      fc.property(arbInput, ({ input, now }) => {
        const d = decide(input, now);
        const v = input.variants.find((x) => x.name === d.variant)!;
        expect(d.replicas * v.gpusPerReplica).to.be.at.most(poolOf(input));
        expect(d.replicas).to.be.at.most(input.replicas.max);
        expect(Number.isInteger(d.replicas)).to.equal(true);
      }),
      { numRuns: 300 },
    );
  });

  it('covers the planned demand within the SLO in force whenever the GPUs exist', () => {
    fc.assert(
      fc.property(arbInput, ({ input, now }) => {
        const d = decide(input, now);
        const v = input.variants.find((x) => x.name === d.variant)!;
        const sloMs = d.flags.relaxedLatency ? input.slo.relaxedLatencyP95Ms! : input.slo.latencyP95Ms;
        const needed = Math.max(replicasNeeded(v, planOf(input), sloMs, 0.1), input.replicas.min);
        const gpusExist = needed <= input.replicas.max && needed * v.gpusPerReplica <= poolOf(input);
        if (gpusExist) {
          expect(d.flags.sloAtRisk).to.equal(false);
          expect(sloCapacityRps(v, d.replicas, sloMs)).to.be.at.least(planOf(input) - 1e-9);
        }
        if (d.flags.relaxedLatency) expect(input.tier).to.equal('eco');
      }),
      { numRuns: 300 },
    );
  });

  it('in the window’s last interval, degrades only if the budget still holds after it at the expected demand', () => {
    fc.assert(
      fc.property(arbInput, ({ input }) => {
        const now = T0 + 23 * HOUR;
        input.carbon.forecast = [];
        const d = decide({ ...input, tier: 'eco' }, now);
        if (d.degraded) {
          const w0 = (input.demand.predictedRps ?? input.demand.currentRps) * 3600;
          const b = input.state.budget;
          const f = input.slo.degradationBudget!.fraction;
          expect(b.servedDegraded + w0).to.be.at.most(f * (b.servedTotal + w0) + 1e-6);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('is deterministic', () => {
    fc.assert(
      fc.property(arbInput, ({ input, now }) => {
        expect(decide(input, now)).to.deep.equal(decide(structuredClone(input), now));
      }),
      { numRuns: 100 },
    );
  });

  it('premium replicas never fall as demand rises', () => {
    fc.assert(
      fc.property(arbInput, rps, ({ input, now }, extra) => {
        const p = { ...input, tier: 'premium' as const };
        const lo = decide(p, now);
        const hi = decide({ ...p, demand: { currentRps: p.demand.currentRps + extra } }, now);
        if (!p.demand.predictedRps || p.demand.predictedRps <= p.demand.currentRps)
          expect(hi.replicas).to.be.at.least(lo.replicas);
      }),
      { numRuns: 200 },
    );
  });

  it('eco: a dirtier hour never makes it leave the smaller variant (monotone in intensity)', () => {
    fc.assert(
      fc.property(arbInput, fc.double({ min: 0, max: 300, noNaN: true }), ({ input, now }, more) => {
        if (input.carbon.nowGPerKWh === undefined) return;
        const eco = { ...input, tier: 'eco' as const, clusterGpuHeadroom: Infinity };
        const lo = decide(eco, now);
        const hi = decide({ ...eco, carbon: { ...eco.carbon, nowGPerKWh: eco.carbon.nowGPerKWh! + more } }, now);
        if (lo.degraded) expect(hi.degraded).to.equal(true);
      }),
      { numRuns: 300 },
    );
  });

  it('does not oscillate on noisy carbon and demand: dwell respected, no scale-down inside the dead band', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 100, max: 600, noNaN: true }),
        fc.double({ min: 2, max: 8, noNaN: true }),
        fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 96, maxLength: 96 }),
        (level, demand, noise) => {
          const steps = 72;
          const I = (t: number) => level * (1 + 0.03 * noise[t % 96]!);
          const D = (t: number) => demand * (1 + 0.02 * noise[(t * 7 + 3) % 96]!);
          let state: DecisionInput['state'] = { budget: { windowStartMs: T0, servedTotal: 0, servedDegraded: 0 } };
          let changes = 0;
          let lastChange = -Infinity;
          for (let t = 24; t < steps + 24; t++) {
            const now = T0 + t * HOUR;
            const ws = T0 + Math.floor(t / 24) * DAY;
            if (ws !== state.budget.windowStartMs)
              state = { ...state, budget: { windowStartMs: ws, servedTotal: 0, servedDegraded: 0 } };
            const history = Array.from({ length: 24 }, (_, k) => ({
              timeMs: now - (24 - k) * HOUR,
              valueGPerKWh: I(t - 24 + k),
            }));
            const d = decide(
              baseInput({
                carbon: { nowGPerKWh: I(t), history },
                demand: { currentRps: D(t - 1), predictedRps: D(t - 1) },
                state,
              }),
              now,
            );
            if (state.variant !== undefined && d.variant !== state.variant) {
              expect(now - lastChange).to.be.at.least(2 * HOUR);
              lastChange = now;
              changes++;
            } else if (state.replicas !== undefined && d.replicas < state.replicas) {
              expect(d.replicas).to.be.below(state.replicas * 0.95);
            }
            const served = D(t) * 3600;
            state = {
              variant: d.variant,
              replicas: d.replicas,
              ...(d.variant !== state.variant && state.variant !== undefined
                ? { lastChangeMs: now }
                : state.lastChangeMs !== undefined
                  ? { lastChangeMs: state.lastChangeMs }
                  : {}),
              budget: {
                windowStartMs: state.budget.windowStartMs,
                servedTotal: state.budget.servedTotal + served,
                servedDegraded: state.budget.servedDegraded + (d.degraded ? served : 0),
              },
            };
          }
          // At most one entry into and one exit from degraded mode per day of flat, noisy intensity.
          expect(changes).to.be.at.most(2 * (steps / 24));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('over any sequence of engine passes with unchanged inputs, at most one swap is written per interval, and extra passes never change a plan', () => {
    // A controller's life: one pass at each interval's start with the applied plan observed, plus any number of
    // extra passes inside the interval (Deployment status changes, pod events) observing either the applied plan
    // or the variant still being served (the lagging one). The plans must be those of the one-pass-per-interval
    // run, and within an interval the variant written changes at most once (at its first pass).
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 50, max: 700, noNaN: true }), { minLength: 24, maxLength: 24 }),
        fc.array(fc.double({ min: 0.2, max: 4, noNaN: true }), { minLength: 24, maxLength: 24 }),
        fc.array(
          fc.array(fc.tuple(fc.double({ min: 1, max: 3_599_000, noNaN: true }), fc.boolean()), { maxLength: 4 }),
          {
            minLength: 12,
            maxLength: 12,
          },
        ),
        fc.integer({ min: 0, max: 12 }),
        (carbon, demandRps, extras, startHour) => {
          const b = baseInput();
          const service: ServicePolicy = {
            variants: b.variants,
            tier: 'eco',
            replicas: b.replicas,
            slo: b.slo,
            pue: b.pue,
            embodiedGPerGpuHour: b.embodiedGPerGpuHour,
            policy: { ...b.policy, minDwellMs: HOUR },
          };
          const start = T0 + startHour * HOUR;
          const at = (t: number) => ((Math.floor((t - start) / HOUR) % 24) + 24) % 24;
          const I = (t: number) => carbon[at(t)]!;
          const R = (t: number) => demandRps[at(t)]!;
          const obs = (now: number, observed: EngineObservation['observed']): EngineObservation => {
            const hour = Math.floor(now / HOUR) * HOUR;
            return {
              now,
              service,
              observed,
              carbon: {
                nowGPerKWh: I(hour),
                history: Array.from({ length: 48 }, (_, k) => ({
                  timeMs: hour - (48 - k) * HOUR,
                  valueGPerKWh: I(hour - (48 - k) * HOUR),
                })),
              },
              demand: {
                history: Array.from({ length: 8 * 24 + 1 }, (_, k) => ({
                  timeMs: hour - (8 * 24 + 1 - k) * HOUR,
                  rps: R(hour - (8 * 24 + 1 - k) * HOUR),
                })),
              },
            };
          };
          const applied = (bk: EngineBooks) =>
            bk.plan ? { variant: bk.plan.variant, replicas: bk.plan.replicas } : {};
          // The clean run: one pass per interval.
          let clean = newBooks(start, service);
          const plans: string[] = [];
          for (let h = 0; h < 12; h++) {
            const s = engineStep(clean, obs(start + h * HOUR, { ...applied(clean), clusterGpuHeadroom: 1e4 }));
            clean = s.books;
            plans.push(`${s.decision.variant}/${s.decision.replicas}`);
          }
          // The busy run.
          let books = newBooks(start, service);
          let served: string | undefined;
          for (let h = 0; h < 12; h++) {
            const t0 = start + h * HOUR;
            const before = books.plan?.variant;
            const first = engineStep(books, obs(t0, { ...applied(books), clusterGpuHeadroom: 1e4 }));
            books = first.books;
            expect(`${first.decision.variant}/${first.decision.replicas}`).to.equal(plans[h]);
            let writes = before !== undefined && first.decision.variant !== before ? 1 : 0;
            let written = first.decision.variant;
            for (const [dt, lagging] of [...extras[h]!].sort((x, y) => x[0] - y[0])) {
              const observed = lagging && served !== undefined ? { variant: served } : applied(books);
              const s = engineStep(books, obs(t0 + dt, { ...observed, clusterGpuHeadroom: 1e4 }));
              books = s.books;
              expect(s.replanned).to.equal(false);
              if (s.decision.variant !== written) writes++;
              written = s.decision.variant;
            }
            expect(writes).to.be.at.most(1);
            served = before ?? first.decision.variant;
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
