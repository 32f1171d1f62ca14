// A CarbonSource's credentials from the Kubernetes Secret it names (through the one door: a GET, no list or
// watch, so the operator's RBAC needs only `get secrets`). Values are wrapped at once (carbon/secret.ts Secret:
// never printed); errors name the Secret and the key, never a value.
import type { SecretKeyRef } from '../carbon/config.ts';
import { Secret, type Credentials } from '../carbon/secret.ts';
import { KubeApiError, objectPath, Resources, type KubeClient } from './kube-client.ts';

export async function readSecretCredentials(
  client: KubeClient,
  ref: SecretKeyRef,
  operatorNamespace: string,
): Promise<Credentials> {
  const ns = ref.namespace ?? operatorNamespace;
  let secret: { data?: Record<string, string> };
  try {
    secret = await client.get<{ data?: Record<string, string> }>(objectPath(Resources.secret, ref.name, ns));
  } catch (e) {
    if (e instanceof KubeApiError && e.status === 404)
      throw new Error(`Secret ${ns}/${ref.name} (spec.credentialsSecretRef) does not exist`, { cause: e });
    if (e instanceof KubeApiError && e.status === 403)
      throw new Error(`Secret ${ns}/${ref.name}: the operator may not read it (RBAC)`, { cause: e });
    throw e;
  }
  const read = (k: string) => {
    const v = secret.data?.[k];
    return v === undefined ? undefined : new Secret(Buffer.from(v, 'base64').toString('utf8'));
  };
  const c: Credentials = {};
  const apiKey = read(ref.apiKeyKey ?? 'apiKey');
  const username = read(ref.usernameKey ?? 'username');
  const password = read(ref.passwordKey ?? 'password');
  if (apiKey) c.apiKey = apiKey;
  if (username) c.username = username;
  if (password) c.password = password;
  return c;
}
