// Every energy source against its contract (energy-contract.ts): emulated Kepler, dcgm-exporter and model-server
// exporters serving known joules, a real Prometheus scraping them every second, the operator's PrometheusMeter
// reading the raw samples back. Scenarios run side by side on the wall clock over one shared window.
import { expect } from 'chai';
import { after, before, describe, it } from 'mocha';
import { createEnergySource } from '../../../operator/energy/registry.ts';
import type { EnergyReading, EnergyRequest, MeteredPod } from '../../../operator/energy/energy-source.ts';
import { PROFILE_REASON } from '../../../operator/energy/profile-source.ts';
import { MeterModel, type PodPower } from '../../emulators/meter-model.ts';
import { ENERGY_CASES, type MeterHandle } from './energy-contract.ts';
import { startPrometheus, type PrometheusProcess, type ScrapeTarget } from './prometheus-process.ts';

const MAX_GAP_MS = 2500;
const SCENARIOS = ['steady', 'reset', 'missing', 'moved', 'partial', 'unknown'] as const;
type Scenario = (typeof SCENARIOS)[number];

interface Run {
  model: MeterModel;
  handle: MeterHandle;
  namespace: string;
  service: string;
  extraPods: MeteredPod[];
}

const rel = (x: number, y: number) => Math.abs(x - y) / Math.max(Math.abs(x), Math.abs(y));

