// A real, throwaway Kubernetes control plane on loopback, as envtest starts one: etcd + kube-apiserver (RBAC on),
// and for end-to-end runs kube-controller-manager, kube-scheduler and kwok (a fake kubelet) with fake GPU nodes.
// Used by the integration/e2e test tiers and by the embedded default (`scripts/run.sh`).
// Binaries come from $KUBEBUILDER_ASSETS (the envtest convention), built by scripts/build-k8s-binaries.sh.
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { createPki, issueClientCert, type Pki } from './pki.ts';
import { ManagedProcess, freePort, waitUntil } from './processes.ts';

export interface ControlPlaneOptions {
  /** Add kube-controller-manager, kube-scheduler and kwok (the e2e tier). */
  full?: boolean;
  /** Directory with etcd, kube-apiserver, … (default: $KUBEBUILDER_ASSETS). */
  binDir?: string;
  /** Keep the temp dir after stop (debugging). */
  keepDir?: boolean;
  log?: (msg: string) => void;
  /**
   * Audit every request (reads and watches too, at Metadata level) of these users or groups, on top of the
   * writes of everyone: the soak counts an operator's GETs, LISTs and watches from outside. Other users' reads
   * (kwok, the controller-manager) stay out of the log, which keeps it small at scale.
   */
  auditAllVerbsFor?: { users?: string[]; groups?: string[] };
  /**
   * ClusterIP range. The default /16 holds 65,534 Services (a /24 held about 250, too few for a scale run);
   * the addresses are virtual: no kube-proxy runs, nothing is ever sent to them.
   */
  serviceClusterIpRange?: string;
}

export interface GpuNodeSpec {
  name: string;
  gpus: number;
  cpu?: string;
  memory?: string;
  gpuProduct?: string;
}

const REQUIRED = ['etcd', 'kube-apiserver'];
const REQUIRED_FULL = ['kube-controller-manager', 'kube-scheduler', 'kwok', 'kwok-stages.yaml'];

export function resolveBinDir(explicit?: string, full = false): string {
  const dir = explicit ?? process.env.KUBEBUILDER_ASSETS;
  if (!dir) {
    throw new Error(
      'KUBEBUILDER_ASSETS is not set: point it at a directory with etcd and kube-apiserver ' +
        '(scripts/build-k8s-binaries.sh builds them and prints the directory; scripts/test.sh and scripts/run.sh do this for you)',
    );
  }
  for (const b of full ? [...REQUIRED, ...REQUIRED_FULL] : REQUIRED) {
    if (!existsSync(join(dir, b))) throw new Error(`KUBEBUILDER_ASSETS=${dir} has no ${b}`);
  }
  return dir;
}

export class LocalControlPlane {
  readonly dir: string;
  readonly opts: ControlPlaneOptions;
  private pki!: Pki;
  private procs: ManagedProcess[] = [];
  private apiserver?: ManagedProcess;
  private apiserverArgs: string[] = [];
  private etcd?: ManagedProcess;
  private etcdArgs: string[] = [];
  private disks: string[] = [];
  apiPort = 0;
  etcdPort = 0;
  kubeconfigPath = '';
  private binDir = '';

  constructor(opts: ControlPlaneOptions = {}) {
    this.opts = opts;
    this.dir = mkdtempSync(join(tmpdir(), 'carbonscale-cp-'));
  }

  get server(): string {
    return `https://127.0.0.1:${this.apiPort}`;
  }

  /** PIDs of every process this control plane started (for orphan checks). */
  get pids(): number[] {
    return this.procs.map((p) => p.pid).filter((p): p is number => p !== undefined);
  }

  private log(msg: string) {
    this.opts.log?.(msg);
  }

