// Installs carbonscale's CRDs by server-side apply and waits until the apiserver serves them (Established).
import { load } from 'js-yaml';
import { renderCrds } from '../api/crds.ts';
import type { Clock } from './clock.ts';
import { sleep, wallClock } from './clock.ts';
import { objectPath, type KubeClient, type KubeObject, type ResourceDescriptor } from './kube-client.ts';

const CRD: ResourceDescriptor = {
  group: 'apiextensions.k8s.io',
  version: 'v1',
  plural: 'customresourcedefinitions',
  kind: 'CustomResourceDefinition',
  namespaced: false,
};

export async function installCrds(
  client: KubeClient,
  o: { timeoutMs?: number; clock?: Clock } = {},
): Promise<string[]> {
  const clock = o.clock ?? wallClock;
  const names: string[] = [];
  const served: { path: string; plural: string }[] = [];
  for (const text of Object.values(renderCrds())) {
    const crd = load(text) as KubeObject & {
      spec: { group: string; names: { plural: string }; versions: { name: string; served: boolean }[] };
    };
    await client.apply(objectPath(CRD, crd.metadata!.name!), crd);
    names.push(crd.metadata!.name!);
    for (const v of crd.spec.versions.filter((x) => x.served))
      served.push({ path: `/apis/${crd.spec.group}/${v.name}`, plural: crd.spec.names.plural });
  }
  const deadline = clock.now() + (o.timeoutMs ?? 30_000);
  for (const name of names) {
    for (;;) {
      const got = await client.get<{ status?: { conditions?: Array<{ type: string; status: string }> } }>(
        objectPath(CRD, name),
      );
      if (got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (clock.now() > deadline) throw new Error(`CRD ${name} not Established within ${o.timeoutMs ?? 30_000} ms`);
      await sleep(clock, 100);
    }
  }
  // Established comes before discovery lists the resource (discovery is updated asynchronously), and clients map
  // kinds through discovery (rest-mapper.ts): wait until each served group/version lists the CRD's plural.
  for (const { path, plural } of served) {
    for (;;) {
      const list = await client.get<{ resources?: { name: string }[] }>(path).catch(() => ({ resources: [] }));
      if (list.resources?.some((r) => r.name === plural)) break;
      if (clock.now() > deadline) throw new Error(`${path} does not list ${plural} within ${o.timeoutMs ?? 30_000} ms`);
      await sleep(clock, 100);
    }
  }
  return names;
}
