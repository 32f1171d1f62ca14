// spec + resolved credentials → a CarbonProvider: the one type → constructor switch.
import { CarbonAwareSdkProvider } from './carbon-aware-sdk.ts';
import type { CarbonSourceSpec } from './config.ts';
import { ELECTRICITY_MAPS_DEFAULT_ENDPOINT, ElectricityMapsProvider } from './electricity-maps.ts';
import type { FetchLike, HttpOptions } from './http-client.ts';
import { DEFAULT_HTTP } from './http-client.ts';
import { CarbonProviderError } from './provider-error.ts';
import { RateLimiter } from './rate-limiter.ts';
import type { Credentials } from './secret.ts';
import { wrapCredentials } from './secret.ts';
import { StaticProvider } from './static-provider.ts';
import { TraceProvider, loadTrace } from './trace-provider.ts';
import type { CarbonProvider } from './types.ts';
import { UK_CARBON_INTENSITY_DEFAULT_ENDPOINT, UkCarbonIntensityProvider } from './uk-carbon-intensity.ts';
import { WATT_TIME_DEFAULT_ENDPOINT, WattTimeProvider } from './watt-time.ts';

export interface ProviderDeps {
  now: () => number;
  fetch?: FetchLike;
  /** Injected so tests can record backoff delays instead of waiting them out. */
  sleep?: HttpOptions['sleep'];
  random?: () => number;
  /** Overrides of the backoff schedule (ms). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  maxRetryAfterMs?: number;
}

/** Published request limits (docs/carbon.md), used when the spec sets none. */
export const DEFAULT_RATE_LIMITS: Partial<
  Record<CarbonSourceSpec['provider'], { requests: number; perSeconds: number }>
> = {
  // WattTime: 3,000 requests per rolling 5 minutes per account (docs.watttime.org, "Rate limits").
  wattTime: { requests: 3000, perSeconds: 300 },
  // Electricity Maps: limits depend on the plan; 100/min is a conservative default; set rateLimit to your plan.
  electricityMaps: { requests: 100, perSeconds: 60 },
  // UK Carbon Intensity publishes no limit; stay polite.
  ukCarbonIntensity: { requests: 60, perSeconds: 60 },
};

export function createProvider(
  spec: CarbonSourceSpec,
  credentials: Credentials | undefined,
  deps: ProviderDeps,
): CarbonProvider {
  const creds = wrapCredentials(credentials);
  const limit = spec.rateLimit ?? DEFAULT_RATE_LIMITS[spec.provider];
  const http: HttpOptions = {
    ...DEFAULT_HTTP,
    fetch: deps.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    now: deps.now,
    ...(deps.sleep ? { sleep: deps.sleep } : {}),
    ...(deps.random ? { random: deps.random } : {}),
    ...(deps.baseDelayMs !== undefined ? { baseDelayMs: deps.baseDelayMs } : {}),
    ...(deps.maxDelayMs !== undefined ? { maxDelayMs: deps.maxDelayMs } : {}),
    ...(deps.maxRetryAfterMs !== undefined ? { maxRetryAfterMs: deps.maxRetryAfterMs } : {}),
    timeoutMs: Math.round(spec.timeoutSeconds * 1000),
    maxBytes: spec.maxBodyBytes,
    retries: spec.retries,
    ...(limit ? { limiter: new RateLimiter(limit.requests, limit.perSeconds * 1000, deps.now) } : {}),
  };
  switch (spec.provider) {
    case 'electricityMaps':
      if (!creds.apiKey) throw new CarbonProviderError('config', 'electricityMaps: an API key is required');
      return new ElectricityMapsProvider({
        endpoint: spec.endpoint ?? ELECTRICITY_MAPS_DEFAULT_ENDPOINT,
        apiKey: creds.apiKey,
        emissionFactorType: spec.emissionFactorType ?? 'direct',
        http,
      });
    case 'wattTime':
      if (!creds.username || !creds.password)
        throw new CarbonProviderError('config', 'wattTime: a username and password are required');
      return new WattTimeProvider({
        endpoint: spec.endpoint ?? WATT_TIME_DEFAULT_ENDPOINT,
        username: creds.username,
        password: creds.password,
        signalType: spec.signalType === 'co2_aoer' ? 'co2_aoer' : 'co2_moer',
        http,
      });
    case 'ukCarbonIntensity':
      return new UkCarbonIntensityProvider({ endpoint: spec.endpoint ?? UK_CARBON_INTENSITY_DEFAULT_ENDPOINT, http });
    case 'carbonAwareSdk':
      if (!spec.endpoint) throw new CarbonProviderError('config', 'carbonAwareSdk: endpoint is required');
      return new CarbonAwareSdkProvider({
        endpoint: spec.endpoint,
        signal: spec.signalType === 'marginal' ? 'marginal' : 'average',
        basis: spec.emissionFactorType ?? 'direct',
        http,
      });
    case 'trace': {
      if (!spec.trace) throw new CarbonProviderError('config', 'trace: spec.trace.file is required');
      const t = spec.trace;
      return new TraceProvider({
        trace: loadTrace(t.file, spec.emissionFactorType ?? 'direct'),
        file: t.file,
        now: deps.now,
        ...(t.anchor !== undefined ? { anchorMs: Date.parse(t.anchor) } : {}),
        ...(t.offsetSeconds !== undefined ? { offsetMs: t.offsetSeconds * 1000 } : {}),
        ...(t.speedup !== undefined ? { speedup: t.speedup } : {}),
        ...(t.forecast !== undefined ? { forecast: t.forecast } : {}),
      });
    }
    case 'static':
      if (!spec.static) throw new CarbonProviderError('config', 'static: spec.static.valueGPerKWh is required');
      return new StaticProvider({
        valueGPerKWh: spec.static.valueGPerKWh,
        now: deps.now,
        signal: spec.signalType === 'marginal' ? 'marginal' : 'average',
        basis: spec.emissionFactorType ?? 'direct',
      });
    default:
      throw new CarbonProviderError('config', `unknown provider '${String(spec.provider)}'`);
  }
}
