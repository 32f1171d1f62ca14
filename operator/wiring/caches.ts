// The watch caches every replica keeps (a standby too, so a takeover starts warm), each label-selected where the
// objects are carbonscale's own. A quiet reconcile pass reads only these: no request reaches the apiserver.
import { Label, OPERATOR_NAME } from '../constants.ts';
import { Resources, type KubeClient, type KubeObject } from '../kube/kube-client.ts';
import { Reflector } from '../kube/reflector.ts';
import type { Change } from '../kube/store.ts';
import type { CachePort } from '../reconciler/ports.ts';
import type { RawInferenceService } from '../api/types.ts';
import { nodeProjection, podProjection, withoutLastApplied } from './cache-transforms.ts';

export interface Caches {
  isvcs: Reflector<KubeObject>;
  deployments: Reflector<KubeObject>;
  configMaps: Reflector<KubeObject>;
  services: Reflector<KubeObject>;
  pods: Reflector<KubeObject>;
  nodes: Reflector<KubeObject>;
  carbonSources: Reflector<KubeObject>;
  all: Reflector<KubeObject>[];
}

type Log = (level: 'info' | 'warn', msg: string, meta?: Record<string, unknown>) => void;

export function makeCaches(client: KubeClient, log: Log): Caches {
  const ours = `${Label.managedBy}=${OPERATOR_NAME}`;
  // Watch timing and the activity stamp /healthz reads are network timing: the wall clock, even on a replay.
  const o = { log };
  const c = {
    isvcs: new Reflector<KubeObject>(client, Resources.inferenceService, { ...o, transform: withoutLastApplied }),
    deployments: new Reflector<KubeObject>(client, Resources.deployment, { ...o, labelSelector: ours }),
    configMaps: new Reflector<KubeObject>(client, Resources.configMap, { ...o, labelSelector: ours }),
    services: new Reflector<KubeObject>(client, Resources.service, { ...o, labelSelector: ours }),
    // Every pod and node of the cluster (GPU headroom counts other workloads' pods too): projected, see
    // cache-transforms.ts.
    pods: new Reflector<KubeObject>(client, Resources.pod, { ...o, transform: podProjection }),
    nodes: new Reflector<KubeObject>(client, Resources.node, { ...o, transform: nodeProjection }),
    carbonSources: new Reflector<KubeObject>(client, Resources.carbonSource, { ...o, transform: withoutLastApplied }),
  };
  return { ...c, all: Object.values(c) };
}

/** Pods by the service label, kept up to date from the pod cache's changes (no scan per pass). */
function podIndex(pods: Reflector<KubeObject>): (ns: string, name: string) => KubeObject[] {
  const byService = new Map<string, Set<string>>();
  const svcKey = (p: KubeObject) => {
    const s = p.metadata?.labels?.[Label.service];
    return s ? `${p.metadata?.namespace}/${s}` : undefined;
  };
  pods.subscribe((c: Change<KubeObject>) => {
    const before = c.old ? svcKey(c.old) : undefined;
    const after = c.type === 'upsert' ? svcKey(c.object) : undefined;
    if (before && before !== after) byService.get(before)?.delete(c.key);
    if (after) (byService.get(after) ?? byService.set(after, new Set()).get(after)!).add(c.key);
  });
  return (ns, name) =>
    [...(byService.get(`${ns}/${name}`) ?? [])].map((k) => pods.get(k)).filter((p): p is KubeObject => !!p);
}

export function cachePort(c: Caches): CachePort {
  const podsOf = podIndex(c.pods);
  return {
    inferenceService: (key) => c.isvcs.get(key) as unknown as RawInferenceService | undefined,
    inferenceServices: () => c.isvcs.list() as unknown as RawInferenceService[],
    deployment: (key) => c.deployments.get(key),
    configMap: (ns, name) => c.configMaps.get(`${ns}/${name}`),
    service: (key) => c.services.get(key),
    podsOf,
    allPods: () => c.pods.list(),
    nodes: () => c.nodes.list(),
  };
}
