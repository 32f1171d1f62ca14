// Loading cluster credentials, so that nothing outside kube/ needs @kubernetes/client-node at run time (the
// import-boundary lint rule in eslint.config.js). Order: an explicit file, $KUBECONFIG, then the pod's
// service account (in-cluster).
import { existsSync, readFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import type { KubeConfig as KubeConfigType } from '@kubernetes/client-node';

// KubeConfig comes from client-node's config.js, not its index: the index also loads the generated API client
// (every API group's classes and models, some 70 MiB of RSS), which the operator never uses; it talks to the
// apiserver through kube-client.ts. config.js itself imports the generated client for makeApiClient, so that one
// import is pointed at client-node-gen-lazy.ts, which loads the real module only if makeApiClient is ever called.
// A dynamic import, because a static one is resolved before this module's body registers the hook.
const LAZY_GEN = new URL('./client-node-gen-lazy.ts', import.meta.url).href;
registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier === './gen/index.js' && context.parentURL?.endsWith('/@kubernetes/client-node/dist/config.js'))
      return { url: LAZY_GEN, shortCircuit: true };
    return nextResolve(specifier, context);
  },
});
const { KubeConfig } = await import('@kubernetes/client-node/dist/config.js');
type KubeConfig = KubeConfigType;

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export type { KubeConfig };

/** True inside a pod with a mounted service account token. */
export function inCluster(env: NodeJS.ProcessEnv = process.env): boolean {
  return !!env.KUBERNETES_SERVICE_HOST && existsSync(`${SA_DIR}/token`);
}

/** The pod's namespace from its service account mount, if there is one. */
export function inClusterNamespace(): string | undefined {
  try {
    return readFileSync(`${SA_DIR}/namespace`, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** A kubeconfig from a file (or $KUBECONFIG), else in-cluster; throws naming what it tried. */
export function loadKubeConfig(o: { file?: string; env?: NodeJS.ProcessEnv } = {}): KubeConfig {
  const env = o.env ?? process.env;
  const kc = new KubeConfig();
  const file = o.file ?? env.KUBECONFIG;
  if (file) {
    if (!existsSync(file)) throw new Error(`kubeconfig ${file} does not exist`);
    kc.loadFromFile(file);
  } else if (inCluster(env)) kc.loadFromCluster();
  else throw new Error('no kubeconfig: pass --kubeconfig, set KUBECONFIG, or run in a pod with a service account');
  if (!kc.getCurrentCluster()) throw new Error(`kubeconfig ${file ?? '(in-cluster)'} has no current cluster`);
  return kc;
}
