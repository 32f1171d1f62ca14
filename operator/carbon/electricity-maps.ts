// Electricity Maps API v3 (https://docs.electricitymaps.com/ , v3 API reference): `auth-token` header,
// `carbon-intensity/latest|forecast|history|past-range?zone=`, `emissionFactorType=direct|lifecycle`.
// Values are location-based averages in gCO2eq/kWh; `isEstimated` is the provider's own flag. The reference shows
// `carbonIntensity` as a JSON number (no numeric strings) and `zone` on every answer: an answer for another zone is
// refused, naming both.
import type { HttpOptions } from './http-client.ts';
import { getJson } from './http-client.ts';
import { arrayField, intensity, isObject, malformed, sameRegion, shown, timestamp } from './payload.ts';
import { defineProvider } from './provider-definition.ts';
import { CarbonProviderError } from './provider-error.ts';
import type { Secret } from './secret.ts';
import type { CarbonProvider, CarbonReading, EmissionBasis } from './types.ts';

export interface ElectricityMapsOptions {
  endpoint: string;
  apiKey?: Secret;
  emissionFactorType: EmissionBasis;
  http: HttpOptions;
}

export const ELECTRICITY_MAPS_DEFAULT_ENDPOINT = 'https://api.electricitymap.org/v3';

export class ElectricityMapsProvider implements CarbonProvider {
  readonly name = 'electricityMaps';
  readonly #o: ElectricityMapsOptions;

  constructor(o: ElectricityMapsOptions) {
    this.#o = o;
  }

  async #get(path: string, region: string, query: Record<string, string>, signal?: AbortSignal) {
    const url = new URL(`${this.#o.endpoint.replace(/\/+$/, '')}/${path}`);
    url.searchParams.set('zone', region);
    url.searchParams.set('emissionFactorType', this.#o.emissionFactorType);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const headers: Record<string, string> = {};
    if (this.#o.apiKey) headers['auth-token'] = this.#o.apiKey.reveal();
    const what = `electricityMaps ${path} ${region}`;
    const res = await getJson(this.#o.http, {
      what,
      url: url.toString(),
      headers,
      ...(signal ? { signal } : {}),
      mapStatus: (status, text) =>
        (status === 404 || status === 400) && /zone/i.test(text)
          ? new CarbonProviderError('unknown-region', `${what}: Electricity Maps does not know zone '${region}'`)
          : undefined,
    });
    if (res.body === undefined) throw new CarbonProviderError('no-data', `${what}: empty response`);
    // Every documented answer names its zone at the top, except past-range (items may carry it: checked there).
    sameRegion(res.body, 'zone', region, what, '$', path !== 'carbon-intensity/past-range');
    return { body: res.body, what };
  }

  #reading(item: unknown, region: string, what: string, path: string, forecast: boolean): CarbonReading {
    if (!isObject(item)) throw malformed(what, path, `expected an object, got ${shown(item)}`);
    const obj = item;
    sameRegion(obj, 'zone', region, what, path, false);
    const type = obj.emissionFactorType;
    if (type !== undefined && type !== this.#o.emissionFactorType)
      throw malformed(
        what,
        `${path}.emissionFactorType`,
        `asked for '${this.#o.emissionFactorType}', got ${shown(type)}`,
      );
    return {
      region,
      valueGPerKWh: intensity(obj.carbonIntensity, what, `${path}.carbonIntensity`),
      timeMs: timestamp(obj.datetime, what, `${path}.datetime`),
      provider: this.name,
      signal: 'average',
      basis: this.#o.emissionFactorType,
      estimated: forecast || obj.isEstimated === true,
      forecast,
    };
  }

  /** `latest` is the newest observation; CheckedProvider refuses it when it is dated after now. */
  async current(region: string, signal?: AbortSignal): Promise<CarbonReading> {
    const { body, what } = await this.#get('carbon-intensity/latest', region, {}, signal);
    return this.#reading(body, region, what, '$', false);
  }

  async forecast(region: string, horizonMs: number, signal?: AbortSignal): Promise<CarbonReading[] | null> {
    const hours = Math.max(1, Math.min(72, Math.ceil(horizonMs / 3_600_000)));
    const { body, what } = await this.#get(
      'carbon-intensity/forecast',
      region,
      { horizonHours: String(hours) },
      signal,
    );
    const items = arrayField(body, 'forecast', what, '$');
    if (items.length === 0) return null;
    return items.map((it, i) => this.#reading(it, region, what, `$.forecast[${i}]`, true));
  }

  async history(region: string, fromMs: number, toMs: number, signal?: AbortSignal): Promise<CarbonReading[]> {
    const { body, what } = await this.#get(
      'carbon-intensity/past-range',
      region,
      { start: new Date(fromMs).toISOString(), end: new Date(toMs).toISOString() },
      signal,
    );
    const items = arrayField(body, 'data', what, '$');
    return items
      .map((it, i) => this.#reading(it, region, what, `$.data[${i}]`, false))
      .filter((r) => r.timeMs >= fromMs && r.timeMs < toMs);
  }

  /** The last 24 hours, hourly (`carbon-intensity/history`). */
  async recent(region: string, signal?: AbortSignal): Promise<CarbonReading[]> {
    const { body, what } = await this.#get('carbon-intensity/history', region, {}, signal);
    return arrayField(body, 'history', what, '$').map((it, i) =>
      this.#reading(it, region, what, `$.history[${i}]`, false),
    );
  }
}

export const electricityMaps = defineProvider({
  kind: 'electricityMaps',
  title: 'Electricity Maps API v3',
  docsUrl: 'https://docs.electricitymaps.com/',
  transport: 'http',
  defaultEndpoint: ELECTRICITY_MAPS_DEFAULT_ENDPOINT,
  credentials: ['apiKey'],
  emissionFactorTypes: ['direct', 'lifecycle'],
  // Limits depend on the plan; 100/min is a conservative default: set rateLimit to your plan.
  rateLimit: { requests: 100, perSeconds: 60, source: 'plan-dependent; a conservative default' },
  notes:
    "zones (`DE`, `US-CAL-CISO`); header `auth-token`; `carbon-intensity/latest`, `/forecast?horizonHours`, `/past-range` (history), `/history` (`recent()`); the answer's `zone` must be the zone asked for",
  create: (c) =>
    new ElectricityMapsProvider({
      endpoint: c.endpoint,
      apiKey: c.credentials.apiKey!,
      emissionFactorType: c.basis,
      http: c.http,
    }),
});
