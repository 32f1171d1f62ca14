// No flapping (issue 16 §2) on a full control plane with kwok GPU nodes: a carbon step produces exactly one
// VariantSwapped Event and one swap row in the audit trail, while pods come up, roll and report readiness (each a
// reconcile pass) and the served variant lags the applied one; the same in observe mode (one DecisionObserved
// swap). The policy's dwell is 0 here, so only the engine's one-plan-per-interval and the applied variant keep a
// decision from being reverted.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNamespace, useControlPlane, waitFor } from '../support/cluster.ts';
import {
  applyObj,
  getIsvc,
  isvc,
  listEvents,
  morningClock,
  runOperator,
  setupCrds,
  traceSource,
  writeTrace,
} from '../support/operator-fixtures.ts';
import type { MemoryAuditSink } from '../../operator/audit/sink.ts';
import type { RunningOperator } from '../../operator/main.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */

describe('e2e: one carbon step, one swap', () => {
  const cluster = useControlPlane({ full: true });
  let dir = '';
  let op: RunningOperator | undefined;
  const now = morningClock();

  before(async function () {
    this.timeout(60_000);
    await setupCrds(cluster().kc);
    await cluster().cp.createGpuNodes([{ name: 'gpu-a', gpus: 8 }]);
    dir = mkdtempSync(join(tmpdir(), 'cs-flap-'));
  });
  after(async () => {
    await op?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a carbon step: exactly one VariantSwapped Event and one swap row, active and observe alike', async function () {
    this.timeout(150_000);
    const { kc, core } = cluster();
    const trace = writeTrace(dir);
    await applyObj(kc, traceSource('test-source', trace.file, now(), 10));
    op = await runOperator(kc, { now });
    const ns = await createNamespace(core, 'flap');
    await waitFor('default ServiceAccount', () =>
      core.readNamespacedServiceAccount({ name: 'default', namespace: ns }),
    );
    const policy = { intervalSeconds: 10, minDwellSeconds: 0 };
    await applyObj(kc, isvc('eco', ns, { policy }));
    await applyObj(kc, isvc('watch', ns, { policy: { ...policy, mode: 'observe' } }));
    await waitFor(
      'eco Ready on the kwok nodes',
      async () => {
        const s = (await getIsvc(kc, ns, 'eco')).status;
        return s?.conditions?.find((c: any) => c.type === 'Ready')?.status === 'True' ? s : undefined;
      },
      { timeoutMs: 60_000 },
    );
    await waitFor(
      'the observed service to have a decision',
      async () => (await getIsvc(kc, ns, 'watch')).status?.lastDecision,
    );
    // The step: the replay moves into the dirty spell.
    await applyObj(kc, traceSource('test-source', trace.file, now(), 30));
    await waitFor(
      'eco to serve the smaller variant',
      async () => (await getIsvc(kc, ns, 'eco')).status?.activeVariant === 'small',
      {
        timeoutMs: 60_000,
        show: async () => (await getIsvc(kc, ns, 'eco')).status,
      },
    );
    await waitFor(
      'the observed service to decide the smaller variant',
      async () => (await getIsvc(kc, ns, 'watch')).status?.lastDecision?.variant === 'small',
    );
    // Several more intervals with the same inputs: pods settle, passes come and go; nothing is reverted.
    await new Promise((r) => setTimeout(r, 35_000));
    const events = await listEvents(kc, ns);
    const of = (name: string, reason: string) => events.filter((e) => e.regarding.name === name && e.reason === reason);
    expect(
      of('eco', 'VariantSwapped').map((e) => e.note),
      'VariantSwapped Events of eco',
    ).to.have.length(1);
    expect(of('eco', 'VariantSwapped')[0]?.note).to.match(/switched full → small/);
    const observed = of('watch', 'DecisionObserved').filter((e) => /switched/.test(e.note));
    expect(
      observed.map((e) => e.note),
      'observed swaps',
    ).to.have.length(1);
    expect(of('watch', 'VariantSwapped')).to.have.length(0);
    const audit = op.reconciler.ctx.ports.audit as MemoryAuditSink;
    const swaps = (name: string) => audit.rows.decision.filter((r) => r.name === name && r.kind === 'swap');
    expect(swaps('eco').map((r) => `${r.before_variant}→${r.after_variant}`)).to.deep.equal(['full→small']);
    expect(swaps('watch').map((r) => `${r.before_variant}→${r.after_variant}`)).to.deep.equal(['full→small']);
    expect((await getIsvc(kc, ns, 'eco')).status.activeVariant).to.equal('small');
  });
});
