// A keyed work queue with controller-runtime semantics: a key waiting is never queued twice, a key being
// processed is never processed twice at once (a change that arrives meanwhile runs once more afterwards),
// failures retry with per-key exponential backoff, `requeueAfter` schedules the next pass, and an overall
// token bucket bounds the reconcile rate.

export type ReconcileResult = { requeueAfterMs?: number } | void;

export class TerminalError extends Error {
  override name = 'TerminalError';
}

export interface WorkQueueOptions {
  concurrency?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Token bucket: sustained reconciles per second and burst. */
  ratePerSecond?: number;
  burst?: number;
  onError?: (key: string, err: unknown, retryInMs: number | null) => void;
}

export class WorkQueue {
  private queue: string[] = [];
  private queued = new Set<string>();
  private inFlight = new Set<string>();
  private dirty = new Set<string>();
  private timers = new Map<string, { at: number; t: NodeJS.Timeout }>();
  private failures = new Map<string, number>();
  private handler: (key: string) => Promise<ReconcileResult>;
  private opts: WorkQueueOptions;
  private tokens: number;
  private lastRefill = Date.now();
  private stopped = false;
  private waiters: Array<() => void> = [];
  private workers: Promise<void>[] = [];

  constructor(handler: (key: string) => Promise<ReconcileResult>, opts: WorkQueueOptions = {}) {
    this.handler = handler;
    this.opts = opts;
    this.tokens = opts.burst ?? 50;
  }

  get depth(): number {
    return this.queue.length;
  }

  get processing(): number {
    return this.inFlight.size;
  }

  add(key: string): void {
    if (this.stopped) return;
    if (this.inFlight.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.waiters.shift()?.();
  }

  /** Schedules `key` after `ms`; an earlier schedule wins over a later one. */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    const at = Date.now() + ms;
    const existing = this.timers.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.t);
    const t = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    t.unref();
    this.timers.set(key, { at, t });
  }

  forget(key: string): void {
    this.failures.delete(key);
    const t = this.timers.get(key);
    if (t) clearTimeout(t.t);
    this.timers.delete(key);
  }

  start(): void {
    const n = this.opts.concurrency ?? 4;
    for (let i = 0; i < n; i++) this.workers.push(this.worker());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const { t } of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const w of this.waiters.splice(0)) w();
    await Promise.all(this.workers);
  }

  private async takeToken(): Promise<void> {
    const rate = this.opts.ratePerSecond ?? 20;
    const burst = this.opts.burst ?? 50;
    for (;;) {
      const now = Date.now();
      this.tokens = Math.min(burst, this.tokens + ((now - this.lastRefill) / 1000) * rate);
      this.lastRefill = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await new Promise((r) => setTimeout(r, Math.ceil(((1 - this.tokens) / rate) * 1000)));
    }
  }

  private async next(): Promise<string | undefined> {
    while (!this.stopped) {
      const key = this.queue.shift();
      if (key !== undefined) {
        // Marked in flight in the same tick it leaves the queue: an add() in between would otherwise start a
        // second worker on the same key.
        this.queued.delete(key);
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
      await this.takeToken();
      try {
        const res = await this.handler(key);
        this.failures.delete(key);
        if (res && res.requeueAfterMs !== undefined) this.addAfter(key, res.requeueAfterMs);
      } catch (err) {
        if (err instanceof TerminalError) {
          this.failures.delete(key);
          this.opts.onError?.(key, err, null);
        } else {
          const n = (this.failures.get(key) ?? 0) + 1;
          this.failures.set(key, n);
          const base = this.opts.backoffBaseMs ?? 500;
          const delay = Math.min(this.opts.backoffMaxMs ?? 5 * 60_000, base * 2 ** Math.min(n - 1, 20));
          this.opts.onError?.(key, err, delay);
          this.addAfter(key, delay);
        }
      } finally {
        this.inFlight.delete(key);
        if (this.dirty.delete(key)) this.add(key);
      }
    }
  }
}