  async start(): Promise<this> {
    const full = this.opts.full ?? false;
    this.binDir = resolveBinDir(this.opts.binDir, full);
    this.pki = createPki(this.dir);
    this.etcdPort = await freePort();
    const etcdPeer = await freePort();
    this.etcdArgs = [
      `--data-dir=${join(this.dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${this.etcdPort}`,
      `--advertise-client-urls=http://127.0.0.1:${this.etcdPort}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=default=http://127.0.0.1:${etcdPeer}`,
      '--unsafe-no-fsync',
      '--log-level=warn',
    ];
    await this.startEtcd();

    this.apiPort = await freePort();
    const admin = issueClientCert(this.pki, 'carbonscale-admin', ['system:masters']);
    this.kubeconfigPath = join(this.dir, 'admin.kubeconfig');
    writeFileSync(this.kubeconfigPath, this.kubeconfigYaml('admin', { cert: admin.cert, key: admin.key }));
    this.apiserverArgs = [
      `--etcd-servers=http://127.0.0.1:${this.etcdPort}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${this.apiPort}`,
      `--cert-dir=${join(this.dir, 'apiserver-certs')}`,
      `--client-ca-file=${this.pki.caCert}`,
      `--service-account-issuer=https://127.0.0.1:${this.apiPort}/`,
      `--service-account-key-file=${this.pki.saKey}`,
      `--service-account-signing-key-file=${this.pki.saKey}`,
      `--service-cluster-ip-range=${this.opts.serviceClusterIpRange ?? DEFAULT_SERVICE_CIDR}`,
      '--authorization-mode=RBAC',
      '--allow-privileged=true',
      // A loopback advertise address is refused by the default endpoint reconciler (as envtest does).
      '--endpoint-reconciler-type=none',
      `--audit-log-path=${join(this.dir, 'audit.log')}`,
      `--audit-policy-file=${this.writeAuditPolicy()}`,
      '--audit-log-format=json',
      '--audit-log-mode=blocking',
    ];
    await this.startApiserver();

    if (full) await this.startFull();
    return this;
  }

  private writeAuditPolicy(): string {
    // Metadata-level audit of writes: tests count the operator's writes from it. The first matching rule wins,
    // so the users and groups of auditAllVerbsFor get every verb, everyone else writes only.
    const p = join(this.dir, 'audit-policy.yaml');
    const all = this.opts.auditAllVerbsFor;
    const quoted = (xs: string[]) => `[${xs.map((x) => JSON.stringify(x)).join(', ')}]`;
    const everyVerb = [
      ...(all?.users?.length ? ['- level: Metadata', `  users: ${quoted(all.users)}`] : []),
      ...(all?.groups?.length ? ['- level: Metadata', `  userGroups: ${quoted(all.groups)}`] : []),
    ];
    writeFileSync(
      p,
      [
        'apiVersion: audit.k8s.io/v1',
        'kind: Policy',
        'omitStages: ["RequestReceived"]',
        'rules:',
        ...everyVerb,
        '- level: Metadata',
        '  verbs: ["create", "update", "patch", "delete", "deletecollection"]',
        '- level: None',
        '',
      ].join('\n'),
    );
    return p;
  }

  private async startEtcd(): Promise<void> {
    this.log(`starting etcd on 127.0.0.1:${this.etcdPort}`);
    const etcd = this.spawn('etcd', this.etcdArgs);
    this.etcd = etcd;
    await waitUntil(
      'etcd to serve',
      () => exitedOr(etcd, httpOk(`http://127.0.0.1:${this.etcdPort}/health`)),
      30_000,
      () => etcd.logTail(),
    );
  }

  /** Stops etcd (the apiserver keeps running and fails its storage calls), to test an etcd outage. */
  async stopEtcd(): Promise<void> {
    if (!this.etcd) return;
    await this.etcd.stop();
    this.procs = this.procs.filter((p) => p !== this.etcd);
    this.etcd = undefined;
  }

  /** Restarts etcd on the same ports and data directory (nothing is lost: the data dir survives). */
  async restartEtcd(): Promise<void> {
    if (this.etcd) await this.stopEtcd();
    await this.startEtcd();
  }

  private async startApiserver(): Promise<void> {
    this.log(`starting kube-apiserver on ${this.server}`);
    const proc = this.spawn('kube-apiserver', this.apiserverArgs);
    this.apiserver = proc;
    await waitUntil(
      'kube-apiserver to be ready',
      () => this.apiReady(proc),
      90_000,
      () => proc.logTail(),
    );
  }

  /** Stops the API server (etcd keeps running), to test how clients ride out an outage. */
  async stopApiserver(): Promise<void> {
    if (!this.apiserver) return;
    await this.apiserver.stop();
    this.procs = this.procs.filter((p) => p !== this.apiserver);
    this.apiserver = undefined;
  }

