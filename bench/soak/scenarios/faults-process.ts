// Faults of the operator process: kill -9 during a reconcile burst and during the audit sink's rotation at stop
// (fault 1), and a leader failover under load (fault 4). The audit trail is checked as an auditor would: every
// record acknowledged before a kill is still there, and `audit verify` finds no gap, duplicate or broken chain.
import { countByVerbResource, describeCounts, isLeaseTraffic, isWrite } from '../apiserver-audit.ts';
import { auditVerify, lost, readTrail } from '../audit-trail.ts';
import { sleep } from '../operator-process.ts';
import { OPERATOR_NAMESPACE, OPERATOR_USERS } from '../soak-cluster.ts';
import { objectPath, Resources } from '../../../operator/kube/kube-client.ts';
import type { Scenario } from './context.ts';
import {
  ACCOUNTING_INTERVAL_S,
  auditDirOf,
  backgroundBurst,
  converged,
  convergedRow,
  ensureLeader,
  settledOrRow,
  untilUsageRows,
} from './common.ts';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const F1 = 'fault 1: kill -9';

export const killDuringWork: Scenario = {
  name: 'kill-9',
  async run(ctx) {
    const { results: r } = ctx;
    const dir = auditDirOf(ctx);
    const op = await ensureLeader(ctx);
    await settledOrRow(ctx, F1, 'the kills');
    // The kills must land on a trail that holds usage rows (an accounting interval accounted), or "no acknowledged
    // record lost" says nothing of the usage stream: rows come only at interval boundaries.
    const first = await untilUsageRows(dir, 0);
    r.check(
      F1,
      'before the kills: the trail holds usage rows (an accounting interval accounted)',
      first.usage.size > 0,
      `${first.usage.size} usage, ${first.decision.size} decision`,
      '> 0 usage',
      `none within 4 accounting intervals of ${ACCOUNTING_INTERVAL_S} s`,
    );
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
      await settledOrRow(ctx, F1, `the kill -9 ${delayMs} ms after SIGTERM`, 5000);
      // Usage rows of this process still in the journal (rotation is hourly): what the stop rotates into Parquet.
      const before = await untilUsageRows(dir, (await readTrail(dir)).usage.size);
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
    await settledOrRow(ctx, F1, "counting the restarted operator's new intervals", 5000);
    // The accountant goes on after the kills: the restarted process adds rows of its own (a re-accounted interval
    // keeps its record id, so only a new interval adds one).
    const last = (await readTrail(dir)).usage.size;
    const held = await untilUsageRows(dir, last);
    r.check(
      F1,
      'after the kills: the restarted operator accounts new intervals (final files and journal)',
      held.usage.size > last,
      `${held.usage.size - last} new usage (${held.usage.size} usage, ${held.decision.size} decision in all)`,
      '> 0 new usage',
      `none within 4 accounting intervals of ${ACCOUNTING_INTERVAL_S} s`,
    );
    // A graceful stop rotates the journal into final files, so verify reads every row of the run, across the kills
    // (the last kill may leave them all in the journal, where verify only counts them as pending).
    await op.stop();
    const final = await readTrail(dir);
    const lostAtStop = lost(held, final);
    const v = auditVerify(dir);
    const verifiedUsage = Number(/(\d+) usage rows/.exec(v.summary)?.[1] ?? NaN);
    r.check(
      F1,
      'audit verify after the kills and a graceful stop (no gap, no duplicate, chain intact; every usage row in a file)',
      v.ok && lostAtStop.length === 0 && verifiedUsage >= held.usage.size,
      v.summary,
      `exit 0, ≥ ${held.usage.size} usage rows, 0 lost`,
      `${lostAtStop.length} lost at the stop (${lostAtStop.slice(0, 5).join(', ')})\n${v.output}`,
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
    await settledOrRow(ctx, F4, 'the standby check');
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
    await settledOrRow(ctx, F4, 'audit verify after the failover', 5000);
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