describe('energy sources: Kepler, dcgm-exporter and model-server exposition through a real Prometheus', function () {
  this.timeout(60_000);
  // The window [A, B) starts once Prometheus has scraped every target (its start-up takes seconds).
  let base = 0;
  let A = 0;
  let B = 0;
  const runs = new Map<string, Run>();
  let prom: PrometheusProcess | undefined;

  function pod(model: MeterModel, ns: string, name: string, createdMs: number, endedMs?: number): PodPower {
    const p = model.addPod({
      namespace: ns,
      name,
      uid: `uid-${name}`,
      node: 'gpu-node-1',
      cpuZones: { package: 30, core: 20, uncore: 5, dram: 4 },
      gpuWatts: 250,
      gpus: 1,
      createdMs,
    });
    if (endedMs !== undefined) model.endPod(ns, name, endedMs);
    return p;
  }

  /** The scenario's pods before Prometheus starts: two since long ago (and the meter stopped, for partial). */
  function stageBefore(model: MeterModel, s: Scenario, ns: string, svc: string): PodPower[] {
    const long = Date.now() - 60_000;
    if (s === 'partial') model.stopped = true;
    return [pod(model, ns, `${svc}-7d9f8b6c5-aaaaa`, long), pod(model, ns, `${svc}-7d9f8b6c5-bbbbb`, long)];
  }

  /** The scenario's events on the wall clock, relative to base (A = base + 2 s, B = base + 7 s). */
  function stageAfter(run: Run, s: Scenario): void {
    const { model, handle, namespace: ns, service: svc } = run;
    if (s === 'moved') {
      model.endPod(ns, `${svc}-7d9f8b6c5-bbbbb`, base + 4_200);
      handle.onEnd(model.pods.get(`${ns}/${svc}-7d9f8b6c5-bbbbb`)!);
      handle.onPod(pod(model, ns, `${svc}-7d9f8b6c5-ccccc`, base + 4_200));
    }
    if (s === 'reset') handle.reset(base + 4_500);
    if (s === 'missing') model.downDuring.push([base + 3_500, base + 6_800]);
    if (s === 'partial') {
      model.downDuring.push([0, base + 3_000]);
      model.stopped = false;
    }
  }

  before(async () => {
    const targets: ScrapeTarget[] = [];
    for (const c of ENERGY_CASES) {
      if (!c.serve) continue;
      for (const s of SCENARIOS) {
        const model = new MeterModel();
        const namespace = `ns-${s}`;
        const service = `svc-${c.name}-${s}`;
        const pods = stageBefore(model, s, namespace, service);
        // The model server has one target per pod: the one created later is declared now (404 until it exists).
        const future = { ...pods[0]!, name: `${service}-7d9f8b6c5-ccccc` };
        const handle = await c.serve(model, s === 'moved' && c.name === 'model-server' ? [...pods, future] : pods);
        targets.push(...handle.targets.map((t) => ({ ...t, job: `${t.job}-${s}` })));
        const extraPods =
          s === 'unknown'
            ? [{ name: `${service}-7d9f8b6c5-ghost`, uid: 'uid-ghost', createdMs: Date.now() - 60_000 }]
            : [];
        runs.set(`${c.name}/${s}`, { model, handle, namespace, service, extraPods });
      }
    }
    prom = await startPrometheus(targets);
    await prom.waitScrapes(2);
    base = Date.now();
    A = base + 2_000;
    B = base + 7_000;
    for (const [key, run] of runs) stageAfter(run, key.split('/')[1] as Scenario);
    // Wait until the window and one allowed gap after it have passed (the last sample at or after B is scraped).
    await new Promise((r) => setTimeout(r, B + MAX_GAP_MS + 1_500 - Date.now()));
  });

  after(async () => {
    await prom?.stop();
    for (const r of runs.values()) await r.handle.close();
  });

  async function measure(
    name: (typeof ENERGY_CASES)[number]['name'],
    s: Scenario,
  ): Promise<{ r: EnergyReading; known: number; gpuW: number; run: Run }> {
    const run = runs.get(`${name}/${s}`)!;
    const c = ENERGY_CASES.find((x) => x.name === name)!;
    const pods = run.model.podsOf(run.namespace, run.service);
    const req: EnergyRequest = {
      namespace: run.namespace,
      service: run.service,
      fromMs: A,
      toMs: B,
      pods: [
        ...pods
          .filter((p) => run.model.activeSeconds(p, A, B) > 0)
          .map((p) => ({
            name: p.name,
            uid: p.uid,
            createdMs: p.createdMs,
            ...(p.endedMs !== undefined ? { endMs: p.endedMs } : {}),
          })),
        ...run.extraPods,
      ],
      gpusPerReplica: 1,
    };
    const src = createEnergySource(name, { prometheusUrl: prom!.url, maxGapMs: MAX_GAP_MS });
    const r = await src.measure(req);
    const known = pods.reduce((sum, p) => sum + run.model.trueJoules(p, A, B, c.parts), 0);
    const gpuW = pods.reduce((w, p) => Math.max(w, p.gpuWatts * p.gpus + (c.parts.cpu ? 34 : 0)), 0);
    return { r, known, gpuW, run };
  }

  for (const c of ENERGY_CASES) {
    describe(c.name, () => {
      if (!c.serve) {
        it('is never measured: the power profile estimates, and says so', async () => {
          const src = createEnergySource(c.name, { maxGapMs: MAX_GAP_MS });
          expect(src.settleMs).to.equal(0);
          const r = await src.measure({
            namespace: 'ml',
            service: 'x',
            fromMs: A,
            toMs: B,
            pods: [],
            gpusPerReplica: 1,
          });
          expect(r).to.deep.equal({ measured: false, source: 'profile', reason: PROFILE_REASON });
        });
        return;
      }

      it('steady pods: measured, equal to the known joules to 1e-9 relative', async () => {
        const { r, known } = await measure(c.name, 'steady');
        if (!r.measured) throw new Error(`not measured: ${r.reason}`);
        expect(r.source).to.equal(c.name);
        expect(known).to.be.greaterThan(0);
        expect(rel(r.joules, known), `${r.joules} J vs known ${known} J`).to.be.at.most(1e-9);
        expect(r.resets).to.equal(0);
      });

      it('a counter reset: measured, a reset counted, short by at most one sample gap of power', async () => {
        const { r, known, gpuW } = await measure(c.name, 'reset');
        if (!r.measured) throw new Error(`not measured: ${r.reason}`);
        expect(r.resets).to.be.at.least(1);
        const pods = 2;
        expect(r.joules).to.be.at.most(known * (1 + 1e-9));
        expect(r.joules).to.be.at.least(known - pods * gpuW * (MAX_GAP_MS / 1000));
      });

      it('a missing scrape longer than the allowed gap: not measured, the gap named', async () => {
        const { r } = await measure(c.name, 'missing');
        expect(r.measured).to.equal(false);
        if (!r.measured) expect(r.reason).to.match(/no sample between .* more than the 2\.5 s allowed/);
      });

      it('a pod replaced by another mid-window: both counted', async () => {
        const { r, known, gpuW } = await measure(c.name, 'moved');
        if (!r.measured) throw new Error(`not measured: ${r.reason}`);
        expect(r.series).to.be.at.least(3);
        if (c.exactWhenMoved) expect(rel(r.joules, known), `${r.joules} vs ${known}`).to.be.at.most(1e-9);
        else {
          expect(r.joules).to.be.at.most(known * (1 + 1e-9));
          expect(r.joules).to.be.at.least(known - 2 * gpuW * (MAX_GAP_MS / 1000));
        }
      });

      it('the meter first answers after the window began: not measured (partial coverage)', async () => {
        const { r } = await measure(c.name, 'partial');
        expect(r.measured).to.equal(false);
        if (!r.measured) expect(r.reason).to.match(/no sample at or before/);
      });

      it('a pod the meter never reported: not measured, the pod named', async () => {
        const { r } = await measure(c.name, 'unknown');
        expect(r.measured).to.equal(false);
        if (!r.measured) expect(r.reason).to.match(/no \S+ series for pod ns-unknown\/\S+-ghost/);
      });
    });
  }
});
