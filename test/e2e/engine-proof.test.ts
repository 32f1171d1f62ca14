// The proof that operator and simulator are one engine (issue 12 §2): the real operator, against a real
// apiserver with kwok GPU nodes, replays 48 hours of a shipped trace (Electricity Maps DE-LU 2023) for an eco and a
// premium service, and its audit trail — the decision stream and the usage stream — is compared with the
// simulator's replay of the same hours through runCarbonscale: the same variant and replica count in every
// interval, and emissions totals equal to 1e-6 relative.
//
// The clock: the operator runs on an accelerated clock in the sense of clock.ts — one trace hour per step — but the
// steps are taken by the test (a ManualClock behind the same Clock interface): the clock stands still while the
// apiserver, the scheduler and kwok bring the new replicas up, then jumps an hour. On a free-running accelerated
// clock, pods that take 200 ms of wall time to become Ready would, at 1800×, run a few trace minutes short in
// every interval that scales, so replica-hours (and emissions) could not agree to 1e-6.
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNamespace, useControlPlane, waitFor } from '../support/cluster.ts';
import { admin, applyObj, runOperator, setupCrds, variant } from '../support/operator-fixtures.ts';
import { withDefaults } from '../../operator/api/defaults.ts';
import type { RawInferenceService } from '../../operator/api/types.ts';
import type { MemoryAuditSink } from '../../operator/audit/sink.ts';
import type { DecisionRecord } from '../../operator/audit/decision.ts';
import type { UsageRecord } from '../../operator/audit/usage.ts';
import { loadTrace } from '../../operator/carbon/trace-provider.ts';
import { ManualClock, type OperatorClock } from '../../operator/clock.ts';
import { DEMAND_HISTORY_MS } from '../../operator/decision/demand-forecast.ts';
import { objectPath, Resources } from '../../operator/kube/kube-client.ts';
import type { RunningOperator } from '../../operator/main.ts';
import { servicePolicyOf } from '../../operator/reconciler/service-policy.ts';
import { prepare, runCarbonscale } from '../../operator/simulator/policies.ts';
import type { ServiceSpec, SimInputs } from '../../operator/simulator/sim-types.ts';
import { demandSourceFor } from '../../operator/wiring/demand-port.ts';
import type { TraceDemandSource } from '../../operator/demand/index.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */

const H = 3_600_000;
const HOURS = 48;
const TRACE = 'data/carbon/DE-LU_2023_hourly.csv';
const GPUS = 96;

function spec(name: string, ns: string, tier: 'eco' | 'premium'): RawInferenceService {
  return {
    apiVersion: 'carbonscale.dev/v1alpha1',
    kind: 'InferenceService',
    metadata: { name, namespace: ns },
    spec: {
      tier,
      variants:
        tier === 'eco' ? [variant('full', 0.97, 100), variant('small', 0.93, 200)] : [variant('full', 0.97, 100)],
      replicas: { min: 1, max: 8 },
      // The relaxed ceiling depends on the 24 h of carbon history before each step: the operator seeds it from the
      // provider, the simulator from the same trace hours (intensityPreRoll).
      slo:
        tier === 'eco'
          ? {
              latencyP95Ms: 100,
              relaxedLatencyP95Ms: 200,
              qualityFloor: 0.9,
              degradationBudget: { fraction: 0.2, window: 'day' },
            }
          : { latencyP95Ms: 100 },
      carbon: { region: 'DE', sourceRef: 'proof', pue: 1.2 },
      demand: { source: 'trace', trace: { file: 'data/demand/azure2024_conv_hourly.csv', peakRps: 520 } },
      policy: { intervalSeconds: 3600, minDwellSeconds: 3600 },
    } as RawInferenceService['spec'],
  };
}

/** What the operator's demand port reads for the hour starting at `fromMs` (the same source, the same read). */
async function measured(demand: TraceDemandSource, fromMs: number): Promise<number> {
  return (await demand.demand({ namespace: 'proof', name: 'eco', podIps: [] }, H, fromMs + H)).requestsPerSecond;
}

