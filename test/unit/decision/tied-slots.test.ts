// Slots the plan values the same (an hourly forecast replayed on 5-minute intervals: twelve equal slots an hour)
// must not defer an entry for ever: the plan takes the earliest of them, now included, and still waits for a
// dirtier hour ahead. At the forecast's own resolution the plan behaves as it did.
import { expect } from 'chai';
import { decide, planBudget, type DecisionInput, type PlanSlot } from '../../../operator/decision/index.ts';
import { baseInput, HOUR, T0 } from './fixtures.ts';

const MIN = 60_000;
/** The day's intensity by UTC hour, gCO2eq/kWh: a rise to a dirty hour at 07:00, then a slow decline (2% an hour,
 *  so each hour is within the dead band of the one before) to a clean floor. */
const hourly = (h: number) => (h === 6 ? 420 : h === 5 ? 400 : h < 7 ? 200 : Math.max(200, 600 * (1 - 0.02 * (h - 7))));
const at = (t: number) => hourly(new Date(t).getUTCHours());

/** A decision at `now` on `intervalMs` intervals with hourly carbon data (history and forecast on the hour), a flat
 *  1 req/s and `leftS` seconds of requests left in the day's budget. */
function inputAt(now: number, intervalMs: number, minDwellMs: number, leftS: number): DecisionInput {
  const hourStart = Math.floor(now / HOUR) * HOUR;
  const history = Array.from({ length: 48 }, (_, i) => {
    const t = hourStart - (48 - i) * HOUR;
    return { timeMs: t, valueGPerKWh: at(t) };
  });
  const forecast = Array.from({ length: 24 }, (_, i) => {
    const t = hourStart + (i + 1) * HOUR;
    return { timeMs: t, valueGPerKWh: at(t) };
  });
  const served = (now - T0) / 1000;
  // budgetDemandSafety 1: the window's allowance is exactly 20% of its 86,400 requests.
  const degraded = 0.2 * 86_400 - leftS;
  const b = baseInput();
  return baseInput({
    carbon: { nowGPerKWh: at(now), history, forecast },
    // Swaps cheap next to a slot's saving (a model load of 2 kJ), so a run in the dirty hour pays for its swaps.
    policy: { ...b.policy, intervalMs, minDwellMs, budgetDemandSafety: 1, switchCostJoules: 2_000 },
    state: { budget: { windowStartMs: T0, servedTotal: served, servedDegraded: degraded } },
  });
}

describe('tied slots: the earliest of equal slots, never a deferral without end', () => {
  it('5-minute intervals on an hourly forecast: degrades in the dirty hour when the budget allows', () => {
    // 30 minutes of budget left, a 10-minute dwell: any half hour of the dirty hour is as good as any other.
    for (const m of [0, 5, 20]) {
      const now = T0 + 7 * HOUR + m * MIN;
      const d = decide(inputAt(now, 5 * MIN, 10 * MIN, 1800), now);
      expect(d.degraded, `at 07:${String(m).padStart(2, '0')}: ${d.reason}`).to.equal(true);
    }
  });

  it('5-minute intervals: still waits for a dirtier hour ahead', () => {
    for (const m of [0, 30, 55]) {
      const now = T0 + 6 * HOUR + m * MIN;
      const d = decide(inputAt(now, 5 * MIN, 10 * MIN, 1800), now);
      expect(d.degraded, `at 06:${String(m).padStart(2, '0')}: ${d.reason}`).to.equal(false);
    }
  });

  it('hourly intervals on the same hourly data: waits through the rise, degrades in the dirty hour', () => {
    // Two hours of budget, a two-hour dwell: the best block is 07:00–09:00 (600 + 588), over 06:00–08:00 (420 + 600).
    const d = (h: number) => decide(inputAt(T0 + h * HOUR, HOUR, 2 * HOUR, 7200), T0 + h * HOUR);
    expect(d(5).degraded).to.equal(false);
    expect(d(6).degraded).to.equal(false);
    expect(d(7).degraded).to.equal(true);
  });

  it('the plan: of equal slots it takes now, or stays degraded, rather than the same slots later', () => {
    const slots: PlanSlot[] = Array.from({ length: 8 }, () => ({ requests: 900, savingG: 190, switchG: 80 }));
    // The exit is a little cheaper later (a cleaner hour): within the band, now still wins.
    slots[4] = { ...slots[4]!, savingG: 10, switchG: 78 };
    for (let k = 5; k < 8; k++) slots[k] = { ...slots[4]! };
    const o = { dwellSlots: 1, capacity: 2 * 900, hysteresis: 0.05 };
    expect(planBudget(slots, { degraded: false, age: 1 }, o).degraded.slice(0, 3)).to.deep.equal([true, true, false]);
    // Degraded with budget for one more slot: continues rather than leaving to re-enter an equal slot later.
    const cont = planBudget(slots, { degraded: true, age: 1 }, { ...o, capacity: 900 });
    expect(cont.degraded.slice(0, 2)).to.deep.equal([true, false]);
    // A saving that pays for the two swaps but not for their bands: it never enters.
    const poor = slots.map((s) => ({ ...s, savingG: 82 }));
    expect(planBudget(poor, { degraded: false, age: 1 }, o).degraded.some(Boolean)).to.equal(false);
  });
});
