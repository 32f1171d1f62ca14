// Faults of the machine around the operator: GPU scarcity by a node drain (fault 7), a skewed clock between the
// operator and the apiserver (fault 8), and a full disk under the audit directory (fault 9).
import { execFileSync } from 'node:child_process';
import { objectPath, Resources } from '../../../operator/kube/kube-client.ts';
import { countByVerbResource, describeCounts, isWrite } from '../apiserver-audit.ts';
import { auditVerify, readTrail } from '../audit-trail.ts';
import { HARNESS_MANAGER, inferenceService, inParallel, type ServiceRef } from '../fixtures.ts';
import { sleep, sumMetric } from '../operator-process.ts';
import { OPERATOR_USERS } from '../soak-cluster.ts';
import type { Scenario } from './context.ts';
import { auditDirOf, converged, convergedRow, ensureLeader, eventsSince, settledOrRow, specBurst } from './common.ts';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const cond = (o: Any, type: string) => ((o.status?.conditions ?? []) as Any[]).find((c) => c.type === type);

export const gpuScarcity: Scenario = {
  name: 'gpu-scarcity',
  async run(ctx) {
    const S = 'fault 7: GPU scarcity';
    const { env, audit, results: r } = ctx;
    await ensureLeader(ctx);
    // Two nodes of their own (4 GPUs each, tainted for these services only); 3 services × 2 replicas = 6 GPUs.
    const nodes = ['gpu-scarce-0', 'gpu-scarce-1'];
    await env.cp.createGpuNodes(nodes.map((name) => ({ name, gpus: 4 })));
    for (const n of nodes)
      await env.client.mergePatch(objectPath(Resources.node, n), {
        metadata: { labels: { pool: 'scarce' } },
        spec: { taints: [{ key: 'pool', value: 'scarce', effect: 'NoSchedule' }] },
      });
    const ns = 'soak-gpu';
    await env.client.apply(
      `/api/v1/namespaces/${ns}`,
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
      true,
      HARNESS_MANAGER,
    );
    const refs: ServiceRef[] = [0, 1, 2].map((i) => ({
      namespace: ns,
      name: `gpu-${i}`,
      region: 'GPU',
      tier: 'premium',
    }));
    await inParallel(refs, 3, (s) => {
      const o = inferenceService({ ...s, region: ctx.world.regions[0]! }, ctx.world.spec) as Any;
      o.spec.replicas = { min: 2, max: 2 };
      o.spec.runtime.podTemplate.spec.nodeSelector = { pool: 'scarce' };
      o.spec.runtime.podTemplate.spec.tolerations = [
        { key: 'pool', operator: 'Equal', value: 'scarce', effect: 'NoSchedule' },
      ];
      return env.client.apply(objectPath(Resources.inferenceService, s.name, s.namespace), o, true, HARNESS_MANAGER);
    });
    const get = (s: ServiceRef) => env.client.get<Any>(objectPath(Resources.inferenceService, s.name, s.namespace));
    try {
      const ready = await until(
        async () => (await Promise.all(refs.map(get))).every((o) => o.status?.readyReplicas === 2),
        ctx.opts.timeoutMs,
      );
      r.check(
        S,
        'before: 3 services × 2 replicas Ready on 2 nodes × 4 GPUs',
        ready,
        ready ? 'all Ready' : 'not Ready',
        'all Ready',
      );
      const t0 = Date.now();
      const evicted = await env.cp.drainNodes([nodes[1]!]);
      r.info(S, 'drain of one node (cordon, pods deleted)', `${evicted} pods; 4 GPUs left for 6 planned`);
      const atRisk = await until(
        async () => (await Promise.all(refs.map(get))).some((o) => cond(o, 'SLOAtRisk')?.status === 'True'),
        90_000,
      );
      const all = await Promise.all(refs.map(get));
      const sample = all.find((o) => cond(o, 'SLOAtRisk')?.status === 'True') ?? all[0]!;
      const c = cond(sample, 'SLOAtRisk');
      r.check(
        S,
        'during scarcity: SLOAtRisk=True on a service that lost its GPUs',
        atRisk,
        `${c?.status} ${c?.reason}`,
        'True',
        JSON.stringify(sample.status?.conditions),
      );
      await sleep(45_000);
      const events = [
        ...(await eventsSince(ctx, 'PodsPending', t0)),
        ...(await eventsSince(ctx, 'GpuLimited', t0)),
        ...(await eventsSince(ctx, 'CapacityShort', t0)),
      ].filter((e) => e.startsWith(`${ns}/`));
      r.check(
        S,
        'during scarcity: a Warning Event names the shortage',
        events.length > 0,
        String(events.length),
        '≥ 1',
        events.slice(0, 2).join('; '),
      );
      const deployWrites = audit
        .between(OPERATOR_USERS, t0, Date.now())
        .filter((x) => isWrite(x) && x.resource === 'deployments' && x.namespace === ns);
      const perSvc = Math.max(0, ...Object.values(countBy(deployWrites.map((w) => w.name ?? ''))));
      r.atMost(
        S,
        'during scarcity (60 s): Deployment writes per service (no thrash)',
        perSvc,
        '',
        1,
        'invariant',
        describeCounts(countByVerbResource(deployWrites)),
      );
      const t1 = Date.now();
      await env.cp.setNodesSchedulable([nodes[1]!], true);
      const recovered = await until(
        async () =>
          (await Promise.all(refs.map(get))).every(
            (o) => o.status?.readyReplicas === 2 && cond(o, 'SLOAtRisk')?.status !== 'True',
          ),
        120_000,
      );
      r.check(
        S,
        'after uncordon: every replica Ready and SLOAtRisk cleared',
        recovered,
        recovered ? 'recovered' : JSON.stringify((await get(refs[0]!)).status?.conditions).slice(0, 300),
        'recovered',
      );
      r.add(S, 'uncordon → recovered', `${((Date.now() - t1) / 1000).toFixed(0)} s`, '—', null, 'timing');
    } finally {
      await env.client.delete(`/api/v1/namespaces/${ns}`).catch(() => undefined);
    }
  },
};

