// Faults of the carbon signal: a provider outage past the staleness bound, then recovery (fault 5), and a signal
// that flaps across a band every interval (fault 6). Each runs on services of its own (a namespace apart), so the
// world's figures stay untouched.
//
// The outage uses the Electricity Maps emulator (test/emulators/, the v3 format field by field) with a planted
// API key in a Secret. The emulator serves the real 2023 hourly export; its `shift-time` fault moves every
// datetime of an answer by a fixed offset, which here rebases 2023 onto the wall clock (same hour of the year,
// three years on), so the operator sees current observations. The outage is its 503 fault on every path.
import { DwellNote } from '../../../operator/decision/eco-choice.ts';
import { objectPath, Resources } from '../../../operator/kube/kube-client.ts';
import type { Emulator } from '../../../test/emulators/emulator-server.ts';
import { startElectricityMapsEmulator } from '../../../test/emulators/electricity-maps.ts';
import { plantedCredentials } from '../../../test/emulators/planted-secrets.ts';
import {
  applySource,
  HARNESS_MANAGER,
  inferenceService,
  inParallel,
  traceSource,
  TRACE_START_MS,
  writeTrace,
  type ServiceRef,
} from '../fixtures.ts';
import { sleep } from '../operator-process.ts';
import { OPERATOR_NAMESPACE } from '../soak-cluster.ts';
import { keyOf } from '../world-view.ts';
import type { Scenario, SoakContext } from './context.ts';
import { ensureLeader, eventsSince } from './common.ts';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const REBASE_MS = Date.UTC(2026, 0, 1) - Date.UTC(2023, 0, 1);
export const PLANTED = plantedCredentials();

async function applyServices(ctx: SoakContext, ns: string, refs: ServiceRef[], over: (o: Any) => void): Promise<void> {
  await ctx.env.client.apply(
    `/api/v1/namespaces/${ns}`,
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
    true,
    HARNESS_MANAGER,
  );
  await inParallel(refs, 8, (s) => {
    const o = inferenceService(s, ctx.world.spec) as Any;
    over(o);
    return ctx.env.client.apply(objectPath(Resources.inferenceService, s.name, s.namespace), o, true, HARNESS_MANAGER);
  });
}

async function isvc(ctx: SoakContext, s: ServiceRef): Promise<Any> {
  return ctx.env.client.get<Any>(objectPath(Resources.inferenceService, s.name, s.namespace));
}

const cond = (o: Any, type: string) => ((o.status?.conditions ?? []) as Any[]).find((c) => c.type === type);

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await probe().catch(() => false)) return true;
    await sleep(1000);
  }
  void what;
  return false;
}

export let outageEmulator: Emulator | undefined;

