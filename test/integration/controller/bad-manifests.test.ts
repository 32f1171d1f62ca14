import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNamespace, useControlPlane, waitFor } from '../../support/cluster.ts';
import {
  admin,
  applyObj,
  getIsvc,
  isvc,
  listEvents,
  runOperator,
  setupCrds,
  traceSource,
  variant,
  writeTrace,
} from '../../support/operator-fixtures.ts';
import { KubeApiError, collectionPath, objectPath, Resources } from '../../../operator/kube/kube-client.ts';

type Mut = (o: any) => void; // eslint-disable-line @typescript-eslint/no-explicit-any

const customRuntime = {
  type: 'custom',
  podTemplate: { spec: { containers: [{ name: 'server', image: 'vllm/vllm-openai:v0.6.0' }] } },
};
const URI =
  /spec\.variants: Invalid value: spec\.variants\[\]\.model\.uri: runtime carbonscale reads only file:\/\/, http:\/\/, https:\/\/, pvc:\/\/ URIs/;
const SLO =
  /spec\.slo\.latencyP95Ms: Invalid value: slo\.latencyP95Ms must be above the measured latencyP95Ms of at least one variant that may serve/;

// Each bad manifest must be refused by the API server itself, with a message that names the field.
const cases: Array<{ what: string; mutate: Mut; field: RegExp; name?: string }> = [
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
  // ---- what the operator cannot run (issue 15 §1)
  {
    what: 'a model URI scheme the model server does not read (ftp://)',
    mutate: (o) => (o.spec.variants[1].model.uri = 'ftp://models.example/small.onnx'),
    field: URI,
  },
  {
    what: 'a bare path as a model URI',
    mutate: (o) => (o.spec.variants[0].model.uri = 'models/full.onnx'),
    field: URI,
  },
  {
    what: 'a pvc:// URI without a path inside the claim',
    mutate: (o) => (o.spec.variants[0].model.uri = 'pvc://models'),
    field: URI,
  },
  {
    what: 'a pvc:// claim that is not a DNS-1123 name',
    mutate: (o) => (o.spec.variants[0].model.uri = 'pvc://Models_1/full.onnx'),
    field: URI,
  },
  {
    what: 'a name longer than a Service name may be (64 characters)',
    name: `a${'b'.repeat(63)}`,
    mutate: () => {},
    field: /metadata\.name must have at most 63 characters: it names the Service carbonscale creates/,
  },
  {
    what: 'a dotted name (a Service name is a DNS-1035 label)',
    name: 'model.v2',
    mutate: () => {},
    field: /metadata\.name must be a DNS-1035 label: .*\(no dots\)/,
  },
  {
    what: 'a name starting with a digit',
    name: '7b-chat',
    mutate: () => {},
    field: /metadata\.name must be a DNS-1035 label/,
  },
  {
    what: 'a premium latency SLO below the full variant’s measured p95',
    mutate: (o) => {
      o.spec = { ...o.spec, tier: 'premium', variants: [o.spec.variants[0]], slo: { latencyP95Ms: 15 } };
    },
    field: SLO,
  },
  {
    what: 'a latency SLO equal to the only variant’s p95 (holds at no load)',
    mutate: (o) => {
      o.spec = { ...o.spec, tier: 'premium', variants: [o.spec.variants[0]], slo: { latencyP95Ms: 20 } };
    },
    field: SLO,
  },
  {
    what: 'an eco latency SLO only a variant below the quality floor could meet',
    mutate: (o) => {
      o.spec.variants[1].latencyP95Ms = 5;
      o.spec.variants[1].quality = 0.85;
      o.spec.slo.latencyP95Ms = 10;
      o.spec.slo.relaxedLatencyP95Ms = 10;
    },
    field: SLO,
  },
];

