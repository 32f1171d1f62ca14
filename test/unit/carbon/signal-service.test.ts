// The dedup/cache/fallback layer under a fake clock, against the real providers and their emulators:
// primary → fallback → last-known (within the staleness bound) → fail-safe, recovery, one upstream request per
// interval for 1,000 services, metrics, and what the condition/Event text says.
import { expect } from 'chai';
import { Registry } from 'prom-client';
import winston from 'winston';
import Transport from 'winston-transport';
import type { CarbonProvider, CarbonReading, CarbonSourceSpec, SignalChange } from '../../../operator/carbon/index.ts';
import { CarbonSignalService, createProvider, validateCarbonSourceSpec } from '../../../operator/carbon/index.ts';
import type { Emulator } from '../../emulators/emulator-server.ts';
import { startElectricityMapsEmulator } from '../../emulators/electricity-maps.ts';
import { startCarbonAwareSdkEmulator } from '../../emulators/carbon-aware-sdk.ts';
import { EM_KEY, FakeClock, HOUR, csvValue } from './provider-cases.ts';

const EM_DIRECT = 'Carbon Intensity gCO₂eq/kWh (direct)';
const MIN = 60_000;

function spec(o: Record<string, unknown>): CarbonSourceSpec {
  const v = validateCarbonSourceSpec(o);
  if (!v.spec) throw new Error(v.errors.join('; '));
  return v.spec;
}

class MemoryTransport extends Transport {
  lines: string[] = [];
  override log(info: unknown, next: () => void) {
    this.lines.push(JSON.stringify(info));
    next();
  }
}