export const providerOutage: Scenario = {
  name: 'provider-outage',
  async run(ctx) {
    const S = 'fault 5: provider outage';
    const { env, results: r } = ctx;
    await ensureLeader(ctx);
    const em = await startElectricityMapsEmulator({
      now: () => Date.now() - REBASE_MS,
      apiKey: PLANTED.electricityMaps.apiKey,
    });
    outageEmulator = em;
    try {
      em.fault({ kind: 'shift-time', ms: REBASE_MS });
      await env.client.apply(
        `/api/v1/namespaces/${OPERATOR_NAMESPACE}/secrets/soak-em-token`,
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'soak-em-token', namespace: OPERATOR_NAMESPACE },
          stringData: { apiKey: PLANTED.electricityMaps.apiKey },
        },
        true,
        HARNESS_MANAGER,
      );
      await applySource(env.client, {
        apiVersion: 'carbonscale.dev/v1alpha1',
        kind: 'CarbonSource',
        metadata: { name: 'soak-em-fallback' },
        spec: { provider: 'static', static: { valueGPerKWh: 450 }, pollIntervalSeconds: 10 },
      });
      await applySource(env.client, {
        apiVersion: 'carbonscale.dev/v1alpha1',
        kind: 'CarbonSource',
        metadata: { name: 'soak-em' },
        spec: {
          provider: 'electricityMaps',
          endpoint: `${em.url}/v3`,
          credentialsSecretRef: { name: 'soak-em-token', namespace: OPERATOR_NAMESPACE },
          pollIntervalSeconds: 10,
          staleAfterSeconds: 7200,
          retries: 0,
          timeoutSeconds: 2,
          fallback: ['soak-em-fallback'],
          failSafe: { action: 'full-variant' },
        },
      });
      const ns = 'soak-carbon';
      const refs: ServiceRef[] = [
        { namespace: ns, name: 'eco-a', region: 'DE', tier: 'eco' },
        { namespace: ns, name: 'eco-b', region: 'DE', tier: 'eco' },
        { namespace: ns, name: 'prem-a', region: 'DE', tier: 'premium' },
      ];
      await applyServices(ctx, ns, refs, (o) => (o.spec.carbon = { region: 'DE', sourceRef: 'soak-em', pue: 1.2 }));
      const level = async (s: ServiceRef) => (await isvc(ctx, s)).status?.carbon?.fallbackLevel;
      const fresh = await waitFor(
        'primary signal',
        async () => (await Promise.all(refs.map(level))).every((l) => l === 'primary'),
        ctx.opts.timeoutMs,
      );
      r.check(
        S,
        'before: every service on the primary signal (Electricity Maps emulator)',
        fresh,
        fresh ? 'primary' : String(await level(refs[0]!)),
        'primary',
        JSON.stringify((await isvc(ctx, refs[0]!)).status?.carbon),
      );
      const ecoBefore = new Map<string, string>();
      for (const s of refs) ecoBefore.set(s.name, (await isvc(ctx, s)).status?.lastDecision?.variant);
      // The outage: every request answers 503 for 90 s; the chain answers with the fallback source.
      const t0 = Date.now();
      em.fault({ kind: 'status', status: 503 });
      const fellBack = await waitFor(
        'fallback',
        async () => (await Promise.all(refs.map(level))).every((l) => l === 'fallback:soak-em-fallback'),
        120_000,
      );
      const st = await isvc(ctx, refs[0]!);
      r.check(
        S,
        'during the outage: the chain moved to fallback:soak-em-fallback',
        fellBack,
        String(st.status?.carbon?.fallbackLevel),
        'fallback:soak-em-fallback',
        JSON.stringify(st.status?.carbon),
      );
      const c = cond(st, 'CarbonSignalAvailable');
      r.check(
        S,
        'during the outage: CarbonSignalAvailable (docs/carbon.md: a fallback value is a signal in use)',
        c?.status === 'True' && c.reason === 'SignalFallback',
        `${c?.status} ${c?.reason}`,
        'True SignalFallback',
        JSON.stringify(c),
      );
      const prem = refs.filter((s) => s.tier === 'premium');
      let premiumDegraded = 0;
      for (const s of prem) if ((await isvc(ctx, s)).status?.lastDecision?.variant !== 'full') premiumDegraded++;
      await sleep(Math.max(0, t0 + 90_000 - Date.now()));
      const events = await eventsSince(ctx, 'CarbonFallback', t0);
      const ours = events.filter((e) => e.startsWith(`${ns}/`));
      r.check(
        S,
        'during the outage: a CarbonFallback Event per service on the level change',
        ours.length >= refs.length,
        String(ours.length),
        `≥ ${refs.length}`,
        events.slice(0, 3).join('; '),
      );
      // Recovery.
      em.fault({ kind: 'shift-time', ms: REBASE_MS });
      const back = await waitFor(
        'primary again',
        async () => (await Promise.all(refs.map(level))).every((l) => l === 'primary'),
        120_000,
      );
      r.check(
        S,
        'after recovery: every service back on the primary signal',
        back,
        String(await level(refs[0]!)),
        'primary',
      );
      for (const s of prem) if ((await isvc(ctx, s)).status?.lastDecision?.variant !== 'full') premiumDegraded++;
      r.check(S, 'premium never degraded (during and after)', premiumDegraded === 0, String(premiumDegraded), '0');
      await sleep(15_000);
      const ecoAfter = refs.filter((s) => s.tier === 'eco');
      const differ: string[] = [];
      for (const s of ecoAfter) {
        const v = (await isvc(ctx, s)).status?.lastDecision?.variant;
        if (v !== ecoBefore.get(s.name)) differ.push(`${keyOf(s)} ${ecoBefore.get(s.name)} → ${v}`);
      }
      r.check(
        S,
        'after recovery: eco back on the variant it ran on the same primary signal',
        differ.length === 0,
        `${ecoAfter.length - differ.length} of ${ecoAfter.length}`,
        'all',
        differ.join('; '),
      );
      // Planted credential echoed back by the upstream for a few polls (the leak check greps for it later).
      em.fault({ kind: 'echo-credentials', status: 401, format: 'html' }, { times: 6 });
      await sleep(30_000);
      em.fault({ kind: 'shift-time', ms: REBASE_MS });
    } finally {
      await env.client.delete('/api/v1/namespaces/soak-carbon').catch(() => undefined);
    }
  },
};

/** The reason notes decide() adds when the minimum dwell holds a variant. */
const DWELL_NOTES = Object.values(DwellNote);

