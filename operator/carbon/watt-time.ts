// WattTime API v3 (https://docs.watttime.org/): `GET /login` with HTTP Basic auth returns a bearer token valid
// for about 30 minutes; a 401 on a data call means log in again (we do, once per call). Data: `/v3/forecast`,
// `/v3/historical`, `/v3/signal-index`, `/v3/region-from-loc`. MOER (`co2_moer`) is a *marginal* signal in
// lbs CO2/MWh: converted here to gCO2/kWh (× 0.45359237) and labelled `marginal`; `co2_aoer` is the average.
// The v3 forecast starts at the current 5-minute interval: the current value is its latest point at or before now,
// never a later one (a forecast whose first point lies ahead has no current value). `meta.region` (and `ba`, the
// v2 name, when present) must be the region asked for. Values are JSON numbers in lbs/MWh. The bearer token is a
// Secret too, so an upstream that echoes it is redacted like the password.
import type { HttpOptions } from './http-client.ts';
import { getJson, withRetries, getJsonOnce } from './http-client.ts';
import {
  arrayField,
  checkRange,
  field,
  isObject,
  jsonNumber,
  malformed,
  sameRegion,
  shown,
  str,
  timestamp,
} from './payload.ts';
import { defineProvider } from './provider-definition.ts';
import { CarbonProviderError } from './provider-error.ts';
import { currentIndex } from './reading-checks.ts';
import { Secret } from './secret.ts';
import type { CarbonProvider, CarbonReading } from './types.ts';
import { LBS_PER_MWH_TO_G_PER_KWH } from './types.ts';

export type WattTimeSignalType = 'co2_moer' | 'co2_aoer';

export interface WattTimeOptions {
  endpoint: string;
  username?: Secret;
  password?: Secret;
  signalType: WattTimeSignalType;
  http: HttpOptions;
  /** Re-login before the token's published 30-minute life ends. */
  tokenLifetimeMs?: number;
}

export const WATT_TIME_DEFAULT_ENDPOINT = 'https://api.watttime.org';
const TOKEN_LIFETIME_MS = 25 * 60_000;
const UNITS = 'lbs_co2_per_mwh';

export class WattTimeProvider implements CarbonProvider {
  readonly name = 'wattTime';
  readonly #o: WattTimeOptions;
  #token: { value: Secret; gotAtMs: number } | undefined;
  #login: Promise<Secret> | undefined;
  readonly #regionsByLoc = new Map<string, string>();
  /** How many times we logged in: the tests check that an expired token costs exactly one re-login. */
  logins = 0;

  constructor(o: WattTimeOptions) {
    this.#o = o;
  }

