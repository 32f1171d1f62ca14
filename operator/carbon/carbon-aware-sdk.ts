// Green Software Foundation Carbon Aware SDK WebAPI
// (https://github.com/Green-Software-Foundation/carbon-aware-sdk/blob/dev/casdk-docs/docs/architecture/web-api.md):
// `GET /emissions/bylocation?location&time&toTime` → `[{location, time, rating, duration}]` (rating in
// gCO2/kWh, duration a .NET TimeSpan such as `01:00:00` or `1.00:00:00`), 204 when there is no data;
// `GET /emissions/forecasts/current?location&dataStartAt&dataEndAt` → `[{…, optimalDataPoints: [...],
// forecastData: [{location, timestamp, duration (minutes), value}]}]`. The code returns `optimalDataPoints` (an
// array); older docs show `optimalDataPoint`: we read `forecastData` and accept either. The SDK relays another
// provider, so which signal it is (average or marginal) comes from the CarbonSource configuration. Every emission
// and forecast names its `location`: it must be the location asked for. `rating` and `value` are JSON numbers.
import type { HttpOptions } from './http-client.ts';
import { getJson } from './http-client.ts';
import { field, intensity, isObject, malformed, sameRegion, shown, timestamp } from './payload.ts';
import { defineProvider } from './provider-definition.ts';
import { CarbonProviderError } from './provider-error.ts';
import { currentIndex } from './reading-checks.ts';
import type { CarbonProvider, CarbonReading, EmissionBasis, SignalKind } from './types.ts';

export interface CarbonAwareSdkOptions {
  endpoint: string;
  signal: SignalKind;
  basis: EmissionBasis;
  http: HttpOptions;
}