export const clockSkew: Scenario = {
  name: 'clock-skew',
  async run(ctx) {
    const S = 'fault 8: clock skew';
    const { env, results: r } = ctx;
    const leader = await ensureLeader(ctx);
    await leader.stop();
    for (const skewS of [180, -180]) {
      // The operator's clock runs skewMs apart from the apiserver's (and the harness's): --clock-speedup 1 with a
      // start that far off is the wall clock shifted. Its own audit directory: the shift is deliberate.
      const start = new Date(Date.now() + skewS * 1000).toISOString();
      const op = env.operator(OPERATOR_USERS[1], {
        leaderElect: true,
        auditDir: `${ctx.opts.work}/audit-skew${skewS}`,
        args: ['--clock-speedup', '1', '--clock-start', start],
      });
      await op.start();
      await op.waitReady(ctx.opts.timeoutMs);
      await specBurst(ctx);
      convergedRow(
        ctx,
        S,
        `operator ${skewS > 0 ? '+' : ''}${skewS} s from the apiserver: spec changes reconciled`,
        await converged(ctx),
      );
      await settledOrRow(ctx, S, `the ${skewS > 0 ? '+' : ''}${skewS} s checks`, 10_000, 60_000);
      const m = await op.metrics();
      const refused = sumMetric(m, 'carbonscale_carbon_rejected_values_total');
      r.check(
        S,
        `${skewS > 0 ? '+' : ''}${skewS} s: carbon values refused (future-time or stale)`,
        refused === 0,
        String(refused),
        '0',
      );
      r.check(
        S,
        `${skewS > 0 ? '+' : ''}${skewS} s: process kept running (leases on the wall clock)`,
        op.running,
        op.running ? 'running' : 'exited',
        'running',
        op.logTail(5),
      );
      await op.stop();
    }
    await ensureLeader(ctx);
  },
};

