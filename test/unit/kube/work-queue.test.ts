import { expect } from 'chai';
import { ManualClock, sleep } from '../../../operator/kube/clock.ts';
import { FairQueue } from '../../../operator/kube/fair-queue.ts';
import { TerminalError, WorkQueue } from '../../../operator/kube/work-queue.ts';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('work queue', () => {
  it('never runs one key twice at once, and re-runs once for changes that arrived meanwhile', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    let runs = 0;
    const q = new WorkQueue(
      async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        runs++;
        await tick(30);
        inFlight--;
      },
      { concurrency: 4 },
    );
    q.start();
    q.add('ns/a');
    await tick(5);
    for (let i = 0; i < 10; i++) q.add('ns/a');
    await tick(120);
    await q.stop();
    expect(maxInFlight).to.equal(1);
    expect(runs).to.equal(2);
  });

  it('de-duplicates waiting keys and runs different keys in parallel', async () => {
    const seen: string[] = [];
    const q = new WorkQueue(
      async (k) => {
        seen.push(k);
        await tick(10);
      },
      { concurrency: 2 },
    );
    q.add('a');
    q.add('a');
    q.add('b');
    q.start();
    await tick(60);
    await q.stop();
    expect(seen.sort()).to.deep.equal(['a', 'b']);
  });

  it('retries errors with backoff, not terminal errors, and honours requeueAfter', async () => {
    const calls: Record<string, number> = { flaky: 0, bad: 0, later: 0 };
    const errors: Array<[string, number | null]> = [];
    const q = new WorkQueue(
      async (k) => {
        calls[k]!++;
        if (k === 'flaky' && calls[k]! < 3) throw new Error('boom');
        if (k === 'bad') throw new TerminalError('never works');
        if (k === 'later' && calls[k] === 1) return { requeueAfterMs: 20 };
      },
      { backoffBaseMs: 5, backoffJitter: 0, onError: (k, _e, retry) => errors.push([k, retry]) },
    );
    q.start();
    q.add('flaky');
    q.add('bad');
    q.add('later');
    await tick(150);
    await q.stop();
    expect(calls).to.deep.equal({ flaky: 3, bad: 1, later: 2 });
    expect(errors.filter(([k]) => k === 'flaky').map(([, r]) => r)).to.deep.equal([5, 10]);
    expect(errors.find(([k]) => k === 'bad')![1]).to.equal(null);
  });
});

describe('work queue: adds racing the hand-over to a worker', () => {
  it('an add() right after a key is taken, before its handler starts, does not start a second pass at once', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const q = new WorkQueue(
      async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await tick(20);
        inFlight--;
      },
      { concurrency: 4 },
    );
    q.start();
    await tick(1);
    q.add('k');
    // Re-add in the microtasks that follow, while the first worker is being handed the key.
    for (let i = 0; i < 5; i++) {
      await Promise.resolve();
      q.add('k');
    }
    await tick(80);
    await q.stop();
    expect(maxInFlight).to.equal(1);
  });
});

describe('work queue: fair across namespaces', () => {
  it('FairQueue serves namespaces round-robin and keeps each namespace in FIFO order', () => {
    const q = new FairQueue();
    for (let i = 0; i < 5; i++) q.push(`busy/k${i}`);
    q.push('quiet/only');
    q.push('other/x');
    q.push('busy/k0'); // already waiting: keeps its place
    const order: string[] = [];
    for (let k = q.shift(); k !== undefined; k = q.shift()) order.push(k);
    expect(order).to.deep.equal(['busy/k0', 'quiet/only', 'other/x', 'busy/k1', 'busy/k2', 'busy/k3', 'busy/k4']);
    expect(q.size).to.equal(0);
  });

  it('a key in a quiet namespace runs within the first passes while a busy namespace has 1,000 keys waiting', async () => {
    const clock = new ManualClock(0);
    const order: string[] = [];
    const q = new WorkQueue(
      async (k) => {
        order.push(k);
      },
      { concurrency: 1, ratePerSecond: 10, burst: 1, clock },
    );
    for (let i = 0; i < 1000; i++) q.add(`busy/svc-${i}`);
    q.add('quiet/svc');
    q.start();
    await clock.advance(1000); // 10 passes at 10/s
    await q.stop();
    expect(order.indexOf('quiet/svc')).to.be.within(0, 1);
    expect(order.length).to.be.within(10, 12);
  });
});

