// A restart is invisible (issues 12 §1, 15 §2): against a real kube-apiserver, an operator stopped and started
// again (a new process's memory: nothing is flushed on stop, so this is what a kill -9 leaves) makes no decision
// before its first carbon signal, reports no spurious CarbonFallback or decision Event, continues the same engine
// books (the budget shown does not jump), and an eco service on a source without a forecast uses the fallback
// forecast at once, from the carbon history the leader kept in a ConfigMap.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNamespace, useControlPlane, waitFor } from '../../support/cluster.ts';
import {
  admin,
  applyObj,
  getIsvc,
  isvc,
  listEvents,
  morningClock,
  runOperator,
  setupCrds,
  writeTrace,
} from '../../support/operator-fixtures.ts';
import { collectionPath, objectPath, Resources } from '../../../operator/kube/kube-client.ts';
import type { RunningOperator } from '../../../operator/main.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */

describe('an operator restart is invisible', () => {
  const cluster = useControlPlane();
  let dir = '';
  let op: RunningOperator | undefined;
  const now = morningClock();

  before(async function () {
    this.timeout(60_000);
    await setupCrds(cluster().kc);
    await cluster().cp.createGpuNodes([{ name: 'gpu-0', gpus: 16 }]);
    dir = mkdtempSync(join(tmpdir(), 'cs-restart-'));
  });
  after(async () => {
    await op?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('same books, same plan, the fallback forecast at once, no Event, no status write', async function () {
    this.timeout(120_000);
    const { kc } = cluster();
    const trace = writeTrace(dir, 30, 96);
    const anchor = new Date(now() - 10 * 3_600_000 - 30 * 60_000).toISOString();
    await applyObj(kc, {
      apiVersion: 'carbonscale.dev/v1alpha1',
      kind: 'CarbonSource',
      metadata: { name: 'no-forecast' },
      // A source that publishes no forecast: eco plans on the fallback forecast built from measured history.
      spec: {
        provider: 'trace',
        trace: { file: trace.file, anchor, forecast: 'none' },
        pollIntervalSeconds: 10,
        staleAfterSeconds: 86400,
      },
    });
    const ns = await createNamespace(cluster().core, 'restart');
    op = await runOperator(kc, { now });
    await applyObj(kc, isvc('eco', ns, { carbon: { region: 'TEST', sourceRef: 'no-forecast', pue: 1.2 } }));
    const key = `${ns}/eco`;
    const before = await waitFor('a plan on the fallback forecast, with its books saved', async () => {
      const st = (await getIsvc(kc, ns, 'eco')).status;
      const cm = await admin(kc).getOrNull<any>(objectPath(Resources.configMap, 'eco-carbonscale-state', ns));
      return st?.lastDecision?.reason?.includes('forecast built from history') && cm ? st : undefined;
    });
    expect(op.reconciler.memoryOf(key)!.state.books.plan!.flags.fallbackForecast).to.equal(true);
    // The leader kept the pair's measured history in the operator's namespace.
    const hist = await admin(kc).list<any>(collectionPath(Resources.configMap, 'default'), {
      labelSelector: 'app.kubernetes.io/component=carbon-history',
    });
    expect(hist.items).to.have.length(1);
    expect(JSON.parse(hist.items[0].data['history.json']).points.length).to.be.at.least(24);
    await new Promise((r) => setTimeout(r, 3000));
    const booksBefore = structuredClone(op.reconciler.memoryOf(key)!.state.books);
    const eventsBefore = (await listEvents(kc, ns)).length;
    await op.stop();

    const writes: string[] = [];
    op = await runOperator(kc, { now, onWrite: (m, p) => writes.push(`${m} ${p}`) });
    const restarted = await waitFor('the restarted operator to have the service in memory', async () =>
      op!.reconciler.memoryOf(key),
    );
    // Restored, not rebuilt: the same window and counts the first operator had (it books on from there).
    expect(restarted.state.books.budget.windowStartMs).to.equal(booksBefore.budget.windowStartMs);
    expect(restarted.state.books.budget.servedTotal).to.be.at.least(booksBefore.budget.servedTotal * 0.999);
    expect(restarted.state.books.lastChangeMs).to.equal(booksBefore.lastChangeMs);
    // The first replan after the restart: the fallback forecast at once (history from the ConfigMap and the seed).
    const plan = await waitFor('a plan made by the restarted operator', async () => {
      const p = op!.reconciler.memoryOf(key)?.state.books.plan;
      return p && p.intervalStartMs > booksBefore.plan!.intervalStartMs ? p : undefined;
    });
    expect(plan.flags.fallbackForecast).to.equal(true);
    expect(plan.flags.noSignal).to.equal(false);
    expect(plan.variant).to.equal(booksBefore.plan!.variant);
    expect(op.signals.history('no-forecast', 'TEST').length).to.be.at.least(24);
    const events = await listEvents(kc, ns);
    expect(
      events.slice(eventsBefore).map((e) => `${e.reason}: ${e.note}`),
      'Events after the restart',
    ).to.deep.equal([]);
    const st = (await getIsvc(kc, ns, 'eco')).status;
    expect(st.budget.usedFraction).to.be.closeTo(before.budget.usedFraction, 0.01);
    expect(
      writes.filter((w) => w.includes('/status')),
      'status writes after the restart',
    ).to.deep.equal([]);
  });
});