  #base(): string {
    return this.#o.endpoint.replace(/\/+$/, '');
  }

  async #token_(signal?: AbortSignal, force = false): Promise<Secret> {
    const now = this.#o.http.now();
    const life = this.#o.tokenLifetimeMs ?? TOKEN_LIFETIME_MS;
    if (!force && this.#token && now - this.#token.gotAtMs < life) return this.#token.value;
    // Single-flight: concurrent calls share one login (the login endpoint has its own, lower limit).
    this.#login ??= this.#doLogin(signal).finally(() => {
      this.#login = undefined;
    });
    return this.#login;
  }

  async #doLogin(signal?: AbortSignal): Promise<Secret> {
    const { username, password } = this.#o;
    if (!username || !password)
      throw new CarbonProviderError('config', 'wattTime login: username and password are required (from the Secret)');
    const basic = Buffer.from(`${username.reveal()}:${password.reveal()}`).toString('base64');
    const what = 'wattTime login';
    const res = await getJson(this.#o.http, {
      what,
      url: `${this.#base()}/login`,
      headers: { authorization: `Basic ${basic}` },
      ...(signal ? { signal } : {}),
    });
    const token = new Secret(str(field(res.body, 'token', what, '$'), what, '$.token'));
    this.logins++;
    this.#token = { value: token, gotAtMs: this.#o.http.now() };
    return token;
  }

  async #get(path: string, region: string, query: Record<string, string>, signal?: AbortSignal) {
    const url = new URL(`${this.#base()}/v3/${path}`);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const what = `wattTime ${path} ${region}`;
    const once = async (token: Secret) =>
      getJsonOnce(this.#o.http, {
        what,
        url: url.toString(),
        headers: { authorization: `Bearer ${token.reveal()}` },
        ...(signal ? { signal } : {}),
        mapStatus: (status, text) =>
          (status === 400 || status === 404) && /region/i.test(text)
            ? new CarbonProviderError('unknown-region', `${what}: WattTime does not know region '${region}'`)
            : undefined,
      });
    return withRetries(this.#o.http, signal, async () => {
      try {
        return { body: (await once(await this.#token_(signal))).body, what };
      } catch (e) {
        if (!(e instanceof CarbonProviderError) || e.reason !== 'unauthorized') throw e;
        // The token expired or was revoked: log in again, once, and repeat the call.
        return { body: (await once(await this.#token_(signal, true))).body, what };
      }
    });
  }

  async #resolve(region: string, signal?: AbortSignal): Promise<string> {
    const m = /^geo:\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)$/.exec(region);
    if (!m) return region;
    const cached = this.#regionsByLoc.get(region);
    if (cached) return cached;
    const resolved = await this.regionFromLocation(Number(m[1]), Number(m[2]), signal);
    this.#regionsByLoc.set(region, resolved);
    return resolved;
  }

  /** `/v3/region-from-loc`: the WattTime region code for a point. */
  async regionFromLocation(latitude: number, longitude: number, signal?: AbortSignal): Promise<string> {
    const { body, what } = await this.#get(
      'region-from-loc',
      `${latitude},${longitude}`,
      { latitude: String(latitude), longitude: String(longitude), signal_type: this.#o.signalType },
      signal,
    );
    return str(field(body, 'region', what, '$'), what, '$.region');
  }

  /** `/v3/signal-index`: the current value as a 0–100 percentile of recent values. Not an intensity. */
  async signalIndex(region: string, signal?: AbortSignal): Promise<number> {
    const r = await this.#resolve(region, signal);
    const { body, what } = await this.#get('signal-index', r, { region: r, signal_type: this.#o.signalType }, signal);
    sameRegion(field(body, 'meta', what, '$'), 'region', r, what, '$.meta', true);
    const pts = arrayField(body, 'data', what, '$');
    const v = jsonNumber(field(pts[0], 'value', what, '$.data[0]'), what, '$.data[0].value', 'percent');
    if (!Number.isFinite(v) || v < 0 || v > 100)
      throw malformed(what, '$.data[0].value', `expected a percentile 0–100, got ${shown(v)}`);
    return v;
  }

  /** `region`: as the caller named it (copied into readings); `asked`: the WattTime region sent upstream. */
  #points(body: unknown, region: string, asked: string, what: string, forecast: boolean): CarbonReading[] {
    const meta = field(body, 'meta', what, '$');
    sameRegion(meta, 'region', asked, what, '$.meta', true);
    sameRegion(meta, 'ba', asked, what, '$.meta', false);
    const units = field(meta, 'units', what, '$.meta');
    if (units !== UNITS)
      throw new CarbonProviderError(
        'malformed',
        `${what}: $.meta.units: wrong units '${String(units)}', expected '${UNITS}'`,
      );
    if (isObject(meta) && meta.signal_type !== undefined && meta.signal_type !== this.#o.signalType)
      throw malformed(
        what,
        '$.meta.signal_type',
        `asked for '${this.#o.signalType}', got '${String(meta.signal_type)}'`,
      );
    return arrayField(body, 'data', what, '$').map((p, i) => {
      const path = `$.data[${i}]`;
      const raw = jsonNumber(field(p, 'value', what, path), what, `${path}.value`, 'lbs CO2/MWh');
      // Check the raw value against the ceiling after conversion, so the message speaks gCO2eq/kWh.
      const g = checkRange(raw * LBS_PER_MWH_TO_G_PER_KWH, what, `${path}.value`);
      return {
        region,
        valueGPerKWh: Math.round(g * 1000) / 1000,
        timeMs: timestamp(field(p, 'point_time', what, path), what, `${path}.point_time`),
        provider: this.name,
        signal: this.#o.signalType === 'co2_moer' ? 'marginal' : 'average',
        basis: 'direct',
        // MOER is modelled, never metered.
        estimated: true,
        forecast,
      } satisfies CarbonReading;
    });
  }

  async current(region: string, signal?: AbortSignal): Promise<CarbonReading> {
    const r = await this.#resolve(region, signal);
    const { body, what } = await this.#get(
      'forecast',
      r,
      { region: r, signal_type: this.#o.signalType, horizon_hours: '1' },
      signal,
    );
    const pts = this.#points(body, region, r, what, false);
    const at = currentIndex(
      pts.map((p) => p.timeMs),
      this.#o.http.now(),
      what,
      '$.data',
    );
    return pts[at]!;
  }

  async forecast(region: string, horizonMs: number, signal?: AbortSignal): Promise<CarbonReading[] | null> {
    const r = await this.#resolve(region, signal);
    const hours = Math.max(1, Math.min(72, Math.ceil(horizonMs / 3_600_000)));
    const { body, what } = await this.#get(
      'forecast',
      r,
      { region: r, signal_type: this.#o.signalType, horizon_hours: String(hours) },
      signal,
    );
    const pts = this.#points(body, region, r, what, true);
    return pts.length === 0 ? null : pts;
  }

  async history(region: string, fromMs: number, toMs: number, signal?: AbortSignal): Promise<CarbonReading[]> {
    const r = await this.#resolve(region, signal);
    const { body, what } = await this.#get(
      'historical',
      r,
      {
        region: r,
        signal_type: this.#o.signalType,
        start: new Date(fromMs).toISOString(),
        end: new Date(toMs).toISOString(),
      },
      signal,
    );
    return this.#points(body, region, r, what, false).filter((p) => p.timeMs >= fromMs && p.timeMs < toMs);
  }
}

