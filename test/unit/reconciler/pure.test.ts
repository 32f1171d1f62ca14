import { expect } from 'chai';
import { isSubset } from '../../../operator/reconciler/subset.ts';
import { freeGpus } from '../../../operator/reconciler/gpu-headroom.ts';
import { statusEquivalent } from '../../../operator/reconciler/status.ts';
import { readyState } from '../../../operator/reconciler/ready.ts';
import { baselineReplicas } from '../../../operator/audit/rows-from-pass.ts';
import { render } from '../../../operator/reconciler/render.ts';
import { withDefaults } from '../../../operator/api/defaults.ts';
import type { RawInferenceService } from '../../../operator/api/types.ts';
import { isvc } from '../../support/operator-fixtures.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */

const svc = (over: Record<string, unknown> = {}) => {
  const o = isvc('s', 'ns', over) as unknown as RawInferenceService;
  o.metadata.uid = 'u-1';
  return withDefaults(o);
};

describe('reconciler pure parts', () => {
  it('render: the project runtime keeps the variant out of the pod template (switch in place)', () => {
    const a = render(svc(), 'full', 2);
    const b = render(svc(), 'small', 2);
    expect(a.deployment.spec).to.deep.equal(b.deployment.spec);
    expect(a.configMap!.data).to.have.property('active-variant', 'full');
    expect(b.configMap!.data).to.have.property('active-variant', 'small');
    const c = (a.deployment.spec as any).template.spec.containers[0];
    expect(c.securityContext).to.deep.include({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
    expect((a.deployment.metadata as any).ownerReferences[0]).to.include({ uid: 'u-1', controller: true });
  });

  it('render: a custom runtime gets the variant and its URI in the named env var, so a swap rolls', () => {
    const rt = {
      type: 'custom',
      variantEnv: 'V',
      podTemplate: { spec: { containers: [{ name: 'x', image: 'i', env: [{ name: 'V', value: 'stale' }] }] } },
    };
    const d = render(svc({ runtime: rt }), 'small', 3).deployment as any;
    const env = d.spec.template.spec.containers[0].env;
    expect(env).to.deep.equal([
      { name: 'V', value: 'small' },
      { name: 'V_URI', value: 'file:///models/small.onnx' },
    ]);
    expect(d.spec.template.spec.containers[0].resources.limits['nvidia.com/gpu']).to.equal('1');
    expect(d.spec.strategy.rollingUpdate.maxUnavailable).to.equal(0);
  });

  it('isSubset: equal when every desired field is live, whatever the server added; unequal on any edit', () => {
    const want = { spec: { replicas: 2, template: { spec: { containers: [{ name: 'a', image: 'x' }] } } } };
    const live = {
      spec: {
        replicas: 2,
        revisionHistoryLimit: 10,
        template: { spec: { containers: [{ name: 'a', image: 'x', imagePullPolicy: 'IfNotPresent' }] } },
      },
    };
    expect(isSubset(want, live)).to.equal(true);
    expect(isSubset(want, { ...live, spec: { ...live.spec, replicas: 3 } })).to.equal(false);
    expect(
      isSubset(want, { spec: { replicas: 2, template: { spec: { containers: [{ name: 'a', image: 'y' }] } } } }),
    ).to.equal(false);
    expect(isSubset({ a: [1, 2] }, { a: [1, 2, 3] })).to.equal(false);
  });

  it('freeGpus: allocatable on schedulable nodes minus what bound, live pods request', () => {
    const nodes = [
      { metadata: { name: 'a' }, status: { allocatable: { 'nvidia.com/gpu': '4' } } },
      { metadata: { name: 'b' }, status: { allocatable: { 'nvidia.com/gpu': '4' } } },
      { metadata: { name: 'c' }, spec: { unschedulable: true }, status: { allocatable: { 'nvidia.com/gpu': '8' } } },
    ];
    const pod = (node: string | undefined, n: number, phase = 'Running') => ({
      spec: {
        ...(node ? { nodeName: node } : {}),
        containers: [{ resources: { requests: { 'nvidia.com/gpu': String(n) } } }],
      },
      status: { phase },
    });
    expect(
      freeGpus(nodes, [pod('a', 2), pod('b', 1), pod(undefined, 4), pod('a', 2, 'Succeeded')], 'nvidia.com/gpu'),
    ).to.equal(5);
    expect(freeGpus(nodes, [pod('a', 9)], 'nvidia.com/gpu')).to.equal(0);
  });

  it('Ready: the first rule that holds decides (observe, paused, pending pods, rolling out, else serving)', () => {
    const f = {
      mode: 'active' as const,
      paused: false,
      pendingPods: 0,
      gpuResource: 'nvidia.com/gpu',
      rolling: false,
      variant: 'full',
      replicas: 2,
    };
    expect(readyState(f)).to.deep.equal({ ok: true, reason: 'RolloutComplete', message: 'serving full × 2' });
    expect(readyState({ ...f, rolling: true }).reason).to.equal('RollingOut');
    expect(readyState({ ...f, rolling: true, pendingPods: 2 })).to.include({ ok: false, reason: 'PodsPending' });
    expect(readyState({ ...f, pendingPods: 2, paused: true }).reason).to.equal('Paused');
    expect(readyState({ ...f, paused: true, mode: 'observe' }).reason).to.equal('ObserveMode');
  });

  it('statusEquivalent ignores moving timestamps and rate noise but not a changed decision', () => {
    const base = {
      lastDecision: { time: 'a', variant: 'full', replicas: 2, reason: 'r', applied: true },
      demand: { requestsPerSecond: 1, source: 's', sampledAt: 'x' },
    };
    expect(statusEquivalent(base, { ...base, demand: { ...base.demand, sampledAt: 'y' } })).to.equal(true);
    expect(statusEquivalent(base, { ...base, lastDecision: { ...base.lastDecision, replicas: 3 } })).to.equal(false);
    expect(statusEquivalent(base, { ...base, demand: { ...base.demand, requestsPerSecond: 1.0001 } })).to.equal(true);
    expect(statusEquivalent(base, { ...base, demand: { ...base.demand, requestsPerSecond: 1.1 } })).to.equal(false);
    expect(statusEquivalent(undefined, base)).to.equal(false);
  });
});

describe('demand-only baseline', () => {
  it('sizes the full variant for demand within the SLO, clamped to spec.replicas', () => {
    const s = svc(); // full: 100 req/s per replica at 20 ms p95, SLO 100 ms, replicas 1..8
    const a = baselineReplicas(s, 150);
    expect(a).to.be.within(2, 4);
    expect(baselineReplicas(s, 300)).to.be.greaterThan(a);
    expect(baselineReplicas(s, 0)).to.equal(1);
    expect(baselineReplicas(s, 1e6)).to.equal(8);
  });
});
