// `carbonscale operator` as a user runs it (scripts/run.sh): flags (a bad one prints the usage and exits 2), the
// cluster (a kubeconfig, in-cluster, or the embedded default with its local model servers and generated load),
// the output (--log-format: the live view on a terminal, JSON lines otherwise), the operator itself
// (main.ts: startOperator), and the ordered stop (shutdown.ts): load, operator and audit sink, local servers,
// control plane, then where the audit files are and the command that opens the report.
import { hostname } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import type { AuditTap } from '../live-view/audit-tap.ts';
import { clockFor, OPERATOR_VERSION, startOperator } from '../main.ts';
import { inCluster, inClusterNamespace, loadKubeConfig, type KubeConfig } from '../kube/kube-config.ts';
import { EMBEDDED_TRACE_FILE } from '../carbon/trace-provider.ts';
import { installShutdown, type ShutdownStep } from '../shutdown.ts';
import { usageErrorLine } from '../cli-errors.ts';
import { PathFlagError } from '../cli-paths.ts';
import { FlagError, parseFlags, USAGE, wantsEmbedded, type OperatorFlags } from '../wiring/flags.ts';
import type { EmbeddedDemo } from '../embedded/embedded-demo.ts';
import { assertPortFree, BusyPortError } from './busy-port.ts';
import { mainJobOutput, type MainJobOutput } from './output.ts';
import { claimStateDir, type StateDir } from './state-dir.ts';

const CLI = resolve(import.meta.dirname, '..', 'cli.ts');

/** How a user runs the CLI from here: `node operator/cli.ts` from the repository root. */
export function cliCommand(cwd = process.cwd()): string {
  const rel = relative(cwd, CLI);
  return `node ${rel.startsWith('..') ? CLI : rel}`;
}

/** A kubeconfig that cannot be used, in words: which one (flag or $KUBECONFIG), what is wrong, what to do. */
export function kubeconfigProblem(e: unknown, f: Pick<OperatorFlags, 'kubeconfig'>, env = process.env): string {
  const msg = (e as Error).message;
  const from = f.kubeconfig !== undefined ? `--kubeconfig ${f.kubeconfig}` : `KUBECONFIG=${env.KUBECONFIG ?? ''}`;
  if (/does not exist/.test(msg))
    return (
      `${from}: no such file. Give the path of a kubeconfig file, or unset KUBECONFIG and drop --kubeconfig to ` +
      'start the embedded local cluster.'
    );
  if (/^no kubeconfig/.test(msg)) return msg;
  return `${from}: cannot be used as a kubeconfig (${msg})`;
}

export async function main(argv: string[]): Promise<number> {
  let f: OperatorFlags;
  try {
    f = parseFlags(argv);
  } catch (e) {
    // A path flag naming nothing usable: the one line (the command line itself was well formed).
    if (e instanceof PathFlagError) {
      console.error(`carbonscale operator: ${e.message}`);
      return 2;
    }
    if (!(e instanceof FlagError)) throw e;
    console.error(`${usageErrorLine('operator', e)}\n\n${USAGE}`);
    return 2;
  }
  if (f.help) {
    console.log(USAGE);
    return 0;
  }
  const pod = inCluster();
  const embedded = wantsEmbedded(f, process.env, pod);
  let kc: KubeConfig | undefined;
  try {
    if (!embedded) kc = loadKubeConfig(f.kubeconfig !== undefined ? { file: f.kubeconfig } : {});
    // Before anything slow starts: a busy port is one line naming the flag.
    await assertPortFree('--health-addr', f.healthAddr, 'health, readiness and /metrics');
  } catch (e) {
    console.error(`carbonscale operator: ${e instanceof BusyPortError ? e.message : kubeconfigProblem(e, f)}`);
    return 1;
  }
  const state = embedded ? claimStateDir() : undefined;
  const out = mainJobOutput({
    ...(f.logFormat ? { format: f.logFormat } : {}),
    level: f.logLevel,
    title: `carbonscale ${OPERATOR_VERSION}${embedded ? ' — embedded demo' : ''}`,
    ...(state ? { logFile: state.logFile } : {}),
  });
  try {
    return await runWith(f, { pod, embedded, out, ...(kc ? { kc } : {}), ...(state ? { state } : {}) });
  } catch (e) {
    out.close();
    state?.release();
    throw e;
  }
}

interface Setting {
  pod: boolean;
  embedded: boolean;
  out: MainJobOutput;
  kc?: KubeConfig;
  state?: StateDir;
}