export const wattTime = defineProvider({
  kind: 'wattTime',
  title: 'WattTime API v3',
  docsUrl: 'https://docs.watttime.org/',
  transport: 'http',
  defaultEndpoint: WATT_TIME_DEFAULT_ENDPOINT,
  credentials: ['username', 'password'],
  signalTypes: {
    allowed: ['co2_moer', 'co2_aoer'],
    default: 'co2_moer',
    kindOf: (t) => (t === 'co2_moer' ? 'marginal' : 'average'),
  },
  // 3,000 requests per rolling 5 minutes per account (docs.watttime.org, "Rate limits"); /login shares the budget.
  rateLimit: { requests: 3000, perSeconds: 300, source: 'docs.watttime.org, Rate limits' },
  notes:
    'WattTime regions (`CAISO_NORTH`) or `geo:<lat>,<lon>` (resolved once by `/v3/region-from-loc`); `/login` (Basic) → bearer token (renewed after 25 min, and once on a 401); `/v3/forecast` (current = its latest point at or before now), `/v3/historical`, `/v3/signal-index`; lbs/MWh × 0.45359237 → g/kWh; `meta.units` must be `lbs_co2_per_mwh`, `meta.region` the region asked for; 403 → `forbidden` (plan)',
  create: (c) =>
    new WattTimeProvider({
      endpoint: c.endpoint,
      username: c.credentials.username!,
      password: c.credentials.password!,
      signalType: c.signalType === 'co2_aoer' ? 'co2_aoer' : 'co2_moer',
      http: c.http,
    }),
});
