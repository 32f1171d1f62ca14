// Degradation-budget windows: a UTC day, or a week starting Monday 00:00 UTC. The controller resets
// `state.budget` at `windowStartFor(now)`; decide() also rolls a stale window forward by whole windows.
const DAY = 86_400_000;

/** Window length, ms. */
export function budgetWindowMs(window: 'day' | 'week'): number {
  return window === 'day' ? DAY : 7 * DAY;
}

/**
 * The window a service's books roll by: its budget's, or a UTC day when it has none (premium, or eco without a
 * budget: nothing is spent, but the books still roll). The one rule, for the controller and the simulator alike.
 */
export function windowOfBudget(budget: { window: 'day' | 'week' } | undefined): 'day' | 'week' {
  return budget ? budget.window : 'day';
}

/** Start of the window holding `t` (ms since epoch): UTC midnight, or Monday 00:00 UTC for weekly windows. */
export function windowStartFor(t: number, window: 'day' | 'week'): number {
  const w = budgetWindowMs(window);
  // Epoch day 0 was a Thursday; Monday-aligned weeks start 3 days earlier.
  const shift = window === 'week' ? 3 * DAY : 0;
  return Math.floor((t + shift) / w) * w - shift;
}
