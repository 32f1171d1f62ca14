// A token bucket (sustained rate and burst) on an injected clock. The work queue uses it on the operator's
// clock for the reconcile rate; the client uses it on the wall clock for the apiserver request rate
// (client-go's flowcontrol, which controller-runtime sets to QPS/burst).
import { sleep, type Clock } from './clock.ts';

export class TokenBucket {
  readonly ratePerSecond: number;
  readonly burst: number;
  private clock: Clock;
  private tokens: number;
  private last: number;
  /** Callers waiting, served in arrival order so none is starved by a luckier one. */
  private tail: Promise<void> = Promise.resolve();

  constructor(ratePerSecond: number, burst: number, clock: Clock) {
    if (!(ratePerSecond > 0)) throw new Error(`token bucket: rate must be > 0 per second, got ${ratePerSecond}`);
    if (!(burst >= 1)) throw new Error(`token bucket: burst must be >= 1, got ${burst}`);
    this.ratePerSecond = ratePerSecond;
    this.burst = burst;
    this.clock = clock;
    this.tokens = burst;
    this.last = clock.now();
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + (Math.max(0, now - this.last) / 1000) * this.ratePerSecond);
    this.last = now;
  }

  /** Takes a token now if one is there. */
  tryTake(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** ms until a token is there (0 when one is). */
  waitMs(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000);
  }

  /** Waits for a token (FIFO among waiters); resolves at once when `signal` aborts. */
  take(signal?: AbortSignal): Promise<void> {
    const turn = this.tail.then(async () => {
      while (!signal?.aborted && !this.tryTake()) await sleep(this.clock, this.waitMs(), signal);
    });
    this.tail = turn;
    return turn;
  }
}
