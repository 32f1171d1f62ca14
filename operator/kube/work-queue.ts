// A keyed work queue with controller-runtime semantics: a key waiting is never queued twice, a key being
// processed is never processed twice at once (a change that arrives meanwhile runs once more afterwards),
// failures retry with per-key exponential backoff with jitter, `requeueAfter` schedules the next pass, a token
// bucket bounds the reconcile rate, and keys are served round-robin across namespaces (fair-queue.ts). Every
// wait (requeueAfter, backoff, the rate) is on the injected clock, so a replay on an accelerated clock
// requeues at trace speed.
//
// Defaults: 4 workers, 20 passes/s sustained with a burst of 50, backoff 500 ms doubling to 5 min with 20%
// jitter. The controller builder (controller.ts) passes its own options; flags set them.
import { KeyedBackoff } from './backoff.ts';
import { wallClock, type Clock } from './clock.ts';
import { FairQueue, namespaceOf } from './fair-queue.ts';
import { TokenBucket } from './token-bucket.ts';

export type ReconcileResult = { requeueAfterMs?: number } | void;

/** Input that will never work as it is: recorded, not retried (a change to the object wakes it again). */
export class TerminalError extends Error {
  override name = 'TerminalError';
}

export const WORK_QUEUE_DEFAULTS = {
  concurrency: 4,
  ratePerSecond: 20,
  burst: 50,
  backoffBaseMs: 500,
  backoffMaxMs: 5 * 60_000,
  backoffJitter: 0.2,
} as const;

export interface WorkQueueOptions {
  concurrency?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Share of each backoff drawn at random (0..1), so failing keys do not retry in lockstep. */
  backoffJitter?: number;
  /** Token bucket: sustained reconciles per second and burst. */
  ratePerSecond?: number;
  burst?: number;
  /** Time for requeueAfter, backoff and the rate: the operator's clock (wall clock by default). */
  clock?: Clock;
  random?: () => number;
  /** Fairness group of a key (default: its namespace). */
  groupOf?: (key: string) => string;
  onError?: (key: string, err: unknown, retryInMs: number | null) => void;
}

export class WorkQueue {
  private queue: FairQueue;
  private inFlight = new Set<string>();
  private dirty = new Set<string>();
  private timers = new Map<string, { at: number; cancel: () => void }>();
  private backoff: KeyedBackoff;
  private handler: (key: string) => Promise<ReconcileResult>;
  private opts: WorkQueueOptions;
  private clock: Clock;
  private bucket: TokenBucket;
  private stopped = false;
  private stopSignal = new AbortController();
  private waiters: Array<() => void> = [];
  private workers: Promise<void>[] = [];

  constructor(handler: (key: string) => Promise<ReconcileResult>, opts: WorkQueueOptions = {}) {
    this.handler = handler;
    this.opts = opts;
    this.clock = opts.clock ?? wallClock;
    this.queue = new FairQueue(opts.groupOf ?? namespaceOf);
    const concurrency = opts.concurrency ?? WORK_QUEUE_DEFAULTS.concurrency;
    if (!(Number.isInteger(concurrency) && concurrency >= 1))
      throw new Error(`work queue: concurrency must be an integer >= 1, got ${opts.concurrency}`);
    this.bucket = new TokenBucket(
      opts.ratePerSecond ?? WORK_QUEUE_DEFAULTS.ratePerSecond,
      opts.burst ?? WORK_QUEUE_DEFAULTS.burst,
      this.clock,
    );
    this.backoff = new KeyedBackoff({
      baseMs: opts.backoffBaseMs ?? WORK_QUEUE_DEFAULTS.backoffBaseMs,
      maxMs: opts.backoffMaxMs ?? WORK_QUEUE_DEFAULTS.backoffMaxMs,
      jitter: opts.backoffJitter ?? WORK_QUEUE_DEFAULTS.backoffJitter,
      random: opts.random ?? Math.random,
    });
  }

  /** Keys waiting (not counting those in flight or scheduled for later). */
  get depth(): number {
    return this.queue.size;
  }

  get processing(): number {
    return this.inFlight.size;
  }

  /** Keys scheduled for later (requeueAfter or backoff). */
  get scheduled(): number {
    return this.timers.size;
  }

  add(key: string): void {
    if (this.stopped) return;
    if (this.inFlight.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queue.push(key)) this.waiters.shift()?.();
  }

  /** Schedules `key` after `ms` on the queue's clock; an earlier schedule wins over a later one. */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    if (ms <= 0) return this.add(key);
    const at = this.clock.now() + ms;
    const existing = this.timers.get(key);
    if (existing && existing.at <= at) return;
    existing?.cancel();
    const cancel = this.clock.setTimer(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    this.timers.set(key, { at, cancel });
  }

  /** Forgets a key's failures and pending schedule (its object is gone, or it succeeded elsewhere). */
  forget(key: string): void {
    this.backoff.forget(key);
    this.timers.get(key)?.cancel();
    this.timers.delete(key);
  }

  failuresOf(key: string): number {
    return this.backoff.failuresOf(key);
  }

  start(): void {
    if (this.workers.length || this.stopped) return;
    const n = this.opts.concurrency ?? WORK_QUEUE_DEFAULTS.concurrency;
    for (let i = 0; i < n; i++) this.workers.push(this.worker());
  }

  /** Stops taking keys and waits for the passes in flight to end. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopSignal.abort();
    for (const { cancel } of this.timers.values()) cancel();
    this.timers.clear();
    for (const w of this.waiters.splice(0)) w();
    await Promise.all(this.workers);
  }

  private async next(): Promise<string | undefined> {
    while (!this.stopped) {
      const key = this.queue.shift();
      if (key !== undefined) {
        // Marked in flight in the same tick it leaves the queue: an add() in between would otherwise start a
        // second worker on the same key.
        this.inFlight.add(key);
        return key;
      }
      await new Promise<void>((r) => this.waiters.push(r));
    }
    return undefined;
  }

  private async worker(): Promise<void> {
    for (;;) {
      const key = await this.next();
      if (key === undefined) return;
      await this.bucket.take(this.stopSignal.signal);
      try {
        if (this.stopped) continue;
        const res = await this.handler(key);
        this.backoff.forget(key);
        if (res && res.requeueAfterMs !== undefined) this.addAfter(key, res.requeueAfterMs);
      } catch (err) {
        this.failed(key, err);
      } finally {
        this.inFlight.delete(key);
        if (this.dirty.delete(key)) this.add(key);
      }
    }
  }

  private failed(key: string, err: unknown): void {
    if (err instanceof TerminalError) {
      this.backoff.forget(key);
      this.opts.onError?.(key, err, null);
      return;
    }
    const delay = this.backoff.next(key);
    this.opts.onError?.(key, err, delay);
    this.addAfter(key, delay);
  }
}