export const flappingSignal: Scenario = {
  name: 'flapping-signal',
  async run(ctx) {
    const { env } = ctx;
    await ensureLeader(ctx);
    const file = `${ctx.opts.work}/trace-flap.json`;
    const flapFrom = 24;
    // The band must straddle what the budget plan expects of the rest of the window, or both halves look alike to
    // it and no swap follows. Hours outside the flap sit at 500, so every slot of the forecast averages about 500
    // (the replay wraps the 72-h trace): 850 is the dirtiest slot, 150 the cleanest.
    writeTrace(file, { startMs: TRACE_START_MS, hours: 24 * 3, flapFrom, level: 500 });
    // One trace hour every 10 real seconds: the band 150 ↔ 850 gCO2eq/kWh alternates at every policy interval.
    const speedup = 360;
    await applySource(env.client, { ...traceSource('soak-flap', file, Date.now(), flapFrom, speedup) });
    const ns = 'soak-flap';
    const dwell = 60;
    const refs: ServiceRef[] = [0, 1, 2].map((i) => ({
      namespace: ns,
      name: `flap-${i}`,
      region: 'FLAP',
      tier: 'eco',
    }));
    const t0 = Date.now();
    await applyServices(ctx, ns, refs, (o) => {
      o.spec.carbon = { region: 'FLAP', sourceRef: 'soak-flap', pue: 1.2 };
      o.spec.policy = { intervalSeconds: 10, minDwellSeconds: dwell };
      // A day's window: the source's forecast (24 h at most 72) covers it. A week's plan extends the forecast from
      // history at hourly steps, and one wall hour is 360 trace hours, five whole turns of this trace: every step
      // lands on the same trace hour, so most of the week read 150 and the clean half ranked with the plan's
      // degraded slots (27th of 96, 40 degraded): eco ran small through the whole flap.
      o.spec.slo.degradationBudget = { fraction: 0.5, window: 'day' };
    });
    try {
      const seconds = 150;
      await sleep(seconds * 1000);
      flapRows(ctx, refs, t0, seconds, dwell);
    } finally {
      await env.client.delete(`/api/v1/namespaces/${ns}`).catch(() => undefined);
    }
  },
};

/** The flap's rows: swaps happened, within the per-service bound, never closer than the dwell; the dwell's holds. */
function flapRows(ctx: SoakContext, refs: ServiceRef[], t0: number, seconds: number, dwell: number): void {
  const S = 'fault 6: flapping signal';
  const { view, results: r } = ctx;
  const seenValues = new Set<number>();
  // Each decision status showed (by its time): variant, intensity in status, reason. Evidence when no swap came.
  const decisions = new Map<string, string>();
  for (const s of refs)
    for (const h of view.isvcs.history.get(keyOf(s)) ?? []) {
      if (h.atMs < t0) continue;
      const st = (h.object as Any).status;
      if (typeof st?.carbon?.valueGPerKWh === 'number') seenValues.add(st.carbon.valueGPerKWh);
      const d = st?.lastDecision;
      if (d?.time) decisions.set(`${s.name} ${d.time}`, `${d.variant} @${st.carbon?.valueGPerKWh}: ${d.reason}`);
    }
  r.info(
    S,
    'intensities the services reported while the signal flapped (status.carbon)',
    [...seenValues].sort((x, y) => x - y).join(', ') || 'none',
  );
  const changes = refs.map((s) => view.changesSince(s, t0));
  const all = changes.reduce((n, c) => n + c.length, 0);
  // A bound on the number of swaps holds vacuously when there is none: the flap must cause swaps to test the dwell.
  r.check(
    S,
    'the signal caused swaps (variant changes in all, Deployments)',
    all >= 1,
    String(all),
    '≥ 1',
    [...decisions]
      .slice(-6)
      .map(([k, v]) => `${k}: ${v}`)
      .join(' | '),
  );
  const worst = Math.max(...changes.map((c) => c.length));
  // The first change may come at once; each later one needs the dwell time since the previous.
  const bound = Math.floor(seconds / dwell) + 1;
  const perService = refs
    .map(
      (s, i) =>
        `${s.name}: ${JSON.stringify(changes[i]!.map((c) => `${((c.atMs - t0) / 1000).toFixed(0)}s ${c.variant}`))}`,
    )
    .join('; ');
  r.check(
    S,
    `variant changes per service over ${seconds} s of a signal flipping every 10 s (dwell ${dwell} s)`,
    worst <= bound,
    String(worst),
    `≤ ${bound}`,
    perService,
  );
  r.info(S, 'variant changes per service (s after the services were applied)', perService);
  const gaps: number[] = [];
  for (const ch of changes) for (let i = 1; i < ch.length; i++) gaps.push((ch[i]!.atMs - ch[i - 1]!.atMs) / 1000);
  const minGap = gaps.length ? Math.min(...gaps) : Infinity;
  r.check(
    S,
    'shortest time between two variant changes of one service',
    minGap >= dwell - 2,
    Number.isFinite(minGap) ? `${minGap.toFixed(0)} s` : 'one change or none',
    `≥ ${dwell} s (dwell)`,
  );
  // A hold keeps variant and replicas, and the operator reports only decisions that change one of them (status
  // lastDecision, Event, decision row; carbonscale_decisions_total counts changes): no condition, Event, metric or
  // audit row says the dwell held a swap back. What is countable: held decisions that also rescaled.
  const held = [...decisions.values()].filter((v) => DWELL_NOTES.some((n) => v.includes(n))).length;
  r.info(
    S,
    'decisions the dwell held back (not reported by the operator: only those that also rescaled show, in status)',
    `${held} shown of ${decisions.size} decisions in status`,
  );
}