  /** Restarts the API server on the same port and storage. */
  async restartApiserver(): Promise<void> {
    if (this.apiserver) await this.stopApiserver();
    await this.startApiserver();
  }

  /** PID of the running kube-apiserver (undefined while stopped). */
  get apiserverPid(): number | undefined {
    return this.apiserver?.pid;
  }

  /** Marks nodes unschedulable (kubectl cordon) or schedulable again (uncordon). */
  async setNodesSchedulable(names: string[], schedulable: boolean): Promise<void> {
    const core = this.adminConfig().makeApiClient(k8s.CoreV1Api);
    for (const name of names)
      await core.patchNode(
        { name, body: { spec: { unschedulable: !schedulable } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
  }

  /**
   * kubectl drain without the eviction API: cordons the nodes, then deletes every pod bound to them (their
   * controllers recreate them, and the scheduler places them on what capacity is left, or leaves them Pending).
   * Returns how many pods were deleted.
   */
  async drainNodes(names: string[]): Promise<number> {
    await this.setNodesSchedulable(names, false);
    const core = this.adminConfig().makeApiClient(k8s.CoreV1Api);
    let deleted = 0;
    for (const name of names) {
      const pods = await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${name}` });
      for (const p of pods.items) {
        await core
          .deleteNamespacedPod({ name: p.metadata!.name!, namespace: p.metadata!.namespace!, gracePeriodSeconds: 0 })
          .catch((e: unknown) => {
            if ((e as { code?: number }).code !== 404) throw e;
          });
        deleted++;
      }
    }
    return deleted;
  }

  /**
   * A small disk (tmpfs of `bytes`) mounted at a new directory in the control plane's dir, e.g. the operator's
   * audit directory for a disk-full test; `fill()` takes all its free space with a filler file and `free()`
   * removes it. Needs root (mount(2)); unmounted by stop(). Throws in words when it cannot mount.
   */
  smallDisk(name: string, bytes: number): SmallDisk {
    const path = join(this.dir, name);
    mkdirSync(path, { recursive: true });
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0755`, 'tmpfs', path], { stdio: 'pipe' });
    } catch (e) {
      throw new Error(
        `cannot mount a ${bytes}-byte tmpfs at ${path} (needs root): ${String((e as { stderr?: Buffer }).stderr ?? e)}`,
      );
    }
    this.disks.push(path);
    const filler = join(path, '.filler');
    return {
      path,
      fill: () => fillUp(filler),
      free: () => rmSync(filler, { force: true }),
      unmount: () => this.unmount(path),
    };
  }

  private unmount(path: string): void {
    if (!this.disks.includes(path)) return;
    this.disks = this.disks.filter((d) => d !== path);
    try {
      execFileSync('umount', ['-l', path], { stdio: 'pipe' });
    } catch {
      // already gone
    }
  }

  private async startFull(): Promise<void> {
    const kcm = this.spawn('kube-controller-manager', [
      `--kubeconfig=${this.kubeconfigPath}`,
      '--leader-elect=false',
      '--controllers=*',
      '--secure-port=0',
      `--root-ca-file=${this.pki.caCert}`,
      `--service-account-private-key-file=${this.pki.saKey}`,
      '--use-service-account-credentials=false',
      '--concurrent-gc-syncs=5',
    ]);
    const schedPort = await freePort();
    const sched = this.spawn('kube-scheduler', [
      `--kubeconfig=${this.kubeconfigPath}`,
      `--authentication-kubeconfig=${this.kubeconfigPath}`,
      `--authorization-kubeconfig=${this.kubeconfigPath}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${schedPort}`,
    ]);
    const kwokConfig = join(this.dir, 'kwok.yaml');
    writeFileSync(
      kwokConfig,
      [
        'apiVersion: config.kwok.x-k8s.io/v1alpha1',
        'kind: KwokConfiguration',
        'options:',
        '  manageNodesWithAnnotationSelector: kwok.x-k8s.io/node=fake',
        // A KwokConfiguration file skips kwok 0.8's defaulting: without these it exits
        // ("playStageParallelism must be greater than 0").
        '  podPlayStageParallelism: 4',
        '  nodePlayStageParallelism: 4',
        '  nodeLeaseDurationSeconds: 40',
        '  nodeLeaseParallelism: 4',
        '  podsOnNodeSyncParallelism: 4',
        readFileSync(join(this.binDir, 'kwok-stages.yaml'), 'utf8'),
      ].join('\n'),
    );
    const kwokPort = await freePort();
    const kwok = this.spawn('kwok', [
      `--kubeconfig=${this.kubeconfigPath}`,
      `--config=${kwokConfig}`,
      '--manage-all-nodes=false',
      '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
      `--server-address=127.0.0.1:${kwokPort}`,
    ]);
    // The controller-manager creates the default ServiceAccount in each namespace; pods need it.
    const core = this.adminConfig().makeApiClient(k8s.CoreV1Api);
    await waitUntil(
      'kube-controller-manager to create the default ServiceAccount',
      async () => {
        await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' });
        return true;
      },
      60_000,
      () => `${kcm.logTail(15)}\n${sched.logTail(5)}\n${kwok.logTail(5)}`,
    );
  }

  private spawn(name: string, args: string[]): ManagedProcess {
    const p = new ManagedProcess(name, join(this.binDir, name), args, join(this.dir, `${name}.log`));
    this.procs.push(p);
    return p;
  }

  private apiReady(proc: ManagedProcess): Promise<boolean> {
    if (!proc.running) throw new FatalStartError(`kube-apiserver exited (${proc.exitCode}):\n${proc.logTail(8)}`);
    if (!existsSync(join(this.dir, 'apiserver-certs', 'apiserver.crt'))) return Promise.resolve(false);
    const kc = this.adminConfig();
    const user = kc.getCurrentUser()!;
    return new Promise((resolve) => {
      const req = request(
        `${this.server}/readyz`,
        {
          ca: readFileSync(join(this.dir, 'apiserver-certs', 'apiserver.crt')),
          cert: readFileSync(user.certFile!),
          key: readFileSync(user.keyFile!),
          timeout: 2000,
        },
        (res) => {
          res.resume();
          resolve(res.statusCode === 200);
        },
      );
      req.on('error', () => resolve(false));
      req.on('timeout', () => req.destroy());
      req.end();
    });
  }

  private kubeconfigYaml(user: string, auth: { cert?: string; key?: string; token?: string }): string {
    const ca = join(this.dir, 'apiserver-certs', 'apiserver.crt');
    const userLines = auth.token
      ? [`    token: ${auth.token}`]
      : [`    client-certificate: ${auth.cert}`, `    client-key: ${auth.key}`];
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: local',
      '  cluster:',
      `    server: ${this.server}`,
      // The apiserver writes its self-signed serving cert on start; trust exactly that file.
      `    certificate-authority: ${ca}`,
      'users:',
      `- name: ${user}`,
      '  user:',
      ...userLines,
      'contexts:',
      `- name: ${user}`,
      '  context:',
      '    cluster: local',
      `    user: ${user}`,
      `current-context: ${user}`,
      '',
    ].join('\n');
  }

