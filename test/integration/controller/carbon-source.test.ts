// The CarbonSource controller against a real kube-apiserver: its own queue retries a credentials failure with
// backoff, the status says why meanwhile, and the source recovers once the Secret appears; observedGeneration
// follows the generation; a change of one source wakes only the services that read it; its status shows the
// reading it delivers (kubectl's Region, gCO2/kWh, Updated columns), rewritten when the value changes and not by a
// poll that only restamps the data time.
import { expect } from 'chai';
import { startElectricityMapsEmulator } from '../../emulators/electricity-maps.ts';
import type { Emulator } from '../../emulators/emulator-server.ts';
import { createNamespace, useControlPlane, waitFor } from '../../support/cluster.ts';
import { admin, applyObj, getIsvc, isvc, runOperator, setupCrds } from '../../support/operator-fixtures.ts';
import { collectionPath, objectPath, Resources } from '../../../operator/kube/kube-client.ts';
import { SOURCE_BACKOFF_MAX_MS } from '../../../operator/wiring/carbon-source-controller.ts';
import type { RunningOperator } from '../../../operator/main.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */

const KEY = 'em-test-key-1234567890';
// 2023-03-01 plus the wall time elapsed: inside the emulator's 2023 traces.
const offset = Date.now() - Date.UTC(2023, 2, 1, 4);
const now = () => Date.now() - offset;

const source = (name: string, endpoint: string, secret: string) => ({
  apiVersion: 'carbonscale.dev/v1alpha1',
  kind: 'CarbonSource',
  metadata: { name },
  spec: {
    provider: 'electricityMaps',
    endpoint: `${endpoint}/v3`,
    credentialsSecretRef: { name: secret },
    pollIntervalSeconds: 30,
    retries: 0,
  },
});

const staticSource = (name: string, v: number, pollIntervalSeconds = 3600) => ({
  apiVersion: 'carbonscale.dev/v1alpha1',
  kind: 'CarbonSource',
  metadata: { name },
  spec: { provider: 'static', static: { valueGPerKWh: v }, pollIntervalSeconds },
});

/** carbonscale_carbon_polls_total of one source, summed over its regions, from the operator's /metrics. */
async function pollsOf(op: RunningOperator, source: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${op.healthPort}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('carbonscale_carbon_polls_total{') && l.includes(`source="${source}"`))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

