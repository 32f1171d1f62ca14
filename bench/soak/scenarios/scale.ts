// Scale: N InferenceServices over namespaces and carbon regions, the operator (leader election on) started from
// its CLI after they exist. Measured from outside: time to all reconciled, the quiet state's requests, a carbon
// step in one region, the footprint, LISTs after an apiserver restart, and a kill -9 restart.
import {
  countByVerbResource,
  describeCounts,
  isLeaseTraffic,
  isWrite,
  listsOf,
  type AuditRequest,
} from '../apiserver-audit.ts';
import { applySource, sourceName, traceSource, type ServiceRef } from '../fixtures.ts';
import { changeCounts } from '../object-tracker.ts';
import { sleep, sumMetric, type OperatorProcess } from '../operator-process.ts';
import { cpuByProcess, describeCpuDelta } from '../process-cpu.ts';
import { quantile } from '../results.ts';
import { OPERATOR_USERS } from '../soak-cluster.ts';
import { keyOf } from '../world-view.ts';
import type { Scenario, SoakContext } from './context.ts';
import { ensureLeader, eventsSince, settledOrRow } from './common.ts';

const S = 'scale';

export const scale: Scenario = {
  name: S,
  async run(ctx) {
    const { view, world, results: r, opts } = ctx;
    const t0 = Date.now();
    const op = await ensureLeader(ctx);
    const left = await view.waitAll((s) => view.reconciled(s), opts.timeoutMs);
    const times = world.services.map((s) => view.reconciledAt(s, t0)).filter((t): t is number => t !== undefined);
    const secs = times.map((t) => (t - t0) / 1000);
    r.check(
      S,
      `services reconciled (status at generation, Deployment exists)`,
      left.length === 0,
      `${world.services.length - left.length} of ${world.services.length}`,
      'all',
      left.slice(0, 3).map(keyOf).join(', '),
    );
    r.add(S, 'time from operator start to reconciled: p50', `${quantile(secs, 0.5).toFixed(1)} s`, '—', null, 'timing');
    r.add(S, 'time from operator start to reconciled: max', `${quantile(secs, 1).toFixed(1)} s`, '—', null, 'timing');

    await quiet(ctx, op, 'quiet state');
    await footprint(ctx, op, 'after convergence');
    await carbonStep(ctx, op);
    await footprint(ctx, op, 'after the carbon step');
    await observedGeneration(ctx);
    await apiserverRestart(ctx);
    await killRestart(ctx);
  },
};

async function quiet(ctx: SoakContext, op: OperatorProcess, label: string): Promise<void> {
  const { audit, results: r, opts, view } = ctx;
  // Quiet means past a whole policy interval with no write: writes due at interval boundaries show up here.
  const interval = ctx.world.spec.intervalSeconds * 1000;
  // Steady state is a cluster that stopped moving: at 2,000 services the controller-manager (20 writes/s) and kwok
  // are still making pods ready minutes after the last Deployment, and each pod that turns ready is a real change
  // of status.readyReplicas and the Ready condition. Wait for them first (and say how long it took).
  const rollStart = Date.now();
  while (view.deploymentsRollingOut() > 0 && Date.now() - rollStart < 10 * interval) await sleep(2000);
  r.info(
    S,
    `${label}: wait for every Deployment's pods to be ready (the cluster's own rollout)`,
    `${((Date.now() - rollStart) / 1000).toFixed(0)} s; ${view.deploymentsRollingOut()} still rolling out`,
  );
  await settledOrRow(ctx, S, `the ${label} window`, interval + 5000, 3 * interval);
  const from = Date.now();
  const socketsBefore = op.connectionIdsTo(ctx.env.cp.apiPort);
  const cpu0 = op.cpuSeconds() ?? NaN;
  await sleep(opts.quietSeconds * 1000);
  const cpu1 = op.cpuSeconds() ?? NaN;
  r.add(
    S,
    `${label}: operator CPU (/proc/PID/stat utime+stime)`,
    `${(((cpu1 - cpu0) / opts.quietSeconds) * 1000).toFixed(0)} mCPU`,
    '—',
    null,
    'footprint',
  );
  const socketsAfter = op.connectionIdsTo(ctx.env.cp.apiPort);
  const opened = [...socketsAfter].filter((s) => !socketsBefore.has(s)).length;
  const rs = audit.between(OPERATOR_USERS, from, Date.now());
  const writes = rs.filter((x) => isWrite(x) && !isLeaseTraffic(x));
  const reads = rs.filter((x) => (x.verb === 'get' || x.verb === 'list') && !isLeaseTraffic(x));
  const mins = `${opts.quietSeconds} s`;
  r.info(S, `${label}: every request over ${mins} (apiserver audit log)`, describeCounts(countByVerbResource(rs)));
  r.check(
    S,
    `${label}: writes over ${mins}, Lease renewals aside`,
    writes.length === 0,
    String(writes.length),
    '0',
    describeCounts(countByVerbResource(writes)),
  );
  r.info(S, `${label}: what the InferenceService writes changed (status paths)`, statusChanges(ctx, from, Date.now()));
  r.check(
    S,
    `${label}: GETs and LISTs over ${mins} (children from watch caches)`,
    reads.length === 0,
    String(reads.length),
    '0',
    describeCounts(countByVerbResource(reads)),
  );
  r.info(S, `${label}: Lease requests over ${mins}`, String(rs.filter(isLeaseTraffic).length));
  r.check(
    S,
    `${label}: new connections to the apiserver over ${mins} (TLS handshakes; keep-alive pool)`,
    opened === 0,
    String(opened),
    '0',
  );
}

