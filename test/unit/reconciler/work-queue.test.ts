import { expect } from 'chai';
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
      { backoffBaseMs: 5, onError: (k, _e, retry) => errors.push([k, retry]) },
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
