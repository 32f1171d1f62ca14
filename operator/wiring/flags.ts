// `carbonscale operator` flags: parsed and checked in one place; every error names the flag and the value.
import { parseArgs } from 'node:util';
import { checkInputFile } from '../cli-paths.ts';
import { LOG_FORMATS, type LogFormat } from '../live-view/operator-logger.ts';
import { METER_FLAG_OPTIONS, METER_USAGE, meterFlags, type MeterFlags } from './meter-flags.ts';

export interface OperatorFlags {
  kubeconfig?: string;
  embedded: boolean;
  namespace?: string;
  leaderElect?: boolean;
  healthAddr: string;
  auditDir?: string;
  clusterId?: string;
  logLevel: string;
  /** undefined: live on a terminal, json otherwise. */
  logFormat?: LogFormat;
  /** The embedded default runs local model servers and a generated load (false: kwok pods only). */
  localInference: boolean;
  modelServerImage?: string;
  accountingIntervalMs: number;
  exitAfterMs?: number;
  /** Clock seconds per wall second; undefined: 1 (wall clock), or the embedded default's replay speed. */
  clockSpeedup?: number;
  /** 'auto' (a rule over the replay trace) or a time; undefined: now (wall clock), or auto when replaying. */
  clockStart?: number | 'auto';
  clockTrace?: string;
  reconcileConcurrency: number;
  reconcileQps: number;
  reconcileBurst: number;
  kubeApiQps: number;
  kubeApiBurst: number;
  /** Measured energy and attestations (meter-flags.ts). */
  meters: MeterFlags;
  help: boolean;
}

export const USAGE = `usage: carbonscale operator [--kubeconfig PATH | --embedded] [flags]

  --kubeconfig PATH              cluster to run against (default $KUBECONFIG, then in-cluster; with neither, the
                                 embedded local cluster is started)
  --embedded                     start the embedded local cluster even when a kubeconfig is configured
  --namespace NS                 the operator's namespace (leases, carbon history) (default: pod namespace or default)
  --leader-elect true|false      campaign for the leader lease (default: true in a pod)
  --health-addr HOST:PORT        /healthz, /readyz and /metrics (default 0.0.0.0:8081)
  --audit-dir DIR                write the audit trail (Parquet) here (default: in memory only; the embedded default
                                 writes ~/.cache/carbonscale/embedded/audit)
  --cluster-id ID                cluster id in audit rows (default $CARBONSCALE_CLUSTER_ID or local)
  --log-level LEVEL              error, warn, info, debug (default info)
  --log-format json|text|live    json lines, text lines, or the live view with the JSON log in a file (default: live
                                 on a terminal, json otherwise)
  --duration DURATION            stop cleanly after this much wall time (90s, 5m, 1h30m), print where the audit files
                                 are and the command that opens the report
  --local-inference true|false   embedded default: serve each kwok pod with a local model-server process and send it
                                 a generated load following the demand trace (default true)
  --model-server-image IMAGE     image of the carbonscale model server
  --accounting-interval-seconds N  usage rows per service every N clock seconds (default 60)
  --clock-speedup N              run the operator's clock N× faster than the wall clock (a trace replay; default 1,
                                 the embedded default 60)
  --clock-start ISO|auto         where the clock starts (default: now; auto: a rule over --clock-trace that reaches a
                                 high-carbon period within minutes; the embedded default uses auto)
  --clock-trace FILE             the trace --clock-start auto reads (default the embedded trace)
  --reconcile-concurrency N      InferenceService passes in parallel (default 4)
  --reconcile-qps N              sustained triggered passes per second; periodic passes are
                                 not counted and wait behind triggered ones (default 20)
  --reconcile-burst N            triggered-pass burst (default 50)
  --kube-api-qps N               client-side apiserver request rate (default 50)
  --kube-api-burst N             client-side apiserver burst (default 100)
  --exit-after-seconds N         stop cleanly after N wall seconds (as --duration Ns)
${METER_USAGE}
  --help                         print this help
Without --kubeconfig, $KUBECONFIG or an in-cluster service account, an embedded local cluster is started.`;

/** A bad flag: the CLI prints the message and the usage and exits 2. */
export class FlagError extends Error {
  override name = 'FlagError';
}

/** `90`, `90s`, `5m`, `1h30m`, `1.5h` as milliseconds; throws naming the flag. */
export function parseDuration(flag: string, v: string): number {
  const t = v.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  let ms = 0;
  let used = 0;
  for (const m of t.matchAll(re)) {
    ms += Number(m[1]) * { h: 3_600_000, m: 60_000, s: 1000, ms: 1 }[m[2] as 'h' | 'm' | 's' | 'ms'];
    used += m[0].length;
  }
  if (used === 0 || used !== t.length || !(ms > 0))
    throw new FlagError(`--${flag}: expected a duration such as 90s, 5m or 1h30m, got ${v}`);
  return ms;
}

function positive(flag: string, v: string | undefined, dflt: number, min = 1): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new FlagError(`--${flag}: expected a number >= ${min}, got ${v}`);
  return n;
}

function optionalPositive(flag: string, v: string | undefined, min: number): number | undefined {
  return v === undefined ? undefined : positive(flag, v, 0, min);
}