async function footprint(ctx: SoakContext, op: OperatorProcess, label: string): Promise<void> {
  const { results: r, env } = ctx;
  const mem = op.memory();
  const m = await op.metrics().catch(() => new Map<string, number>());
  const heap = sumMetric(m, 'nodejs_heap_size_used_bytes') / 2 ** 20;
  const heapTotal = sumMetric(m, 'nodejs_heap_size_total_bytes') / 2 ** 20;
  const n = ctx.world.services.length;
  if (mem)
    r.atMost(
      S,
      `operator RSS ${label} (/proc VmRSS, ${n} services)`,
      Number(mem.rssMiB.toFixed(0)),
      'MiB',
      300,
      'footprint',
    );
  if (mem) r.info(S, `operator peak RSS so far (VmHWM)`, `${mem.peakRssMiB.toFixed(0)} MiB`);
  // Big audit rotations encode in a child process (ADR 0202): its memory is the pod's while it runs, not the
  // operator's after. The operator logs each child's peak.
  const encoders = op.logLines().filter((l) => l.message === 'audit file encoded in a child process');
  if (encoders.length > 0)
    r.info(
      S,
      `audit files encoded in a child process so far / the children's highest peak RSS (log)`,
      `${encoders.length} / ${Math.max(...encoders.map((l) => Number(l.encoder_peak_rss_mib)))} MiB`,
    );
  r.info(
    S,
    `operator JS heap used / total ${label} (nodejs_heap_size_*_bytes)`,
    `${heap.toFixed(0)} / ${heapTotal.toFixed(0)} MiB`,
  );
  const byMap = op.rssByMapping();
  if (byMap)
    r.info(
      S,
      `operator RSS by mapping ${label} (/proc smaps): anonymous (JS heap, malloc arenas, buffers) / malloc brk / files; V8 external`,
      `${byMap.anonymous.toFixed(0)} / ${byMap.brk.toFixed(0)} / ${byMap.files.toFixed(0)} MiB; ${(sumMetric(m, 'nodejs_external_memory_bytes') / 2 ** 20).toFixed(0)} MiB`,
    );
  // Every watch holds a connection of its own (HTTP/1.1); requests share the keep-alive pool.
  r.info(
    S,
    `TCP (TLS) connections to the apiserver ${label} (/proc/PID/net/tcp; watches + pool)`,
    String(op.connectionsTo(env.cp.apiPort)),
  );
  const cpu = op.cpuSeconds();
  if (cpu !== undefined) r.info(S, `operator CPU used so far ${label}`, `${cpu.toFixed(1)} s`);
}

