import { expect } from 'chai';
import { ManualClock } from '../../../operator/kube/clock.ts';
import { Resources } from '../../../operator/kube/kube-client.ts';
import { Reflector, type Change } from '../../../operator/kube/reflector.ts';
import { ev, HttpLikeError, obj, ScriptedSource, type Obj } from './scripted-source.ts';

async function until(clock: ManualClock, cond: () => boolean, what: string) {
  for (let i = 0; i < 2000; i++) {
    if (cond()) return;
    await clock.advance(50);
  }
  throw new Error(`never: ${what}`);
}

describe('reflector: watcher folded into a store', () => {
  it('strips managedFields and fills apiVersion/kind before objects enter the cache', async () => {
    const heavy = { ...obj('a', '1'), metadata: { ...obj('a', '1').metadata, managedFields: [{ manager: 'x' }] } };
    const src = new ScriptedSource(
      [{ items: [heavy], rv: '1' }],
      [{ events: [ev('MODIFIED', { ...heavy, metadata: { ...heavy.metadata, resourceVersion: '2' } })], end: 'hang' }],
    );
    const clock = new ManualClock(0);
    const r = new Reflector<Obj & Record<string, unknown>>(src as never, Resources.deployment, { clock });
    r.start();
    await r.waitForSync();
    await until(clock, () => r.get('ns/a')?.metadata.resourceVersion === '2', 'the watch event applied');
    await r.stop();
    const a = r.get('ns/a')!;
    expect(a.metadata).to.not.have.property('managedFields');
    expect(a.apiVersion).to.equal('apps/v1');
    expect(a.kind).to.equal('Deployment');
  });

  it('deletes that happened while the watch was down reach onChange and subscribers through the relist', async () => {
    const src = new ScriptedSource(
      [
        { items: [obj('a', '1'), obj('b', '1'), obj('c', '1')], rv: '1' },
        { items: [obj('a', '1'), obj('c', '4')], rv: '9' },
      ],
      [{ events: [], end: new HttpLikeError(410, 'too old resource version') }],
    );
    const clock = new ManualClock(0);
    const keys: string[] = [];
    const changes: Change<Obj>[] = [];
    const r = new Reflector<Obj & Record<string, unknown>>(src as never, Resources.configMap, {
      clock,
      now: () => 42,
      onChange: (k) => keys.push(k),
    });
    r.subscribe((c) => changes.push(c as Change<Obj>));
    r.start();
    await until(clock, () => r.lists === 2, 'the relist after 410');
    await r.stop();
    expect(
      r
        .list()
        .map((o) => o.metadata.name)
        .sort(),
    ).to.deep.equal(['a', 'c']);
    expect(keys).to.deep.equal(['ns/a', 'ns/b', 'ns/c', 'ns/c', 'ns/b']);
    const del = changes.find((c) => c.type === 'delete')!;
    expect(del.key).to.equal('ns/b');
    expect(del.object.metadata.name, 'a delete carries the last known object (owner mapping needs it)').to.equal('b');
    expect(r.restarts).to.equal(1);
    expect(r.lastError).to.include('too old');
    expect(r.lastActivityMs, 'stamped on the injected now()').to.equal(42);
    expect(r.synced).to.equal(true);
    expect(r.resourceVersion).to.equal('9');
  });

  it('stop() ends the loop, keeps the cache and makes no more requests', async () => {
    const src = new ScriptedSource([{ items: [obj('a', '1')], rv: '1' }], [{ events: [], end: 'hang' }]);
    const clock = new ManualClock(0);
    const r = new Reflector<Obj & Record<string, unknown>>(src as never, Resources.pod, { clock });
    r.start();
    await r.waitForSync();
    await clock.advance(10);
    await r.stop();
    const calls = src.lists.length + src.watches.length;
    await clock.advance(60 * 60_000);
    expect(src.lists.length + src.watches.length).to.equal(calls);
    expect(r.get('ns/a')).to.not.equal(undefined);
  });
});
