// What the operator cannot run is reported as kstatus `Stalled` (and Ready False) with words and a Warning Event,
// never as Ready with 0 replicas or "max replicas reached": the checks themselves (pure), then the Reconciler with
// fake ports (fake-cluster.ts), where nothing is created for a stalled service and a fix resumes it.
import { expect } from 'chai';
import { withDefaults } from '../../../operator/api/defaults.ts';
import type { InferenceService, RawInferenceService } from '../../../operator/api/types.ts';
import { TerminalError } from '../../../operator/kube/work-queue.ts';
import {
  eligibleVariants,
  feasibility,
  InfeasibleSpecError,
  largestNode,
} from '../../../operator/reconciler/feasibility.ts';
import { render } from '../../../operator/reconciler/render.ts';
import { STALL_RECHECK_MS } from '../../../operator/reconciler/stalled.ts';
import { FakeCluster, service } from './fake-cluster.ts';

const KEY = 'ns/svc';
const nodes = (...gpus: number[]) =>
  gpus.map((g, i) => ({ metadata: { name: `gpu-${i}` }, status: { allocatable: { 'nvidia.com/gpu': String(g) } } }));

type Spec = InferenceService['spec'];

/** The fake cluster's service with `f` applied to its (complete) spec. */
function spec(f: (s: Spec) => void, name = 'svc'): RawInferenceService {
  const o = service(name);
  f(o.spec as Spec);
  return o;
}

describe('feasibility: what the operator can know only at run time', () => {
  it('passes the fake cluster’s baseline service on a node that fits it', () => {
    expect(feasibility(withDefaults(service('svc')), nodes(8))).to.equal(undefined);
  });

  it('a name that cannot name a Service: too long, dotted, leading digit', () => {
    const long = feasibility(withDefaults(service(`a${'b'.repeat(63)}`)), nodes(8));
    expect(long).to.include({ reason: 'InvalidName', until: 'spec-change' });
    expect(long!.message).to.match(/^metadata\.name 'ab+' has 64 characters; at most 63 are allowed/);
    expect(feasibility(withDefaults(service('model.v2')), nodes(8))!.message).to.match(
      /is not a DNS-1035 label.*no dots/,
    );
    expect(feasibility(withDefaults(service('7b')), nodes(8))!.reason).to.equal('InvalidName');
    expect(feasibility(withDefaults(service(`a${'b'.repeat(62)}`)), nodes(8))).to.equal(undefined);
  });

  it('a model URI scheme our model server does not read, naming the field and the schemes; any URI for custom', () => {
    const ftp = spec((s) => (s.variants[1]!.model.uri = 'ftp://models.example/small.onnx'));
    const p = feasibility(withDefaults(ftp), nodes(8))!;
    expect(p).to.include({ reason: 'UnsupportedModelUri', until: 'spec-change' });
    expect(p.message).to.equal(
      'spec.variants[1].model.uri (variant small): unsupported model URI scheme ftp:// (the model server reads file://, http://, https://, pvc://)',
    );
    const custom = spec((s) => {
      s.variants[1]!.model.uri = 's3://bucket/small';
      s.runtime = {
        type: 'custom',
        variantEnv: 'CARBONSCALE_VARIANT',
        podTemplate: { spec: { containers: [{ name: 'c', image: 'i' }] } },
      };
    });
    expect(feasibility(withDefaults(custom), nodes(8))).to.equal(undefined);
    const pvc = spec((s) => (s.variants[1]!.model.uri = 'pvc://models'));
    expect(feasibility(withDefaults(pvc), nodes(8))!.message).to.match(/not of the form pvc:\/\/<claim>\/<path/);
  });

  it('a latency SLO at or below every eligible variant’s p95 (premium: the full one; eco: above the floor)', () => {
    const premium = service('svc', { tier: 'premium', slo: { latencyP95Ms: 20 } });
    const p = feasibility(withDefaults(premium), nodes(8))!;
    expect(p.reason).to.equal('SLOUnattainable');
    expect(p.message).to.equal(
      'slo.latencyP95Ms is 20 ms, at or below the measured low-load p95 of the full variant (full 20 ms): no number of replicas meets it; raise slo.latencyP95Ms above 20 ms or add a faster variant',
    );
    // eco: a faster small variant above the floor makes it feasible; below the floor it does not count.
    const eco = (smallQuality: number) =>
      spec((s) => {
        Object.assign(s.variants[1]!, { quality: smallQuality, latencyP95Ms: 5 });
        s.slo.latencyP95Ms = 10;
        s.slo.relaxedLatencyP95Ms = 10;
      });
    expect(feasibility(withDefaults(eco(0.93)), nodes(8))).to.equal(undefined);
    const below = feasibility(withDefaults(eco(0.85)), nodes(8))!;
    expect(below.message).to.match(/of every variant at or above slo\.qualityFloor \(full 20 ms\)/);
    expect(eligibleVariants(withDefaults(eco(0.85))).map((v) => v.name)).to.deep.equal(['full']);
  });

  it('a replica larger than the largest node, per resource (MIG profiles too); CPU variants need no node', () => {
    const big = spec((s) => (s.variants[1]!.gpusPerReplica = 16));
    const p = feasibility(withDefaults(big), nodes(8, 4))!;
    expect(p).to.include({ reason: 'NoNodeFitsReplica', until: 'cluster-change' });
    expect(p.message).to.equal(
      'variant small requests 16 nvidia.com/gpu per replica (spec.variants[1].gpusPerReplica), but the largest node (gpu-0) has 8 allocatable: no replica can be scheduled; lower gpusPerReplica or add a node with at least 16',
    );
    // Eight GPUs in total on two nodes are not one node of eight.
    expect(feasibility(withDefaults(spec((s) => (s.variants[0]!.gpusPerReplica = 8))), nodes(4, 4))!.reason).to.equal(
      'NoNodeFitsReplica',
    );
    const mig = spec((s) => {
      for (const v of s.variants) v.gpuResource = 'nvidia.com/mig-1g.10gb';
    });
    expect(feasibility(withDefaults(mig), nodes(8))!.message).to.match(
      /but no node of the 1 in the cluster offers nvidia\.com\/mig-1g\.10gb/,
    );
    const cpu = spec((s) => {
      for (const v of s.variants) v.gpusPerReplica = 0;
    });
    expect(feasibility(withDefaults(cpu), [])).to.equal(undefined);
    expect(largestNode([{ status: { allocatable: { 'nvidia.com/gpu': 'eight' } } }], 'nvidia.com/gpu').gpus).to.equal(
      0,
    );
  });

  it('render refuses children it cannot name (never a Deployment without its Service)', () => {
    const isvc = withDefaults(service('model.v2'));
    expect(() => render(isvc, 'full', 1)).to.throw(InfeasibleSpecError, /metadata\.name 'model\.v2'/);
  });
});

