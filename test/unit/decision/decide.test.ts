import { expect } from 'chai';
import { decide, DecisionInputError, type DecisionInput } from '../../../operator/decision/index.ts';
import { baseInput, DAY, HOUR, series, SMALL, T0 } from './fixtures.ts';

const flat24 = (v: number, from = T0) => series(from + HOUR, 24, () => v);
const history = (v: number, now = T0) => series(now - DAY, 24, () => v);

describe('decide(): premium', () => {
  it('always runs the full variant, even in the dirtiest hour and when found degraded inside its dwell time', () => {
    const d = decide(
      baseInput({
        tier: 'premium',
        carbon: { nowGPerKWh: 900, forecast: flat24(100), history: history(100) },
        state: {
          variant: SMALL.name,
          replicas: 10,
          lastChangeMs: T0 - 10 * 60_000,
          budget: { windowStartMs: T0, servedTotal: 0, servedDegraded: 0 },
        },
      }),
      T0,
    );
    expect(d.variant).to.equal('full-13b');
    expect(d.degraded).to.equal(false);
    expect(d.flags.relaxedLatency).to.equal(false);
    // 1 req/s × 1.1 headroom at ρ ≤ 0.5 with 0.0785 req/s per replica → 29 replicas.
    expect(d.replicas).to.equal(29);
    expect(d.reason).to.match(/premium/);
  });

  it('keeps a few surplus replicas inside the dead band and sheds a large surplus', () => {
    const at = (replicas: number) =>
      decide(
        baseInput({
          tier: 'premium',
          state: { variant: 'full-13b', replicas, budget: { windowStartMs: T0, servedTotal: 0, servedDegraded: 0 } },
        }),
        T0,
      ).replicas;
    expect(at(30)).to.equal(30); // 29 needed ≥ 30 × 0.95
    expect(at(40)).to.equal(29);
    expect(at(10)).to.equal(29); // scale-ups are never delayed
  });
});

