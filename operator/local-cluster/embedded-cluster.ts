// The embedded default's cluster: a local control plane (etcd, kube-apiserver, controller-manager, scheduler,
// kwok) with fake GPU nodes, carbonscale's CRDs and the example objects of examples/embedded/. A clean module:
// start it, get the handles (kubeconfig, the control plane, what was applied), stop it. The operator runs against
// it like against any cluster; the demo's live view and local model servers build on these handles.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { KubeConfig } from '../kube/kube-config.ts';
import { applyManifestFile, type AppliedObject } from '../kube/apply-manifests.ts';
import { installCrds } from '../kube/install-crds.ts';
import { KubeClient } from '../kube/kube-client.ts';
import { LocalControlPlane, type GpuNodeSpec } from './control-plane.ts';

const ROOT = resolve(import.meta.dirname, '../..');
export const EMBEDDED_EXAMPLES = join(ROOT, 'examples', 'embedded');
export const EMBEDDED_NODES: GpuNodeSpec[] = [0, 1, 2].map((i) => ({
  name: `gpu-node-${i}`,
  gpus: 8,
  gpuProduct: 'NVIDIA-A100-SXM4-80GB',
}));

export interface EmbeddedCluster {
  controlPlane: LocalControlPlane;
  kubeconfig: KubeConfig;
  kubeconfigPath: string;
  nodes: GpuNodeSpec[];
  applied: AppliedObject[];
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  log?: (msg: string) => void;
  nodes?: GpuNodeSpec[];
  /** Manifest files applied in order (default: the CarbonSource, then the services, of examples/embedded/). */
  manifests?: string[];
}

export async function startEmbeddedCluster(o: EmbeddedOptions = {}): Promise<EmbeddedCluster> {
  const cp = await new LocalControlPlane({ full: true, ...(o.log ? { log: o.log } : {}) }).start();
  try {
    const nodes = o.nodes ?? EMBEDDED_NODES;
    await cp.createGpuNodes(nodes);
    const kc = cp.adminConfig();
    const client = new KubeClient(kc);
    await installCrds(client);
    const files = o.manifests ?? ['carbon-source.yaml', 'services.yaml'].map((f) => join(EMBEDDED_EXAMPLES, f));
    const applied: AppliedObject[] = [];
    for (const f of files.filter((x) => existsSync(x)))
      applied.push(
        ...(await applyManifestFile(client, f, { namespace: 'default', fieldManager: 'carbonscale-embedded' })),
      );
    client.close();
    return {
      controlPlane: cp,
      kubeconfig: kc,
      kubeconfigPath: cp.kubeconfigPath,
      nodes,
      applied,
      stop: () => cp.stop(),
    };
  } catch (e) {
    await cp.stop();
    throw e;
  }
}
