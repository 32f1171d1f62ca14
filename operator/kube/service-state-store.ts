// Where each InferenceService's engine books persist (docs/adr/0006-controller-state-in-configmaps.md): a
// ConfigMap `<name>-carbonscale-state` beside the service, owned by it (garbage-collected with it), labelled like
// the other children so the label-selected ConfigMap cache holds it — every replica reads it from its cache, a
// standby that takes over has it without a request. Written by server-side apply, only when a restart could not
// reconstruct the books (reconciler/service-state.ts mustSave), so a quiet service writes nothing.
import type { InferenceService } from '../api/types.ts';
import { Component, Label, OPERATOR_NAME } from '../constants.ts';
import type { StatePort } from '../reconciler/ports.ts';
import { ownerReference } from '../reconciler/render.ts';
import { decodeState, encodeState } from '../reconciler/service-state.ts';
import { objectPath, Resources, type KubeClient, type KubeObject } from './kube-client.ts';

export const STATE_COMPONENT = Component.engineState;
export const STATE_KEY = 'state.json';

export function stateConfigMapName(serviceName: string): string {
  return `${serviceName}-carbonscale-state`;
}

export function serviceStateStore(
  client: KubeClient,
  configMap: (namespace: string, name: string) => KubeObject | undefined,
): StatePort {
  return {
    load(namespace, name) {
      const cm = configMap(namespace, stateConfigMapName(name));
      const text = (cm?.data as Record<string, string> | undefined)?.[STATE_KEY];
      if (text === undefined) return {};
      const r = decodeState(text);
      return r.error ? { error: `ConfigMap ${namespace}/${stateConfigMapName(name)}: ${r.error}` } : r;
    },
    async save(isvc: InferenceService, state, savedAtMs) {
      const { name, namespace } = isvc.metadata;
      const cmName = stateConfigMapName(name);
      await client.apply(objectPath(Resources.configMap, cmName, namespace), {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name: cmName,
          namespace,
          labels: {
            [Label.managedBy]: OPERATOR_NAME,
            [Label.component]: STATE_COMPONENT,
            [Label.service]: name,
          },
          ownerReferences: [ownerReference(isvc)],
        },
        data: { [STATE_KEY]: encodeState(state, savedAtMs) },
      });
    },
  };
}
