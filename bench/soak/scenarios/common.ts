// Helpers the scenarios share: the leader process, waiting for quiet, a burst of spec changes, convergence.
import { objectPath, Resources } from '../../../operator/kube/kube-client.ts';
import { countByVerbResource, describeCounts, isLeaseTraffic, isWrite, type AuditRequest } from '../apiserver-audit.ts';
import { readTrail, type Trail } from '../audit-trail.ts';
import { HARNESS_MANAGER, inferenceService, inParallel, type ServiceRef } from '../fixtures.ts';
import { sleep, type OperatorProcess } from '../operator-process.ts';
import { OPERATOR_USERS } from '../soak-cluster.ts';
import { keyOf } from '../world-view.ts';
import type { SoakContext } from './context.ts';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const auditDirOf = (ctx: SoakContext) => `${ctx.opts.work}/audit`;

/** The leader's accounting interval (--accounting-interval-seconds): one usage row per service per interval. */
export const ACCOUNTING_INTERVAL_S = 10;

/** The running leader, or a fresh one (leader election on, the soak's audit directory, usage rows every interval). */
export async function ensureLeader(ctx: SoakContext, extraArgs: string[] = []): Promise<OperatorProcess> {
  if (ctx.leader?.running) return ctx.leader;
  const op =
    ctx.leader ??
    ctx.env.operator(OPERATOR_USERS[0], {
      leaderElect: true,
      auditDir: auditDirOf(ctx),
      args: ['--accounting-interval-seconds', String(ACCOUNTING_INTERVAL_S), ...extraArgs],
    });
  await op.start();
  await op.waitReady(ctx.opts.timeoutMs);
  ctx.leader = op;
  return op;
}

/**
 * Waits until the trail in `dir` holds more than `moreThan` usage rows: an accounting interval has ended and been
 * accounted. Rows come at interval boundaries (aligned to the clock), so the first needs up to two intervals after a
 * start; the bound is counted in intervals (`intervals`, default 4), never in seconds tuned to a machine. Returns the
 * trail as it was read last (the caller asserts what it needs of it).
 */
export async function untilUsageRows(dir: string, moreThan: number, intervals = 4): Promise<Trail> {
  const end = Date.now() + intervals * ACCOUNTING_INTERVAL_S * 1000;
  for (;;) {
    const t = await readTrail(dir);
    if (t.usage.size > moreThan || Date.now() > end) return t;
    await sleep(500);
  }
}

export interface SettleResult {
  /** True: a window of `settleMs` inside the call held no operator write; false: none did before `timeoutMs`. */
  settled: boolean;
  /** From the call to the verdict. */
  waitedMs: number;
  /** The operators' writes in the last window looked at (empty when settled). */
  writes: AuditRequest[];
}

const operatorWrites = (ctx: SoakContext, fromMs: number) =>
  ctx.audit.between(OPERATOR_USERS, fromMs).filter((x) => isWrite(x) && !isLeaseTraffic(x) && x.resource !== 'events');

/**
 * Waits until the operators have made no write (but Lease renewals and Events) for `settleMs`, at most `timeoutMs`.
 * The quiet window lies wholly inside this call, so settle waits at least `settleMs`: quiet before the call says
 * nothing (the operators may not have started on what the caller just changed, or not have started at all).
 * Returns whether it settled; a caller reports a timeout (settledOrRow) instead of measuring "quiet" that was not.
 */
export async function settle(ctx: SoakContext, settleMs = 10_000, timeoutMs = 120_000): Promise<SettleResult> {
  if (!(settleMs > 0) || !(timeoutMs >= settleMs)) {
    throw new RangeError(`settle: timeoutMs (${timeoutMs}) must be at least settleMs (${settleMs}), and settleMs > 0`);
  }
  const start = Date.now();
  const end = start + timeoutMs;
  await sleep(settleMs);
  for (;;) {
    const now = Date.now();
    const writes = operatorWrites(ctx, now - settleMs);
    if (writes.length === 0) return { settled: true, waitedMs: now - start, writes };
    if (now >= end) return { settled: false, waitedMs: now - start, writes };
    // The earliest a quiet window can end is settleMs after the latest write; never look past the deadline.
    const latest = Math.max(...writes.map((w) => w.atMs));
    await sleep(Math.max(200, Math.min(latest + settleMs - now, end - now)));
  }
}