/** Region 0's trace moves to a dirty hour: its eco services swap; nothing else is written. */
async function carbonStep(ctx: SoakContext, op: OperatorProcess): Promise<void> {
  const { env, view, world, audit, results: r, opts } = ctx;
  const region = world.regions[0]!;
  const inRegion = world.services.filter((s) => s.region === region);
  const eco = inRegion.filter((s) => s.tier === 'eco');
  const pids = new Set([op.pid ?? -1]);
  const cpu0 = cpuByProcess(pids);
  const t0 = Date.now();
  await applySource(env.client, traceSource(sourceName(region), world.traceFiles[region]!, t0, 30));
  const notSwapped = await view.waitAll((s) => view.variant(s) === 'small', opts.timeoutMs, eco);
  const tSwapped = Date.now();
  const cpu1 = cpuByProcess(pids);
  const seen = inRegion
    .map(
      (s) => (view.isvcs.history.get(keyOf(s)) ?? []).find((h) => h.atMs >= t0 && intensityOf(h.object) >= 800)?.atMs,
    )
    .filter((t): t is number => t !== undefined);
  if (seen.length)
    r.info(
      S,
      'carbon step: signal → first status showing the new intensity (the operator saw it)',
      `${((Math.min(...seen) - t0) / 1000).toFixed(1)} s`,
    );
  const swapTimes = eco
    .map((s) => view.changesSince(s, t0).find((c) => c.variant === 'small')?.atMs)
    .filter((t): t is number => t !== undefined);
  const lastS = swapTimes.length ? (Math.max(...swapTimes) - t0) / 1000 : NaN;
  r.check(
    S,
    `carbon step in ${region}: eco services swapped to the smaller variant`,
    notSwapped.length === 0,
    `${eco.length - notSwapped.length} of ${eco.length}`,
    'all',
    notSwapped
      .slice(0, 3)
      .map((s) => `${keyOf(s)} ${JSON.stringify(view.status(s)?.lastDecision)}`)
      .join('; '),
  );
  r.atMost(S, 'carbon step: signal → last affected Deployment updated', Number(lastS.toFixed(1)), 's', 30, 'timing');
  const sinceStep = (q: number) => `${((quantile(swapTimes, q) - t0) / 1000).toFixed(1)} s`;
  r.info(S, 'carbon step: signal → Deployment updated, p50', sinceStep(0.5));
  r.info(S, 'carbon step: signal → Deployment updated, p10 / p90', `${sinceStep(0.1)} / ${sinceStep(0.9)}`);
  // Where the step's time went: the CPU of every process on the machine, and the operator's requests.
  r.info(S, 'carbon step: CPU by process until the last swap', describeCpuDelta(cpu0, cpu1, (tSwapped - t0) / 1000));
  r.info(
    S,
    'carbon step: operator requests until the last swap',
    describeCounts(
      countByVerbResource(audit.between(OPERATOR_USERS, t0, tSwapped).filter((x) => !isLeaseTraffic(x))),
      10,
    ),
  );
  const windowEnd = Date.now() + opts.stepWindowSeconds * 1000;
  await sleep(Math.max(0, windowEnd - Date.now()));
  const reverted = eco.filter((s) => view.changesSince(s, t0).some((c) => c.variant === 'full'));
  r.check(
    S,
    `carbon step: swaps reverted within ${Math.round((Date.now() - t0) / 1000)} s of the step`,
    reverted.length === 0,
    String(reverted.length),
    '0',
    reverted.slice(0, 3).map(keyOf).join(', '),
  );
  const premiumChanged = inRegion.filter((s) => s.tier === 'premium' && view.changesSince(s, t0).length > 0);
  r.check(
    S,
    'carbon step: premium services of the region changed variant',
    premiumChanged.length === 0,
    String(premiumChanged.length),
    '0',
  );
  const others = audit
    .between(OPERATOR_USERS, t0, Date.now())
    .filter((x) => isWrite(x) && !isLeaseTraffic(x) && (view.serviceOf(x)?.region ?? region) !== region);
  r.check(
    S,
    'carbon step: writes to services in other regions',
    others.length === 0,
    String(others.length),
    '0',
    describeWrites(ctx, others),
  );
  r.info(
    S,
    'carbon step: what the writes to other regions changed (status paths)',
    statusChanges(ctx, t0, Date.now(), (s) => s.region !== region),
  );
  // The quiet minutes after the step: no swap writes, nothing at all but Leases.
  const interval = ctx.world.spec.intervalSeconds * 1000;
  await settledOrRow(ctx, S, 'the quiet minutes after the carbon step', interval + 5000, 3 * interval);
  const from = Date.now();
  await sleep(opts.quietSeconds * 1000);
  const after = audit.between(OPERATOR_USERS, from, Date.now()).filter((x) => isWrite(x) && !isLeaseTraffic(x));
  const swaps = eco.filter((s) => view.changesSince(s, from).length > 0);
  r.check(
    S,
    `after the step: variant changes over ${opts.quietSeconds} quiet s`,
    swaps.length === 0,
    String(swaps.length),
    '0',
    swaps.slice(0, 3).map(keyOf).join(', '),
  );
  r.check(
    S,
    `after the step: writes over ${opts.quietSeconds} quiet s, Leases aside`,
    after.length === 0,
    String(after.length),
    '0',
    describeWrites(ctx, after),
  );
  void op;
}