describe('CarbonSignalService', () => {
  const clock = new FakeClock();
  let em: Emulator;
  let sdk: Emulator;
  let svc: CarbonSignalService;
  let registry: Registry;
  let changes: SignalChange[];
  let logs: MemoryTransport;

  const emSpec = (o: Record<string, unknown> = {}) =>
    spec({
      provider: 'electricityMaps',
      endpoint: `${em.url}/v3`,
      credentialsSecretRef: { name: 'em' },
      pollIntervalSeconds: 300,
      staleAfterSeconds: 7200,
      retries: 0,
      fallback: ['sdk'],
      ...o,
    });
  const sdkSpec = () =>
    spec({
      provider: 'carbonAwareSdk',
      endpoint: sdk.url,
      pollIntervalSeconds: 300,
      staleAfterSeconds: 7200,
      retries: 0,
      regionMap: { DE: 'germanywestcentral' },
    });

  before(async () => {
    em = await startElectricityMapsEmulator({ now: clock.now, apiKey: EM_KEY });
    sdk = await startCarbonAwareSdkEmulator({ now: clock.now });
  });
  after(async () => {
    await em.close();
    await sdk.close();
  });
  beforeEach(() => {
    clock.t = Date.parse('2023-06-15T12:20:00Z');
    em.clearFault();
    sdk.clearFault();
    em.requests.clear();
    sdk.requests.clear();
    registry = new Registry();
    changes = [];
    logs = new MemoryTransport();
    svc = new CarbonSignalService({
      now: clock.now,
      registry,
      logger: winston.createLogger({ transports: [logs] }),
      onChange: (c) => changes.push(c),
    });
    const deps = { now: clock.now };
    svc.setSource('em', emSpec(), createProvider(emSpec(), { apiKey: EM_KEY }, deps));
    svc.setSource('sdk', sdkSpec(), createProvider(sdkSpec(), undefined, deps));
  });

  it('before the first poll: level none, not available, and the reason says so', () => {
    svc.register('em', 'DE');
    const s = svc.get('em', 'DE');
    expect(s.fallbackLevel).to.equal('none');
    expect(s.available).to.equal(false);
    expect(s.reason).to.match(/has not been polled for DE yet; eco services run the full variant/);
  });

  it('primary: the Electricity Maps value for this hour, with its forecast and age', async () => {
    svc.register('em', 'DE');
    await svc.refresh();
    const s = svc.get('em', 'DE');
    expect(s.fallbackLevel).to.equal('primary');
    expect(s.available).to.equal(true);
    expect(s.reading!.valueGPerKWh).to.equal(csvValue('DE-LU_2023_hourly.csv', EM_DIRECT, clock.t));
    expect(s.ageMs).to.equal(20 * MIN);
    expect(s.forecast).to.be.an('array').with.length.above(0);
    expect(s.forecast![0]!.forecast).to.equal(true);
    expect(s.reason).to.match(/^Carbon signal from 'em': [\d.]+ gCO2eq\/kWh \(average, direct, measured\)/);
  });

  it('fallback chain and staleness bound: primary → fallback:sdk → last-known → fail-safe → primary', async () => {
    svc.register('em', 'DE');
    await svc.refresh();
    expect(svc.get('em', 'DE').fallbackLevel).to.equal('primary');
    const primaryValueTime = svc.get('em', 'DE').reading!.timeMs;

    // Electricity Maps goes down: the next poll uses the Carbon Aware SDK, with its own region name.
    em.fault({ kind: 'status', status: 500 });
    clock.advance(5 * MIN);
    await svc.refresh();
    let s = svc.get('em', 'DE');
    expect(s.fallbackLevel).to.equal('fallback:sdk');
    expect(s.available).to.equal(true);
    expect(s.reading!.provider).to.equal('carbonAwareSdk');
    expect(s.reading!.region).to.equal('germanywestcentral');
    expect(s.reading!.valueGPerKWh).to.equal(csvValue('DE-LU_2023_hourly.csv', EM_DIRECT, clock.t));
    expect(s.reason).to.match(/Primary CarbonSource failed \(em: .*upstream error 500.*\); using fallback 'sdk'/);
    expect(s.conditionReason).to.equal('SignalFromFallback');

    // Both down: the newest value is used while younger than staleAfterSeconds (2 h).
    // (a short deadline for the SDK so its hang costs 200 ms; replacing a source drops its cached values)
    const sdkTimeout = sdkSpec();
    sdkTimeout.timeoutSeconds = 0.2;
    svc.setSource('sdk', sdkTimeout, createProvider(sdkTimeout, undefined, { now: clock.now }));
    sdk.fault({ kind: 'hang' });
    clock.advance(5 * MIN);
    await svc.refresh();
    s = svc.get('em', 'DE');
    expect(s.fallbackLevel).to.equal('last-known');
    expect(s.available).to.equal(true);
    expect(s.reason).to.match(/No source in the chain answered \(em: .*500.*; sdk: .*no response within 200 ms\)/);
    expect(s.reason).to.match(/using the last known value/);
    expect(s.failures.map((f) => f.reason)).to.deep.equal(['server-error', 'timeout']);

    // Still within the bound 1 h 50 min after the last good value…
    clock.t = primaryValueTime + 2 * HOUR - MIN;
    await svc.refresh();
    expect(svc.get('em', 'DE').fallbackLevel).to.equal('last-known');
    // …and past it, nothing is used: fail-safe.
    clock.t = primaryValueTime + 2 * HOUR + 30 * MIN;
    await svc.refresh();
    s = svc.get('em', 'DE');
    expect(s.fallbackLevel).to.equal('fail-safe');
    expect(s.available).to.equal(false);
    expect(s.reading).to.equal(undefined);
    expect(s.forecast).to.equal(null);
    expect(s.failSafe).to.deep.equal({ action: 'full-variant' });
    expect(s.reason).to.match(
      /No usable carbon signal for DE .*fail-safe: eco services run the full variant; premium services are never degraded\./,
    );

    // Recovery.
    em.clearFault();
    sdk.clearFault();
    clock.advance(5 * MIN);
    await svc.refresh();
    expect(svc.get('em', 'DE').fallbackLevel).to.equal('primary');
    expect(changes.map((c) => `${c.from}→${c.signal.fallbackLevel}`)).to.deep.equal([
      'none→primary',
      'primary→fallback:sdk',
      'fallback:sdk→last-known',
      'last-known→fail-safe',
      'fail-safe→primary',
    ]);
  });

  it('fail-safe assume-intensity: a labelled assumed value, still not "available"', async () => {
    const s0 = emSpec({ fallback: [], failSafe: { action: 'assume-intensity', valueGPerKWh: 450 } });
    svc.setSource('em', s0, createProvider(s0, { apiKey: EM_KEY }, { now: clock.now }));
    em.fault({ kind: 'status', status: 503 });
    svc.register('em', 'DE');
    await svc.refresh();
    const s = svc.get('em', 'DE');
    expect(s.fallbackLevel).to.equal('fail-safe');
    expect(s.available).to.equal(false);
    expect(s.reading).to.include({ valueGPerKWh: 450, provider: 'fail-safe', estimated: true });
    expect(s.reason).to.match(/assuming 450 gCO2eq\/kWh \(configured fail-safe\)/);
  });

  it('1,000 services in one region make one upstream request per endpoint per interval', async () => {
    for (let i = 0; i < 1000; i++) svc.register('em', 'DE');
    // Concurrent refreshes (several controller workers) share the single flight.
    await Promise.all([svc.refresh(), svc.refresh(), svc.refresh()]);
    for (let i = 0; i < 1000; i++) expect(svc.get('em', 'DE').fallbackLevel).to.equal('primary');
    expect(em.count('/v3/carbon-intensity/latest')).to.equal(1);
    expect(em.count('/v3/carbon-intensity/forecast')).to.equal(1);
    clock.advance(299_000);
    await svc.refresh();
    expect(em.count('/v3/carbon-intensity/latest')).to.equal(1);
    clock.advance(1_000);
    await svc.refresh();
    expect(em.count('/v3/carbon-intensity/latest')).to.equal(2);
    expect(em.count('/v3/carbon-intensity/forecast')).to.equal(2);
    expect(sdk.total()).to.equal(0);
    // Unregistered pairs stop polling.
    for (let i = 0; i < 1000; i++) svc.unregister('em', 'DE');
    clock.advance(10 * MIN);
    await svc.refresh();
    expect(em.count('/v3/carbon-intensity/latest')).to.equal(2);
  });

  it('single flight: 1,000 concurrent ensure() calls share one upstream request and all see its value', async () => {
    const signals = await Promise.all(Array.from({ length: 1000 }, () => svc.ensure('em', 'DE')));
    expect(new Set(signals.map((s) => s.fallbackLevel))).to.deep.equal(new Set(['primary']));
    expect(em.count('/v3/carbon-intensity/latest')).to.equal(1);
    // Within the interval, ensure() answers from the cache.
    clock.advance(MIN);
    expect((await svc.ensure('em', 'DE')).fallbackLevel).to.equal('primary');
    expect(em.count('/v3/carbon-intensity/latest')).to.equal(1);
  });

  it('a stale primary value is not used: it falls through to the next level', async () => {
    const old: CarbonProvider = {
      name: 'frozen',
      current: async (region) => ({
        region,
        valueGPerKWh: 100,
        timeMs: clock.t - 3 * HOUR,
        provider: 'frozen',
        signal: 'average',
        basis: 'direct',
        estimated: false,
        forecast: false,
      }),
      forecast: async () => null,
    };
    svc.setSource('em', emSpec(), old);
    svc.register('em', 'DE');
    await svc.refresh();
    const s = svc.get('em', 'DE');
    expect(s.fallbackLevel).to.equal('fallback:sdk');
    expect(s.failures[0]!.reason).to.equal('stale');
    expect(s.failures[0]!.message).to.match(/newest value is 3 h old, older than staleAfterSeconds \(2 h\)/);
  });

  it('out-of-range values from any provider are rejected, zero is accepted, and no forecast is said so', async () => {
    const fixed = (v: number): CarbonProvider => ({
      name: 'fixed',
      current: async (region): Promise<CarbonReading> => ({
        region,
        valueGPerKWh: v,
        timeMs: clock.t,
        provider: 'fixed',
        signal: 'average',
        basis: 'direct',
        estimated: false,
        forecast: false,
      }),
      forecast: async () => null,
    });
    const plain = emSpec({ fallback: [] });
    svc.setSource('em', plain, fixed(2500));
    svc.register('em', 'DE');
    await svc.refresh();
    expect(svc.get('em', 'DE').fallbackLevel).to.equal('fail-safe');
    expect(svc.get('em', 'DE').failures[0]!.message).to.match(/2500 gCO2eq\/kWh is above the 2000/);
    svc.setSource('em', plain, fixed(0));
    await svc.refresh();
    const s = svc.get('em', 'DE');
    expect(s.fallbackLevel).to.equal('primary');
    expect(s.reading!.valueGPerKWh).to.equal(0);
    expect(s.forecast).to.equal(null);
    expect(s.reason).to.match(/No forecast \(fixed publishes no forecast for DE\): the policy uses its own\./);
  });

  it('an unknown source is explicit', () => {
    const s = svc.get('nope', 'DE');
    expect(s.fallbackLevel).to.equal('none');
    expect(s.reason).to.match(/CarbonSource 'nope' does not exist/);
  });

  it('metrics per region: value, age, errors by reason, fallback level; secrets stay out of logs', async () => {
    svc.register('em', 'DE');
    await svc.refresh();
    em.fault({ kind: 'status', status: 429, retryAfter: '30' });
    clock.advance(5 * MIN);
    await svc.refresh();
    const text = await registry.metrics();
    const value = csvValue('DE-LU_2023_hourly.csv', EM_DIRECT, clock.t);
    expect(text).to.match(
      new RegExp(
        `carbonscale_carbon_intensity_g_per_kwh\\{source="em",region="DE",provider="carbonAwareSdk"[^}]*\\} ${value}`,
      ),
    );
    expect(text).to.match(/carbonscale_carbon_signal_age_seconds\{source="em",region="DE"\} 1500/);
    expect(text).to.match(
      /carbonscale_carbon_fetch_errors_total\{source="em",region="DE",provider="electricityMaps",reason="rate-limited"\} 1/,
    );
    expect(text).to.match(/carbonscale_carbon_fallback_level\{source="em",region="DE",level="fallback:sdk"\} 1/);
    const all = logs.lines.join('\n');
    expect(all).to.include('"reason":"rate-limited"');
    expect(all).to.not.include(EM_KEY);
  });
});
