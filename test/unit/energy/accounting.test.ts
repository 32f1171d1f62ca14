// Issue 14 §0 on the controller's side, each point a test, through the real Reconciler and Accountant over the
// fake ports (test/unit/reconciler/fake-cluster.ts) and, for the restart, a real Parquet sink that `audit verify`
// checks for time continuity: replicas_avg from pod Ready transitions, counted vs modelled requests, a row for
// every interval (also without an intensity), the interval at a stop re-accounted after a restart, ci_forecast,
// embodied per the audit rule, measured energy with its fallback reason, and ProfileDrift.
import { expect } from 'chai';
import { afterEach, beforeEach, describe, it } from 'mocha';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import winston from 'winston';
import { ParquetAuditSink } from '../../../operator/audit/parquet-sink.ts';
import { verifyAuditDir } from '../../../operator/audit/verify.ts';
import type { CountReading, ServedCountSource } from '../../../operator/demand/served-counts.ts';
import type { EnergyReading, EnergyRequest, EnergySource } from '../../../operator/energy/energy-source.ts';
import type { KubeObject } from '../../../operator/kube/kube-client.ts';
import { Accountant } from '../../../operator/reconciler/accounting.ts';
import type { MeterPort } from '../../../operator/reconciler/meter-port.ts';
import { DRIFT_MIN_INTERVALS } from '../../../operator/reconciler/profile-drift.ts';
import type { Reconciler } from '../../../operator/reconciler/reconciler.ts';
import { FakeCluster, service } from '../reconciler/fake-cluster.ts';

const MIN = 60_000;
const KEY = 'ns/a';

function pod(name: string, readySinceMs: number | undefined, extra: { deleting?: number } = {}): KubeObject {
  return {
    metadata: {
      name,
      namespace: 'ns',
      uid: `uid-${name}`,
      creationTimestamp: new Date((readySinceMs ?? 0) - 5_000).toISOString(),
      labels: { 'carbonscale.dev/inference-service': 'a' },
      ...(extra.deleting !== undefined ? { deletionTimestamp: new Date(extra.deleting).toISOString() } : {}),
    },
    status: {
      conditions: [
        {
          type: 'Ready',
          status: readySinceMs === undefined ? 'False' : 'True',
          lastTransitionTime: new Date(readySinceMs ?? 0).toISOString(),
        },
      ],
    },
  } as KubeObject;
}

/** A meter port on the fake clock (wall = clock), with settable energy and count readings. */
function meters(
  c: FakeCluster,
  o: { energy?: (r: EnergyRequest) => EnergyReading; counts?: () => CountReading },
): MeterPort {
  const energy: EnergySource = o.energy
    ? { name: 'kepler', settleMs: 0, measure: async (r) => o.energy!(r) }
    : {
        name: 'profile',
        settleMs: 0,
        measure: async () => ({ measured: false, source: 'profile', reason: 'profile' }),
      };
  const counts: ServedCountSource | undefined = o.counts
    ? { name: 'fake', settleMs: 0, counts: async () => o.counts!() }
    : undefined;
  return {
    energy: () => energy,
    counts: () => counts,
    address: () => undefined,
    toWall: (ms) => ms,
    toClock: (ms) => ms,
    wallNow: () => c.now,
  };
}