/** Which status paths changed how often in [fromMs, toMs), over the services `which` keeps, most frequent first. */
function statusChanges(ctx: SoakContext, fromMs: number, toMs: number, which = (_s: ServiceRef) => true): string {
  const hs = ctx.world.services.filter(which).map((s) => ctx.view.isvcs.history.get(keyOf(s)) ?? []);
  const c = changeCounts(hs, fromMs, toMs);
  return describeCounts(Object.fromEntries(Object.entries(c).sort((a, b) => b[1] - a[1])), 8);
}

function describeWrites(ctx: SoakContext, ws: readonly AuditRequest[]): string {
  const eg = ws
    .slice(0, 3)
    .map(
      (w) =>
        `${w.verb} ${w.resource}${w.subresource ? '/' + w.subresource : ''} ${w.namespace}/${w.name} (${ctx.view.serviceOf(w)?.region ?? '?'})`,
    );
  return `${describeCounts(countByVerbResource(ws))}; e.g. ${eg.join('; ')}`;
}

async function observedGeneration(ctx: SoakContext): Promise<void> {
  const { env, world, results: r } = ctx;
  type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const lag: string[] = [];
  const deadline = Date.now() + 30_000;
  for (;;) {
    lag.length = 0;
    for (const region of world.regions) {
      const cs = (await env.client.get<Any>(
        `/apis/carbonscale.dev/v1alpha1/carbonsources/${sourceName(region)}`,
      )) as Any;
      if (cs.status?.observedGeneration !== cs.metadata?.generation)
        lag.push(
          `${sourceName(region)}: generation ${cs.metadata?.generation}, observed ${cs.status?.observedGeneration}`,
        );
    }
    if (lag.length === 0 || Date.now() > deadline) break;
    await sleep(1000);
  }
  r.check(
    S,
    'CarbonSource status.observedGeneration == metadata.generation',
    lag.length === 0,
    `${world.regions.length - lag.length} of ${world.regions.length}`,
    'all',
    lag.join('; '),
  );
}