  adminConfig(): k8s.KubeConfig {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(this.kubeconfigPath);
    return kc;
  }

  /** A restricted identity: a client certificate with this user name and groups (RBAC applies in full). */
  userConfig(name: string, groups: string[] = []): k8s.KubeConfig {
    const c = issueClientCert(this.pki, name, groups);
    const path = join(this.dir, `${name.replace(/[^a-zA-Z0-9_.-]/g, '_')}.kubeconfig`);
    writeFileSync(path, this.kubeconfigYaml(name, c));
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(path);
    return kc;
  }

  /** A real ServiceAccount token from the TokenRequest API, as a kubeconfig (and its path). */
  async serviceAccountConfig(namespace: string, name: string): Promise<{ kc: k8s.KubeConfig; path: string }> {
    const core = this.adminConfig().makeApiClient(k8s.CoreV1Api);
    const tr = await core.createNamespacedServiceAccountToken({
      name,
      namespace,
      body: { spec: { expirationSeconds: 3600, audiences: [`https://127.0.0.1:${this.apiPort}/`] } },
    });
    const token = tr.status?.token;
    if (!token) throw new Error(`TokenRequest for ${namespace}/${name} returned no token`);
    const path = join(this.dir, `sa-${namespace}-${name}.kubeconfig`);
    writeFileSync(path, this.kubeconfigYaml(`system:serviceaccount:${namespace}:${name}`, { token }));
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(path);
    return { kc, path };
  }

