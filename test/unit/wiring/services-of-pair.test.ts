import { expect } from 'chai';
import { describe, it } from 'mocha';
import type { KubeObject } from '../../../operator/kube/kube-client.ts';
import {
  byTier,
  servicesOfPair,
  servicesUsingSource,
  type ServiceLookup,
} from '../../../operator/wiring/inference-service-controller.ts';

const isvc = (ns: string, name: string, tier: string, sourceRef: string, region: string): KubeObject =>
  ({
    apiVersion: 'carbonscale.dev/v1alpha1',
    kind: 'InferenceService',
    metadata: { namespace: ns, name },
    spec: { tier, carbon: { sourceRef, region } },
  }) as unknown as KubeObject;

function lookup(services: KubeObject[], sources: KubeObject[] = []): ServiceLookup {
  const byKey = new Map(services.map((o) => [`${o.metadata!.namespace}/${o.metadata!.name}`, o]));
  return { isvcs: { list: () => services, get: (k: string) => byKey.get(k) }, carbonSources: { list: () => sources } };
}

describe('servicesOfPair: which services a (source, region) signal wakes, and in which order', () => {
  it('wakes only the pair’s services, eco before premium, each group in cache order', () => {
    const c = lookup([
      isvc('a', 'p1', 'premium', 'grid', 'north'),
      isvc('a', 'e1', 'eco', 'grid', 'north'),
      isvc('b', 'p2', 'premium', 'grid', 'north'),
      isvc('b', 'e2', 'eco', 'grid', 'north'),
      isvc('b', 'e-south', 'eco', 'grid', 'south'),
      isvc('c', 'e-other', 'eco', 'other', 'north'),
    ]);
    expect(servicesOfPair(c, 'grid', 'north')).to.deep.equal(['a/e1', 'b/e2', 'a/p1', 'b/p2']);
    expect(servicesOfPair(c, 'grid', 'south')).to.deep.equal(['b/e-south']);
  });

  it('includes services that reach the source through a fallback chain', () => {
    const sources = [
      { metadata: { name: 'primary' }, spec: { fallback: ['backup'] } },
      { metadata: { name: 'backup' }, spec: {} },
    ] as unknown as KubeObject[];
    const c = lookup([isvc('a', 'p', 'premium', 'primary', 'r'), isvc('a', 'e', 'eco', 'backup', 'r')], sources);
    expect(servicesOfPair(c, 'backup', 'r')).to.deep.equal(['a/e', 'a/p']);
    expect(servicesUsingSource(c, 'primary'), 'a change to the primary wakes only its readers').to.deep.equal(['a/p']);
  });

  it('a CarbonSource change wakes every region of the source, eco first', () => {
    const c = lookup([
      isvc('a', 'p-north', 'premium', 'grid', 'north'),
      isvc('a', 'e-south', 'eco', 'grid', 'south'),
      isvc('b', 'p-south', 'premium', 'grid', 'south'),
      isvc('b', 'e-north', 'eco', 'grid', 'north'),
      isvc('b', 'e-other', 'eco', 'other', 'north'),
    ]);
    expect(servicesUsingSource(c, 'grid')).to.deep.equal(['a/e-south', 'b/e-north', 'a/p-north', 'b/p-south']);
  });
});

describe('byTier: the lanes a carbon wake uses', () => {
  it('eco and undecided services in the triggered lane; decided premium and unknown keys after every triggered key', () => {
    const decided = (o: KubeObject) => Object.assign(o, { status: { lastDecision: { variant: 'full' } } });
    const c = lookup([
      decided(isvc('a', 'p1', 'premium', 'grid', 'n')),
      isvc('a', 'p-new', 'premium', 'grid', 'n'),
      decided(isvc('a', 'e1', 'eco', 'grid', 'n')),
    ]);
    const emitted: Array<[string[], string | undefined]> = [];
    byTier(c.isvcs, ['a/p1', 'a/p-new', 'a/e1', 'a/gone'], (keys, lane) => emitted.push([[...keys], lane]));
    expect(emitted).to.deep.equal([
      [['a/p-new', 'a/e1'], undefined],
      [['a/p1', 'a/gone'], 'after-triggered'],
    ]);
  });
});