describe('decide(): eco', () => {
  it('degrades in the dirtiest hour of the day, and says why', () => {
    const d = decide(baseInput({ carbon: { nowGPerKWh: 500, forecast: flat24(200), history: history(200) } }), T0);
    expect(d.variant).to.equal('small-7b');
    expect(d.degraded).to.equal(true);
    expect(d.flags.relaxedLatency).to.equal(true);
    expect(d.reason).to.match(/grid at 500 gCO2\/kWh \(eco\)/);
    // What is ranked is said: the saving per degraded request, over the hours left in the window.
    expect(d.reason).to.match(/saving per degraded request ranks 1st of the 24 hours left in today's window/);
    expect(d.reason).to.match(/switched full-13b → small-7b/);
    expect(d.expectedEmissionsGPerHour).to.be.greaterThan(0);
  });

  it('says what it ranks: the cleanest hour ranks last by saving per request, and prints only rounded numbers', () => {
    const fc = series(T0 + HOUR, 23, (i) => 300 + 10 * i);
    const d = decide(baseInput({ carbon: { nowGPerKWh: 123.456, forecast: fc, history: history(200) } }), T0);
    expect(d.variant).to.equal('full-13b');
    expect(d.reason).to.match(/grid at 123 gCO2\/kWh \(eco\)/);
    expect(d.reason).to.match(/saving per degraded request ranks 24th of the 24 hours left in today's window/);
    expect(d.reason).not.to.match(/dirtiest/);
    // No fractional number: a reason that moved by 0.1% per pass would make the controller write status each pass.
    expect(d.reason).not.to.match(/\d\.\d/);
    expect(d.budgetUsed).to.equal(0);
  });

  it('saves the budget when dirtier hours are forecast later in the day', () => {
    const fc = series(T0 + HOUR, 23, (i) => (i >= 10 && i < 16 ? 500 : 150));
    const d = decide(baseInput({ carbon: { nowGPerKWh: 300, forecast: fc, history: history(200) } }), T0);
    expect(d.variant).to.equal('full-13b');
    expect(d.degraded).to.equal(false);
  });

  it('late in the window the budget left is kept for the equally dirty hours ahead, and the reason says so', () => {
    // A three-hour dirty spell starting now; the rest of the day is clean. Early in the day the budget covers it;
    // with 8 h of the day left it covers one of the spell's hours, and the later two save as much as this one;
    // with 2.5 h left it cannot cover even this interval.
    const at = (start: number) => {
      const fc = series(start + HOUR, 23, (i) => (i < 2 ? 900 : 150));
      return decide(
        baseInput({
          carbon: { nowGPerKWh: 900, forecast: fc, history: history(200) },
          policy: { ...baseInput().policy, minDwellMs: 0 },
        }),
        start,
      );
    };
    const early = at(T0 + 4 * HOUR);
    expect(early.variant).to.equal('small-7b');
    const late = at(T0 + 16 * HOUR);
    expect(late.variant).to.equal('full-13b');
    expect(late.reason).to.match(/grid at 900 gCO2\/kWh/);
    expect(late.reason).to.match(
      /the budget left in this window is planned for 1[78]:00–1[89]:00 UTC: spent there, within the dwell and the budget, it saves more in all/,
    );
    const last = at(T0 + 21.5 * HOUR);
    expect(last.variant).to.equal('full-13b');
    expect(last.reason).to.match(
      /0% of today's degradation budget used; budget exhausted \(what is left of this window/,
    );
  });

  it('never degrades once the window’s budget is spent, and flags it', () => {
    const now = T0 + 23 * HOUR;
    const d = decide(
      baseInput({
        carbon: { nowGPerKWh: 800, forecast: flat24(100, now), history: history(100, now) },
        state: { budget: { windowStartMs: T0, servedTotal: 82_800, servedDegraded: 0.2 * 82_800 } },
      }),
      now,
    );
    expect(d.variant).to.equal('full-13b');
    expect(d.flags.budgetExhausted).to.equal(true);
    expect(d.reason).to.match(/budget exhausted/);
  });

  it('starts a fresh budget when the window has rolled over', () => {
    const now = T0 + DAY;
    const d = decide(
      baseInput({
        carbon: { nowGPerKWh: 800, forecast: flat24(100, now), history: history(100, now) },
        state: { budget: { windowStartMs: T0, servedTotal: 82_800, servedDegraded: 0.2 * 82_800 } },
      }),
      now,
    );
    expect(d.variant).to.equal('small-7b');
  });

  it('without a carbon signal runs the fallback variant and reports no emissions estimate', () => {
    const none = decide(baseInput({ carbon: {} }), T0);
    expect(none.variant).to.equal('full-13b');
    expect(none.flags.noSignal).to.equal(true);
    expect(none.expectedEmissionsGPerHour).to.equal(null);
    expect(none.reason).to.match(/no carbon signal/);
    const fb = decide(baseInput({ carbon: {}, policy: { ...baseInput().policy, fallbackVariant: 'small-7b' } }), T0);
    expect(fb.variant).to.equal('small-7b');
  });

  it('builds a forecast from history when none is given', () => {
    const d = decide(baseInput({ carbon: { nowGPerKWh: 500, history: history(200) } }), T0);
    expect(d.flags.fallbackForecast).to.equal(true);
    expect(d.reason).to.match(/forecast built from history/);
  });

  it('holds a variant for the minimum dwell time, then leaves it', () => {
    const input = (lastChangeMs: number) =>
      baseInput({
        carbon: { nowGPerKWh: 100, forecast: flat24(400), history: history(300) },
        state: {
          variant: 'small-7b',
          replicas: 20,
          lastChangeMs,
          budget: { windowStartMs: T0, servedTotal: 3600, servedDegraded: 3600 },
        },
      });
    const held = decide(input(T0 - HOUR), T0 + 1);
    expect(held.variant).to.equal('small-7b');
    expect(held.reason).to.match(/dwell/);
    expect(decide(input(T0 - 3 * HOUR), T0 + 1).variant).to.equal('full-13b');
  });

  it('never plans more GPUs than are schedulable, and flags the shortfall', () => {
    const d = decide(
      baseInput({ tier: 'premium', demand: { currentRps: 10, predictedRps: 12 }, clusterGpuHeadroom: 50 }),
      T0,
    );
    expect(d.replicas).to.equal(50);
    expect(d.flags.gpuLimited).to.equal(true);
    expect(d.flags.sloAtRisk).to.equal(true);
  });

  it('under GPU scarcity lets eco serve everyone on the smaller variant when that fits', () => {
    // Full needs 29 replicas for 1 req/s; the smaller variant 20. 24 GPUs fit only the smaller one.
    const d = decide(
      baseInput({ carbon: { nowGPerKWh: 100, forecast: flat24(400), history: history(300) }, clusterGpuHeadroom: 24 }),
      T0,
    );
    expect(d.variant).to.equal('small-7b');
    expect(d.replicas).to.be.at.most(24);
    expect(d.reason).to.match(/not enough GPUs/);
  });
});

describe('decide(): three variants', () => {
  const MID = { ...SMALL, name: 'mid-10b', quality: 0.99, capacityRps: 0.085, powerBusyWatts: 175 };
  const three = (variant: string | undefined, floor = 0.95) =>
    baseInput({
      variants: [baseInput().variants[0]!, MID, SMALL],
      slo: { ...baseInput().slo, qualityFloor: floor },
      carbon: { nowGPerKWh: 600, forecast: flat24(150), history: history(150) },
      state: {
        ...(variant ? { variant, replicas: 25, lastChangeMs: T0 - 3 * HOUR } : {}),
        budget: { windowStartMs: T0, servedTotal: 0, servedDegraded: 0 },
      },
    });

  it('moves one step per interval toward the cheapest eligible variant', () => {
    expect(decide(three('full-13b'), T0).variant).to.equal('mid-10b');
    expect(decide(three('mid-10b'), T0).variant).to.equal('small-7b');
  });

  it('skips variants below the quality floor', () => {
    // Floor 0.98 leaves only the mid variant eligible.
    expect(decide(three('full-13b', 0.98), T0).variant).to.equal('mid-10b');
    expect(decide(three('mid-10b', 0.98), T0).variant).to.equal('mid-10b');
  });
});

describe('decide(): bad input names the field', () => {
  const cases: [string, (i: DecisionInput) => void, string][] = [
    ['no variants', (i) => (i.variants = []), 'variants'],
    ['quality above 1', (i) => (i.variants = [{ ...i.variants[0]!, quality: 1.5 }]), 'variants[0].quality'],
    [
      'busy below idle',
      (i) => (i.variants = [{ ...i.variants[0]!, powerBusyWatts: 10 }]),
      'variants[0].powerBusyWatts',
    ],
    [
      'budget above 1',
      (i) => (i.slo = { ...i.slo, degradationBudget: { fraction: 2, window: 'day' } }),
      'slo.degradationBudget.fraction',
    ],
    [
      'null budget (not the same as none)',
      (i) => (i.slo = { ...i.slo, degradationBudget: null as never }),
      'slo.degradationBudget',
    ],
    ['unknown current variant', (i) => (i.state = { ...i.state, variant: 'nope' }), 'state.variant'],
    ['negative demand', (i) => (i.demand = { currentRps: -1 }), 'demand.currentRps'],
    ['NaN intensity', (i) => (i.carbon = { nowGPerKWh: NaN }), 'carbon.nowGPerKWh'],
    ['PUE below 1', (i) => (i.pue = 0.8), 'pue'],
    ['unknown fallback', (i) => (i.policy = { ...i.policy, fallbackVariant: 'x' }), 'policy.fallbackVariant'],
    ['bad tier', (i) => ((i as { tier: string }).tier = 'gold'), 'tier'],
  ];
  for (const [name, mutate, field] of cases) {
    it(name, () => {
      const input = baseInput();
      mutate(input);
      expect(() => decide(input, T0))
        .to.throw(DecisionInputError)
        .with.property('field', field);
    });
  }
});
