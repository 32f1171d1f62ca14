// A keyed work queue with controller-runtime semantics: a key waiting is never queued twice, a key being
// processed is never processed twice at once (a change that arrives meanwhile runs once more afterwards),
// failures retry with per-key exponential backoff with jitter, `requeueAfter` schedules the next pass, a token
// bucket bounds the rate of triggered passes, and keys are served round-robin across namespaces (fair-queue.ts).
// Every wait (requeueAfter, backoff, the rate) is on the injected clock, so a replay on an accelerated clock
// requeues at trace speed.
//
// Two lanes, as in controller-runtime's priority queue: a key a change triggered (a watch event, a signal, a
// retry) is served before a key whose requeueAfter came due. The periodic pass is owed once per key per interval,
// so it is bounded by the number of keys and takes no token: a bucket sized for triggered passes would otherwise
// leave the queue behind for good once keys / interval exceeds the rate (2,000 services on a 60 s interval need
// 33 passes/s), and a carbon step would wait behind a minute of periodic passes.
//
// Defaults: 4 workers, 20 triggered passes/s sustained with a burst of 50, backoff 500 ms doubling to 5 min with
// 20% jitter. The controller builder (controller.ts) passes its own options; flags set them.
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
  /** Token bucket: sustained triggered passes per second and burst (periodic requeues take no token). */
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
  /** Triggered keys (events, retries), served first. */
  private queue: FairQueue;
  /** Keys whose requeueAfter came due and that nothing has triggered since. */
  private periodic: FairQueue;
  private inFlight = new Set<string>();
  private dirty = new Set<string>();
  private timers = new Map<string, { at: number; cancel: () => void }>();
  /** Keys taken from the periodic lane, in flight: their pass takes no token. */
  private untaxed = new Set<string>();
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
    this.periodic = new FairQueue(opts.groupOf ?? namespaceOf);
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
    return this.queue.size + this.periodic.size;
  }

  /** Keys waiting because their requeueAfter came due (the periodic lane). */
  get periodicDepth(): number {
    return this.periodic.size;
  }

  get processing(): number {
    return this.inFlight.size;
  }

  /** Keys scheduled for later (requeueAfter or backoff). */
  get scheduled(): number {
    return this.timers.size;
  }

  /** A triggered key: served before periodic ones (a key waiting in the periodic lane moves up). */
  add(key: string): void {
    if (this.stopped) return;
    if (this.inFlight.has(key)) {
      this.dirty.add(key);
      return;
    }
    this.periodic.delete(key);
    if (this.queue.push(key)) this.waiters.shift()?.();
  }

  /** A key whose periodic pass is due: after every triggered key, and without a token. */
  addPeriodic(key: string): void {
    if (this.stopped) return;
    if (this.inFlight.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queue.has(key)) return;
    if (this.periodic.push(key)) this.waiters.shift()?.();
  }

  /** Schedules a triggered pass of `key` after `ms` on the queue's clock; an earlier schedule wins. */
  addAfter(key: string, ms: number): void {
    this.schedule(key, ms, (k) => this.add(k));
  }

  private schedule(key: string, ms: number, enqueue: (key: string) => void): void {
    if (this.stopped) return;
    if (ms <= 0) return enqueue(key);
    const at = this.clock.now() + ms;
    const existing = this.timers.get(key);
    if (existing && existing.at <= at) return;
    existing?.cancel();
    const cancel = this.clock.setTimer(() => {
      this.timers.delete(key);
      enqueue(key);
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
      let key = this.queue.shift();
      if (key === undefined) {
        key = this.periodic.shift();
        if (key !== undefined) this.untaxed.add(key);
      }
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
      if (!this.untaxed.has(key)) await this.bucket.take(this.stopSignal.signal);
      try {
        if (this.stopped) continue;
        const res = await this.handler(key);
        this.backoff.forget(key);
        // A requeue for now is a loop, not a period: it goes through the bucket.
        if (res && res.requeueAfterMs !== undefined)
          this.schedule(key, res.requeueAfterMs, (k) => (res.requeueAfterMs! > 0 ? this.addPeriodic(k) : this.add(k)));
      } catch (err) {
        this.failed(key, err);
      } finally {
        this.untaxed.delete(key);
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