describe('CarbonSource controller against a real kube-apiserver', () => {
  const cluster = useControlPlane();
  let em: Emulator;
  let op: RunningOperator | undefined;

  before(async function () {
    this.timeout(60_000);
    await setupCrds(cluster().kc);
    await cluster().cp.createGpuNodes([{ name: 'gpu-0', gpus: 8 }]);
    em = await startElectricityMapsEmulator({ now, apiKey: KEY });
  });
  after(async () => {
    await op?.stop();
    await em?.close();
  });

  it('a CarbonSource whose Secret is missing says why in its status, and recovers within its backoff once the Secret appears', async function () {
    this.timeout(120_000);
    const { kc } = cluster();
    const ns = await createNamespace(cluster().core, 'cs');
    op = await runOperator(kc, { now });
    await applyObj(kc, source('em', em.url, 'em-credentials'));
    await applyObj(kc, isvc('svc', ns, { carbon: { region: 'DE', sourceRef: 'em', pue: 1.2 } }));
    const cs = () => admin(kc).get<any>(objectPath(Resources.carbonSource, 'em'));
    const valid = (o: any) => o.status?.conditions?.find((c: any) => c.type === 'Valid');
    const failing = await waitFor('the status to say the credentials are missing', async () => {
      const o = await cs();
      return valid(o)?.status === 'False' ? o : undefined;
    });
    expect(valid(failing).reason).to.equal('CredentialsUnavailable');
    expect(valid(failing).message).to.match(/Secret default\/em-credentials .*does not exist/);
    expect(failing.status.observedGeneration).to.equal(failing.metadata.generation);
    // The service says so too, and acts on no value it cannot trust: no Deployment while the source is unusable.
    const st = await waitFor('the service condition to name the source', async () => {
      const c = (await getIsvc(kc, ns, 'svc')).status?.conditions?.find((x: any) => x.type === 'CarbonSignalAvailable');
      return c?.status === 'False' ? c : undefined;
    });
    expect(st.message).to.match(/CarbonSource 'em' cannot be used: credentials/);
    // Let a few retries back off, then create the Secret: the next retry (at most the backoff cap away) loads it.
    await new Promise((r) => setTimeout(r, 4000));
    const created = Date.now();
    await admin(kc).create(collectionPath(Resources.secret, 'default'), {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'em-credentials', namespace: 'default' },
      stringData: { apiKey: KEY },
    });
    const ok = await waitFor(
      'the source to recover',
      async () => ((await cs()) && valid(await cs())?.status === 'True' ? await cs() : undefined),
      {
        timeoutMs: SOURCE_BACKOFF_MAX_MS + 15_000,
      },
    );
    expect(Date.now() - created).to.be.below(SOURCE_BACKOFF_MAX_MS + 15_000);
    expect(valid(ok).reason).to.equal('Valid');
    expect(ok.status.observedGeneration).to.equal(ok.metadata.generation);
    const carbon = await waitFor(
      'the service to get a value from the source',
      async () => (await getIsvc(kc, ns, 'svc')).status?.carbon,
      { show: async () => (await getIsvc(kc, ns, 'svc')).status },
    );
    expect(carbon.provider).to.equal('electricityMaps');
    expect(carbon.fallbackLevel).to.equal('primary');
    // Nothing secret in the status the controller wrote.
    expect(JSON.stringify(ok.status)).to.not.include(KEY);
  });

  it('observedGeneration follows a spec change', async function () {
    this.timeout(60_000);
    const { kc } = cluster();
    await applyObj(kc, {
      ...source('em', em.url, 'em-credentials'),
      spec: { ...source('em', em.url, 'em-credentials').spec, pollIntervalSeconds: 45 },
    });
    const o = await waitFor('observedGeneration to catch up', async () => {
      const x = await admin(kc).get<any>(objectPath(Resources.carbonSource, 'em'));
      return x.metadata.generation > 1 && x.status?.observedGeneration === x.metadata.generation ? x : undefined;
    });
    expect(o.status.conditions[0].status).to.equal('True');
  });

  it('a change of one CarbonSource wakes only the services that read it', async function () {
    this.timeout(90_000);
    const { kc } = cluster();
    await op?.stop();
    const passes: string[] = [];
    op = await runOperator(kc, { now, onReconciled: (r) => passes.push(`${r.controller} ${r.key}`) });
    const ns = await createNamespace(cluster().core, 'wake');
    await applyObj(kc, staticSource('a', 100));
    await applyObj(kc, staticSource('b', 100));
    // Observe mode: no Deployment to roll out (no kubelet in this tier), so a pass comes only from a trigger or
    // the hourly interval.
    const policy = { mode: 'observe', intervalSeconds: 3600 };
    await applyObj(kc, isvc('on-a', ns, { carbon: { region: 'X', sourceRef: 'a', pue: 1.2 }, policy }));
    await applyObj(kc, isvc('on-b', ns, { carbon: { region: 'X', sourceRef: 'b', pue: 1.2 }, policy }));
    await waitFor(
      'both services to have a signal',
      async () => (await getIsvc(kc, ns, 'on-a')).status?.carbon && (await getIsvc(kc, ns, 'on-b')).status?.carbon,
    );
    // Let the first passes settle, and the poller's first look at both pairs (a tick is 10 s) wake them once.
    await new Promise((r) => setTimeout(r, 12_000));
    passes.length = 0;
    await applyObj(kc, staticSource('a', 700));
    await waitFor(
      'on-a to see the new value',
      async () => (await getIsvc(kc, ns, 'on-a')).status?.carbon?.valueGPerKWh === 700,
    );
    await new Promise((r) => setTimeout(r, 3000));
    expect(passes.filter((p) => p === `inferenceservice ${ns}/on-a`).length).to.be.at.least(1);
    expect(
      passes.filter((p) => p === `inferenceservice ${ns}/on-b`),
      'passes of the service on the other source',
    ).to.deep.equal([]);
    expect(passes, JSON.stringify(passes)).to.include('carbonsource a');
    expect(passes).to.not.include('carbonsource b');
  });

  it('the status shows the reading a poll delivered; polls that only restamp the data time write nothing', async function () {
    this.timeout(120_000);
    const { kc } = cluster();
    const get = (name: string) => admin(kc).get<any>(objectPath(Resources.carbonSource, name));
    // Source a went to 700 in the test above: its status followed.
    const a = await waitFor('source a to show 700', async () => {
      const r = (await get('a')).status?.readings;
      return r?.[0]?.valueGPerKWh === 700 ? r : undefined;
    });
    expect(a).to.have.length(1);
    expect(a[0]).to.include({ region: 'X', unit: 'gCO2eq/kWh', fallbackLevel: 'primary', estimated: true });
    expect([a[0].dataTime, a[0].updatedAt].map((t: string) => Number.isNaN(Date.parse(t)))).to.deep.equal([
      false,
      false,
    ]);
    // The static provider stamps every poll with the poll's time: the data time moves, the value does not.
    const ns = await createNamespace(cluster().core, 'readings');
    await applyObj(kc, staticSource('c', 250, 10));
    await applyObj(
      kc,
      isvc('on-c', ns, { carbon: { region: 'Y', sourceRef: 'c', pue: 1.2 }, policy: { mode: 'observe' } }),
    );
    const settled = await waitFor('source c to be valid and show its reading', async () => {
      const o = await get('c');
      const valid = o.status?.conditions?.find((x: any) => x.type === 'Valid')?.status === 'True';
      return valid && o.status.observedGeneration === o.metadata.generation && o.status.readings?.[0] ? o : undefined;
    });
    expect(settled.status.readings).to.deep.equal([{ ...settled.status.readings[0], region: 'Y', valueGPerKWh: 250 }]);
    const polls = await pollsOf(op!, 'c');
    await waitFor('two more polls of source c', async () => (await pollsOf(op!, 'c')) >= polls + 2, {
      timeoutMs: 60_000,
    });
    const after = await get('c');
    expect(after.metadata.resourceVersion, 'status rewritten by a poll with the same value').to.equal(
      settled.metadata.resourceVersion,
    );
    // A new value is written.
    await applyObj(kc, staticSource('c', 320, 10));
    const moved = await waitFor('source c to show 320', async () => {
      const r = (await get('c')).status?.readings;
      return r?.[0]?.valueGPerKWh === 320 ? r[0] : undefined;
    });
    expect(Date.parse(moved.updatedAt)).to.be.at.least(Date.parse(settled.status.readings[0].updatedAt));
  });
});
