// A sliding-window request budget per source, matching the provider's published limit (e.g. WattTime:
// 3,000 requests per 5 minutes). When the budget is spent the request fails fast with `rate-limited` and the
// fallback chain answers, rather than queueing calls that would be stale by the time they run.
export class RateLimiter {
  readonly limit: number;
  readonly windowMs: number;
  readonly #now: () => number;
  #stamps: number[] = [];

  constructor(limit: number, windowMs: number, now: () => number) {
    this.limit = limit;
    this.windowMs = windowMs;
    this.#now = now;
  }

  tryTake(): boolean {
    const t = this.#now();
    while (this.#stamps.length > 0 && this.#stamps[0]! <= t - this.windowMs) this.#stamps.shift();
    if (this.#stamps.length >= this.limit) return false;
    this.#stamps.push(t);
    return true;
  }
}