/** .NET TimeSpan `[d.]hh:mm:ss[.fffffff]` → ms. */
export function parseTimeSpan(s: string): number {
  const m = /^(-)?(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?$/.exec(s.trim());
  if (!m) return NaN;
  const [, neg, d, h, mi, se, frac] = m;
  const ms =
    ((Number(d ?? 0) * 24 + Number(h)) * 60 + Number(mi)) * 60_000 +
    Number(se) * 1000 +
    (frac ? Math.round(Number(`0.${frac}`) * 1000) : 0);
  return neg ? -ms : ms;
}

export class CarbonAwareSdkProvider implements CarbonProvider {
  readonly name = 'carbonAwareSdk';
  readonly #o: CarbonAwareSdkOptions;

  constructor(o: CarbonAwareSdkOptions) {
    this.#o = o;
  }

  async #get(path: string, region: string, query: Record<string, string>, signal?: AbortSignal) {
    const url = new URL(`${this.#o.endpoint.replace(/\/+$/, '')}${path}`);
    url.searchParams.set('location', region);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const what = `carbonAwareSdk ${path} ${region}`;
    const res = await getJson(this.#o.http, {
      what,
      url: url.toString(),
      ...(signal ? { signal } : {}),
      mapStatus: (status, text) =>
        (status === 400 || status === 404) && /location/i.test(text)
          ? new CarbonProviderError('unknown-region', `${what}: the SDK does not know location '${region}'`)
          : undefined,
    });
    return { status: res.status, body: res.body, what };
  }

  #emission(item: unknown, region: string, what: string, path: string): CarbonReading {
    sameRegion(item, 'location', region, what, path, true);
    const dur = field(item, 'duration', what, path);
    if (typeof dur !== 'string' || !(parseTimeSpan(dur) > 0))
      throw malformed(what, `${path}.duration`, `expected a TimeSpan like '01:00:00', got ${shown(dur)}`);
    return {
      region,
      valueGPerKWh: intensity(field(item, 'rating', what, path), what, `${path}.rating`),
      timeMs: timestamp(field(item, 'time', what, path), what, `${path}.time`),
      provider: this.name,
      signal: this.#o.signal,
      basis: this.#o.basis,
      estimated: false,
      forecast: false,
    };
  }

  async #emissions(region: string, fromMs: number, toMs: number, signal?: AbortSignal): Promise<CarbonReading[]> {
    const { status, body, what } = await this.#get(
      '/emissions/bylocation',
      region,
      { time: new Date(fromMs).toISOString(), toTime: new Date(toMs).toISOString() },
      signal,
    );
    if (status === 204 || body === undefined)
      throw new CarbonProviderError('no-data', `${what}: 204 No Content: the SDK has no data for this time`);
    if (!Array.isArray(body)) throw malformed(what, '$', 'expected an array of emissions');
    return body.map((it, i) => this.#emission(it, region, what, `$[${i}]`)).sort((a, b) => a.timeMs - b.timeMs);
  }

  async current(region: string, signal?: AbortSignal): Promise<CarbonReading> {
    const now = this.#o.http.now();
    const all = await this.#emissions(region, now - 2 * 3_600_000, now, signal);
    const at = currentIndex(
      all.map((r) => r.timeMs),
      now,
      `carbonAwareSdk /emissions/bylocation ${region}`,
      '$',
    );
    return all[at]!;
  }

  async forecast(region: string, horizonMs: number, signal?: AbortSignal): Promise<CarbonReading[] | null> {
    const now = this.#o.http.now();
    let res;
    try {
      res = await this.#get(
        '/emissions/forecasts/current',
        region,
        { dataStartAt: new Date(now).toISOString(), dataEndAt: new Date(now + horizonMs).toISOString() },
        signal,
      );
    } catch (e) {
      // 501: the SDK's configured data source has no forecast (e.g. its JSON source): say so, do not fail.
      if (e instanceof CarbonProviderError && e.reason === 'http-error' && / 501/.test(e.message)) return null;
      throw e;
    }
    const { status, body, what } = res;
    if (status === 204 || body === undefined) return null;
    if (!Array.isArray(body)) throw malformed(what, '$', 'expected an array of forecasts');
    const first = body[0];
    if (!isObject(first)) return null;
    sameRegion(first, 'location', region, what, '$[0]', true);
    const data = field(first, 'forecastData', what, '$[0]');
    if (!Array.isArray(data)) throw malformed(what, '$[0].forecastData', 'expected an array');
    const opt = first.optimalDataPoints ?? first.optimalDataPoint;
    if (opt !== undefined && !Array.isArray(opt) && !isObject(opt))
      throw malformed(what, '$[0].optimalDataPoints', 'expected an array');
    if (data.length === 0) return null;
    return data.map((p, i) => {
      const path = `$[0].forecastData[${i}]`;
      sameRegion(p, 'location', region, what, path, false);
      const d = field(p, 'duration', what, path);
      if (typeof d !== 'number' || !(d > 0)) throw malformed(what, `${path}.duration`, 'expected minutes > 0');
      return {
        region,
        valueGPerKWh: intensity(field(p, 'value', what, path), what, `${path}.value`),
        timeMs: timestamp(field(p, 'timestamp', what, path), what, `${path}.timestamp`),
        provider: this.name,
        signal: this.#o.signal,
        basis: this.#o.basis,
        estimated: true,
        forecast: true,
      } satisfies CarbonReading;
    });
  }

  async history(region: string, fromMs: number, toMs: number, signal?: AbortSignal): Promise<CarbonReading[]> {
    try {
      return (await this.#emissions(region, fromMs, toMs, signal)).filter((r) => r.timeMs >= fromMs && r.timeMs < toMs);
    } catch (e) {
      if (e instanceof CarbonProviderError && e.reason === 'no-data') return [];
      throw e;
    }
  }
}

export const carbonAwareSdk = defineProvider({
  kind: 'carbonAwareSdk',
  title: 'Green Software Foundation Carbon Aware SDK WebAPI',
  docsUrl: 'https://github.com/Green-Software-Foundation/carbon-aware-sdk',
  transport: 'http',
  // Self-hosted: no public endpoint, spec.endpoint is required.
  credentials: [],
  signalTypes: {
    allowed: ['average', 'marginal'],
    default: 'average',
    kindOf: (t) => (t === 'marginal' ? 'marginal' : 'average'),
  },
  emissionFactorTypes: ['direct', 'lifecycle'],
  notes:
    'SDK locations (`germanywestcentral`); `/emissions/bylocation?location&time&toTime`, `/emissions/forecasts/current`; 204 → `no-data` (forecast: `null`); TimeSpan `duration` checked; `optimalDataPoints` array or `optimalDataPoint` accepted; 501 on forecast → `null`; every `location` must be the one asked for',
  create: (c) =>
    new CarbonAwareSdkProvider({
      endpoint: c.endpoint,
      signal: c.signal,
      basis: c.basis,
      http: c.http,
    }),
});