describe('Reconciler: a service it cannot run is Stalled, with words, and nothing is created', () => {
  async function terminal(p: Promise<unknown>): Promise<TerminalError> {
    try {
      await p;
    } catch (e) {
      expect(e).to.be.instanceOf(TerminalError);
      return e as TerminalError;
    }
    throw new Error('the pass did not end as a TerminalError');
  }

  function conditions(fc: FakeCluster) {
    return fc.isvcs.get(KEY)!.status!.conditions!;
  }

  it('gpusPerReplica above the largest node: Stalled NoNodeFitsReplica, Ready False, a Warning naming its GPUs; resumes when a node fits', async () => {
    const fc = new FakeCluster();
    fc.nodesGpus = 8;
    fc.add(spec((s) => (s.variants[0]!.gpusPerReplica = 12)));
    const r = fc.reconciler();
    const res = await r.reconcile(KEY);
    expect(res).to.deep.equal({ requeueAfterMs: STALL_RECHECK_MS });
    expect(fc.writes.map((w) => w.kind)).to.deep.equal(['status']);
    const c = conditions(fc);
    expect(c.find((x) => x.type === 'Stalled')).to.deep.include({
      status: 'True',
      reason: 'NoNodeFitsReplica',
      observedGeneration: 1,
    });
    expect(c.find((x) => x.type === 'Ready')).to.include({ status: 'False', reason: 'NoNodeFitsReplica' });
    expect(fc.isvcs.get(KEY)!.status!.observedGeneration).to.equal(1);
    expect(fc.events).to.have.length(1);
    expect(fc.events[0]!.reason).to.equal('NoNodeFitsReplica');
    expect(fc.events[0]!.note).to.match(
      /requests 12 nvidia\.com\/gpu per replica.*the largest node \(n0\) has 8 allocatable/,
    );
    // The recheck of an unchanged stall writes nothing and records no second Event.
    fc.now += STALL_RECHECK_MS;
    await r.reconcile(KEY);
    expect(fc.writes).to.have.length(1);
    expect(fc.events).to.have.length(1);
    // A node that fits joins: the next pass runs the service, and Stalled goes (abnormal-true: absent when False).
    fc.nodesGpus = 16;
    fc.now += STALL_RECHECK_MS;
    await r.reconcile(KEY);
    expect(fc.deployment(KEY)).to.not.equal(undefined);
    expect(fc.objects.has('Service/ns/svc')).to.equal(true);
    expect(conditions(fc).map((x) => x.type)).to.not.include('Stalled');
    expect(conditions(fc).find((x) => x.type === 'Ready')!.status).to.equal('True');
  });

  it('an unsupported model URI admitted before the rule: Stalled UnsupportedModelUri, a TerminalError, no child; an edit resumes it', async () => {
    const fc = new FakeCluster();
    fc.add(spec((s) => (s.variants[1]!.model.uri = 'ftp://reader:s3cret-pw@models.example/small.onnx')));
    const r = fc.reconciler();
    const e = await terminal(r.reconcile(KEY));
    // The URI may hold credentials: never echoed into status, Events or the error.
    expect(JSON.stringify([fc.isvcs.get(KEY)!.status, fc.events, e.message])).to.not.include('s3cret-pw');
    expect(e.message).to.match(
      /^ns\/svc: spec\.variants\[1\]\.model\.uri \(variant small\): unsupported model URI scheme ftp:\/\//,
    );
    expect([...fc.objects.keys()]).to.deep.equal([]);
    expect(conditions(fc).find((x) => x.type === 'Stalled')).to.include({
      status: 'True',
      reason: 'UnsupportedModelUri',
    });
    expect(fc.events.map((x) => x.reason)).to.deep.equal(['UnsupportedModelUri']);
    fc.edit(KEY, (s) => ((s as Spec).variants[1]!.model.uri = 'pvc://models/small.onnx'));
    await r.reconcile(KEY);
    const cm = fc.objects.get('ConfigMap/ns/svc-carbonscale') as { data: Record<string, string> };
    expect(JSON.parse(cm.data['server.json']!).pvcMountRoot).to.equal('/mnt/carbonscale/pvc');
    expect(conditions(fc).map((x) => x.type)).to.not.include('Stalled');
  });

  it('a name no Service can carry (an object from before the rule): Stalled InvalidName and no Deployment either', async () => {
    const fc = new FakeCluster();
    const long = `svc-${'x'.repeat(70)}`;
    fc.add(service(long));
    const r = fc.reconciler();
    await terminal(r.reconcile(`ns/${long}`));
    expect([...fc.objects.keys()]).to.deep.equal([]);
    const st = fc.isvcs.get(`ns/${long}`)!.status!;
    expect(st.conditions!.find((x) => x.type === 'Stalled')!.message).to.match(/has 74 characters; at most 63/);
  });

  it('an SLO no variant can meet: Stalled SLOUnattainable, not "max replicas reached"', async () => {
    const fc = new FakeCluster();
    fc.add(service('svc', { tier: 'premium', slo: { latencyP95Ms: 15 } }));
    const r = fc.reconciler();
    await terminal(r.reconcile(KEY));
    const c = conditions(fc);
    expect(c.find((x) => x.type === 'Ready')).to.include({ status: 'False', reason: 'SLOUnattainable' });
    expect(c.find((x) => x.type === 'Ready')!.message).to.match(/slo\.latencyP95Ms is 15 ms.*full 20 ms/);
    expect(fc.isvcs.get(KEY)!.status!.lastDecision).to.equal(undefined);
  });

  it('eco whose full variant is slower than the SLO but a smaller one is not: runs, SLOAtRisk says LatencyFloor in words', async () => {
    const fc = new FakeCluster();
    fc.add(
      spec((s) => {
        s.variants[0]!.latencyP95Ms = 40;
        s.variants[1]!.latencyP95Ms = 10;
        s.slo.latencyP95Ms = 30;
        s.slo.relaxedLatencyP95Ms = 30;
      }),
    );
    const r = fc.reconciler();
    await r.reconcile(KEY);
    const slo = conditions(fc).find((x) => x.type === 'SLOAtRisk')!;
    expect(slo).to.include({ status: 'True', reason: 'LatencyFloor' });
    expect(slo.message).to.equal(
      'variant full measures 40 ms p95 at low load, at or above slo.latencyP95Ms (30 ms): no number of replicas holds the SLO while it serves',
    );
  });

  it('a spec the policy refuses is Stalled InvalidSpec too (Ready False, one Warning), and stays quiet on repeats', async () => {
    const fc = new FakeCluster();
    fc.add(service('svc', { policy: { intervalSeconds: 300, minDwellSeconds: 0, fallbackVariant: 'tiny' } }));
    const r = fc.reconciler();
    await terminal(r.reconcile(KEY));
    await terminal(r.reconcile(KEY));
    const c = conditions(fc);
    expect(c.find((x) => x.type === 'Stalled')).to.include({ status: 'True', reason: 'InvalidSpec' });
    expect(c.find((x) => x.type === 'Ready')).to.include({ status: 'False', reason: 'InvalidSpec' });
    expect(fc.events.map((x) => x.reason)).to.deep.equal(['InvalidSpec']);
    expect(fc.writes.map((w) => w.kind)).to.deep.equal(['status']);
  });
});
