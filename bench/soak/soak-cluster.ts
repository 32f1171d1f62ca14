// One soak environment: a full local control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok)
// whose audit log records every request of the operator identities, enough fake GPU nodes for the world, the CRDs
// from crds/, and operator processes started from the CLI under their own client-certificate users (so the
// apiserver's audit log tells which replica wrote what).
import { mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { applyManifestFile } from '../../operator/kube/apply-manifests.ts';
import { collectionPath, KubeClient, Resources } from '../../operator/kube/kube-client.ts';
import { LocalControlPlane } from '../../operator/local-cluster/control-plane.ts';
import { waitUntil } from '../../operator/local-cluster/processes.ts';
import { HARNESS_MANAGER } from './fixtures.ts';
import { OperatorProcess } from './operator-process.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
export const OPERATOR_USERS = ['carbonscale-op-a', 'carbonscale-op-b'] as const;
export const OPERATOR_NAMESPACE = 'carbonscale-system';

export interface SoakCluster {
  cp: LocalControlPlane;
  /** The harness's admin client (its own field manager and rate). */
  client: KubeClient;
  work: string;
  operator(
    user: (typeof OPERATOR_USERS)[number],
    o?: { leaderElect?: boolean; auditDir?: string; args?: string[] },
  ): OperatorProcess;
  stop(): Promise<void>;
}

/** GPU nodes for `pods` one-GPU pods with room for a rolling surge: 100 GPUs and 110 pods a node. */
export function nodesFor(pods: number): number {
  return Math.max(3, Math.ceil((pods * 1.4) / 100));
}

export async function startSoakCluster(o: {
  work: string;
  pods: number;
  operatorCli?: string;
  log?: (m: string) => void;
}): Promise<SoakCluster> {
  mkdirSync(o.work, { recursive: true });
  const cp = await new LocalControlPlane({
    full: true,
    auditAllVerbsFor: { users: [...OPERATOR_USERS] },
    ...(o.log ? { log: o.log } : {}),
  }).start();
  const procs: OperatorProcess[] = [];
  try {
    const n = nodesFor(o.pods);
    await cp.createGpuNodes(
      Array.from({ length: n }, (_, i) => ({ name: `gpu-${String(i).padStart(3, '0')}`, gpus: 100 })),
    );
    const client = new KubeClient(cp.adminConfig(), { qps: 400, burst: 800 });
    await installCrdsFromFiles(client);
    const kubeconfigs = new Map<string, string>();
    for (const u of OPERATOR_USERS) {
      cp.userConfig(u, ['system:masters']);
      kubeconfigs.set(u, path.join(cp.dir, `${u}.kubeconfig`));
    }
    return {
      cp,
      client,
      work: o.work,
      operator: (user, oo = {}) => {
        const p = new OperatorProcess({
          kubeconfig: kubeconfigs.get(user)!,
          identity: user,
          namespace: OPERATOR_NAMESPACE,
          leaderElect: oo.leaderElect ?? true,
          ...(oo.auditDir ? { auditDir: oo.auditDir } : {}),
          logFile: path.join(o.work, `${user}.log`),
          ...(oo.args ? { args: oo.args } : {}),
          ...(o.operatorCli ? { cli: o.operatorCli } : {}),
        });
        procs.push(p);
        return p;
      },
      stop: async () => {
        for (const p of procs) await p.kill9();
        client.close();
        await cp.stop();
      },
    };
  } catch (e) {
    await cp.stop();
    throw e;
  }
}

/** The CRDs as shipped in crds/ (what `kubectl apply -f crds/` installs), then waits until both are served. */
async function installCrdsFromFiles(client: KubeClient): Promise<void> {
  const dir = path.join(ROOT, 'crds');
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.yaml')))
    await applyManifestFile(client, path.join(dir, f), { fieldManager: HARNESS_MANAGER });
  await waitUntil(
    'the carbonscale CRDs to be served',
    async () => {
      await client.list(collectionPath(Resources.inferenceService));
      await client.list(collectionPath(Resources.carbonSource));
      return true;
    },
    60_000,
  );
}
