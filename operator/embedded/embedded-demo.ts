// The embedded default as a user meets it (`./scripts/run.sh`): the local cluster of
// local-cluster/embedded-cluster.ts, its kubeconfig at a stable path with the kubectl command to watch it, and,
// because kwok pods run nothing, the demo's data plane — a local model-server process per model-server pod
// (local-pods.ts) and a generated load that follows each service's demand trace (demo-load.ts) — so that the
// demand the operator scrapes, the latency and the variant served are measured, not assumed. main.ts calls this
// when it starts the embedded default and runs the operator against the handles it returns.
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../clock.ts';
import { KubeClient, type KubeObject } from '../kube/kube-client.ts';
import type { KubeConfig } from '../kube/kube-config.ts';
import { startEmbeddedCluster, type EmbeddedCluster } from '../local-cluster/embedded-cluster.ts';
import type { MainJobOutput } from '../main-job/output.ts';
import type { StateDir } from '../main-job/state-dir.ts';
import { DemoLoad } from './demo-load.ts';
import { LocalPods } from './local-pods.ts';

export interface EmbeddedDemoOptions {
  state: StateDir;
  out: MainJobOutput;
  localInference: boolean;
  log: (level: 'info' | 'warn', msg: string) => void;
}

export interface EmbeddedDemo {
  cluster: EmbeddedCluster;
  kubeconfig: KubeConfig;
  /** The stable copy users point kubectl at. */
  kubeconfigPath: string;
  /** Where the operator reaches a pod's model server (local processes); absent without local inference. */
  podAddress?: (pod: KubeObject) => string | undefined;
  /** Starts the generated load on the operator's clock (the servers start with the cluster). */
  startLoad(clock: Clock): void;
  /** Stops the load, then the local servers (before the operator stops, so its last scrape sees them). */
  stopLoad(): Promise<void>;
  stopServers(): Promise<void>;
  stopCluster(): Promise<void>;
}

/** `kubectl` if it is on PATH, else the pinned one next to the control plane's binaries. */
export function kubectlCommand(env: NodeJS.ProcessEnv = process.env): string {
  const onPath = (env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, 'kubectl')));
  if (onPath) return 'kubectl';
  const pinned = env.KUBEBUILDER_ASSETS ? join(env.KUBEBUILDER_ASSETS, 'kubectl') : undefined;
  return pinned && existsSync(pinned) ? pinned : 'kubectl';
}

export async function startEmbeddedDemo(o: EmbeddedDemoOptions): Promise<EmbeddedDemo> {
  const { out, state } = o;
  if (state.note) out.say('state', state.note);
  const cluster = await startEmbeddedCluster({ log: (m) => o.log('info', m) });
  copyFileSync(cluster.kubeconfigPath, state.kubeconfig);
  out.say('kubeconfig', `kubeconfig: ${state.kubeconfig}`);
  out.say('kubectl', `watch it:   KUBECONFIG=${state.kubeconfig} ${kubectlCommand()} get cisvc -w`);
  const client = new KubeClient(cluster.kubeconfig);
  let pods: LocalPods | undefined;
  let load: DemoLoad | undefined;
  const podsLine = () =>
    o.localInference
      ? `pods are kwok fakes; inference runs in ${pods?.processCount ?? 0} local model-server processes`
      : 'pods are kwok fakes and run nothing (--local-inference false): demand is what each service declares';
  if (o.localInference) {
    pods = new LocalPods({
      client,
      dir: state.podsDir,
      log: o.log,
      onChange: () => {
        out.say('pods', podsLine());
        for (const [key, servers] of pods!.summary()) out.event({ type: 'servers', service: key, servers });
      },
    });
    pods.start();
  }
  out.say('pods', podsLine());
  const p = pods;
  return {
    cluster,
    kubeconfig: cluster.kubeconfig,
    kubeconfigPath: state.kubeconfig,
    ...(p ? { podAddress: (pod: KubeObject) => p.addressOf(pod) } : {}),
    startLoad(clock) {
      if (!p) return;
      load = new DemoLoad({
        client,
        clock,
        endpoints: (ns, name) => p.endpoints(ns, name),
        onStats: (service, l) => out.event({ type: 'load', service, load: l }),
        log: o.log,
      });
      load.start();
    },
    async stopLoad() {
      await load?.stop();
    },
    async stopServers() {
      await pods?.stop();
      client.close();
    },
    async stopCluster() {
      await cluster.stop();
      state.release();
    },
  };
}
