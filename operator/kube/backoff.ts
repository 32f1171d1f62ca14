// Exponential backoff with jitter, per key. Jitter spreads retries of many keys (or many reflectors after an
// apiserver restart) so they do not all come back in the same instant.

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** Share of the delay drawn at random: delay × (1 − jitter × r), r in [0, 1). 0 = none. */
  jitter?: number;
  random?: () => number;
}

/** The delay before retry number `failures` (1 = the first retry). */
export function backoffDelay(failures: number, o: BackoffOptions): number {
  const n = Math.max(1, failures);
  const full = Math.min(o.maxMs, o.baseMs * 2 ** Math.min(n - 1, 30));
  const jitter = o.jitter ?? 0;
  return Math.round(full * (1 - jitter * (o.random ?? Math.random)()));
}

/** Failure counts per key; `next(key)` counts one more failure and returns its delay. */
export class KeyedBackoff {
  private failures = new Map<string, number>();
  private o: BackoffOptions;

  constructor(o: BackoffOptions) {
    this.o = o;
  }

  next(key: string): number {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    return backoffDelay(n, this.o);
  }

  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }
}
