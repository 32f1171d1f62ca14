import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createNamespace, useControlPlane, waitFor } from '../../support/cluster.ts';
import {
  admin,
  applyObj,
  isvc,
  morningClock,
  setupCrds,
  traceSource,
  writeTrace,
} from '../../support/operator-fixtures.ts';
import { objectPath, Resources } from '../../../operator/kube/kube-client.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';

/* eslint-disable @typescript-eslint/no-explicit-any */

interface Proc {
  child: ChildProcess;
  out: string[];
}

// The operators' clock and the trace anchor (see morningClock): late in the UTC day an eco service on the wall clock
// rightly spends the rest of the day's budget, and the handover check below counts full-variant replicas. Leases
// stay on the wall clock.
const morning = morningClock();

function startOperatorProcess(kubeconfig: string, identity: string): Proc {
  const cli = join(import.meta.dirname, '..', '..', '..', 'operator', 'cli.ts');
  const child = spawn(
    process.execPath,
    [
      cli,
      'operator',
      '--kubeconfig',
      kubeconfig,
      '--namespace',
      'default',
      '--leader-elect',
      'true',
      '--health-addr',
      '127.0.0.1:0',
      '--clock-speedup',
      '1',
      '--clock-start',
      new Date(morning()).toISOString(),
    ],
    { env: { ...process.env, POD_NAME: identity, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const out: string[] = [];
  child.stdout!.on('data', (b: Buffer) => out.push(...b.toString().split('\n').filter(Boolean)));
  child.stderr!.on('data', (b: Buffer) => out.push(...b.toString().split('\n').filter(Boolean)));
  return { child, out };
}

const becameLeader = (p: Proc) => p.out.some((l) => l.includes('"became leader"'));

describe('leader election between two operator processes', () => {
  const cluster = useControlPlane();
  const procs: Proc[] = [];
  let dir = '';
  before(async function () {
    this.timeout(60_000);
    await setupCrds(cluster().kc);
    await cluster().cp.createGpuNodes([{ name: 'gpu-0', gpus: 16 }]);
    dir = mkdtempSync(join(tmpdir(), 'cs-le-'));
    const t = writeTrace(dir);
    await applyObj(cluster().kc, traceSource('test-source', t.file, morning(), 10));
  });
  after(() => {
    for (const p of procs) p.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('exactly one acts, and killing the leader hands over within the lease duration', async function () {
    this.timeout(120_000);
    const { kc, cp } = cluster();
    const a = startOperatorProcess(cp.kubeconfigPath, 'op-a');
    const b = startOperatorProcess(cp.kubeconfigPath, 'op-b');
    procs.push(a, b);
    const leader = await waitFor('one leader', async () => (becameLeader(a) ? a : becameLeader(b) ? b : undefined), {
      timeoutMs: 60_000,
      show: async () => ({ a: a.out.slice(-5), b: b.out.slice(-5) }),
    });
    const standby = leader === a ? b : a;
    const ns = await createNamespace(cluster().core, 'le');
    await applyObj(kc, isvc('svc', ns));
    await waitFor('the Deployment', () => admin(kc).getOrNull(objectPath(Resources.deployment, 'svc', ns)));
    await new Promise((r) => setTimeout(r, 3000));
    expect(becameLeader(standby), 'the standby must not lead while the leader lives').to.equal(false);
    const decided = (p: Proc) => p.out.filter((l) => l.includes('"message":"decision"')).length;
    expect(decided(leader)).to.be.greaterThan(0);
    expect(decided(standby), 'the standby must not reconcile').to.equal(0);

    const lease = await admin(kc).get<any>(objectPath(Resources.lease, 'carbonscale-operator', 'default'));
    const leaderId = leader === a ? 'op-a' : 'op-b';
    expect(lease.spec.holderIdentity).to.equal(leaderId);
    leader.child.kill('SIGKILL');
    const killedAt = Date.now();
    const lastRenew = Date.parse(lease.spec.renewTime);
    await waitFor('the standby to take the lease', async () => becameLeader(standby), { timeoutMs: 40_000 });
    const after = await admin(kc).get<any>(objectPath(Resources.lease, 'carbonscale-operator', 'default'));
    expect(after.spec.holderIdentity).to.equal(leaderId === 'op-a' ? 'op-b' : 'op-a');
    expect(after.spec.leaseTransitions).to.equal((lease.spec.leaseTransitions ?? 0) + 1);
    // Handover is bounded by the lease (15 s) plus one retry period (2 s) after the leader's last renewal
    // that the standby could observe, with 3 s of slack for this shared machine.
    const takeover = Date.parse(after.spec.acquireTime);
    expect(takeover - Math.max(lastRenew, killedAt - 2000)).to.be.at.most(15_000 + 2_000 + 3_000);
    // The new leader reconciles: a change made now is acted on.
    await applyObj(kc, isvc('svc', ns, { demand: { source: 'static', staticRps: 600 } }));
    await waitFor(
      'the new leader to apply the change',
      async () =>
        (await admin(kc).get<any>(objectPath(Resources.deployment, 'svc', ns))).spec.replicas >= 7 ? true : undefined,
      { timeoutMs: 30_000 },
    );
  });
});
