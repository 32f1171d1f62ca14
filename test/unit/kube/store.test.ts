import { expect } from 'chai';
import { foldEvent, StoreWriter, type Change } from '../../../operator/kube/store.ts';
import { obj, type Obj } from './scripted-source.ts';

const restarted = (objects: Obj[], resourceVersion: string) => ({
  type: 'Restarted' as const,
  objects,
  resourceVersion,
});
const summary = (cs: Change<Obj>[]) => cs.map((c) => `${c.type} ${c.key}`).sort();

describe('store: a pure fold of watcher events', () => {
  it('adds, modifies and deletes keys, and reports nothing for a replayed object with the same resourceVersion', () => {
    const state = new Map<string, Obj>();
    expect(summary(foldEvent(state, { type: 'Added', object: obj('a', '1') }))).to.deep.equal(['upsert ns/a']);
    expect(foldEvent(state, { type: 'Modified', object: obj('a', '1') })).to.deep.equal([]);
    const mod = foldEvent(state, { type: 'Modified', object: obj('a', '2') });
    expect(mod[0]!.old!.metadata.resourceVersion).to.equal('1');
    expect(mod[0]!.object.metadata.resourceVersion).to.equal('2');
    const del = foldEvent(state, { type: 'Deleted', object: obj('a', '3') });
    expect(summary(del)).to.deep.equal(['delete ns/a']);
    expect(del[0]!.old!.metadata.resourceVersion).to.equal('2');
    expect(state.size).to.equal(0);
    expect(foldEvent(state, { type: 'Deleted', object: obj('never-seen', '4') }), 'unknown key').to.deep.equal([]);
  });

  it('a Restarted list replaces the state: keys missing from it are reported as deletes with their last state', () => {
    const state = new Map<string, Obj>();
    foldEvent(state, restarted([obj('a', '1'), obj('b', '1'), obj('c', '1')], '1'));
    // While the watch was down: b was deleted, c changed, d appeared; a is unchanged.
    const changes = foldEvent(state, restarted([obj('a', '1'), obj('c', '5'), obj('d', '6')], '6'));
    expect(summary(changes)).to.deep.equal(['delete ns/b', 'upsert ns/c', 'upsert ns/d']);
    expect(changes.find((c) => c.key === 'ns/b')!.object.metadata.resourceVersion).to.equal('1');
    expect([...state.keys()].sort()).to.deep.equal(['ns/a', 'ns/c', 'ns/d']);
  });

  it('a bookmark moves the resourceVersion and changes no object; errors change nothing', () => {
    const w = new StoreWriter<Obj>('things');
    const seen: string[] = [];
    w.reader.subscribe((c) => seen.push(c.key));
    w.apply(restarted([obj('a', '10')], '10'), 1);
    w.apply({ type: 'Bookmark', resourceVersion: '17' }, 2);
    expect(w.reader.resourceVersion).to.equal('17');
    expect(w.reader.lastActivityMs).to.equal(2);
    w.apply({ type: 'Error', error: new Error('x'), retryInMs: 5, relist: false }, 3);
    expect(w.reader.lastActivityMs, 'an error is not activity').to.equal(2);
    expect(seen).to.deep.equal(['ns/a']);
  });

  it('readers wait until the first list; one throwing subscriber does not stop the others', async () => {
    const errors: unknown[] = [];
    const w = new StoreWriter<Obj>('things', { onSubscriberError: (e) => errors.push(e) });
    let ready = false;
    const waiting = w.reader.waitUntilReady().then(() => (ready = true));
    w.apply({ type: 'Added', object: obj('early', '1') }, 0);
    await Promise.resolve();
    expect(ready, 'a watch event before the list does not make the store ready').to.equal(false);
    const got: string[] = [];
    w.reader.subscribe(() => {
      throw new Error('buggy subscriber');
    });
    w.reader.subscribe((c) => got.push(c.key));
    w.apply(restarted([obj('x', '2')], '2'), 1);
    await waiting;
    expect(ready).to.equal(true);
    expect(w.reader.ready).to.equal(true);
    expect(got.sort()).to.deep.equal(['ns/early', 'ns/x']);
    expect(errors).to.have.length(2);
    expect(w.reader.keys()).to.deep.equal(['ns/x']);
  });
});
