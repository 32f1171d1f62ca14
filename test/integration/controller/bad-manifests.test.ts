import { expect } from 'chai';
import { createNamespace, useControlPlane } from '../../support/cluster.ts';
import { admin, applyObj, isvc, setupCrds, variant } from '../../support/operator-fixtures.ts';
import { KubeApiError, collectionPath, Resources } from '../../../operator/kube/kube-client.ts';

type Mut = (o: any) => void; // eslint-disable-line @typescript-eslint/no-explicit-any

// Each bad manifest must be refused by the API server itself, with a message that names the field.
const cases: Array<{ what: string; mutate: Mut; field: RegExp }> = [
  { what: 'unknown tier', mutate: (o) => (o.spec.tier = 'gold'), field: /spec\.tier/ },
  { what: 'no variants', mutate: (o) => (o.spec.variants = []), field: /spec\.variants/ },
  { what: 'quality above 1', mutate: (o) => (o.spec.variants[0].quality = 1.5), field: /spec\.variants\[0\]\.quality/ },
  {
    what: 'negative capacity',
    mutate: (o) => (o.spec.variants[1].capacityRps = -3),
    field: /spec\.variants\[1\]\.capacityRps/,
  },
  { what: 'duplicate variant names', mutate: (o) => (o.spec.variants[1].name = 'full'), field: /spec\.variants\[1\]/ },
  {
    what: 'min replicas above max',
    mutate: (o) => (o.spec.replicas = { min: 5, max: 2 }),
    field: /spec\.replicas.*replicas\.min must be <= replicas\.max/,
  },
  {
    what: 'quality floor above the full variant',
    mutate: (o) => (o.spec.slo.qualityFloor = 0.99),
    field: /qualityFloor must be <= the full variant/,
  },
  {
    what: 'premium with a degradation budget',
    mutate: (o) => {
      o.spec.tier = 'premium';
      o.spec.slo.relaxedLatencyP95Ms = undefined;
      delete o.spec.slo.relaxedLatencyP95Ms;
    },
    field: /premium services may not set slo\.degradationBudget/,
  },
  {
    what: 'idle power above busy power',
    mutate: (o) => (o.spec.variants[0].powerIdleWatts = 999),
    field: /spec\.variants\[0\].*powerIdleWatts must not exceed powerBusyWatts/,
  },
  {
    what: 'relaxed latency below the ceiling',
    mutate: (o) => (o.spec.slo.relaxedLatencyP95Ms = 10),
    field: /slo\.relaxedLatencyP95Ms must be >= slo\.latencyP95Ms/,
  },
  { what: 'PUE below 1', mutate: (o) => (o.spec.carbon.pue = 0.5), field: /spec\.carbon\.pue/ },
  { what: 'missing region', mutate: (o) => delete o.spec.carbon.region, field: /spec\.carbon\.region/ },
  { what: 'unknown mode', mutate: (o) => (o.spec.policy.mode = 'yolo'), field: /spec\.policy\.mode/ },
  {
    what: 'fallback variant not in the list',
    mutate: (o) => (o.spec.policy.fallbackVariant = 'tiny'),
    field: /policy\.fallbackVariant must name one of spec\.variants/,
  },
  {
    what: 'custom runtime without a pod template',
    mutate: (o) => (o.spec.runtime = { type: 'custom' }),
    field: /runtime\.podTemplate is required/,
  },
  {
    what: 'variant name not a DNS label',
    mutate: (o) => (o.spec.variants[1].name = 'Small_V'),
    field: /spec\.variants\[1\]\.name/,
  },
  {
    what: 'a smaller variant listed first',
    mutate: (o) => (o.spec.variants = [variant('small', 0.93, 200), variant('full', 0.97, 100)]),
    field: /the first variant must be the full one/,
  },
  {
    what: 'static demand without a rate',
    mutate: (o) => (o.spec.demand = { source: 'static' }),
    field: /demand\.staticRps is required/,
  },
];

describe('InferenceService API: bad manifests are rejected with the field named', () => {
  const cluster = useControlPlane();
  let ns = '';
  before(async function () {
    this.timeout(60_000);
    await setupCrds(cluster().kc);
    ns = await createNamespace(cluster().core, 'bad');
  });

  it('accepts the baseline manifest the cases start from', async () => {
    const res = await applyObj(cluster().kc, isvc('baseline', ns));
    expect(res.metadata?.name).to.equal('baseline');
  });

  cases.forEach((c, i) => {
    it(`rejects ${c.what}`, async () => {
      const o = isvc(`bad-${i}`, ns) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
      c.mutate(o);
      // A create, as `kubectl create`/`kubectl apply` of a new object sends it.
      try {
        await admin(cluster().kc).create(collectionPath(Resources.inferenceService, ns), o);
      } catch (e) {
        expect(e).to.be.instanceOf(KubeApiError);
        const msg = (e as KubeApiError).message;
        expect((e as KubeApiError).status, msg).to.equal(422);
        expect(c.field.test(msg), msg).to.equal(true);
        return;
      }
      expect.fail(`the API server accepted: ${c.what}`);
    });
  });
});
