// The watch caches' transforms (operator/wiring/cache-transforms.ts) keep what every reader of a pod or node uses:
// each reader gives the same answer on the projected objects as on the whole ones (GPU headroom, a service's pods
// view, the pod log, the scrape address), and the projection is much smaller than a real pod.
import { expect } from 'chai';
import { describe, it } from 'mocha';
import type { KubeObject } from '../../../operator/kube/kube-client.ts';
import { freeGpus, podsView } from '../../../operator/reconciler/gpu-headroom.ts';
import { emptyPodLog, notePods } from '../../../operator/reconciler/pod-log.ts';
import { podIpAddress } from '../../../operator/wiring/demand-port.ts';
import { nodeProjection, podProjection, withoutLastApplied } from '../../../operator/wiring/cache-transforms.ts';

const GPU = 'nvidia.com/gpu';

function pod(
  i: number,
  o: { node?: string; phase?: string; ready?: boolean; unschedulable?: boolean; deleting?: boolean },
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `svc-abc-${i}`,
      namespace: 'ns',
      uid: `uid-${i}`,
      resourceVersion: String(100 + i),
      labels: { 'carbonscale.dev/service': 'svc', 'pod-template-hash': 'abc' },
      annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-01-01T00:00:00Z' },
      creationTimestamp: '2026-12-01T10:00:00Z',
      ...(o.deleting ? { deletionTimestamp: '2026-12-01T10:30:00Z' } : {}),
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'svc-abc', uid: 'rs', controller: true }],
      managedFields: [{ manager: 'kube-controller-manager', operation: 'Update', fieldsV1: { 'f:spec': {} } }],
    },
    spec: {
      ...(o.node ? { nodeName: o.node } : {}),
      volumes: Array.from({ length: 5 }, (_, v) => ({ name: `v${v}`, configMap: { name: `cm-${v}` } })),
      containers: [
        {
          name: 'server',
          image: 'ghcr.io/example/server:1.0',
          env: Array.from({ length: 30 }, (_, e) => ({ name: `ENV_${e}`, value: 'x'.repeat(40) })),
          resources: { requests: { [GPU]: '2', cpu: '1' }, limits: { [GPU]: '2' } },
          readinessProbe: { httpGet: { path: '/v2/health/ready', port: 8080 }, periodSeconds: 5 },
          volumeMounts: [{ name: 'v0', mountPath: '/models' }],
        },
        { name: 'sidecar', image: 'busybox', resources: { requests: { cpu: '100m' } } },
      ],
    },
    status: {
      phase: o.phase ?? 'Running',
      podIP: `10.0.0.${i}`,
      conditions: [
        {
          type: 'PodScheduled',
          status: o.unschedulable ? 'False' : 'True',
          ...(o.unschedulable ? { reason: 'Unschedulable' } : {}),
          lastTransitionTime: '2026-12-01T10:00:01Z',
        },
        { type: 'Ready', status: o.ready === false ? 'False' : 'True', lastTransitionTime: '2026-12-01T10:01:00Z' },
      ],
      containerStatuses: [{ name: 'server', ready: true, restartCount: 0, image: 'x', imageID: 'y'.repeat(80) }],
    },
  } as unknown as KubeObject;
}

const pods = (): KubeObject[] => [
  pod(1, { node: 'n1' }),
  pod(2, { node: 'n1', ready: false }),
  pod(3, { node: 'n2', phase: 'Succeeded' }),
  pod(4, { unschedulable: true, phase: 'Pending' }),
  pod(5, { node: 'n2', deleting: true }),
];
const nodes = (): KubeObject[] =>
  ['n1', 'n2'].map(
    (name) =>
      ({
        metadata: { name, labels: { gpu: 'yes' } },
        spec: {},
        status: {
          allocatable: { [GPU]: '8' },
          images: Array.from({ length: 40 }, (_, i) => ({
            names: [`img-${i}@sha256:${'a'.repeat(64)}`],
            sizeBytes: 1e9,
          })),
        },
      }) as unknown as KubeObject,
  );

describe('watch cache transforms', () => {
  it('every pod reader answers the same on projected pods as on whole ones', () => {
    const whole = pods();
    const projected = pods().map(podProjection);
    expect(freeGpus(nodes().map(nodeProjection) as never[], projected as never[], GPU)).to.equal(
      freeGpus(nodes() as never[], whole as never[], GPU),
    );
    expect(podsView(projected as never[], GPU)).to.deep.equal(podsView(whole as never[], GPU));
    expect(projected.map(podIpAddress)).to.deep.equal(whole.map(podIpAddress));
    const a = emptyPodLog();
    const b = emptyPodLog();
    const now = Date.parse('2026-12-01T11:00:00Z');
    notePods(a, whole, now, (w) => w, now);
    notePods(b, projected, now, (w) => w, now);
    expect([...b.pods]).to.deep.equal([...a.pods]);
    expect(a.pods.size).to.be.greaterThan(0);
  });

  it('a projected pod is a fraction of the whole', () => {
    const whole = JSON.stringify(pod(1, { node: 'n1' }));
    const projected = JSON.stringify(podProjection(pod(1, { node: 'n1' })));
    expect(projected.length).to.be.below(whole.length / 3);
    expect(projected).to.not.include('ENV_');
  });

  it('nodes lose their image list and keep allocatable; last-applied annotations go, others stay', () => {
    const n = nodeProjection(nodes()[0]!) as unknown as { status: Record<string, unknown> };
    expect(n.status).to.deep.equal({ allocatable: { [GPU]: '8' } });
    const o = withoutLastApplied({
      metadata: { name: 'x', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', keep: 'me' } },
    } as unknown as KubeObject);
    expect(o.metadata?.annotations).to.deep.equal({ keep: 'me' });
  });
});
