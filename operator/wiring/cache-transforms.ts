// What the watch caches keep of each object (controller-runtime's cache transforms): the operator holds every pod
// and node of the cluster, and every InferenceService, in memory for as long as it runs, so each cache keeps only
// what a reader of it uses. Pods are projected to an allow-list of fields (a real pod's env, volumes, probes and
// container statuses are most of it); nodes lose their image list (often tens of KB each); objects users apply
// with kubectl lose the last-applied-configuration annotation, a second copy of the whole object. Children the
// operator renders keep everything: apply.ts compares the rendered body with the cached one (isSubset).
import type { KubeObject } from '../kube/kube-client.ts';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Drops the kubectl last-applied annotation (never read by the operator). */
export function withoutLastApplied<T extends KubeObject>(o: T): T {
  const a = o.metadata?.annotations as Record<string, string> | undefined;
  if (a && LAST_APPLIED in a) delete a[LAST_APPLIED];
  return o;
}

const pick = (o: Any | undefined, keys: readonly string[]): Any | undefined => {
  if (!o) return undefined;
  const out: Any = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
};

/**
 * A pod as the operator reads it: identity and labels (the service index, the pod log), creation and deletion
 * times (pod-log.ts), the node and each container's resource requests (gpu-headroom.ts), the phase and conditions
 * (readiness, Unschedulable), and the pod IP (the scrape demand source). Everything else is dropped.
 */
export function podProjection(p: KubeObject): KubeObject {
  const pod = p as Any;
  const containers = (pod.spec?.containers as Any[] | undefined)?.map((c) => ({
    name: c.name,
    ...(c.resources ? { resources: pick(c.resources, ['requests', 'limits']) } : {}),
  }));
  return {
    apiVersion: pod.apiVersion,
    kind: pod.kind,
    metadata: pick(pod.metadata, [
      'name',
      'namespace',
      'uid',
      'resourceVersion',
      'labels',
      'ownerReferences',
      'creationTimestamp',
      'deletionTimestamp',
    ]),
    spec: { ...pick(pod.spec, ['nodeName']), ...(containers ? { containers } : {}) },
    status: pick(pod.status, ['phase', 'conditions', 'podIP']) ?? {},
  } as KubeObject;
}

/** A node without its image list (status.images: every image it has pulled, with sizes); the rest is kept. */
export function nodeProjection(n: KubeObject): KubeObject {
  const st = (n as Any).status as Any | undefined;
  if (st?.images !== undefined) delete st.images;
  return withoutLastApplied(n);
}