// Near misses of the rules above: the API server must accept them.
const accepted: Array<{ what: string; mutate: Mut; name?: string }> = [
  {
    what: 'any URI scheme for a custom runtime (the URI is the runtime’s business)',
    mutate: (o) => {
      o.spec.runtime = customRuntime;
      o.spec.variants[1].model.uri = 's3://bucket/small';
    },
  },
  {
    what: 'a pvc:// URI naming a claim and a path',
    mutate: (o) => (o.spec.variants[1].model.uri = 'pvc://models/v1/small.onnx'),
  },
  { what: 'an https:// URI', mutate: (o) => (o.spec.variants[1].model.uri = 'https://models.example/small.onnx') },
  { what: 'a 63-character name', name: `a${'b'.repeat(62)}`, mutate: () => {} },
  {
    what: 'an eco SLO that only a smaller eligible variant meets',
    mutate: (o) => {
      o.spec.variants[1].latencyP95Ms = 5;
      o.spec.slo.latencyP95Ms = 10;
      o.spec.slo.relaxedLatencyP95Ms = 10;
    },
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

  it('rejects an empty variant list with the one real message (no "index out of bounds" from a rule)', async () => {
    const o = isvc('no-variants', ns) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    o.spec.variants = [];
    const err = await admin(cluster().kc)
      .create(collectionPath(Resources.inferenceService, ns), o)
      .then(
        () => undefined,
        (e: unknown) => e as KubeApiError,
      );
    expect(err, 'accepted an empty variant list').to.be.instanceOf(KubeApiError);
    const msg = err!.message;
    expect(msg).to.match(/spec\.variants: Invalid value: \d+: spec\.variants in body should have at least 1 items/);
    expect(msg).to.not.match(/out of bounds|no such key|evaluation/i);
    // One cause: the API server lists several as "is invalid: [a, b]".
    expect(msg).to.not.include('is invalid: [');
  });

  accepted.forEach((c, i) => {
    it(`accepts ${c.what}`, async () => {
      const o = isvc(c.name ?? `good-${i}`, ns) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
      c.mutate(o);
      const res = await admin(cluster().kc).create<{ metadata: { name: string } }>(
        collectionPath(Resources.inferenceService, ns),
        o,
      );
      expect(res.metadata.name).to.equal(o.metadata.name);
    });
  });

  cases.forEach((c, i) => {
    it(`rejects ${c.what}`, async () => {
      const o = isvc(c.name ?? `bad-${i}`, ns) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
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

  // What the API cannot know: the nodes. Admitted, then Stalled with words, never Ready with 0 replicas.
  it('a replica no node fits is Stalled (Ready False) with a Warning naming the largest node, nothing is created; an edit resumes it', async function () {
    this.timeout(90_000);
    const { kc } = cluster();
    const dir = mkdtempSync(join(tmpdir(), 'cs-trace-'));
    await cluster().cp.createGpuNodes([{ name: 'gpu-8', gpus: 8 }]);
    await applyObj(kc, traceSource('test-source', writeTrace(dir).file, Date.now(), 10));
    const op = await runOperator(kc);
    try {
      const o = isvc('too-big', ns) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
      o.spec.variants[0].gpusPerReplica = 12;
      await applyObj(kc, o);
      const cond = (s: any, t: string) => s?.conditions?.find((c: any) => c.type === t); // eslint-disable-line @typescript-eslint/no-explicit-any
      const st = await waitFor(
        'Stalled',
        async () => {
          const s = (await getIsvc(kc, ns, 'too-big')).status;
          return cond(s, 'Stalled') ? s : undefined;
        },
        { show: () => getIsvc(kc, ns, 'too-big') },
      );
      expect(cond(st, 'Stalled')).to.include({ status: 'True', reason: 'NoNodeFitsReplica', observedGeneration: 1 });
      expect(cond(st, 'Ready')).to.include({ status: 'False', reason: 'NoNodeFitsReplica' });
      expect(st.observedGeneration).to.equal(1);
      const ev = await waitFor('the Warning Event', async () =>
        (await listEvents(kc, ns)).find((e) => e.reason === 'NoNodeFitsReplica'),
      );
      expect(ev.type).to.equal('Warning');
      expect(ev.regarding.name).to.equal('too-big');
      expect(ev.note).to.match(
        /variant full requests 12 nvidia\.com\/gpu per replica .*the largest node \(gpu-8\) has 8/,
      );
      for (const r of [Resources.deployment, Resources.service])
        expect(await admin(kc).getOrNull(objectPath(r, 'too-big', ns)), r.kind).to.equal(null);
      o.spec.variants[0].gpusPerReplica = 2;
      await applyObj(kc, o);
      await waitFor('the Deployment after the edit', () =>
        admin(kc).getOrNull(objectPath(Resources.deployment, 'too-big', ns)),
      );
      const after = await waitFor('Stalled gone', async () => {
        const s = (await getIsvc(kc, ns, 'too-big')).status;
        return s?.observedGeneration === 2 && !cond(s, 'Stalled') ? s : undefined;
      });
      expect(cond(after, 'Ready').reason).to.not.equal('NoNodeFitsReplica');
    } finally {
      await op.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