/**
 * The simulator's inputs for the same hours, as the operator has them: the trace's values, its future as the
 * (oracle) forecast, the trace hours before the start as carbon history (what the signal service seeds from the
 * provider: the 48 h since the anchor), and the demand the operator measures, history included.
 */
async function simInputs(startMs: number, demand: TraceDemandSource): Promise<SimInputs> {
  const t = loadTrace(TRACE);
  const i0 = t.points.findIndex((p) => p.timeMs === startMs);
  const steps = HOURS + 25; // the forecast of the last compared hour reaches a day ahead
  const pts = t.points.slice(i0, i0 + steps);
  const pre = Math.round(DEMAND_HISTORY_MS / H);
  const rps = (times: number[]) =>
    Promise.all(times.map((ms) => measured(demand, ms))).then((v) => Float64Array.from(v));
  return {
    timesMs: pts.map((p) => p.timeMs),
    stepMs: H,
    intensity: Float64Array.from(pts.map((p) => p.valueGPerKWh)),
    forecast: Float64Array.from(pts.map((p) => p.valueGPerKWh)),
    intensityPreRoll: Float64Array.from(t.points.slice(0, i0).map((p) => p.valueGPerKWh)),
    demandRps: await rps(pts.map((p) => p.timeMs)),
    demandPreRollRps: await rps(Array.from({ length: pre }, (_, k) => startMs - (pre - k) * H)),
  };
}

function simSpec(raw: RawInferenceService): ServiceSpec {
  const p = servicePolicyOf(withDefaults(raw));
  return { name: raw.metadata.name, ...p, clusterGpus: GPUS };
}

