// Carbon history belongs to the signal service (issue 12 §1): per (source, region), seeded from the provider's
// history() at the first poll, one point per distinct data time, 48 h deep, only real provider values, and kept
// across a restart through the persistence port — against the Electricity Maps emulator and its real DE-LU trace.
import { expect } from 'chai';
import winston from 'winston';
import Transport from 'winston-transport';
import type { CarbonHistoryStore, CarbonSourceSpec, IntensityPoint } from '../../../operator/carbon/index.ts';
import { CarbonSignalService, createProvider, validateCarbonSourceSpec } from '../../../operator/carbon/index.ts';
import type { Emulator } from '../../emulators/emulator-server.ts';
import { startElectricityMapsEmulator } from '../../emulators/electricity-maps.ts';
import { EM_KEY, FakeClock, HOUR, csvValue } from './provider-cases.ts';

const EM_DIRECT = 'Carbon Intensity gCO₂eq/kWh (direct)';

class MemoryTransport extends Transport {
  lines: string[] = [];
  override log(info: unknown, next: () => void) {
    this.lines.push(JSON.stringify(info));
    next();
  }
}

/** The port as a map, recording calls; saves take a tick so an overlap would show. */
class MemoryStore implements CarbonHistoryStore {
  data = new Map<string, readonly IntensityPoint[]>();
  saves = 0;
  loads = 0;
  inFlight = 0;
  maxInFlight = 0;
  async load(source: string, region: string) {
    this.loads++;
    return this.data.get(`${source}/${region}`) ?? [];
  }
  async save(source: string, region: string, points: readonly IntensityPoint[]) {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((r) => setTimeout(r, 5));
    this.data.set(`${source}/${region}`, [...points]);
    this.saves++;
    this.inFlight--;
  }
}

function spec(o: Record<string, unknown>): CarbonSourceSpec {
  const v = validateCarbonSourceSpec(o);
  if (!v.spec) throw new Error(v.errors.join('; '));
  return v.spec;
}

const ascendingDistinct = (pts: IntensityPoint[]) => pts.every((p, i) => i === 0 || p.timeMs > pts[i - 1]!.timeMs);

