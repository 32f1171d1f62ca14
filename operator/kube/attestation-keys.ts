// The attestor's Kubernetes I/O: the signing key from the Secret the chart's attestation.keySecret names (a GET
// by name: RBAC grants `get` on that Secret only, never list or watch), and the public keyring published in a
// ConfigMap by server-side apply (merged with what is published already, so a key another replica or an earlier
// audit directory used keeps verifying). Key material is never logged; errors name the Secret and the key only.
import { Component, Label, OPERATOR_NAME } from '../constants.ts';
import {
  mergeKeyrings,
  parseKeyring,
  publicKeyConfigMapData,
  signingKeyFromSecret,
  type Keyring,
  type SigningKey,
} from '../attestation/keys.ts';
import { KubeApiError, objectPath, Resources, type KubeClient } from './kube-client.ts';

export async function readSigningKey(
  client: KubeClient,
  namespace: string,
  name: string,
  field: string,
): Promise<SigningKey> {
  let secret: { data?: Record<string, string> };
  try {
    secret = await client.get<{ data?: Record<string, string> }>(objectPath(Resources.secret, name, namespace));
  } catch (e) {
    if (e instanceof KubeApiError && e.status === 404)
      throw new Error(`Secret ${namespace}/${name} (attestation.keySecret) does not exist`, { cause: e });
    if (e instanceof KubeApiError && e.status === 403)
      throw new Error(`Secret ${namespace}/${name}: the operator may not read it (RBAC)`, { cause: e });
    throw new Error(`Secret ${namespace}/${name}: ${(e as Error).message}`);
  }
  return signingKeyFromSecret(secret, `${namespace}/${name}`, field);
}

/** Publishes the keyring (merged with the ConfigMap's) and the current key by server-side apply. */
export async function publishPublicKeys(
  client: KubeClient,
  namespace: string,
  name: string,
  ring: Keyring,
  current: SigningKey,
): Promise<void> {
  const path = objectPath(Resources.configMap, name, namespace);
  let published: Keyring | undefined;
  try {
    const cm = await client.get<{ data?: Record<string, string> }>(path);
    const text = cm.data?.['keyring.json'];
    if (text !== undefined) published = parseKeyring(text, `ConfigMap ${namespace}/${name} keyring.json`);
  } catch (e) {
    if (!(e instanceof KubeApiError && e.status === 404)) throw e;
  }
  const merged = published ? mergeKeyrings(ring, published) : ring;
  await client.apply(path, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name,
      namespace,
      labels: { [Label.managedBy]: OPERATOR_NAME, [Label.component]: Component.attestationKeys },
    },
    data: publicKeyConfigMapData(merged, current),
  });
}