describe('e2e: the operator decides what the simulator replays (48 trace hours)', () => {
  const cluster = useControlPlane({ full: true });
  let op: RunningOperator | undefined;
  let dir = '';

  before(async function () {
    this.timeout(60_000);
    await setupCrds(cluster().kc);
    await cluster().cp.createGpuNodes([0, 1, 2].map((i) => ({ name: `gpu-${i}`, gpus: GPUS / 3 })));
    dir = mkdtempSync(join(tmpdir(), 'cs-proof-'));
  });
  after(async () => {
    await op?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the same variant and replicas in every interval, emissions equal to 1e-6, for an eco and a premium service', async function () {
    this.timeout(600_000);
    const { kc, core } = cluster();
    const startMs = Date.UTC(2023, 0, 3); // trace hour 48: midnight, 48 h of trace before it
    const manual = new ManualClock(startMs);
    const clock: OperatorClock = {
      now: () => manual.now(),
      setTimer: (f, ms) => manual.setTimer(f, ms),
      speedup: 3600,
      replay: true,
    };
    await applyObj(kc, {
      apiVersion: 'carbonscale.dev/v1alpha1',
      kind: 'CarbonSource',
      metadata: { name: 'proof' },
      spec: {
        provider: 'trace',
        trace: { file: TRACE, anchor: '2023-01-01T00:00:00Z', forecast: 'oracle' },
        pollIntervalSeconds: 10,
        forecastHorizonHours: 25,
      },
    });
    const ns = await createNamespace(core, 'proof');
    await waitFor('default ServiceAccount', () =>
      core.readNamespacedServiceAccount({ name: 'default', namespace: ns }),
    );
    const eco = spec('eco', ns, 'eco');
    const prem = spec('prem', ns, 'premium');
    op = await runOperator(kc, { clock, accountingIntervalMs: H, reconcileQps: 1000, reconcileBurst: 1000 });
    await applyObj(kc, eco as never);
    await applyObj(kc, prem as never);
    const audit = () => op!.reconciler.ctx.ports.audit as MemoryAuditSink;
    const usageRows = () => audit().rows.usage as unknown as UsageRecord[];
    const decisionRows = () => audit().rows.decision as unknown as DecisionRecord[];
    const settled = async (t: number) => {
      for (const name of ['eco', 'prem']) {
        const plan = op!.reconciler.memoryOf(`${ns}/${name}`)?.state.books.plan;
        if (!plan || plan.intervalStartMs !== t) return false;
        const d = await admin(kc).getOrNull<any>(objectPath(Resources.deployment, name, ns));
        if (
          !d ||
          d.spec.replicas !== plan.replicas ||
          d.metadata.annotations?.['carbonscale.dev/variant'] !== plan.variant
        )
          return false;
        if (d.status?.readyReplicas !== plan.replicas || d.status?.observedGeneration !== d.metadata.generation)
          return false;
        const log = op!.reconciler.ctx.usage.get(`${ns}/${name}`)?.workloadLog ?? [];
        const last = log[log.length - 1];
        if (!last || last.ready !== plan.replicas || last.variant !== plan.variant) return false;
        if (t > startMs && !usageRows().some((r) => r.name === name && r.interval_end === t)) return false;
      }
      return true;
    };
    for (let h = 0; h < HOURS; h++) {
      const t = startMs + h * H;
      if (h > 0) await manual.advance(H);
      await waitFor(`the operator to settle at trace hour ${h}`, () => settled(t), {
        timeoutMs: 60_000,
        intervalMs: 50,
      });
    }
    await manual.advance(H);
    await waitFor('the last usage rows', async () =>
      ['eco', 'prem'].every((n) => usageRows().some((r) => r.name === n && r.interval_end === startMs + HOURS * H)),
    );

    const demand = demandSourceFor(withDefaults(eco).spec.demand) as TraceDemandSource;
    const prepared = prepare(await simInputs(startMs, demand));
    const report: string[] = [];
    for (const raw of [eco, prem]) {
      const name = raw.metadata.name;
      const sim = runCarbonscale(simSpec(raw), prepared);
      const rows = usageRows()
        .filter((r) => r.name === name && r.interval_start >= startMs && r.interval_start < startMs + HOURS * H)
        .sort((a, b) => a.interval_start - b.interval_start);
      expect(
        rows.map((r) => r.interval_start),
        `${name}: one usage row per trace hour`,
      ).to.deep.equal(Array.from({ length: HOURS }, (_, h) => startMs + h * H));
      const variants = raw.spec.variants!.map((v) => v!.name);
      const opPlan = rows.map((r) => `${r.variant}×${r.replicas_desired}/${r.replicas_avg}`);
      const simPlan = Array.from(
        { length: HOURS },
        (_, h) => `${variants[sim.timeline.variant[h]!]}×${sim.timeline.replicas[h]}/${sim.timeline.replicas[h]}`,
      );
      expect(opPlan, `${name}: variant × replicas per interval (operator usage rows vs simulator)`).to.deep.equal(
        simPlan,
      );
      // The decision stream: every change of plan the simulator made, at the same hour, and no other.
      const changes = decisionRows()
        // Within the compared hours (the last advance lets the operator plan hour HOURS too).
        .filter((r) => r.name === name && (r.kind === 'swap' || r.kind === 'scale') && r.time < startMs + HOURS * H)
        .map((r) => `${new Date(r.time).toISOString()} ${r.after_variant}×${r.after_replicas}`);
      const simChanges = simPlan
        .map((p, h) =>
          h === 0 || p !== simPlan[h - 1] ? `${new Date(startMs + h * H).toISOString()} ${p.split('/')[0]}` : '',
        )
        .filter(Boolean);
      expect(changes, `${name}: decision rows`).to.deep.equal(simChanges);
      const opG = rows.reduce((a, r) => a + r.total_co2e_g!, 0);
      let simG = 0;
      for (let h = 0; h < HOURS; h++) simG += sim.timeline.emissionsG[h]!;
      expect(Math.abs(opG - simG) / simG, `${name}: emissions ${opG} g vs ${simG} g`).to.be.below(1e-6);
      report.push(`${name}: ${changes.length} plan changes, ${opG.toFixed(3)} gCO2e (simulator ${simG.toFixed(3)})`);
    }
    // At least one swap each way for eco, and the replicas followed demand: the comparison covered the levers.
    const ecoSwaps = decisionRows().filter((r) => r.name === 'eco' && r.kind === 'swap');
    expect(ecoSwaps.length, 'eco swaps in 48 h').to.be.at.least(2);
    writeFileSync(join(dir, 'report.txt'), report.join('\n'));
    console.log(`      ${report.join('\n      ')}`);
  });
});
