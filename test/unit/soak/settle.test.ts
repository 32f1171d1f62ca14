// The soak's settle(): quiet is judged on a window inside the call (writes that start after the call count, so
// "quiet" is never measured before the operators have reacted), Leases, Events and other users' writes do not
// count, and a timeout is returned and recorded as a failing row, never passed over. The writes are apiserver audit
// events appended to a control plane's audit log file and read by the soak's own reader (ApiserverAudit); no
// apiserver is started, settle() reads nothing else.
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { appendFileSync, rmSync } from 'node:fs';
import { after, describe, it } from 'mocha';
import { ApiserverAudit } from '../../../bench/soak/apiserver-audit.ts';
import { sleep } from '../../../bench/soak/operator-process.ts';
import { Results } from '../../../bench/soak/results.ts';
import { settle, settledOrRow } from '../../../bench/soak/scenarios/common.ts';
import type { SoakContext } from '../../../bench/soak/scenarios/context.ts';
import { OPERATOR_USERS } from '../../../bench/soak/soak-cluster.ts';
import { LocalControlPlane } from '../../../operator/local-cluster/control-plane.ts';

describe('soak: settle', () => {
  const cp = new LocalControlPlane();
  after(() => rmSync(cp.dir, { recursive: true, force: true }));

  function context(): { ctx: SoakContext; results: Results; logs: string[] } {
    const results = new Results();
    const logs: string[] = [];
    // settle() and settledOrRow() read the audit, the results and the log of a context, nothing else.
    const ctx = { audit: new ApiserverAudit(cp), results, log: (m: string) => logs.push(m) } as unknown as SoakContext;
    return { ctx, results, logs };
  }

  /** One audit event (audit.k8s.io/v1, ResponseComplete) as kube-apiserver logs it, stamped now. */
  function write(user: string, resource: string, verb = 'patch'): void {
    const e = {
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level: 'Metadata',
      auditID: randomUUID(),
      stage: 'ResponseComplete',
      requestURI: `/apis/x/v1/namespaces/ns/${resource}/a`,
      verb,
      user: { username: user },
      objectRef: { resource, namespace: 'ns', name: 'a' },
      responseStatus: { code: 200 },
      requestReceivedTimestamp: new Date().toISOString(),
      stageTimestamp: new Date().toISOString(),
    };
    appendFileSync(cp.auditLogPath, JSON.stringify(e) + '\n');
  }

  /** Writes every `everyMs` until stopped; `stopped` is set when the last one is out. */
  function writer(everyMs: number, what: () => void) {
    const w = { stop: false, stopped: false, done: Promise.resolve() };
    w.done = (async () => {
      while (!w.stop) {
        what();
        await sleep(everyMs);
      }
      w.stopped = true;
    })();
    return w;
  }

  it('operator writes that start after the call keep it waiting: it settles only once they have stopped', async () => {
    const { ctx } = context();
    // No operator write at all before the call (they have not started on the change): the old settle() returned
    // at once here. They start right after it and write for 1.5 s.
    const settling = settle(ctx, 1000, 30_000);
    const w = writer(50, () => write(OPERATOR_USERS[0], 'inferenceservices'));
    const stopper = sleep(1500).then(() => (w.stop = true));
    const s = await settling;
    const stoppedFirst = w.stopped;
    await stopper;
    await w.done;
    expect(s.settled).to.equal(true);
    expect(s.writes).to.deep.equal([]);
    expect(stoppedFirst, 'settle returned while the operator was still writing').to.equal(true);
  });

  it('Lease renewals, Events and other users do not keep it from settling', async () => {
    const { ctx } = context();
    const w = writer(50, () => {
      write(OPERATOR_USERS[0], 'leases', 'update');
      write(OPERATOR_USERS[1], 'events', 'create');
      write('harness', 'inferenceservices');
    });
    try {
      const s = await settle(ctx, 300, 10_000);
      expect(s.settled).to.equal(true);
      expect(w.stopped).to.equal(false);
    } finally {
      w.stop = true;
      await w.done;
    }
  });

  it('an operator that never stops writing is a timeout, returned and recorded as a failing row', async () => {
    const { ctx, results, logs } = context();
    const w = writer(50, () => write(OPERATOR_USERS[1], 'deployments'));
    try {
      const s = await settle(ctx, 300, 1200);
      expect(s.settled).to.equal(false);
      expect(s.writes.length).to.be.greaterThan(0);
      expect(s.writes.every((x) => x.user === OPERATOR_USERS[1] && x.resource === 'deployments')).to.equal(true);
      expect(await settledOrRow(ctx, 'fault 0', 'the measurement', 300, 1200)).to.equal(false);
    } finally {
      w.stop = true;
      await w.done;
    }
    expect(results.rows).to.have.length(1);
    const row = results.rows[0]!;
    expect(row).to.include({
      scenario: 'fault 0',
      measured: 'before the measurement: operators quiet (no write but Leases and Events) for 0.3 s',
      goal: 'quiet within 1.2 s',
      pass: false,
      kind: 'invariant',
    });
    expect(row.figure).to.match(/^still writing after \d+ s$/);
    expect(row.detail).to.match(/^patch deployments \d+/);
    expect(logs).to.have.length(1);
    expect(logs[0]).to.match(
      /^fault 0: not quiet within 1\.2 s before the measurement; last window's writes: patch deployments/,
    );
  });

  it('settledOrRow adds no row when the operators are quiet', async () => {
    const { ctx, results, logs } = context();
    expect(await settledOrRow(ctx, 'fault 0', 'the measurement', 200, 5000)).to.equal(true);
    expect(results.rows).to.deep.equal([]);
    expect(logs).to.deep.equal([]);
  });

  it('a timeout shorter than the quiet window it waits for is refused, naming both', async () => {
    const { ctx } = context();
    let err: Error | undefined;
    await settle(ctx, 5000, 1000).catch((e: Error) => (err = e));
    expect(err).to.be.instanceOf(RangeError);
    expect(err?.message).to.equal('settle: timeoutMs (1000) must be at least settleMs (5000), and settleMs > 0');
  });
});