describe('work queue: the injected clock drives requeueAfter, backoff and the rate', () => {
  it('requeueAfter fires on the clock, not the wall: an hour on a manual clock passes in no real time', async () => {
    const clock = new ManualClock(0);
    const runsAt: number[] = [];
    const q = new WorkQueue(
      async () => {
        runsAt.push(clock.now());
        return { requeueAfterMs: 3_600_000 };
      },
      { clock },
    );
    q.start();
    q.add('ns/a');
    await clock.advance(3 * 3_600_000);
    await q.stop();
    expect(runsAt).to.deep.equal([0, 3_600_000, 7_200_000, 10_800_000]);
  });

  it('backoff doubles per failure, with jitter inside its share, and resets after a success', async () => {
    const clock = new ManualClock(0);
    const delays: Array<number | null> = [];
    let calls = 0;
    const q = new WorkQueue(
      async () => {
        calls++;
        if (calls <= 4) throw new Error('apiserver said 500');
        if (calls === 6) throw new Error('again');
      },
      { clock, backoffBaseMs: 1000, backoffJitter: 0.2, random: () => 0.5, onError: (_k, _e, r) => delays.push(r) },
    );
    q.start();
    q.add('ns/a');
    await clock.advance(20_000);
    q.add('ns/a'); // a fresh change after the success
    await clock.advance(20_000);
    await q.stop();
    expect(delays).to.deep.equal([900, 1800, 3600, 7200, 900]);
    expect(calls).to.equal(7);
  });

  it('the token bucket bounds passes per second of clock time (burst, then the sustained rate)', async () => {
    const clock = new ManualClock(0);
    let runs = 0;
    const q = new WorkQueue(
      async () => {
        runs++;
      },
      { clock, concurrency: 4, ratePerSecond: 5, burst: 3 },
    );
    for (let i = 0; i < 100; i++) q.add(`ns${i % 7}/k${i}`);
    q.start();
    await clock.advance(0);
    const afterBurst = runs;
    await clock.advance(2000);
    const afterTwoSeconds = runs;
    await q.stop();
    expect(afterBurst).to.equal(3);
    expect(afterTwoSeconds).to.equal(13);
  });

  it('rejects a concurrency that is not a positive integer, naming it', () => {
    expect(() => new WorkQueue(async () => undefined, { concurrency: 0 })).to.throw(
      /concurrency must be an integer >= 1, got 0/,
    );
  });
});

describe('work queue: triggered keys before periodic ones', () => {
  it('FairQueue.delete takes a waiting key out, and a group left with deleted keys only is skipped', () => {
    const q = new FairQueue();
    q.push('a/1');
    q.push('b/1');
    q.push('a/2');
    expect(q.delete('b/1')).to.equal(true);
    expect(q.delete('b/1')).to.equal(false);
    expect(q.size).to.equal(2);
    const order: string[] = [];
    for (let k = q.shift(); k !== undefined; k = q.shift()) order.push(k);
    expect(order).to.deep.equal(['a/1', 'a/2']);
    q.push('b/1'); // waiting again after a delete: served once
    expect([q.shift(), q.shift()]).to.deep.equal(['b/1', undefined]);
  });

  it('a change wakes a key ahead of 1,000 periodic passes due at the same boundary', async () => {
    const clock = new ManualClock(0);
    const order: string[] = [];
    const q = new WorkQueue(
      async (k) => {
        order.push(k);
        await sleep(clock, 10); // a pass takes 10 ms of clock time: the periodic passes queue up
        // Every service's next pass is due at the next interval boundary, as a service's pass asks.
        return k.startsWith('ns/') ? { requeueAfterMs: 60_000 - (clock.now() % 60_000) } : undefined;
      },
      { clock, concurrency: 1, ratePerSecond: 1000, burst: 1000 },
    );
    for (let i = 0; i < 1000; i++) q.add(`ns/k${i}`);
    q.start();
    await clock.advance(59_000); // the initial list: 1,000 triggered passes
    expect(order.length).to.equal(1000);
    order.length = 0;
    await clock.advance(1000); // the boundary: 1,000 periodic passes due at once
    q.add('other/changed');
    await clock.advance(10_100);
    await q.stop();
    // The changed key ran next, ahead of the 999 periodic passes still waiting; and 1,000 passes in 10 s at a
    // rate of 1,000/s with a burst of 1,000 would have passed anyway, so the token check is the next test's.
    expect(order.indexOf('other/changed')).to.be.within(0, 2);
    expect(order.length).to.equal(1001);
  });

  it('periodic passes are not held to the rate; triggered ones are', async () => {
    const clock = new ManualClock(0);
    let periodicRuns = 0;
    const q = new WorkQueue(
      async (k) => {
        if (k.startsWith('p/')) {
          periodicRuns++;
          return { requeueAfterMs: 1000 };
        }
        return undefined;
      },
      { clock, concurrency: 2, ratePerSecond: 1, burst: 1 },
    );
    for (let i = 0; i < 50; i++) q.add(`p/k${i}`); // the first passes: triggered, 1/s
    q.start();
    await clock.advance(60_000);
    await q.stop();
    // 50 keys reached their first pass after ~50 s at 1 token/s; from then on each ran once a second, untaxed.
    // Held to the bucket, all passes together would be ~60.
    expect(periodicRuns).to.be.above(200);
  });

  it('a key waiting in the periodic lane that a change wakes runs once, through the bucket', async () => {
    const clock = new ManualClock(0);
    const runs: string[] = [];
    const q = new WorkQueue(
      async (k) => {
        runs.push(k);
        await sleep(clock, 100);
        return k === 'ns/a' && runs.length === 1 ? { requeueAfterMs: 50 } : undefined;
      },
      { clock, concurrency: 1 },
    );
    q.add('ns/a');
    q.add('ns/b');
    q.start();
    await clock.advance(160); // ns/a ran; its periodic pass came due (150) while ns/b runs
    expect(q.periodicDepth).to.equal(1);
    q.add('ns/a'); // a change: moves it to the triggered lane
    expect(q.periodicDepth).to.equal(0);
    expect(q.depth).to.equal(1);
    await clock.advance(1000);
    await q.stop();
    expect(runs).to.deep.equal(['ns/a', 'ns/b', 'ns/a']);
  });

  it('requeueAfter of zero is a loop, not a period: it is rate-limited like a triggered pass', async () => {
    const clock = new ManualClock(0);
    let runs = 0;
    const q = new WorkQueue(
      async () => {
        runs++;
        return { requeueAfterMs: 0 };
      },
      { clock, ratePerSecond: 5, burst: 1 },
    );
    q.add('ns/a');
    q.start();
    await clock.advance(2000);
    await q.stop();
    expect(runs).to.be.within(10, 12);
  });
});
