// One entry per provider for the shared contract suite and the bad-input tests: how to start its emulator, how
// to build the provider through the real path (validateCarbonSourceSpec → createProvider), and what the trace
// says the value should be at a given time.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CarbonProvider, Credentials, ProviderDeps } from '../../../operator/carbon/index.ts';
import { createProvider, validateCarbonSourceSpec } from '../../../operator/carbon/index.ts';
import type { Emulator } from '../../emulators/emulator-server.ts';
import { startElectricityMapsEmulator } from '../../emulators/electricity-maps.ts';
import { startWattTimeEmulator } from '../../emulators/watt-time.ts';
import type { WattTimeEmulator } from '../../emulators/watt-time.ts';
import { startUkCarbonIntensityEmulator } from '../../emulators/uk-carbon-intensity.ts';
import { startCarbonAwareSdkEmulator } from '../../emulators/carbon-aware-sdk.ts';

export const HOUR = 3_600_000;
/** Mid-June 2023, 12:20 UTC: inside every 2023 trace, away from the ends. */
export const T0 = Date.parse('2023-06-15T12:20:00Z');

export const EM_KEY = 'em-key-0123456789-SECRET';
export const WT_USER = 'wt-user';
export const WT_PASS = 'wt-pass-SECRET-42';

export class FakeClock {
  t: number;
  constructor(t = T0) {
    this.t = t;
  }
  now = () => this.t;
  advance(ms: number) {
    this.t += ms;
  }
}

/** Reads a CSV column straight from the file (independent of the parser under test). */
export function csvValue(file: string, column: string, whenMs: number): number {
  const text = readFileSync(fileURLToPath(new URL(`../../../data/carbon/${file}`, import.meta.url)), 'utf8');
  const lines = text.split(/\r?\n/);
  const header = lines[0]!.split(',');
  const col = header.indexOf(column);
  const d = new Date(Math.floor(whenMs / HOUR) * HOUR).toISOString();
  const stamp = `${d.slice(0, 10)} ${d.slice(11, 19)}`;
  const line = lines.find((l) => l.startsWith(stamp) || l.split(',')[1]?.startsWith(stamp));
  if (!line || col < 0) throw new Error(`no row ${stamp} / column ${column} in ${file}`);
  return Number(line.split(',')[col]);
}

const EM_DIRECT = 'Carbon Intensity gCO₂eq/kWh (direct)';

export interface Started {
  provider: CarbonProvider;
  emulator?: Emulator;
  /** Builds another provider against the same emulator with spec overrides and extra deps. */
  make(overrides?: Record<string, unknown>, deps?: Partial<ProviderDeps>, creds?: Credentials): CarbonProvider;
  close(): Promise<void>;
}

export interface ProviderCase {
  name: string;
  region: string;
  /** A region the provider does not know; undefined for sources that serve any region. */
  unknownRegion?: string;
  signal: 'average' | 'marginal';
  basis: 'direct' | 'lifecycle';
  hasForecast: boolean;
  hasHistory: boolean;
  /** Expected gCO2eq/kWh at a time, from the CSV. */
  expected(ms: number): number;
  /** Tolerance for the unit conversion (WattTime lbs/MWh). */
  tolerance: number;
  /** JSON path of the value in error messages (for missing-field/out-of-range tests). */
  valueField: string;
  start(clock: FakeClock): Promise<Started>;
}

function build(spec: Record<string, unknown>, creds: Credentials | undefined, deps: ProviderDeps): CarbonProvider {
  const v = validateCarbonSourceSpec(spec);
  if (!v.spec) throw new Error(`test spec invalid: ${v.errors.join('; ')}`);
  return createProvider(v.spec, creds, deps);
}

function starter(
  base: (url: string) => Record<string, unknown>,
  creds: Credentials | undefined,
  emu: (clock: FakeClock) => Promise<Emulator>,
): (clock: FakeClock) => Promise<Started> {
  return async (clock) => {
    const emulator = await emu(clock);
    const make = (o: Record<string, unknown> = {}, d: Partial<ProviderDeps> = {}, c: Credentials | undefined = creds) =>
      build({ ...base(emulator.url), retries: 0, ...o }, c, { now: clock.now, ...d });
    return { provider: make(), emulator, make, close: () => emulator.close() };
  };
}

