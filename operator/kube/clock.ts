// One injected clock for everything in kube/ that waits: `now()` plus a timer. The operator can run on an
// accelerated clock for trace replays (an hour of trace a minute), so controller timers (requeueAfter, retry
// backoff, the reconcile rate) take the operator's clock. Network timing (watch deadlines, reconnect backoff,
// the client's request rate, leader-election leases) is judged by the apiserver in real seconds and takes the
// wall clock: callers pass `wallClock` there, never the replay clock.

export interface Clock {
  /** ms since the epoch on this clock. */
  now(): number;
  /** Calls `fn` once after `ms` on this clock; returns a function that cancels it. Never keeps the process alive. */
  setTimer(fn: () => void, ms: number): () => void;
}

export const wallClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref();
    return () => clearTimeout(t);
  },
};

/**
 * A clock that runs `factor` times faster than the wall clock from `startMs` (trace replays): a timer of one
 * clock-hour fires after 1/factor of an hour of wall time.
 */
export function acceleratedClock(opts: { startMs: number; factor: number; wall?: Clock }): Clock {
  if (!(opts.factor > 0)) throw new Error(`acceleratedClock: factor must be > 0, got ${opts.factor}`);
  const wall = opts.wall ?? wallClock;
  const wallStart = wall.now();
  return {
    now: () => opts.startMs + (wall.now() - wallStart) * opts.factor,
    setTimer: (fn, ms) => wall.setTimer(fn, ms / opts.factor),
  };
}

/** A clock whose now() is `now` (e.g. the operator's shifted clock) and whose timers run at wall speed. */
export function clockFromNow(now: () => number): Clock {
  return { now, setTimer: wallClock.setTimer };
}

/** Resolves after `ms` on `clock`, or at once when `signal` aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      cancel();
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const cancel = clock.setTimer(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * A clock that moves only when told (tests, simulations). `advance` fires due timers in time order and lets
 * the promise callbacks they start run before the next one, so async code driven by it behaves as it would.
 */
export class ManualClock implements Clock {
  private t: number;
  private seq = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();

  constructor(startMs = 0) {
    this.t = startMs;
  }

  now(): number {
    return this.t;
  }

  setTimer(fn: () => void, ms: number): () => void {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return () => this.timers.delete(id);
  }

  /** Timers not yet fired. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
    }
    this.t = end;
    await settle();
  }
}

/** Lets pending promise callbacks (and the I/O-free work they start) run. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}
