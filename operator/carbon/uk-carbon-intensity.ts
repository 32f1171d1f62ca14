// UK National Grid ESO Carbon Intensity API (https://carbon-intensity.github.io/api-definitions/): no key,
// half-hourly gCO2/kWh. National: `/intensity` (forecast and actual), `/intensity/{from}/fw48h`,
// `/intensity/{from}/{to}`. Regional (forecasts only): `/regional/regionid/{1-17}`,
// `/regional/postcode/{outward code}`, `/regional/intensity/{from}/fw48h/regionid/{id}`.
// Regions are named `GB` (national), `regionid:13` or `postcode:RG10`. The API serves `data` as an array on
// some endpoints and as an object on others, and clients in the wild see both: we accept both everywhere.
// The current value is the half hour at or before now (never a later one: those are forecast()'s); a regional
// answer must be for the region asked (`regionid`, and `postcode` when present).
import type { HttpOptions } from './http-client.ts';
import { getJson } from './http-client.ts';
import { field, intensity, isObject, malformed, sameRegion, timestamp } from './payload.ts';
import { defineProvider } from './provider-definition.ts';
import { CarbonProviderError } from './provider-error.ts';
import { currentIndex } from './reading-checks.ts';
import type { CarbonProvider, CarbonReading } from './types.ts';

export interface UkCarbonIntensityOptions {
  endpoint: string;
  http: HttpOptions;
}

export const UK_CARBON_INTENSITY_DEFAULT_ENDPOINT = 'https://api.carbonintensity.org.uk';

type UkRegion = { kind: 'national' } | { kind: 'regionid'; id: number } | { kind: 'postcode'; code: string };

function parseRegion(region: string): UkRegion {
  const r = region.trim();
  if (/^(gb|national|uk)$/i.test(r)) return { kind: 'national' };
  const id = /^regionid:(\d{1,2})$/i.exec(r);
  if (id && Number(id[1]) >= 1 && Number(id[1]) <= 17) return { kind: 'regionid', id: Number(id[1]) };
  const pc = /^postcode:([A-Za-z]{1,2}\d[A-Za-z\d]?)$/.exec(r);
  if (pc) return { kind: 'postcode', code: pc[1]!.toUpperCase() };
  throw new CarbonProviderError(
    'unknown-region',
    `ukCarbonIntensity: unknown region '${region}': use 'GB', 'regionid:1'…'regionid:17' or 'postcode:<outward code>'`,
  );
}

/** `2023-06-01T12:00Z`: the API's path format, rounded down to the half hour. */
function pathTime(ms: number): string {
  const t = Math.floor(ms / 1_800_000) * 1_800_000;
  return `${new Date(t).toISOString().slice(0, 16)}Z`;
}

/** `data` as an array, or as a single object: both come back as a list. */
function list(v: unknown, what: string, path: string): unknown[] {
  if (Array.isArray(v)) return v;
  if (isObject(v)) return [v];
  throw malformed(what, path, 'expected an array or an object');
}

export class UkCarbonIntensityProvider implements CarbonProvider {
  readonly name = 'ukCarbonIntensity';
  readonly #o: UkCarbonIntensityOptions;

  constructor(o: UkCarbonIntensityOptions) {
    this.#o = o;
  }