export const HTTP_CASES: ProviderCase[] = [
  {
    name: 'electricityMaps',
    region: 'DE',
    unknownRegion: 'XX-NOWHERE',
    signal: 'average',
    basis: 'direct',
    hasForecast: true,
    hasHistory: true,
    expected: (ms) => csvValue('DE-LU_2023_hourly.csv', EM_DIRECT, ms),
    tolerance: 1e-9,
    valueField: 'carbonIntensity',
    start: starter(
      (url) => ({
        provider: 'electricityMaps',
        endpoint: `${url}/v3`,
        credentialsSecretRef: { name: 'em' },
        emissionFactorType: 'direct',
      }),
      { apiKey: EM_KEY },
      (c) => startElectricityMapsEmulator({ now: c.now, apiKey: EM_KEY }),
    ),
  },
  {
    name: 'wattTime',
    region: 'CAISO_NORTH',
    unknownRegion: 'NOT_A_REGION',
    signal: 'marginal',
    basis: 'direct',
    hasForecast: true,
    hasHistory: true,
    expected: (ms) => csvValue('US-CAL-CISO_2023_hourly.csv', EM_DIRECT, ms),
    tolerance: 0.001,
    valueField: 'value',
    start: starter(
      (url) => ({ provider: 'wattTime', endpoint: url, credentialsSecretRef: { name: 'wt' } }),
      { username: WT_USER, password: WT_PASS },
      (c) => startWattTimeEmulator({ now: c.now, username: WT_USER, password: WT_PASS }) as Promise<WattTimeEmulator>,
    ),
  },
  {
    name: 'ukCarbonIntensity',
    region: 'GB',
    unknownRegion: 'postcode:ZZ9',
    signal: 'average',
    basis: 'direct',
    hasForecast: true,
    hasHistory: true,
    expected: (ms) => csvValue('GB_2023_hourly.csv', EM_DIRECT, ms),
    tolerance: 1e-9,
    valueField: 'intensity',
    start: starter(
      (url) => ({ provider: 'ukCarbonIntensity', endpoint: url }),
      undefined,
      (c) => startUkCarbonIntensityEmulator({ now: c.now }),
    ),
  },
  {
    name: 'carbonAwareSdk',
    region: 'germanywestcentral',
    unknownRegion: 'atlantis',
    signal: 'average',
    basis: 'direct',
    hasForecast: true,
    hasHistory: true,
    expected: (ms) => csvValue('DE-LU_2023_hourly.csv', EM_DIRECT, ms),
    tolerance: 1e-9,
    valueField: 'rating',
    start: starter(
      (url) => ({ provider: 'carbonAwareSdk', endpoint: url }),
      undefined,
      (c) => startCarbonAwareSdkEmulator({ now: c.now }),
    ),
  },
];

export const LOCAL_CASES: ProviderCase[] = [
  {
    name: 'trace',
    region: 'DE',
    signal: 'average',
    basis: 'direct',
    hasForecast: true,
    hasHistory: true,
    // Anchored at the trace start, so real time = trace time.
    expected: (ms) => csvValue('DE-LU_2023_hourly.csv', EM_DIRECT, ms),
    tolerance: 1e-9,
    valueField: '',
    start: async (clock) => {
      const make = (o: Record<string, unknown> = {}, d: Partial<ProviderDeps> = {}) =>
        build(
          {
            provider: 'trace',
            trace: { file: 'data/carbon/DE-LU_2023_hourly.csv', anchor: '2023-01-01T00:00:00Z' },
            ...o,
          },
          undefined,
          { now: clock.now, ...d },
        );
      return { provider: make(), make, close: async () => undefined };
    },
  },
  {
    name: 'static',
    region: 'anywhere',
    signal: 'average',
    basis: 'direct',
    hasForecast: false,
    hasHistory: false,
    expected: () => 321.5,
    tolerance: 0,
    valueField: '',
    start: async (clock) => {
      const make = (o: Record<string, unknown> = {}, d: Partial<ProviderDeps> = {}) =>
        build({ provider: 'static', static: { valueGPerKWh: 321.5 }, ...o }, undefined, { now: clock.now, ...d });
      return { provider: make(), make, close: async () => undefined };
    },
  },
];
