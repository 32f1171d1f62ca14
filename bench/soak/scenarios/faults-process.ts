// Faults of the operator process: kill -9 during a reconcile burst and during the audit sink's rotation at stop
// (fault 1), and a leader failover under load (fault 4). The audit trail is checked as an auditor would: every
// record acknowledged before a kill is still there, and `audit verify` finds no gap, duplicate or broken chain.
import { countByVerbResource, describeCounts, isLeaseTraffic, isWrite } from '../apiserver-audit.ts';
import { auditVerify, lost, readTrail } from '../audit-trail.ts';
import { sleep } from '../operator-process.ts';
import { OPERATOR_NAMESPACE, OPERATOR_USERS } from '../soak-cluster.ts';
import { objectPath, Resources } from '../../../operator/kube/kube-client.ts';
import type { Scenario } from './context.ts';
import { auditDirOf, backgroundBurst, converged, convergedRow, ensureLeader, settle } from './common.ts';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const F1 = 'fault 1: kill -9';

export const killDuringWork: Scenario = {
  name: 'kill-9',
  async run(ctx) {
    const { results: r } = ctx;
    const dir = auditDirOf(ctx);
    const op = await ensureLeader(ctx);
    await settle(ctx);
    // (a) during a reconcile burst
    const burst = backgroundBurst(ctx);
    await sleep(1500);
    const acked = await readTrail(dir);
    await op.kill9();
    const burstError = await burst;
    if (burstError) throw burstError;
    await op.start();
    await op.waitReady(ctx.opts.timeoutMs);
    convergedRow(ctx, F1, 'during a reconcile burst: services converged after the restart', await converged(ctx));
    const lostA = lost(acked, await readTrail(dir));
    r.check(
      F1,
      'during a reconcile burst: audit records acknowledged before the kill and lost',
      lostA.length === 0,
      String(lostA.length),
      '0',
      lostA.slice(0, 5).join(', '),
    );
    // (b) during the audit sink's rotation: SIGTERM starts the ordered stop (the sink rotates what is pending into
    // Parquet as it closes); kill -9 lands at several points of it.
    for (const delayMs of ctx.opts.quick ? [200] : [50, 200, 600]) {
      await settle(ctx, 5000);
      await sleep(3000); // a few usage rows pending
      const before = await readTrail(dir);
      op.signal('SIGTERM');
      await sleep(delayMs);
      await op.kill9();
      const after = await readTrail(dir);
      const l = lost(before, after);
      r.check(
        F1,
        `during the audit rotation at stop (kill -9 ${delayMs} ms after SIGTERM): records lost`,
        l.length === 0,
        String(l.length),
        '0',
        l.slice(0, 5).join(', '),
      );
      await op.start();
      await op.waitReady(ctx.opts.timeoutMs);
    }
    await settle(ctx, 5000);
    const held = await readTrail(dir);
    const heldFigure = `${held.usage.size} usage, ${held.decision.size} decision`;
    r.check(
      F1,
      'the trail holds the records of the run (final files and journal)',
      held.usage.size > 0,
      heldFigure,
      '> 0 usage',
    );
    const v = auditVerify(dir);
    r.check(
      F1,
      'audit verify after the kills (no gap, no duplicate, chain intact)',
      v.ok,
      v.summary,
      'exit 0',
      v.output,
    );
  },
};

const F4 = 'fault 4: leader failover';

export const leaderFailover: Scenario = {
  name: 'leader-failover',
  async run(ctx) {
    const { env, audit, results: r } = ctx;
    const a = await ensureLeader(ctx);
    const b = env.operator(OPERATOR_USERS[1], { leaderElect: true, auditDir: auditDirOf(ctx) });
    await b.start();
    await b.waitReady(ctx.opts.timeoutMs);
    await settle(ctx);
    const tStandby = Date.now();
    await sleep(10_000);
    const standbyWrites = audit.between([OPERATOR_USERS[1]], tStandby, Date.now()).filter((x) => isWrite(x));
    r.check(
      F4,
      'standby: writes while the leader is alive',
      standbyWrites.length === 0,
      String(standbyWrites.length),
      '0',
      describeCounts(countByVerbResource(standbyWrites)),
    );
    const lease = await env.client.get<Any>(objectPath(Resources.lease, 'carbonscale-operator', OPERATOR_NAMESPACE));
    const durationS = Number(lease.spec?.leaseDurationSeconds ?? 15);
    const burst = backgroundBurst(ctx);
    await sleep(1500);
    await a.kill9();
    const tKill = Date.now();
    let tTake = NaN;
    while (Date.now() - tKill < 120_000) {
      const l = await env.client
        .get<Any>(objectPath(Resources.lease, 'carbonscale-operator', OPERATOR_NAMESPACE))
        .catch(() => undefined);
      if (l?.spec?.holderIdentity === OPERATOR_USERS[1]) {
        tTake = Date.now();
        break;
      }
      await sleep(200);
    }
    await burst;
    r.atMost(
      F4,
      `kill -9 of the leader → the standby holds the Lease (lease ${durationS} s, retry 2 s)`,
      Number(((tTake - tKill) / 1000).toFixed(1)),
      's',
      durationS + 2,
      'timing',
    );
    convergedRow(ctx, F4, 'after the failover: services converged under the new leader', await converged(ctx));
    const ws = audit.between(OPERATOR_USERS, tStandby, Date.now()).filter((x) => isWrite(x) && !isLeaseTraffic(x));
    const lastA = Math.max(-Infinity, ...ws.filter((x) => x.user === OPERATOR_USERS[0]).map((x) => x.atMs));
    const firstB = Math.min(Infinity, ...ws.filter((x) => x.user === OPERATOR_USERS[1]).map((x) => x.atMs));
    r.check(
      F4,
      'no two leaders write: last write of the old leader before the first of the new (apiserver audit log)',
      lastA < firstB,
      `old last ${iso(lastA)}, new first ${iso(firstB)}`,
      'old < new',
    );
    await settle(ctx, 5000);
    const v = auditVerify(auditDirOf(ctx));
    r.check(
      F4,
      'audit stream after the failover: audit verify (one writer at a time: no duplicate, no gap)',
      v.ok,
      v.summary,
      'exit 0',
      v.output,
    );
    // The new leader leads from here on; the old one restarts as the standby.
    ctx.leader = b;
    await a.start();
    await a.waitReady(ctx.opts.timeoutMs);
    await a.stop();
  },
};

const iso = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString().slice(11, 23) : 'none');