function clockStart(v: string | undefined): number | 'auto' | undefined {
  if (v === undefined || v === 'auto') return v;
  const t = Date.parse(v);
  if (!Number.isFinite(t)) throw new FlagError(`--clock-start: expected an ISO 8601 time or auto, got ${v}`);
  return t;
}

function bool(flag: string, v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  if (v !== 'true' && v !== 'false') throw new FlagError(`--${flag}: expected true or false, got ${v}`);
  return v === 'true';
}

function logFormat(v: string | undefined): LogFormat | undefined {
  if (v === undefined) return undefined;
  if (!(LOG_FORMATS as readonly string[]).includes(v))
    throw new FlagError(`--log-format: expected ${LOG_FORMATS.join(', ')}, got ${v}`);
  return v as LogFormat;
}

export function parseFlags(argv: string[], env: NodeJS.ProcessEnv = process.env): OperatorFlags {
  try {
    return parseFlagsOrThrow(argv, env);
  } catch (e) {
    // node:util's own errors (unknown flag, missing value, stray argument) are usage errors too.
    if ((e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) throw new FlagError((e as Error).message);
    throw e;
  }
}

function parseFlagsOrThrow(argv: string[], env: NodeJS.ProcessEnv): OperatorFlags {
  const s = { type: 'string' } as const;
  const { values: v } = parseArgs({
    args: argv,
    options: {
      kubeconfig: s,
      embedded: { type: 'boolean', default: false },
      namespace: s,
      'leader-elect': s,
      'health-addr': { type: 'string', default: '0.0.0.0:8081' },
      'audit-dir': s,
      'cluster-id': s,
      'log-level': { type: 'string', default: env.LOG_LEVEL ?? 'info' },
      'log-format': s,
      duration: s,
      'local-inference': s,
      'model-server-image': s,
      'accounting-interval-seconds': s,
      'exit-after-seconds': s,
      'clock-speedup': s,
      'clock-start': s,
      'clock-trace': s,
      'reconcile-concurrency': s,
      'reconcile-qps': s,
      'reconcile-burst': s,
      'kube-api-qps': s,
      'kube-api-burst': s,
      ...METER_FLAG_OPTIONS,
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (v.duration !== undefined && v['exit-after-seconds'] !== undefined)
    throw new FlagError('--duration and --exit-after-seconds say the same thing: give one');
  const exitAfter =
    v.duration !== undefined
      ? parseDuration('duration', v.duration) / 1000
      : optionalPositive('exit-after-seconds', v['exit-after-seconds'], 0.001);
  const format = logFormat(v['log-format']);
  const localInference = bool('local-inference', v['local-inference']);
  const speedup = optionalPositive('clock-speedup', v['clock-speedup'], 0.001);
  const start = clockStart(v['clock-start']);
  const leaderElect = bool('leader-elect', v['leader-elect']);
  // Read only once the cluster is up (the clock starts then): a missing file is said now, naming the flag.
  if (v['clock-trace'] !== undefined) checkInputFile('--clock-trace', v['clock-trace']);
  const f: OperatorFlags = {
    embedded: v.embedded,
    healthAddr: v['health-addr'],
    logLevel: v['log-level'],
    localInference: localInference ?? true,
    accountingIntervalMs: positive('accounting-interval-seconds', v['accounting-interval-seconds'], 60) * 1000,
    reconcileConcurrency: positive('reconcile-concurrency', v['reconcile-concurrency'], 4),
    reconcileQps: positive('reconcile-qps', v['reconcile-qps'], 20, 0.001),
    reconcileBurst: positive('reconcile-burst', v['reconcile-burst'], 50),
    kubeApiQps: positive('kube-api-qps', v['kube-api-qps'], 50, 0.001),
    kubeApiBurst: positive('kube-api-burst', v['kube-api-burst'], 100),
    meters: meterFlags(v, (m) => new FlagError(m)),
    help: v.help,
    ...(v.kubeconfig !== undefined ? { kubeconfig: v.kubeconfig } : {}),
    ...(format !== undefined ? { logFormat: format } : {}),
    ...(v.namespace !== undefined ? { namespace: v.namespace } : {}),
    ...(leaderElect !== undefined ? { leaderElect } : {}),
    ...(v['audit-dir'] !== undefined ? { auditDir: v['audit-dir'] } : {}),
    ...(v['cluster-id'] !== undefined ? { clusterId: v['cluster-id'] } : {}),
    ...(v['model-server-image'] !== undefined ? { modelServerImage: v['model-server-image'] } : {}),
    ...(exitAfter !== undefined ? { exitAfterMs: exitAfter * 1000 } : {}),
    ...(speedup !== undefined ? { clockSpeedup: speedup } : {}),
    ...(start !== undefined ? { clockStart: start } : {}),
    ...(v['clock-trace'] !== undefined ? { clockTrace: v['clock-trace'] } : {}),
  };
  if (f.clockStart !== undefined && f.clockSpeedup === undefined && !f.embedded && !wantsEmbedded(f, env))
    throw new FlagError('--clock-start: only with --clock-speedup (a replay) or the embedded default');
  return f;
}

/** The embedded local cluster: asked for, or nothing else configured. */
export function wantsEmbedded(
  f: Pick<OperatorFlags, 'embedded' | 'kubeconfig'>,
  env: NodeJS.ProcessEnv,
  inCluster = false,
): boolean {
  return f.embedded || (!f.kubeconfig && !env.KUBECONFIG && !inCluster);
}