export const diskFull: Scenario = {
  name: 'disk-full',
  async run(ctx) {
    const S = 'fault 9: audit disk full';
    const { env, results: r } = ctx;
    let disk;
    try {
      disk = env.cp.smallDisk('audit-small', 32 * 2 ** 20);
    } catch (e) {
      r.add(S, 'a small tmpfs for the audit directory', 'not run', 'root', null, 'info', (e as Error).message);
      return;
    }
    const leader = await ensureLeader(ctx);
    await leader.stop();
    const op = env.operator(OPERATOR_USERS[1], {
      leaderElect: true,
      auditDir: disk.path,
      args: ['--accounting-interval-seconds', '5'],
    });
    await op.start();
    await op.waitReady(ctx.opts.timeoutMs);
    const fullSeconds = ctx.opts.quick ? 16 : 30;
    await sleep(fullSeconds * 500);
    const before = await readTrail(disk.path);
    r.info(S, 'audit directory before the disk fills (32 MiB tmpfs)', listing(disk.path));
    const logFrom = op.log().length;
    disk.fill();
    let buffered = 0;
    for (let t = 0; t < fullSeconds; t += 2) {
      await sleep(2000);
      buffered = Math.max(buffered, sumMetric(await op.metrics(), 'carbonscale_audit_buffered_records'));
    }
    const m1 = await op.metrics();
    const said = op
      .log()
      .slice(logFrom)
      .split('\n')
      .find((l) => /audit/.test(l) && /ENOSPC|failing|holding/i.test(l));
    r.check(
      S,
      'disk full: the operator says it holds the records (log line or carbonscale_audit_buffered_records > 0)',
      !!said || buffered > 0,
      said ? said.slice(0, 160) : `buffered ≤ ${buffered}`,
      'said so',
      listing(disk.path),
    );
    const absent = AUDIT_METRICS.filter((n) => !hasMetric(m1, n));
    r.check(
      S,
      'audit metrics on /metrics (carbonscale_audit_healthy, _buffered_records, _dropped_records_total)',
      absent.length === 0,
      absent.length === 0 ? 'exposed' : `absent: ${absent.join(', ')}`,
      'exposed',
    );
    // What an alert reads: the sink says it is not making records durable while the disk refuses them.
    const healthyFull = hasMetric(m1, 'carbonscale_audit_healthy')
      ? String(sumMetric(m1, 'carbonscale_audit_healthy'))
      : 'absent';
    r.check(S, 'disk full: carbonscale_audit_healthy', healthyFull === '0', healthyFull, '0');
    r.check(
      S,
      'disk full: operator still running',
      op.running,
      op.running ? 'running' : 'exited',
      'running',
      op.logTail(5),
    );
    disk.free();
    await sleep(fullSeconds * 1000);
    const m2 = await op.metrics();
    // An absent metric is no figure: a sum over no sample would read 0 and pass.
    const sample = (name: string) => (hasMetric(m2, name) ? String(sumMetric(m2, name)) : 'absent');
    const dropped = sample('carbonscale_audit_dropped_records_total');
    r.check(
      S,
      'after space returns: records dropped (carbonscale_audit_dropped_records_total)',
      dropped === '0',
      dropped,
      '0',
    );
    const drained = sample('carbonscale_audit_buffered_records');
    r.check(
      S,
      'after space returns: buffer drained (carbonscale_audit_buffered_records)',
      drained === '0',
      drained,
      '0',
    );
    const healthy = sample('carbonscale_audit_healthy');
    r.check(S, 'after space returns: carbonscale_audit_healthy', healthy === '1', healthy, '1');
    await op.stop();
    const after = await readTrail(disk.path);
    const missing = [...before.usage].filter((id) => !after.usage.has(id)).length;
    const grew = after.usage.size - before.usage.size;
    r.check(
      S,
      'records written while the disk was full are in the trail after stop',
      missing === 0 && grew > 0,
      `${grew} more usage rows, ${missing} missing`,
      '> 0 more, 0 missing',
    );
    const v = auditVerify(disk.path);
    r.check(S, 'audit verify of the trail that went through the full disk', v.ok, v.summary, 'exit 0', v.output);
    disk.unmount();
    await ensureLeader(ctx);
    void auditDirOf;
  },
};

const AUDIT_METRICS = [
  'carbonscale_audit_healthy',
  'carbonscale_audit_buffered_records',
  'carbonscale_audit_dropped_records_total',
];

/** Whether /metrics has a sample of `name` (labelled or not). */
const hasMetric = (m: Map<string, number>, name: string) =>
  [...m.keys()].some((k) => k === name || k.startsWith(`${name}{`));

function listing(dir: string): string {
  try {
    return execFileSync('du', ['-a', '-k', dir], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .slice(-8)
      .map((l) => l.replace(dir, '.'))
      .join('; ');
  } catch (e) {
    return String(e);
  }
}

async function until(probe: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await probe().catch(() => false)) return true;
    await sleep(1000);
  }
  return false;
}

function countBy(xs: string[]): Record<string, number> {
  const m: Record<string, number> = {};
  for (const x of xs) m[x] = (m[x] ?? 0) + 1;
  return m;
}
