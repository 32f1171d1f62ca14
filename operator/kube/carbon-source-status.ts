// The CarbonSource status (server-side apply of the status subresource): observedGeneration = the generation
// this status is about, and the Valid condition; written only when it changed.
import { Condition } from '../constants.ts';
import { API_VERSION } from '../api/types.ts';
import { objectPath, Resources, type KubeClient, type KubeObject } from './kube-client.ts';

export interface SourceCondition {
  ok: boolean;
  reason: string;
  message: string;
}

interface StoredCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export async function applyCarbonSourceStatus(
  client: KubeClient,
  obj: KubeObject,
  c: SourceCondition,
  nowIso: string,
): Promise<boolean> {
  const st = (obj.status ?? {}) as { observedGeneration?: number; conditions?: StoredCondition[] };
  const prev = st.conditions?.find((x) => x.type === Condition.Valid);
  const status = c.ok ? 'True' : 'False';
  const generation = obj.metadata?.generation;
  if (
    prev &&
    prev.status === status &&
    prev.reason === c.reason &&
    prev.message === c.message &&
    st.observedGeneration === generation
  )
    return false;
  await client.applyStatus(objectPath(Resources.carbonSource, obj.metadata!.name!), {
    apiVersion: API_VERSION,
    kind: 'CarbonSource',
    metadata: { name: obj.metadata!.name },
    status: {
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
      conditions: [
        {
          type: Condition.Valid,
          status,
          reason: c.reason,
          message: c.message,
          lastTransitionTime:
            prev && prev.status === status && prev.lastTransitionTime ? prev.lastTransitionTime : nowIso,
          ...(generation !== undefined ? { observedGeneration: generation } : {}),
        },
      ],
    },
  });
  return true;
}
