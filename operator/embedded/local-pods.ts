// The embedded demo's data plane. Its pods are kwok fakes: kwok marks them Running and Ready but runs nothing, so
// the demo does what a kubelet would for each model-server pod of an InferenceService: it starts a local
// `carbonscale serve` process with the pod's configuration (the ConfigMap the operator renders, its model URIs
// mapped to the shipped files in model-server/models), projects the ConfigMap's active-variant key into the file
// that process watches (so a swap reaches it in place, as in a cluster), stops the process when the pod goes,
// and reports which variant each process says it serves (its /metrics). The operator reaches a pod's server at
// the address `addressOf` gives (its scrape demand source), the load generator at `endpoints`.
import { mkdirSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { Component, Label, OPERATOR_NAME } from '../constants.ts';
import { Reflector } from '../kube/reflector.ts';
import { Resources, type KubeClient, type KubeObject } from '../kube/kube-client.ts';
import { ManagedProcess, freePort } from '../local-cluster/processes.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'operator', 'cli.ts');
export const SHIPPED_MODELS = join(ROOT, 'model-server', 'models');
const CONFIG_VOLUME = 'carbonscale-config';

export interface LocalPodsOptions {
  client: KubeClient;
  /** Where each pod's config, active-variant file and server log go. */
  dir: string;
  modelsDir?: string;
  log: (level: 'info' | 'warn', msg: string) => void;
  /** Called when the set of processes or what they serve changed (the live view). */
  onChange?: () => void;
  /** How often processes are checked and their served variant read (default 2 s). */
  checkEveryMs?: number;
}

interface LocalServer {
  podKey: string;
  uid: string;
  namespace: string;
  service: string;
  port: number;
  dir: string;
  proc: ManagedProcess;
  ready: boolean;
  /** Failed probes in a row: three make a ready server unready (a readiness probe's failureThreshold). */
  failures: number;
  served?: string;
  activeVariant: string;
}

const FAILURE_THRESHOLD = 3;

export interface ServiceServers {
  running: number;
  starting: number;
  servedBy: Record<string, number>;
}

/** The server config of a pod: the operator's rendered server.json with local paths, host and port. */
export function localServerConfig(
  rendered: Record<string, unknown>,
  o: { port: number; dir: string; modelsDir: string },
): Record<string, unknown> {
  const variants = (rendered.variants as Array<{ name: string; uri: string }> | undefined) ?? [];
  if (variants.length === 0) throw new Error('server.json: no variants');
  return {
    modelName: rendered.modelName,
    host: '127.0.0.1',
    port: o.port,
    variants: variants.map((v) => ({ name: v.name, uri: localModel(v.uri, o.modelsDir) })),
    activeVariant: rendered.activeVariant ?? variants[0]!.name,
    activeVariantFile: join(o.dir, 'active-variant'),
    activeVariantPollMs: 500,
    // Two cores for the whole demo: one onnxruntime thread per server, short drains.
    intraOpThreads: 1,
    executionProvider: 'cpu',
    drainTimeoutMs: 2000,
    modelCacheDir: join(o.dir, 'model-cache'),
  };
}

/** `file:///models/digits-full.onnx` (the image's path) → the shipped file of the same name. */
export function localModel(uri: string, modelsDir: string): string {
  const name = basename(uri.replace(/^file:\/\//, ''));
  const path = join(modelsDir, name);
  if (!existsSync(path))
    throw new Error(`model ${uri}: the demo serves only the shipped models in ${modelsDir} (no ${name} there)`);
  return path;
}

function writeAtomic(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

export class LocalPods {
  private readonly o: LocalPodsOptions;
  private readonly pods: Reflector<KubeObject>;
  private readonly configMaps: Reflector<KubeObject>;
  private readonly servers = new Map<string, LocalServer>();
  private readonly refused = new Set<string>();
  private timer?: ReturnType<typeof setInterval>;
  private syncing: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(o: LocalPodsOptions) {
    this.o = o;
    const log = (level: 'info' | 'warn', msg: string) => o.log(level, `local pods: ${msg}`);
    this.pods = new Reflector<KubeObject>(o.client, Resources.pod, { labelSelector: Label.service, log });
    this.configMaps = new Reflector<KubeObject>(o.client, Resources.configMap, {
      labelSelector: `${Label.managedBy}=${OPERATOR_NAME},${Label.component}=${Component.modelServerConfig}`,
      log,
    });
    const kick = () => this.kick();
    this.pods.subscribe(kick);
    this.configMaps.subscribe(kick);
  }

  start(): void {
    mkdirSync(this.o.dir, { recursive: true });
    this.pods.start();
    this.configMaps.start();
    this.timer = setInterval(() => this.kick(true), this.o.checkEveryMs ?? 2000);
    this.timer.unref();
  }

  /**
   * The local address of a pod's server while its process runs: the operator scrapes every pod that has an
   * address, as it would a pod IP; one that does not answer yet is a warning of the scrape, not a silent gap.
   */
  addressOf(pod: KubeObject): string | undefined {
    const s = pod.metadata?.uid ? this.servers.get(pod.metadata.uid) : undefined;
    return s?.proc.running ? `127.0.0.1:${s.port}` : undefined;
  }

  /** Ready servers of a service: where its Service would send requests. */
  endpoints(namespace: string, service: string): string[] {
    return [...this.servers.values()]
      .filter((s) => s.ready && s.namespace === namespace && s.service === service)
      .map((s) => `127.0.0.1:${s.port}`);
  }

  /** Per service (namespace/name): processes running, starting, and how many report each variant. */
  summary(): Map<string, ServiceServers> {
    const out = new Map<string, ServiceServers>();
    for (const s of this.servers.values()) {
      const key = `${s.namespace}/${s.service}`;
      const e = out.get(key) ?? out.set(key, { running: 0, starting: 0, servedBy: {} }).get(key)!;
      if (s.ready) e.running++;
      else e.starting++;
      if (s.ready && s.served) e.servedBy[s.served] = (e.servedBy[s.served] ?? 0) + 1;
    }
    return out;
  }

  get processCount(): number {
    return this.servers.size;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.syncing;
    await Promise.all([this.pods.stop(), this.configMaps.stop()]);
    await Promise.all([...this.servers.values()].map((s) => s.proc.stop(3000)));
    this.servers.clear();
  }

  private kick(probe = false): void {
    if (this.stopped) return;
    this.syncing = this.syncing.then(() => this.sync(probe)).catch((e: unknown) => this.o.log('warn', String(e)));
  }

  private async sync(probe: boolean): Promise<void> {
    if (this.stopped) return;
    let changed = false;
    const wanted = new Map<string, KubeObject>();
    for (const p of this.pods.list()) {
      const uid = p.metadata?.uid;
      const phase = (p.status as { phase?: string } | undefined)?.phase;
      if (uid && !p.metadata?.deletionTimestamp && phase === 'Running') wanted.set(uid, p);
    }
    for (const [uid, s] of this.servers)
      if (!wanted.has(uid)) {
        this.servers.delete(uid);
        changed = true;
        void s.proc.stop(3000);
      }
    for (const [uid, pod] of wanted) {
      const s = this.servers.get(uid);
      if (!s) changed = (await this.launch(uid, pod)) || changed;
      else changed = this.project(s) || changed;
    }
    if (probe) changed = (await this.probe()) || changed;
    if (changed) this.o.onChange?.();
  }

  private configOf(pod: KubeObject): { name: string; data: Record<string, string> } | undefined {
    const spec = pod.spec as { volumes?: Array<{ name: string; configMap?: { name: string } }> } | undefined;
    const cmName = spec?.volumes?.find((v) => v.name === CONFIG_VOLUME)?.configMap?.name;
    if (!cmName) return undefined;
    const cm = this.configMaps.get(`${pod.metadata?.namespace}/${cmName}`);
    const data = cm?.data as Record<string, string> | undefined;
    return data?.['server.json'] ? { name: cmName, data } : undefined;
  }

  private async launch(uid: string, pod: KubeObject): Promise<boolean> {
    const ns = pod.metadata!.namespace!;
    const name = pod.metadata!.name!;
    const service = pod.metadata!.labels![Label.service]!;
    const cfg = this.configOf(pod);
    if (!cfg) {
      if (!this.refused.has(uid)) {
        this.refused.add(uid);
        this.o.log(
          'warn',
          `${ns}/${name} has no carbonscale model-server ConfigMap yet (or a custom runtime): not run`,
        );
      }
      return false;
    }
    const dir = join(this.o.dir, `${ns}-${name}`);
    mkdirSync(dir, { recursive: true });
    const port = await freePort();
    let config: Record<string, unknown>;
    try {
      config = localServerConfig(JSON.parse(cfg.data['server.json']!) as Record<string, unknown>, {
        port,
        dir,
        modelsDir: this.o.modelsDir ?? SHIPPED_MODELS,
      });
    } catch (e) {
      if (!this.refused.has(uid)) this.o.log('warn', `${ns}/${name}: ${(e as Error).message}`);
      this.refused.add(uid);
      return false;
    }
    const active = cfg.data['active-variant'] ?? String(config.activeVariant);
    writeAtomic(join(dir, 'active-variant'), active);
    writeFileSync(join(dir, 'server.json'), JSON.stringify(config, null, 2));
    const proc = new ManagedProcess(
      `model-server ${ns}/${name}`,
      process.execPath,
      [CLI, 'serve', '--config', join(dir, 'server.json')],
      join(dir, 'server.log'),
      { ...process.env, LOG_LEVEL: 'warn' },
    );
    this.servers.set(uid, {
      podKey: `${ns}/${name}`,
      uid,
      namespace: ns,
      service,
      port,
      dir,
      proc,
      ready: false,
      failures: 0,
      activeVariant: active,
    });
    // A server is usually ready within a second: look again soon rather than at the next period.
    setTimeout(() => this.kick(true), 800).unref();
    return true;
  }

  /** The ConfigMap's active-variant key into the server's file (a kubelet's ConfigMap volume, without the delay). */
  private project(s: LocalServer): boolean {
    const pod = this.pods.list().find((p) => p.metadata?.uid === s.uid);
    const cfg = pod ? this.configOf(pod) : undefined;
    const want = cfg?.data['active-variant'];
    if (!want || want === s.activeVariant) return false;
    writeAtomic(join(s.dir, 'active-variant'), want);
    s.activeVariant = want;
    return true;
  }

  /** Readiness and the served variant of every process, from its own endpoints. */
  private async probe(): Promise<boolean> {
    let changed = false;
    await Promise.all(
      [...this.servers.values()].map(async (s) => {
        if (!s.proc.running) {
          if (s.ready) changed = true;
          s.ready = false;
          return;
        }
        const served = await servedVariant(s.port);
        // A busy machine makes a probe time out now and then: only a run of failures takes a server out.
        s.failures = served === undefined ? s.failures + 1 : 0;
        const ready = served !== undefined || (s.ready && s.failures < FAILURE_THRESHOLD);
        if (ready !== s.ready || (served !== undefined && served !== s.served)) changed = true;
        s.ready = ready;
        if (served !== undefined) s.served = served;
      }),
    );
    return changed;
  }
}

/** The variant a server reports serving (carbonscale_model_active_variant == 1), or undefined when not ready. */
export async function servedVariant(port: number): Promise<string | undefined> {
  try {
    const ready = await fetch(`http://127.0.0.1:${port}/v2/health/ready`, { signal: AbortSignal.timeout(1000) });
    await ready.arrayBuffer();
    if (ready.status !== 200) return undefined;
    const m = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(1000) });
    const text = await m.text();
    const hit = /^carbonscale_model_active_variant\{([^}]*)\}\s+1\s*$/m.exec(text);
    return hit ? (/variant="([^"]*)"/.exec(hit[1]!)?.[1] ?? 'unknown') : 'unknown';
  } catch {
    return undefined;
  }
}