describe('CarbonSignalService history', () => {
  const clock = new FakeClock();
  let em: Emulator;
  const emSpec = (o: Record<string, unknown> = {}) =>
    spec({
      provider: 'electricityMaps',
      endpoint: `${em.url}/v3`,
      credentialsSecretRef: { name: 'em' },
      pollIntervalSeconds: 300,
      retries: 0,
      ...o,
    });
  const service = (store?: CarbonHistoryStore, logs?: MemoryTransport) => {
    const svc = new CarbonSignalService({
      now: clock.now,
      // The mechanics at a 48 h depth (the default is the policy's 8 days, CARBON_HISTORY_MS).
      historyDepthMs: 48 * HOUR,
      ...(store ? { historyStore: store } : {}),
      ...(logs ? { logger: winston.createLogger({ transports: [logs] }) } : {}),
    });
    svc.setSource('em', emSpec(), createProvider(emSpec(), { apiKey: EM_KEY }, { now: clock.now }));
    svc.register('em', 'DE');
    return svc;
  };

  before(async () => {
    em = await startElectricityMapsEmulator({ now: clock.now, apiKey: EM_KEY });
  });
  after(() => em.close());
  beforeEach(() => {
    clock.t = Date.parse('2023-06-15T12:20:00Z');
    em.clearFault();
    em.requests.clear();
  });

  it("is seeded at the first poll from the provider's history(): 48 h, ascending, the trace's values", async () => {
    const svc = service();
    expect(svc.history('em', 'DE')).to.deep.equal([]);
    await svc.refresh();
    const h = svc.history('em', 'DE');
    // The seed covers [now − 48 h, now) hourly, and the poll adds the current hour (already in it: not twice).
    expect(h).to.have.length(48);
    expect(ascendingDistinct(h)).to.equal(true);
    expect(h[0]!.timeMs).to.equal(Date.parse('2023-06-13T13:00:00Z'));
    expect(h.at(-1)!.timeMs).to.equal(Date.parse('2023-06-15T12:00:00Z'));
    for (const p of [h[0]!, h[20]!, h.at(-1)!])
      expect(p.valueGPerKWh).to.equal(csvValue('DE-LU_2023_hourly.csv', EM_DIRECT, p.timeMs));
    expect(em.count('/v3/carbon-intensity/past-range')).to.equal(1);
  });

  it('polls add one point per distinct data time; the window slides at 48 h', async () => {
    const svc = service();
    await svc.refresh();
    clock.advance(5 * 60_000); // same hour: polled again, no new point
    await svc.refresh();
    expect(svc.history('em', 'DE')).to.have.length(48);
    clock.advance(HOUR); // next hour: one more point, the oldest leaves
    await svc.refresh();
    const h = svc.history('em', 'DE');
    expect(h).to.have.length(48);
    expect(h[0]!.timeMs).to.equal(Date.parse('2023-06-13T14:00:00Z'));
    expect(h.at(-1)!.timeMs).to.equal(Date.parse('2023-06-15T13:00:00Z'));
    expect(em.count('/v3/carbon-intensity/past-range')).to.equal(1); // seeded once
  });

  it('only real provider values: a fail-safe assumption never enters', async () => {
    const svc = new CarbonSignalService({ now: clock.now });
    const s = emSpec({ failSafe: { action: 'assume-intensity', valueGPerKWh: 999 } });
    svc.setSource('em', s, createProvider(s, { apiKey: EM_KEY }, { now: clock.now }));
    svc.register('em', 'DE');
    em.fault({ kind: 'status', status: 500 });
    await svc.refresh();
    expect(svc.get('em', 'DE').reading!.provider).to.equal('fail-safe');
    expect(svc.history('em', 'DE')).to.deep.equal([]);
  });

  it('a failed seed is retried after an hour, not at every poll', async () => {
    const svc = service();
    em.fault({ kind: 'status', status: 500 }, { paths: ['/v3/carbon-intensity/past-range'] });
    await svc.refresh();
    expect(svc.history('em', 'DE')).to.have.length(1); // the current value only
    clock.advance(10 * 60_000);
    await svc.refresh();
    expect(em.count('/v3/carbon-intensity/past-range')).to.equal(1);
    em.clearFault();
    clock.advance(HOUR);
    await svc.refresh();
    expect(em.count('/v3/carbon-intensity/past-range')).to.equal(2);
    expect(svc.history('em', 'DE').length).to.be.above(40);
  });

  it('persisted through the port: saved after a change, never two saves at once, and back after a restart', async () => {
    const store = new MemoryStore();
    const first = service(store);
    await first.refresh();
    clock.advance(HOUR);
    await first.refresh();
    await first.flushHistory();
    expect(store.saves).to.be.at.least(2);
    expect(store.maxInFlight).to.equal(1);
    const saved = store.data.get('em/DE')!;
    expect(saved).to.deep.equal(first.history('em', 'DE'));

    // A restart: a new service with the same store has the history before it polls anything.
    const second = service(store);
    await second.loadHistory('em', 'DE');
    expect(second.history('em', 'DE')).to.deep.equal(saved);
    expect(em.count('/v3/carbon-intensity/latest')).to.equal(2); // only the first service's polls
  });

  it('stored points that cannot be trusted are dropped and logged, the rest kept', async () => {
    const store = new MemoryStore();
    const t = Date.parse('2023-06-15T10:00:00Z');
    store.data.set('em/DE', [
      { timeMs: t, valueGPerKWh: 300 },
      { timeMs: t + HOUR, valueGPerKWh: Number.NaN },
      { timeMs: t + 2 * HOUR, valueGPerKWh: -4 },
      { timeMs: clock.t + 24 * HOUR, valueGPerKWh: 200 },
      { timeMs: 'yesterday', valueGPerKWh: 100 } as unknown as IntensityPoint,
    ]);
    const logs = new MemoryTransport();
    const svc = service(store, logs);
    await svc.loadHistory('em', 'DE');
    expect(svc.history('em', 'DE')).to.deep.equal([{ timeMs: t, valueGPerKWh: 300 }]);
    const line = logs.lines.find((l) => l.includes('stored carbon history has points that cannot be trusted'));
    expect(line).to.include('"dropped":4');
  });

  it('a change of provider settings that changes the series clears it; a poll-interval change does not', async () => {
    const svc = service();
    await svc.refresh();
    expect(svc.history('em', 'DE').length).to.equal(48);
    svc.setSource(
      'em',
      emSpec({ pollIntervalSeconds: 600 }),
      createProvider(emSpec(), { apiKey: EM_KEY }, { now: clock.now }),
    );
    expect(svc.history('em', 'DE').length).to.equal(48);
    const life = emSpec({ emissionFactorType: 'lifecycle' });
    svc.setSource('em', life, createProvider(life, { apiKey: EM_KEY }, { now: clock.now }));
    expect(svc.history('em', 'DE')).to.deep.equal([]);
  });
});
