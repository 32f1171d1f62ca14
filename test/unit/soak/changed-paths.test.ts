// The soak says what its quiet-state writes changed; these pin how a change is named and counted.
import { expect } from 'chai';
import { changeCounts, changedPaths } from '../../../bench/soak/object-tracker.ts';
import type { KubeObject } from '../../../operator/kube/kube-client.ts';

const obj = (status: unknown) => ({ metadata: { name: 'a' }, status }) as unknown as KubeObject;

describe('soak: changedPaths', () => {
  it('names each changed leaf, and conditions by their type, not their position', () => {
    const a = obj({
      readyReplicas: 1,
      lastDecision: { reason: 'x', variant: 'full' },
      conditions: [
        { type: 'Ready', status: 'True', message: 'm' },
        { type: 'Degraded', status: 'False' },
      ],
    });
    const b = obj({
      readyReplicas: 2,
      lastDecision: { reason: 'y', variant: 'full' },
      conditions: [
        { type: 'Degraded', status: 'False' },
        { type: 'Ready', status: 'True', message: 'n' },
      ],
    });
    expect(changedPaths(a, b).sort()).to.deep.equal([
      'status.conditions[Ready].message',
      'status.lastDecision.reason',
      'status.readyReplicas',
    ]);
  });

  it('reports a field that appears or goes away, and nothing for equal objects', () => {
    expect(changedPaths(obj({ a: 1 }), obj({ a: 1, b: { c: 2 } }))).to.deep.equal(['status.b']);
    expect(changedPaths(obj({ a: 1, b: 2 }), obj({ a: 1 }))).to.deep.equal(['status.b']);
    expect(changedPaths(obj({ a: [1, 2] }), obj({ a: [1, 2] }))).to.deep.equal([]);
  });

  it('counts changes between consecutive versions inside the window only', () => {
    const h = [
      { atMs: 0, object: obj({ r: 0 }) },
      { atMs: 10, object: obj({ r: 1 }) },
      { atMs: 20, object: obj({ r: 2, m: 'x' }) },
      { atMs: 30, object: obj({ r: 2, m: 'x' }) },
    ];
    expect(changeCounts([h], 10, 25)).to.deep.equal({ 'status.r': 2, 'status.m': 1 });
    expect(changeCounts([h], 25)).to.deep.equal({});
  });
});
