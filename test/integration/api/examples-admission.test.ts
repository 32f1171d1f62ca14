// Every manifest at the top of examples/ (what users copy first) at a real kube-apiserver with the CRDs: each
// document is accepted (schema, defaults and CEL rules), and each InferenceService's children, rendered by the
// operator for its full variant, pass the apiserver's own validation (server-side dry run) — so a custom runtime's
// pod template (examples/llm-vllm.yaml: vLLM) is one Kubernetes would run. A new example is covered by being there.
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { loadAll } from 'js-yaml';
import { withDefaults } from '../../../operator/api/defaults.ts';
import type { RawInferenceService } from '../../../operator/api/types.ts';
import { render } from '../../../operator/reconciler/render.ts';
import { createNamespace, useControlPlane } from '../../support/cluster.ts';
import { applyObj, getIsvc, setupCrds } from '../../support/operator-fixtures.ts';
import { ROOT } from '../../unit/cli/run-cli.ts';

type Doc = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } } & Record<
  string,
  unknown
>;

const DIR = join(ROOT, 'examples');
const FILES = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));

describe('examples/*.yaml at a real apiserver', function () {
  this.timeout(120_000);
  const cluster = useControlPlane();
  before(async () => setupCrds(cluster().kc));

  it('finds the examples, the vLLM one among them', () =>
    expect(FILES).to.include.members(['eco.yaml', 'llm-vllm.yaml']));

  for (const file of FILES)
    it(`${file}: accepted, and its services' rendered children pass server-side validation`, async () => {
      const { kc, core } = cluster();
      const ns = await createNamespace(core, 'examples');
      const docs = loadAll(readFileSync(join(DIR, file), 'utf8')).filter(Boolean) as Doc[];
      expect(docs.length, file).to.be.above(0);
      const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
      for (const d of docs) {
        const body = d.kind === 'InferenceService' ? { ...d, metadata: { ...d.metadata, namespace: ns } } : d;
        await applyObj(kc, body);
        if (d.kind !== 'InferenceService') continue;
        const isvc = withDefaults((await getIsvc(kc, ns, d.metadata.name)) as unknown as RawInferenceService);
        const children = render(isvc, isvc.spec.variants[0]!.name, 1);
        for (const child of Object.values(children).filter(Boolean) as k8s.KubernetesObject[])
          await objects.create(child, undefined, 'All');
      }
    });

  it('llm-vllm.yaml: the vllm container gets the variant and its model, the GPU, and the port the Service targets', async () => {
    const { kc, core } = cluster();
    const ns = await createNamespace(core, 'vllm');
    const [doc] = loadAll(readFileSync(join(DIR, 'llm-vllm.yaml'), 'utf8')) as Doc[];
    await applyObj(kc, { ...doc!, metadata: { ...doc!.metadata, namespace: ns } });
    const isvc = withDefaults((await getIsvc(kc, ns, 'vicuna-eco')) as unknown as RawInferenceService);
    expect(isvc.spec.variants.map((v) => v.name)).to.deep.equal(['vicuna-13b', 'vicuna-7b']);
    const { deployment, service } = render(isvc, 'vicuna-7b', 3) as unknown as {
      deployment: { spec: { template: { spec: { containers: Array<Record<string, any>> } } } }; // eslint-disable-line @typescript-eslint/no-explicit-any
      service: { spec: { ports: Array<{ targetPort: string }> } };
    };
    const c = deployment.spec.template.spec.containers.find((x) => x.name === 'vllm')!;
    const env = Object.fromEntries((c.env as Array<{ name: string; value: string }>).map((e) => [e.name, e.value]));
    expect(env).to.include({ CARBONSCALE_VARIANT: 'vicuna-7b', CARBONSCALE_VARIANT_URI: 'lmsys/vicuna-7b-v1.5' });
    expect(c.args).to.include('--model=$(CARBONSCALE_VARIANT_URI)');
    expect(c.resources.limits['nvidia.com/gpu']).to.equal('1');
    const target = service.spec.ports[0]!.targetPort;
    expect((c.ports as Array<{ name: string }>).map((p) => p.name)).to.include(target);
  });
});