/**
 * settle(), and when it times out a failing row in `scenario` (and a log line) saying before what the operators
 * were still writing, with the writes of the last window: what follows was measured on a state that was not quiet.
 */
export async function settledOrRow(
  ctx: SoakContext,
  scenario: string,
  before: string,
  settleMs = 10_000,
  timeoutMs = 120_000,
): Promise<boolean> {
  const s = await settle(ctx, settleMs, timeoutMs);
  if (!s.settled) {
    const writes = describeCounts(countByVerbResource(s.writes));
    ctx.log(`${scenario}: not quiet within ${timeoutMs / 1000} s before ${before}; last window's writes: ${writes}`);
    ctx.results.check(
      scenario,
      `before ${before}: operators quiet (no write but Leases and Events) for ${settleMs / 1000} s`,
      false,
      `still writing after ${(s.waitedMs / 1000).toFixed(0)} s`,
      `quiet within ${timeoutMs / 1000} s`,
      writes,
    );
  }
  return s.settled;
}

let burstNo = 0;
/** A spec change of every service (max replicas 2 ↔ 3): one pass each, a burst of work. */
export async function specBurst(ctx: SoakContext, of: readonly ServiceRef[] = ctx.world.services): Promise<void> {
  const max = ++burstNo % 2 === 1 ? 3 : 2;
  await inParallel(of, 16, (s) => {
    const o = inferenceService(s, ctx.world.spec) as Any;
    o.spec.replicas.max = max;
    return withRetries(() =>
      ctx.env.client.apply(objectPath(Resources.inferenceService, s.name, s.namespace), o, true, HARNESS_MANAGER),
    );
  });
}

/** The harness's own writes ride out a loaded or restarting apiserver: three tries, a second apart. */
export async function withRetries<T>(f: () => Promise<T>, tries = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await f();
    } catch (e) {
      if (i >= tries) throw e;
      await sleep(1000);
    }
  }
}

/** Starts a burst in the background; its failure is kept for `await`, never an unhandled rejection. */
export function backgroundBurst(ctx: SoakContext): Promise<unknown> {
  return specBurst(ctx).then(
    () => undefined,
    (e: unknown) => e,
  );
}

/** Waits until every service is reconciled at its current generation with its Deployment; returns those that are not. */
export function converged(ctx: SoakContext, timeoutMs = ctx.opts.timeoutMs): Promise<ServiceRef[]> {
  return ctx.view.waitAll((s) => {
    const i = ctx.view.isvcs.objects.get(keyOf(s)) as Any | undefined;
    return !!i && i.status?.observedGeneration === i.metadata?.generation && ctx.view.deployments.objects.has(keyOf(s));
  }, timeoutMs);
}

export function convergedRow(ctx: SoakContext, scenario: string, what: string, left: readonly ServiceRef[]) {
  const n = ctx.world.services.length;
  ctx.results.check(
    scenario,
    what,
    left.length === 0,
    `${n - left.length} of ${n}`,
    'all',
    left.slice(0, 3).map(keyOf).join(', '),
  );
}

export async function eventsSince(ctx: SoakContext, reason: string, sinceMs: number): Promise<string[]> {
  const l = await ctx.env.client.listAll<Any>('/apis/events.k8s.io/v1/events');
  return l.items
    .filter((e) => e.reason === reason)
    .filter(
      (e) => Date.parse(e.series?.lastObservedTime ?? e.eventTime ?? e.metadata?.creationTimestamp) >= sinceMs - 1000,
    )
    .map((e) => `${e.regarding?.namespace}/${e.regarding?.name}: ${String(e.note).slice(0, 160)}`);
}
