// Loading cluster credentials, so that nothing outside kube/ needs @kubernetes/client-node at run time (the
// import-boundary lint rule in eslint.config.js). Order: an explicit file, $KUBECONFIG, then the pod's
// service account (in-cluster).
import { existsSync, readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';

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
