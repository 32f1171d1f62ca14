// The reconciler's writes (reconciler/ports.ts WritePort) through the one door: server-side apply of the owned
// children and of the status subresource, with the field manager; a 409 becomes the reconciler's ConflictError
// (retry the pass shortly), anything else propagates (retried with backoff by the work queue).
import type { InferenceService, InferenceServiceStatus } from '../api/types.ts';
import { ConflictError, type ChildKind, type WritePort } from '../reconciler/ports.ts';
import { KubeApiError, objectPath, Resources, type KubeClient, type ResourceDescriptor } from './kube-client.ts';

const RESOURCE: Record<ChildKind, ResourceDescriptor> = {
  Deployment: Resources.deployment,
  Service: Resources.service,
  ConfigMap: Resources.configMap,
};

async function conflictsAsRetry<T>(what: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof KubeApiError && e.status === 409) throw new ConflictError(`${what}: ${e.message}`);
    throw e;
  }
}

export function childWriter(client: KubeClient): WritePort {
  return {
    async applyChild(kind, body) {
      const meta = body.metadata as { name: string; namespace: string };
      const path = objectPath(RESOURCE[kind], meta.name, meta.namespace);
      await conflictsAsRetry(`${kind} ${meta.namespace}/${meta.name}`, () => client.apply(path, body));
    },
    async applyStatus(isvc: InferenceService, status: InferenceServiceStatus) {
      const { name, namespace } = isvc.metadata;
      await conflictsAsRetry(`status of ${namespace}/${name}`, () =>
        client.applyStatus(objectPath(Resources.inferenceService, name, namespace), {
          apiVersion: isvc.apiVersion,
          kind: isvc.kind,
          metadata: { name, namespace },
          status,
        }),
      );
    },
  };
}
