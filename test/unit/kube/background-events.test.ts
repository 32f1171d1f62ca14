// Events in the background: a pass does not wait for an Event's request, a failed or dropped Event is logged and
// counted (never thrown into the pass), and the ordered stop drains what is still on its way.
import { expect } from 'chai';
import { BackgroundEvents } from '../../../operator/kube/background-events.ts';
import type { EventRecord, EventTarget } from '../../../operator/kube/events.ts';

const target: EventTarget = {
  apiVersion: 'carbonscale.dev/v1alpha1',
  kind: 'InferenceService',
  name: 'svc',
  namespace: 'ns',
};
const ev = (reason: string): EventRecord => ({ type: 'Normal', reason, action: 'Swap', note: 'n' });

/** A recorder whose requests stay open until the test settles them. */
function heldRecorder() {
  const calls: Array<{ reason: string; resolve: () => void; reject: (e: Error) => void }> = [];
  return {
    calls,
    record: (_t: EventTarget, e: EventRecord) =>
      new Promise<void>((resolve, reject) => calls.push({ reason: e.reason, resolve, reject })),
  };
}

describe('BackgroundEvents', () => {
  it('resolves before the request finishes, and drain waits for the request', async () => {
    const rec = heldRecorder();
    const events = new BackgroundEvents(rec);
    let handedOver = false;
    await events.record(target, ev('VariantSwapped')).then(() => (handedOver = true));
    expect(handedOver).to.equal(true);
    expect(rec.calls.map((c) => c.reason)).to.deep.equal(['VariantSwapped']);
    expect(events.size).to.equal(1);
    let drained = false;
    const d = events.drain(60_000).then(() => (drained = true));
    await new Promise((r) => setImmediate(r));
    expect(drained).to.equal(false);
    rec.calls[0]!.resolve();
    await d;
    expect(drained).to.equal(true);
    expect(events.size).to.equal(0);
  });

  it('logs and counts a failed Event with its reason and object, without rejecting', async () => {
    const rec = heldRecorder();
    const logs: Array<Record<string, unknown>> = [];
    let counted = 0;
    const events = new BackgroundEvents(rec, {
      log: (_l, msg, meta) => logs.push({ msg, ...meta }),
      onNotRecorded: () => counted++,
    });
    await events.record(target, ev('Scaled'));
    rec.calls[0]!.reject(new Error('apiserver said 500'));
    await events.drain(60_000);
    expect(counted).to.equal(1);
    expect(logs).to.deep.equal([
      { msg: 'Event not recorded', reason: 'Scaled', object: 'InferenceService ns/svc', error: 'apiserver said 500' },
    ]);
  });

  it('drops, logs and counts Events past maxPending instead of queueing without bound', async () => {
    const rec = heldRecorder();
    const logs: string[] = [];
    let counted = 0;
    const events = new BackgroundEvents(rec, {
      maxPending: 2,
      log: (_l, _m, meta) => logs.push(String(meta.error)),
      onNotRecorded: () => counted++,
    });
    for (const r of ['A', 'B', 'C']) await events.record(target, ev(r));
    expect(rec.calls.map((c) => c.reason)).to.deep.equal(['A', 'B']);
    expect(counted).to.equal(1);
    expect(logs[0]).to.match(/2 Events are already waiting/);
    rec.calls[0]!.resolve();
    await new Promise((r) => setImmediate(r));
    await events.record(target, ev('D'));
    expect(rec.calls.map((c) => c.reason)).to.deep.equal(['A', 'B', 'D']);
  });

  it('drain gives up after its timeout when a request never ends', async () => {
    const rec = heldRecorder();
    const events = new BackgroundEvents(rec);
    await events.record(target, ev('A'));
    await events.drain(20);
    expect(events.size).to.equal(1);
  });
});
