import { expect } from 'chai';
import { budgetWindowMs, windowStartFor } from '../../../operator/decision/index.ts';

describe('budget windows', () => {
  it('start at UTC midnight, or Monday 00:00 UTC for weekly windows', () => {
    const t = Date.UTC(2023, 4, 18, 15, 30); // Thursday 2023-05-18 15:30 UTC
    expect(windowStartFor(t, 'day')).to.equal(Date.UTC(2023, 4, 18));
    expect(windowStartFor(t, 'week')).to.equal(Date.UTC(2023, 4, 15)); // Monday
    expect(windowStartFor(Date.UTC(2023, 4, 15), 'week')).to.equal(Date.UTC(2023, 4, 15));
    expect(windowStartFor(Date.UTC(2023, 4, 14, 23, 59), 'week')).to.equal(Date.UTC(2023, 4, 8));
    expect(budgetWindowMs('week')).to.equal(7 * budgetWindowMs('day'));
  });
});