/** The apiserver restarted (a few seconds down): how many LISTs each cache sends, and whether the leader survives. */
async function apiserverRestart(ctx: SoakContext): Promise<void> {
  const { env, audit, results: r } = ctx;
  const op = ctx.leader!;
  await settledOrRow(ctx, S, 'the apiserver restart');
  const t0 = Date.now();
  await env.cp.restartApiserver();
  const back = Date.now();
  await sleep(30_000);
  const l = listsOf(audit.between(OPERATOR_USERS, t0, Date.now()));
  r.info(
    S,
    `apiserver restart (down ${((back - t0) / 1000).toFixed(0)} s): lists in the next 30 s by resource; LIST requests (pages)`,
    `${describeCounts(l.lists, 10)}; ${describeCounts(l.pages, 10)}`,
  );
  r.atMost(
    S,
    'apiserver restart: lists per cache (the most for one resource; a paginated list counts once)',
    l.max,
    '',
    1,
    'invariant',
    describeCounts(l.lists, 10),
  );
  const exited = !op.running;
  r.info(
    S,
    'apiserver restart: leader process',
    exited ? `exited (${JSON.stringify(await op.exited)}): lease lost while the apiserver was away` : 'kept running',
  );
  if (exited) {
    await op.start();
    await op.waitReady(ctx.opts.timeoutMs);
    await settledOrRow(ctx, S, 'going on after the leader restarted (it lost its lease in the apiserver restart)');
  }
}

/** kill -9 of the leader; a restart must be invisible: no decision before the first signal, no fallback Events. */
async function killRestart(ctx: SoakContext): Promise<void> {
  const { env, view, world, audit, results: r } = ctx;
  const op = ctx.leader!;
  await settledOrRow(ctx, S, 'the kill -9 of the leader');
  const eco = world.services.filter((s) => s.tier === 'eco');
  const before = new Map(eco.map((s) => [keyOf(s), view.status(s)?.budget?.usedFraction as number | undefined]));
  const variants = new Map(world.services.map((s) => [keyOf(s), view.variant(s)]));
  await op.kill9();
  const t0 = Date.now();
  await op.start();
  await op.waitReady(ctx.opts.timeoutMs);
  await sleep(Math.max(30_000, ctx.opts.quietSeconds * 500));
  const changed = world.services.filter(
    (s) => view.variant(s) !== variants.get(keyOf(s)) || view.changesSince(s, t0).length > 0,
  );
  r.check(
    S,
    'kill -9 and restart: variant changes (no decision before the first signal)',
    changed.length === 0,
    String(changed.length),
    '0',
    changed
      .slice(0, 3)
      .map((s) => `${keyOf(s)}: ${JSON.stringify(view.status(s)?.lastDecision)}`)
      .join('; '),
  );
  const fallbackEvents = await eventsSince(ctx, 'CarbonFallback', t0);
  r.check(
    S,
    'kill -9 and restart: CarbonFallback Events',
    fallbackEvents.length === 0,
    String(fallbackEvents.length),
    '0',
    fallbackEvents.slice(0, 2).join('; '),
  );
  const jumped = eco.filter((s) => {
    const b = before.get(keyOf(s));
    const a = view.status(s)?.budget?.usedFraction as number | undefined;
    return b !== undefined && (a === undefined || a < b - 1e-6 || a > b + 0.01);
  });
  r.check(
    S,
    'kill -9 and restart: eco budget shown unchanged (± 1 point)',
    jumped.length === 0,
    `${jumped.length} changed`,
    '0',
    jumped
      .slice(0, 3)
      .map((s) => `${keyOf(s)} ${before.get(keyOf(s))} → ${view.status(s)?.budget?.usedFraction}`)
      .join('; '),
  );
  const writes = audit
    .between(OPERATOR_USERS, t0, Date.now())
    .filter((x) => isWrite(x) && !isLeaseTraffic(x) && x.resource !== 'events');
  r.info(S, 'kill -9 and restart: writes after the restart', describeCounts(countByVerbResource(writes)));
  // The restart replays the audit journal (up to the 64 MiB pending bound) and relists every cache: its own peak.
  const mem = op.memory();
  if (mem)
    r.info(
      S,
      'kill -9 and restart: restarted operator RSS / peak RSS (VmHWM)',
      `${mem.rssMiB.toFixed(0)} / ${mem.peakRssMiB.toFixed(0)} MiB`,
    );
  void env;
}

function intensityOf(o: unknown): number {
  const v = (o as { status?: { carbon?: { valueGPerKWh?: unknown } } }).status?.carbon?.valueGPerKWh;
  return typeof v === 'number' ? v : NaN;
}
