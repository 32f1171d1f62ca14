import { expect } from 'chai';
import { createNamespace, useControlPlane, waitFor } from '../support/cluster.ts';

describe('e2e: GPU capacity is real', () => {
  const cluster = useControlPlane({ full: true });

  it('9 one-GPU replicas on 2 nodes × 4 GPUs: 8 Running, the 9th Pending (Unschedulable)', async function () {
    this.timeout(120_000);
    const { cp, core, apps } = cluster();
    await cp.createGpuNodes([
      { name: 'gpu-a', gpus: 4 },
      { name: 'gpu-b', gpus: 4 },
    ]);
    const ns = await createNamespace(core, 'gpu');
    await waitFor('default ServiceAccount', () =>
      core.readNamespacedServiceAccount({ name: 'default', namespace: ns }),
    );
    const labels = { app: 'gpu-hog' };
    await apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: 'gpu-hog' },
        spec: {
          replicas: 9,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              containers: [
                {
                  name: 'main',
                  image: 'example.invalid/model:1',
                  resources: { requests: { 'nvidia.com/gpu': '1' }, limits: { 'nvidia.com/gpu': '1' } },
                },
              ],
            },
          },
        },
      },
    });
    const show = async () =>
      (await core.listNamespacedPod({ namespace: ns })).items.map((p) => ({
        name: p.metadata?.name,
        node: p.spec?.nodeName,
        phase: p.status?.phase,
        conditions: p.status?.conditions,
      }));
    const pods = await waitFor(
      '8 pods Running and 1 Pending',
      async () => {
        const items = (await core.listNamespacedPod({ namespace: ns })).items;
        const running = items.filter((p) => p.status?.phase === 'Running');
        const pending = items.filter((p) => p.status?.phase === 'Pending');
        const unsched = pending.filter((p) =>
          p.status?.conditions?.some(
            (c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable',
          ),
        );
        return items.length === 9 && running.length === 8 && unsched.length === 1 ? items : undefined;
      },
      { timeoutMs: 90_000, show },
    );
    const perNode = new Map<string, number>();
    for (const p of pods) if (p.spec?.nodeName) perNode.set(p.spec.nodeName, (perNode.get(p.spec.nodeName) ?? 0) + 1);
    expect(Object.fromEntries(perNode)).to.deep.equal({ 'gpu-a': 4, 'gpu-b': 4 });
    const ready = pods.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    expect(ready.length).to.equal(8);
  });
});