  async #get(path: string, region: string, signal?: AbortSignal): Promise<{ body: unknown; what: string }> {
    const what = `ukCarbonIntensity ${region}`;
    const res = await getJson(this.#o.http, {
      what,
      url: `${this.#o.endpoint.replace(/\/+$/, '')}${path}`,
      ...(signal ? { signal } : {}),
      mapStatus: (status, text) =>
        status === 400 && /region|postcode/i.test(text)
          ? new CarbonProviderError('unknown-region', `${what}: the API does not know region '${region}'`)
          : undefined,
    });
    if (res.body === undefined) throw new CarbonProviderError('no-data', `${what}: empty response`);
    return { body: res.body, what };
  }

  /** Half-hour entries of a national answer, or of the one region in a regional answer. */
  #entries(body: unknown, r: UkRegion, what: string): { items: unknown[]; path: string } {
    const data = list(field(body, 'data', what, '$'), what, '$.data');
    if (r.kind === 'national') return { items: data, path: '$.data' };
    const reg = data[0];
    if (!reg) throw new CarbonProviderError('no-data', `${what}: $.data: no region in the answer`);
    if (r.kind === 'regionid') sameRegion(reg, 'regionid', String(r.id), what, '$.data[0]', true);
    else sameRegion(reg, 'postcode', r.code, what, '$.data[0]', false);
    return { items: list(field(reg, 'data', what, '$.data[0]'), what, '$.data[0].data'), path: '$.data[0].data' };
  }

  #reading(item: unknown, region: string, what: string, path: string, asForecast: boolean): CarbonReading {
    const i = field(item, 'intensity', what, path);
    if (!isObject(i)) throw malformed(what, `${path}.intensity`, 'expected an object');
    // `actual` is null until the half hour has been measured; regional entries carry forecasts only.
    const hasActual = !asForecast && i.actual !== undefined && i.actual !== null;
    const raw = hasActual ? i.actual : i.forecast;
    return {
      region,
      valueGPerKWh: intensity(raw, what, `${path}.intensity.${hasActual ? 'actual' : 'forecast'}`),
      timeMs: timestamp(field(item, 'from', what, path), what, `${path}.from`),
      provider: this.name,
      signal: 'average',
      basis: 'direct',
      estimated: !hasActual,
      forecast: !hasActual,
    };
  }

  async current(region: string, signal?: AbortSignal): Promise<CarbonReading> {
    const r = parseRegion(region);
    const path =
      r.kind === 'national'
        ? '/intensity'
        : r.kind === 'regionid'
          ? `/regional/regionid/${r.id}`
          : `/regional/postcode/${r.code}`;
    const { body, what } = await this.#get(path, region, signal);
    const { items, path: p } = this.#entries(body, r, what);
    const times = items.map((it, i) => timestamp(field(it, 'from', what, `${p}[${i}]`), what, `${p}[${i}].from`));
    const at = currentIndex(times, this.#o.http.now(), what, p);
    return this.#reading(items[at], region, what, `${p}[${at}]`, false);
  }

  async forecast(region: string, horizonMs: number, signal?: AbortSignal): Promise<CarbonReading[] | null> {
    const r = parseRegion(region);
    const from = pathTime(this.#o.http.now());
    const span = horizonMs <= 24 * 3_600_000 ? 'fw24h' : 'fw48h';
    const path =
      r.kind === 'national'
        ? `/intensity/${from}/${span}`
        : r.kind === 'regionid'
          ? `/regional/intensity/${from}/${span}/regionid/${r.id}`
          : `/regional/intensity/${from}/${span}/postcode/${r.code}`;
    const { body, what } = await this.#get(path, region, signal);
    const { items, path: p } = this.#entries(body, r, what);
    // The API only offers 24 h and 48 h windows: trim to the horizon asked for.
    const end = this.#o.http.now() + horizonMs;
    const pts = items.map((it, i) => this.#reading(it, region, what, `${p}[${i}]`, true)).filter((x) => x.timeMs < end);
    return pts.length === 0 ? null : pts;
  }

  async history(region: string, fromMs: number, toMs: number, signal?: AbortSignal): Promise<CarbonReading[]> {
    const r = parseRegion(region);
    const range = `${pathTime(fromMs)}/${pathTime(toMs)}`;
    const path =
      r.kind === 'national'
        ? `/intensity/${range}`
        : r.kind === 'regionid'
          ? `/regional/intensity/${range}/regionid/${r.id}`
          : `/regional/intensity/${range}/postcode/${r.code}`;
    const { body, what } = await this.#get(path, region, signal);
    const { items, path: p } = this.#entries(body, r, what);
    return items
      .map((it, i) => this.#reading(it, region, what, `${p}[${i}]`, false))
      .filter((x) => x.timeMs >= fromMs && x.timeMs < toMs);
  }
}

export const ukCarbonIntensity = defineProvider({
  kind: 'ukCarbonIntensity',
  title: 'UK National Grid ESO Carbon Intensity API',
  docsUrl: 'https://carbon-intensity.github.io/api-definitions/',
  transport: 'http',
  defaultEndpoint: UK_CARBON_INTENSITY_DEFAULT_ENDPOINT,
  credentials: [],
  // The API publishes no limit; stay polite.
  rateLimit: { requests: 60, perSeconds: 60, source: 'no published limit; a polite default' },
  notes:
    '`GB`, `regionid:1`…`regionid:17`, `postcode:RG10`; no key; half-hourly; `/intensity`, `/intensity/{from}/fw24h|fw48h`, `/intensity/{from}/{to}`, `/regional/…`; `actual` when measured, else `forecast` (labelled `estimated`, `forecast`); `data` accepted as array or object; the current value is the half hour at or before now',
  create: (c) => new UkCarbonIntensityProvider({ endpoint: c.endpoint, http: c.http }),
});
