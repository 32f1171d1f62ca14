// The operator's one clock. Everything with time in it — the budget window, the dwell, the demand trace, requeue
// delays, carbon polling, the accounting intervals, status timestamps — reads this clock, injected from main.ts.
// On the wall clock it is Date.now(); when the embedded default replays a trace at N× it is an accelerated clock,
// now() = start + (wall − wallStart) × N, whose timers fire after ms/N of wall time. Leader-election leases are
// the exception: the apiserver judges them in real seconds, so the elector keeps the wall clock (kube/).
// docs/adr/0005-one-clock.md. The Clock type and its implementations live with the timers that use them
// (kube/clock.ts); this file is the operator's face of them plus what the status shows about the clock.
import { acceleratedClock, wallClock, type Clock } from './kube/clock.ts';

export { acceleratedClock, ManualClock, wallClock, type Clock } from './kube/clock.ts';

export interface OperatorClock extends Clock {
  /** Clock seconds per wall second: 1 on the wall clock. */
  readonly speedup: number;
  /** A replay: the clock is not the wall clock (status.clock says so, every time shown is trace time). */
  readonly replay: boolean;
}

export function operatorWallClock(): OperatorClock {
  return { now: wallClock.now, setTimer: wallClock.setTimer, speedup: 1, replay: false };
}

/** A replay clock starting at `startMs`, running `speedup` times faster than the wall clock. */
export function replayClock(startMs: number, speedup: number, wall: Clock = wallClock): OperatorClock {
  const c = acceleratedClock({ startMs, factor: speedup, wall });
  return { now: c.now, setTimer: c.setTimer, speedup, replay: true };
}

/** Calls `fn` at every multiple of `periodMs` on the clock (aligned to the epoch) until the returned stop. */
export function onEveryBoundary(clock: Clock, periodMs: number, fn: (boundaryMs: number) => void): () => void {
  let cancel = () => {};
  let stopped = false;
  const arm = () => {
    const now = clock.now();
    const next = (Math.floor(now / periodMs) + 1) * periodMs;
    cancel = clock.setTimer(() => {
      if (stopped) return;
      fn(next);
      arm();
    }, next - now);
  };
  arm();
  return () => {
    stopped = true;
    cancel();
  };
}
