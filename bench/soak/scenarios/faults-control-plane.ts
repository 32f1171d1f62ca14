// Faults of the control plane: the kube-apiserver stopped for 30 s then restarted (fault 2), etcd restarted
// (fault 3). The informers must recover without a process restart and without a relist storm: the LISTs each
// resource gets after the outage are counted in the apiserver's audit log, and a change made after the outage
// must still be reconciled.
import { describeCounts, listsOf } from '../apiserver-audit.ts';
import { sleep, type OperatorProcess } from '../operator-process.ts';
import { OPERATOR_USERS } from '../soak-cluster.ts';
import type { Scenario, SoakContext } from './context.ts';
import { auditDirOf, converged, convergedRow, ensureLeader, settledOrRow, specBurst } from './common.ts';

/** Lists (first pages) and pages answered 200 per resource in [fromMs, now), and the most lists of one resource. */
function listsSince(ctx: SoakContext, fromMs: number) {
  return listsOf(ctx.audit.between(OPERATOR_USERS, fromMs, Date.now()));
}

/** The outage, then: process alive, LISTs per cache, a later change reconciled. */
async function rideOut(
  ctx: SoakContext,
  scenario: string,
  op: OperatorProcess,
  outage: () => Promise<void>,
  what: string,
) {
  const r = ctx.results;
  await settledOrRow(ctx, scenario, what);
  const t0 = Date.now();
  const starts = op.starts;
  await outage();
  await sleep(20_000);
  r.check(
    scenario,
    `${what}: operator process still running, not restarted`,
    op.running && op.starts === starts,
    op.running ? 'running' : `exited ${JSON.stringify(await op.exited)}`,
    'running',
    op.logTail(8),
  );
  const l = listsSince(ctx, t0);
  r.atMost(
    scenario,
    `${what}: lists per cache after the outage (the most for one resource; a paginated list counts once)`,
    l.max,
    '',
    1,
    'invariant',
    describeCounts(l.lists, 10),
  );
  r.info(
    scenario,
    `${what}: lists by resource; LIST requests (pages)`,
    `${describeCounts(l.lists, 10)}; ${describeCounts(l.pages, 10)}`,
  );
  await specBurst(ctx);
  convergedRow(
    ctx,
    scenario,
    `${what}: a spec change after the outage is reconciled (informers recovered)`,
    await converged(ctx),
  );
}

export const apiserverOutage: Scenario = {
  name: 'apiserver-outage',
  async run(ctx) {
    const S = 'fault 2: apiserver down 30 s';
    // With leader election the operator exits once the apiserver is away past the lease (as controller-runtime
    // does; kubelet restarts it): the informers' recovery is measured on a replica without leader election.
    const leader = await ensureLeader(ctx);
    await leader.stop();
    const solo = ctx.env.operator(OPERATOR_USERS[1], {
      leaderElect: false,
      auditDir: auditDirOf(ctx),
      args: ['--accounting-interval-seconds', '10'],
    });
    await solo.start();
    await solo.waitReady(ctx.opts.timeoutMs);
    await rideOut(
      ctx,
      S,
      solo,
      async () => {
        await ctx.env.cp.stopApiserver();
        await sleep(30_000);
        await ctx.env.cp.restartApiserver();
      },
      'leader election off',
    );
    await solo.stop();
    await ensureLeader(ctx);
  },
};

export const etcdRestart: Scenario = {
  name: 'etcd-restart',
  async run(ctx) {
    const S = 'fault 3: etcd restarted';
    const op = await ensureLeader(ctx);
    await rideOut(
      ctx,
      S,
      op,
      async () => {
        await ctx.env.cp.restartEtcd();
      },
      'leader election on',
    );
    if (!op.running) await ensureLeader(ctx);
  },
};