async function runWith(f: OperatorFlags, s: Setting): Promise<number> {
  const { out } = s;
  const log = out.logger;
  let demo: EmbeddedDemo | undefined;
  if (s.embedded) {
    log.info(
      'no cluster configured: starting an embedded control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok)',
    );
    const { startEmbeddedDemo } = await import('../embedded/embedded-demo.ts');
    demo = await startEmbeddedDemo({
      state: s.state!,
      out,
      localInference: f.localInference,
      log: (level, m) => log.log(level, m),
    });
    log.info('embedded cluster ready', {
      kubeconfig: demo.kubeconfigPath,
      applied: demo.cluster.applied.map((a) => `${a.kind}/${a.name}`),
    });
  }
  const auditDir = f.auditDir ?? s.state?.auditDir;
  out.say('audit', auditDir ? `audit:      ${auditDir}` : 'audit:      in memory only (no --audit-dir)');
  if (out.logFile) out.say('log', `log:        ${out.logFile}`);
  // The clock starts once the cluster is up, so the replay begins where the rule says.
  const clock = clockFor(f, s.embedded);
  if (clock.replay) {
    const from = new Date(clock.now()).toISOString().slice(0, 16).replace('T', ' ');
    out.say(
      'replay',
      `replay:     ${f.clockTrace ?? EMBEDDED_TRACE_FILE} from ${from} UTC at ${clock.speedup}× (a trace hour every ${trim(60 / clock.speedup)} wall minutes); status and audit times are trace times`,
    );
  }
  out.setClock(clock);
  demo?.startLoad(clock);
  const counted = countingTap(out.tap);
  const op = await startOperator({
    kc: demo?.kubeconfig ?? s.kc!,
    namespace: f.namespace ?? process.env.POD_NAMESPACE ?? (s.pod ? inClusterNamespace() : undefined) ?? 'default',
    leaderElect: f.leaderElect ?? s.pod,
    identity: process.env.POD_NAME ?? `${hostname()}-${process.pid}`,
    healthAddr: f.healthAddr,
    ...(auditDir ? { auditDir } : {}),
    clusterId: f.clusterId ?? process.env.CARBONSCALE_CLUSTER_ID ?? 'local',
    logLevel: f.logLevel,
    logger: log,
    auditTap: counted.tap,
    ...(demo?.podAddress ? { podAddress: demo.podAddress } : {}),
    ...(f.modelServerImage ? { modelServerImage: f.modelServerImage } : {}),
    accountingIntervalMs: f.accountingIntervalMs,
    energy: {
      source: f.meters.energySource,
      maxGapMs: f.meters.energyMaxGapMs,
      ...(f.meters.energyPrometheusUrl ? { prometheusUrl: f.meters.energyPrometheusUrl } : {}),
    },
    ...(f.meters.attestation ? { attestation: f.meters.attestation } : {}),
    clock,
    reconcileConcurrency: f.reconcileConcurrency,
    reconcileQps: f.reconcileQps,
    reconcileBurst: f.reconcileBurst,
    kubeApiQps: f.kubeApiQps,
    kubeApiBurst: f.kubeApiBurst,
  }).catch(async (e: unknown) => {
    await demo?.stopLoad();
    await demo?.stopServers();
    await demo?.stopCluster();
    throw e;
  });
  const stop = installShutdown(
    stopSteps(op, demo, out, () => farewell(auditDir, counted.rows)),
    {
      log: (m, meta) => {
        log.info(m, meta);
        // The live screen says it too (its log is in a file); other formats have just logged it.
        if (out.format === 'live')
          out.say('stopping', `stopping:   ${m}${meta?.step ? ` (${String(meta.step)})` : ''}`);
      },
    },
  );
  if (f.exitAfterMs !== undefined)
    setTimeout(() => void stop.run(`--duration ${trim(f.exitAfterMs! / 1000)}s`), f.exitAfterMs).unref();
  const code = await op.done;
  await stop.run(code === 0 ? 'operator stopped' : 'lost leadership');
  stop.dispose();
  return code;
}

/** The ordered stop: no new load, the operator (its audit sink closes last), the servers, the control plane. */
function stopSteps(
  op: { stop(): Promise<void> },
  demo: EmbeddedDemo | undefined,
  out: MainJobOutput,
  lines: () => string[],
): ShutdownStep[] {
  return [
    ...(demo ? [{ name: 'demo load', run: () => demo.stopLoad() }] : []),
    { name: 'operator (controllers, then the audit sink)', run: () => op.stop() },
    ...(demo
      ? [
          { name: 'local model servers', run: () => demo.stopServers() },
          { name: 'embedded control plane', run: () => demo.stopCluster() },
        ]
      : []),
    {
      name: 'summary',
      run: async () => {
        out.close();
        for (const line of lines()) out.say('farewell', line);
      },
    },
  ];
}

/** Where the audit files are and the one command that writes the report page to open. */
export function farewell(auditDir: string | undefined, rows: { usage: number; decision: number }): string[] {
  const written = `${rows.usage} usage and ${rows.decision} decision rows written by this run`;
  if (!auditDir) return [`audit: ${written}, held in memory only (pass --audit-dir DIR to keep them)`];
  const html = join(dirname(resolve(auditDir)), 'report.html');
  return [
    `audit files: ${auditDir} (${written})`,
    `report:      ${cliCommand()} audit report ${auditDir} --html ${html}   (then open ${html} in a browser)`,
  ];
}

function countingTap(inner: AuditTap | undefined) {
  const rows = { usage: 0, decision: 0 };
  const tap: AuditTap = {
    usage: (r) => {
      rows.usage++;
      inner?.usage(r);
    },
    decision: (r) => {
      rows.decision++;
      inner?.decision(r);
    },
  };
  return { rows, tap };
}

function trim(x: number): string {
  return String(Math.round(x * 100) / 100);
}
