// pvc:// model URIs: render mounts each claim the variants name read-only where the model server looks for it
// (model-server/model-uri.ts), once per claim, and tells the server the mount root; without pvc:// nothing changes.
import { expect } from 'chai';
import { withDefaults } from '../../../operator/api/defaults.ts';
import type { InferenceService } from '../../../operator/api/types.ts';
import { render } from '../../../operator/reconciler/render.ts';
import { DEFAULT_PVC_MOUNT_ROOT, pvcPath } from '../../../model-server/model-uri.ts';
import { service } from './fake-cluster.ts';

type Pod = {
  containers: Array<{ volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean }> }>;
  volumes: Array<{ name: string; persistentVolumeClaim?: { claimName: string; readOnly: boolean } }>;
};

function pod(r: ReturnType<typeof render>): Pod {
  return (r.deployment as { spec: { template: { spec: Pod } } }).spec.template.spec;
}

describe('render: pvc:// model URIs', () => {
  it('mounts each named claim once, read-only, where the server resolves pvc://<claim>/<path>', () => {
    const o = service('svc');
    const s = o.spec as InferenceService['spec'];
    s.variants[0]!.model.uri = 'pvc://models/v1/full.onnx';
    s.variants[1]!.model.uri = 'pvc://models/v1/small.onnx';
    s.variants.push({
      ...s.variants[1]!,
      name: 'tiny',
      quality: 0.91,
      model: { uri: 'pvc://tiny.v2/m.onnx' },
    });
    const r = render(withDefaults(o), 'full', 2);
    const p = pod(r);
    expect(p.volumes.filter((v) => v.persistentVolumeClaim)).to.deep.equal([
      { name: 'model-pvc-0', persistentVolumeClaim: { claimName: 'models', readOnly: true } },
      { name: 'model-pvc-1', persistentVolumeClaim: { claimName: 'tiny.v2', readOnly: true } },
    ]);
    const mounts = p.containers[0]!.volumeMounts.filter((m) => m.name.startsWith('model-pvc-'));
    expect(mounts).to.deep.equal([
      { name: 'model-pvc-0', mountPath: `${DEFAULT_PVC_MOUNT_ROOT}/models`, readOnly: true },
      { name: 'model-pvc-1', mountPath: `${DEFAULT_PVC_MOUNT_ROOT}/tiny.v2`, readOnly: true },
    ]);
    const server = JSON.parse((r.configMap as { data: Record<string, string> }).data['server.json']!);
    expect(server.pvcMountRoot).to.equal(DEFAULT_PVC_MOUNT_ROOT);
    // The path the server will open lies under the mount render made for that claim.
    expect(pvcPath('pvc://tiny.v2/m.onnx', server.pvcMountRoot)).to.equal(`${mounts[1]!.mountPath}/m.onnx`);
  });

  it('leaves the pod and the server config as they were without pvc:// URIs', () => {
    const r = render(withDefaults(service('svc')), 'full', 2);
    expect(pod(r).volumes.map((v) => v.name)).to.deep.equal(['carbonscale-config', 'model-cache']);
    const server = JSON.parse((r.configMap as { data: Record<string, string> }).data['server.json']!);
    expect(server).to.not.have.property('pvcMountRoot');
  });
});