describe('accounting: the usage rows record what they say they record', () => {
  let c: FakeCluster;
  let r: Reconciler;
  let acct: Accountant;

  beforeEach(async () => {
    c = new FakeCluster();
    c.add(service('a'));
    r = c.reconciler();
    acct = new Accountant(r.ctx);
  });

  /** Passes every `step` and accounting at every minute boundary up to `until`. */
  async function run(until: number, onMinute?: (t: number) => void | Promise<void>): Promise<void> {
    while (c.now < until) {
      c.now += MIN;
      await onMinute?.(c.now);
      await r.reconcile(KEY);
      await acct.accountDue(c.now);
    }
  }

  it('replicas_avg is the ready replica-time over the interval: a replica ready for the last 15 s counts 0.25', async () => {
    const t0 = c.now;
    c.pods.set('p1', pod('a-7d9f-aaaaa', t0 - 3_600_000));
    await r.reconcile(KEY);
    await run(t0 + 2 * MIN, (t) => {
      // Ready 45 s into the second minute: [t0+1m45s, t0+2m) is 15 s of the minute.
      if (t === t0 + 2 * MIN) c.pods.set('p2', pod('a-7d9f-bbbbb', t0 + MIN + 45_000));
    });
    const rows = c.audit.rows.usage;
    expect(rows.map((x) => [x.interval_start, x.replicas_avg, x.replicas_avg_method])).to.deep.equal([
      [t0, 1, 'time_weighted'],
      [t0 + MIN, 1.25, 'time_weighted'],
    ]);
  });

  it('a pod that stops (deletion) mid-interval counts up to its deletion', async () => {
    const t0 = c.now;
    c.pods.set('p1', pod('a-7d9f-aaaaa', t0 - 3_600_000));
    c.pods.set('p2', pod('a-7d9f-bbbbb', t0 - 3_600_000));
    await r.reconcile(KEY);
    await run(t0 + MIN, () => {
      c.pods.set('p2', pod('a-7d9f-bbbbb', t0 - 3_600_000, { deleting: t0 + 20_000 }));
    });
    const row = c.audit.rows.usage[0]!;
    expect(row.replicas_avg).to.be.closeTo(1 + 20 / 60, 1e-12);
  });

  it('requests and inferences are counted where a counter exists, modelled otherwise, and say which', async () => {
    const t0 = c.now;
    c.pods.set('p1', pod('a-7d9f-aaaaa', t0 - 3_600_000));
    await r.reconcile(KEY);
    await run(t0 + MIN);
    expect(c.audit.rows.usage[0]).to.deep.include({
      requests: 150 * 60,
      requests_method: 'modelled',
      inferences_method: 'modelled',
      prompt_tokens: null,
      sci_g_per_1k_tokens: null,
    });
    r.ctx.ports.meters = meters(c, {
      counts: () => ({
        counted: true,
        source: 'fake',
        counts: { requests: 7_000, inferences: 14_000, promptTokens: 900_000, generatedTokens: 100_000 },
        notes: [],
      }),
    });
    await run(t0 + 2 * MIN);
    const row = c.audit.rows.usage[1]!;
    expect(row).to.deep.include({
      requests: 7_000,
      requests_method: 'measured',
      inferences: 14_000,
      inferences_method: 'measured',
      prompt_tokens: 900_000,
      generated_tokens: 100_000,
    });
    expect(row.sci_g_per_1k_tokens).to.be.closeTo((Number(row.total_co2e_g) / 1_000_000) * 1000, 1e-12);
    expect(row.utilization_method).to.equal('modelled');
  });

  it('every interval gets a row: without an intensity it is written with ci_missing, energy kept', async () => {
    const t0 = c.now;
    c.pods.set('p1', pod('a-7d9f-aaaaa', t0 - 3_600_000));
    await r.reconcile(KEY);
    await run(t0 + MIN);
    c.signal.level = 'none';
    (c.signal as unknown as { valueGPerKWh: number | undefined }).valueGPerKWh = undefined;
    await r.reconcile(KEY); // the pass at t0 + 1 min sees no value: from then on none is in force
    await run(t0 + 3 * MIN);
    const rows = c.audit.rows.usage;
    expect(rows.map((x) => x.interval_start)).to.deep.equal([t0, t0 + MIN, t0 + 2 * MIN]);
    for (const x of rows.slice(1)) {
      expect(x).to.deep.include({ ci_missing: true, ci_g_per_kwh: null, total_co2e_g: null });
      expect(Number(x.energy_it_kwh)).to.be.greaterThan(0);
    }
  });

  it('ci_forecast is true when the value in force was a provider forecast', async () => {
    const t0 = c.now;
    await r.reconcile(KEY);
    await run(t0 + MIN);
    expect(c.audit.rows.usage[0]).to.deep.include({ ci_forecast: false });
    const view = c.signal.view.bind(c.signal);
    c.signal.view = () => ({ ...view(), isForecast: true });
    await r.reconcile(KEY); // the same value and time, now from the forecast: a new sample from t0 + 1 min
    await run(t0 + 2 * MIN);
    expect(c.audit.rows.usage[1]).to.deep.include({ ci_forecast: true });
  });

  it('embodied: counted with its source when spec.carbon.embodiedGPerGpuHour is set, else null and said so', async () => {
    const t0 = c.now;
    await r.reconcile(KEY);
    await run(t0 + MIN);
    expect(c.audit.rows.usage[0]).to.deep.include({
      embodied_counted: false,
      embodied_co2e_g: null,
      embodied_source: null,
    });
    c.edit(KEY, (s) => (s.carbon!.embodiedGPerGpuHour = 20));
    await run(t0 + 2 * MIN);
    expect(c.audit.rows.usage[1]).to.deep.include({
      embodied_counted: true,
      embodied_g_per_gpu_hour: 20,
      embodied_source: 'InferenceService spec.carbon.embodiedGPerGpuHour',
    });
  });

  it('measured energy: the meter figure with the profile beside it; uncovered: estimated and why', async () => {
    const t0 = c.now;
    c.pods.set('p1', pod('a-7d9f-aaaaa', t0 - 3_600_000));
    let asked: EnergyRequest | undefined;
    r.ctx.ports.meters = meters(c, {
      energy: (q) => {
        asked = q;
        return q.fromMs === t0
          ? { measured: true, source: 'kepler', joules: 36_000, series: 2, resets: 0, notes: [] }
          : { measured: false, source: 'kepler', reason: 'kepler: no sample between x and y' };
      },
    });
    await r.reconcile(KEY);
    await run(t0 + 2 * MIN);
    const [m, e] = c.audit.rows.usage;
    expect(m).to.deep.include({
      energy_method: 'measured',
      energy_source: 'kepler',
      energy_meter: 'kepler',
      energy_it_kwh: 0.01,
      energy_fallback_reason: null,
      power_idle_w: null,
    });
    expect(Number(m!.energy_profile_it_kwh)).to.be.greaterThan(0);
    expect(e).to.deep.include({
      energy_method: 'estimated',
      energy_source: 'power-profile',
      energy_meter: 'kepler',
      energy_fallback_reason: 'kepler: no sample between x and y',
      energy_profile_it_kwh: null,
    });
    expect(asked!.pods.map((p) => p.name)).to.deep.equal(['a-7d9f-aaaaa']);
  });

  it('ProfileDrift: a profile 2× the meter gets a Warning Event and the condition; agreeing again clears it', async () => {
    // Premium: the variant stays full throughout (an eco service may spend its budget on the flat test grid, and a
    // swap starts the drift comparison again on the other variant).
    c.add(service('a', { tier: 'premium' }));
    const t0 = c.now;
    c.pods.set('p1', pod('a-7d9f-aaaaa', t0 - 3_600_000));
    let factor = 0.5;
    // One ready replica of the full variant at 150 rps over a capacity of 100: utilisation 1, the profile's 300 W
    // busy power for 60 s. The meter reads `factor` × that: the profile estimates 1 / factor − 1 above the meter.
    const profileJ = 300 * 60;
    r.ctx.ports.meters = meters(c, {
      energy: () => ({ measured: true, source: 'kepler', joules: profileJ * factor, series: 1, resets: 0, notes: [] }),
    });
    await r.reconcile(KEY);
    await run(t0 + (DRIFT_MIN_INTERVALS + 1) * MIN);
    const warn = c.events.filter((e) => e.reason === 'ProfileOffMeter');
    expect(warn, JSON.stringify(c.events.map((e) => e.reason))).to.have.length(1);
    expect(warn[0]!.note).to.match(/variant full: its power profile estimates \+100% against the meter/);
    const cond = c.isvcs.get(KEY)!.status!.conditions!.find((x) => x.type === 'ProfileDrift');
    expect(cond).to.deep.include({ status: 'True', reason: 'ProfileOffMeter' });
    factor = 1;
    await run(c.now + 60 * MIN);
    expect(c.events.filter((e) => e.reason === 'ProfileMatchesMeter')).to.have.length(1);
    expect(c.isvcs.get(KEY)!.status!.conditions!.find((x) => x.type === 'ProfileDrift')).to.deep.include({
      status: 'False',
    });
  });
});