  /** Fake nodes managed by kwok, advertising `nvidia.com/gpu` capacity (status is accepted on create). */
  async createGpuNodes(nodes: GpuNodeSpec[]): Promise<void> {
    const core = this.adminConfig().makeApiClient(k8s.CoreV1Api);
    for (const n of nodes) {
      const capacity = {
        cpu: n.cpu ?? '64',
        memory: n.memory ?? '512Gi',
        pods: '110',
        'nvidia.com/gpu': String(n.gpus),
      };
      await core.createNode({
        body: {
          apiVersion: 'v1',
          kind: 'Node',
          metadata: {
            name: n.name,
            annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
            labels: {
              'kubernetes.io/hostname': n.name,
              'kubernetes.io/os': 'linux',
              'kubernetes.io/arch': 'amd64',
              type: 'kwok',
              'nvidia.com/gpu.present': 'true',
              ...(n.gpuProduct ? { 'nvidia.com/gpu.product': n.gpuProduct } : {}),
            },
          },
          status: { capacity, allocatable: capacity },
        },
      });
    }
  }

  /** Path of the apiserver audit log (JSON lines). */
  get auditLogPath(): string {
    return join(this.dir, 'audit.log');
  }

  /** Lines of the apiserver audit log (JSON events for write verbs, and every verb of auditAllVerbsFor). */
  auditEvents(): Array<Record<string, unknown>> {
    return this.auditEventsFrom(0).events;
  }

  /**
   * The audit events written after byte `offset` of the log, and the offset to read on from next time (a big
   * log is read in pieces, never whole; a line still being written is left for the next call).
   */
  auditEventsFrom(offset: number): { events: Array<Record<string, unknown>>; offset: number } {
    const p = this.auditLogPath;
    if (!existsSync(p)) return { events: [], offset };
    const size = statSync(p).size;
    if (size <= offset) return { events: [], offset };
    const buf = Buffer.alloc(size - offset);
    const fd = openSync(p, 'r');
    try {
      readSync(fd, buf, 0, buf.length, offset);
    } finally {
      closeSync(fd);
    }
    const end = buf.lastIndexOf(0x0a) + 1;
    const events = buf
      .subarray(0, end)
      .toString('utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    return { events, offset: offset + end };
  }

  async stop(): Promise<void> {
    for (const p of [...this.procs].reverse()) await p.stop();
    this.procs = [];
    for (const d of [...this.disks]) this.unmount(d);
    if (!this.opts.keepDir) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The default ClusterIP range: a /16, room for 65,534 Services. */
export const DEFAULT_SERVICE_CIDR = '10.0.0.0/16';

export interface SmallDisk {
  path: string;
  /** Takes every free byte with a filler file (writes until ENOSPC). */
  fill(): void;
  /** Removes the filler file. */
  free(): void;
  unmount(): void;
}

function fillUp(file: string): void {
  const fd = openSync(file, 'a');
  const chunk = Buffer.alloc(64 * 1024, 0x78);
  try {
    for (;;) writeSyncAll(fd, chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    closeSync(fd);
  }
  // Smaller writes take the last partial block too.
  const fd2 = openSync(file, 'a');
  try {
    for (;;) writeSyncAll(fd2, chunk.subarray(0, 512));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    closeSync(fd2);
  }
}

function writeSyncAll(fd: number, b: Buffer): void {
  let off = 0;
  while (off < b.length) off += writeSync(fd, b, off, b.length - off);
}

class FatalStartError extends Error {
  override name = 'FatalStartError';
}

async function exitedOr(p: ManagedProcess, check: Promise<boolean>): Promise<boolean> {
  if (!p.running) throw new FatalStartError(`${p.name} exited (${p.exitCode}):\n${p.logTail(8)}`);
  return check;
}

function httpOk(url: string): Promise<boolean> {
  return fetch(url, { signal: AbortSignal.timeout(2000) }).then(
    (r) => r.ok,
    () => false,
  );
}
