// The signal service never serves what the providers' layer refused, and counts every refusal (issue 15 §1): a
// reading dated a day ahead is not served as last-known past the staleness bound, no age is negative, a provider
// that bypasses CheckedProvider is checked again, and each rejection shows in a metric by provider, reason, field.
import { expect } from 'chai';
import { Registry } from 'prom-client';
import type { CarbonProvider, CarbonReading, CarbonSourceSpec } from '../../../operator/carbon/index.ts';
import { CarbonSignalService, createProvider, validateCarbonSourceSpec } from '../../../operator/carbon/index.ts';
import type { Emulator } from '../../emulators/emulator-server.ts';
import { startElectricityMapsEmulator } from '../../emulators/electricity-maps.ts';
import { EM_KEY, FakeClock, HOUR } from './provider-cases.ts';

function spec(o: Record<string, unknown>): CarbonSourceSpec {
  const v = validateCarbonSourceSpec(o);
  if (!v.spec) throw new Error(v.errors.join('; '));
  return v.spec;
}

async function metric(registry: Registry, name: string) {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  return (m?.values ?? []) as { labels: Record<string, string>; value: number }[];
}

describe('CarbonSignalService: untrusted values are not served, and are counted', () => {
  const clock = new FakeClock();
  let em: Emulator;
  let registry: Registry;
  let svc: CarbonSignalService;
  const emSpec = () =>
    spec({
      provider: 'electricityMaps',
      endpoint: `${em.url}/v3`,
      credentialsSecretRef: { name: 'em' },
      pollIntervalSeconds: 300,
      staleAfterSeconds: 7200,
      retries: 0,
    });

  before(async () => {
    em = await startElectricityMapsEmulator({ now: clock.now, apiKey: EM_KEY });
  });
  after(() => em.close());
  beforeEach(() => {
    clock.t = Date.parse('2023-06-15T12:20:00Z');
    em.clearFault();
    registry = new Registry();
    svc = new CarbonSignalService({ now: clock.now, registry });
    svc.setSource('em', emSpec(), createProvider(emSpec(), { apiKey: EM_KEY }, { now: clock.now }));
    svc.register('em', 'DE');
  });

  it('a reading dated a day ahead is refused; the last good value ages out at the staleness bound', async () => {
    await svc.refresh();
    const good = svc.get('em', 'DE').reading!;
    em.fault({ kind: 'shift-time', ms: 24 * HOUR });
    for (let i = 0; i < 30; i++) {
      clock.advance(5 * 60_000);
      await svc.refresh();
      const s = svc.get('em', 'DE');
      expect(s.ageMs ?? 0, 'no negative age').to.be.at.least(0);
      if (s.fallbackLevel === 'last-known') expect(s.reading).to.deep.equal(good);
      else expect(s.fallbackLevel).to.equal('fail-safe');
      for (const v of await metric(registry, 'carbonscale_carbon_signal_age_seconds'))
        expect(v.value).to.be.at.least(0);
    }
    // 2.5 h later the good value (dated 12:00) is 2 h 45 min old: past the 2 h bound, the chain is at fail-safe.
    const s = svc.get('em', 'DE');
    expect(s.fallbackLevel).to.equal('fail-safe');
    expect(s.reason).to.match(/em: electricityMaps DE: current: observation dated 2023-06-16T/);
    const rejected = await metric(registry, 'carbonscale_carbon_rejected_values_total');
    expect(rejected).to.deep.include({
      labels: {
        source: 'em',
        provider: 'electricityMaps',
        call: 'current',
        reason: 'future-time',
        field: 'current.timeMs',
      },
      value: 30,
    });
  });

  it('a provider set directly (not through createProvider) is checked again: future, other region, range', async () => {
    const fake = (r: Partial<CarbonReading>): CarbonProvider => ({
      name: 'raw',
      current: async (region) => ({
        region,
        valueGPerKWh: 100,
        timeMs: clock.t,
        provider: 'raw',
        signal: 'average',
        basis: 'direct',
        estimated: false,
        forecast: false,
        ...r,
      }),
      forecast: async () => null,
    });
    const s = spec({ provider: 'ukCarbonIntensity', retries: 0 });
    for (const [r, reason] of [
      [{ timeMs: clock.t + 24 * HOUR }, 'future-time'],
      [{ region: 'FR' }, 'wrong-region'],
      [{ valueGPerKWh: Number.POSITIVE_INFINITY }, 'out-of-range'],
    ] as const) {
      svc.setSource('raw', s, fake(r));
      svc.register('raw', 'GB');
      await svc.ensure('raw', 'GB');
      const sig = svc.get('raw', 'GB');
      expect(sig.available).to.equal(false);
      expect(sig.failures[0]!.reason).to.equal(reason);
    }
  });

  it('every refusal is counted by provider, reason and field (indices folded), for each call', async () => {
    em.fault({ kind: 'value', value: '1,035' });
    await svc.refresh();
    clock.advance(5 * 60_000);
    em.fault({ kind: 'wrong-region', region: 'FR' });
    await svc.refresh();
    const rejected = await metric(registry, 'carbonscale_carbon_rejected_values_total');
    const find = (call: string, reason: string, field: string) =>
      rejected.find((v) => v.labels.call === call && v.labels.reason === reason && v.labels.field === field)?.value;
    expect(find('current', 'malformed', '$.carbonIntensity')).to.equal(1);
    expect(find('forecast', 'malformed', '$.forecast[].carbonIntensity')).to.equal(1);
    expect(find('history', 'malformed', '$.data[].carbonIntensity')).to.equal(1);
    expect(find('current', 'wrong-region', '$.zone')).to.equal(1);
    expect(find('forecast', 'wrong-region', '$.zone')).to.equal(1);
    for (const v of rejected) expect(v.labels.provider).to.equal('electricityMaps');
  });
});