describe('accounting: the interval running at a stop is re-accounted after the restart', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'acct-restart-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('record ids are the interval’s: the restart re-writes nothing twice and leaves no time gap', async () => {
    const c = new FakeCluster();
    c.add(service('a'));
    c.pods.set('p1', pod('a-7d9f-aaaaa', c.now - 3_600_000));
    const silent = winston.createLogger({ silent: true });
    const t0 = c.now;
    for (let round = 0; round < 2; round++) {
      const sink = await ParquetAuditSink.open(dir, { now: () => c.now, tickMs: 0, logger: silent, clusterId: 'test' });
      const r = c.reconciler();
      r.setAudit(sink);
      const acct = new Accountant(r.ctx);
      await r.reconcile(KEY);
      // Each run ends 30 s into an interval: that interval is in flight at the stop.
      const stopAt = t0 + (round + 1) * 7 * MIN + 30_000;
      while (c.now + MIN <= stopAt) {
        c.now += MIN;
        await r.reconcile(KEY);
        await acct.accountDue(c.now);
      }
      c.now = stopAt;
      await sink.close();
      // The operator was down for 3 minutes before the restart.
      c.now += 3 * MIN;
    }
    const sink = await ParquetAuditSink.open(dir, { now: () => c.now, tickMs: 0, logger: silent, clusterId: 'test' });
    const r = c.reconciler();
    r.setAudit(sink);
    await r.reconcile(KEY);
    c.now = Math.ceil(c.now / MIN) * MIN;
    await new Accountant(r.ctx).accountDue(c.now);
    await sink.close();
    const v = await verifyAuditDir(dir);
    expect(v.problems, JSON.stringify(v.problems.slice(0, 3))).to.deep.equal([]);
    const minutes = (c.now - t0) / MIN;
    expect(v.rows.usage + v.journalRows.usage).to.equal(minutes);
  });
});
