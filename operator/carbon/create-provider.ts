// spec + resolved credentials → a CarbonProvider, through the provider's registered definition: the shared HTTP
// settings and rate limiter are built here once for every provider, the credentials it declared are checked, and
// the result is wrapped in CheckedProvider so the reading rules hold whatever the provider returns.
import { CheckedProvider } from './checked-provider.ts';
import type { CarbonSourceSpec } from './config.ts';
import type { FetchLike, HttpOptions } from './http-client.ts';
import { DEFAULT_HTTP } from './http-client.ts';
import type { ProviderContext, ProviderDefinition } from './provider-definition.ts';
import { CarbonProviderError } from './provider-error.ts';
import { RateLimiter } from './rate-limiter.ts';
import type { ProviderKind, ProviderRegistry } from './registry.ts';
import { providerRegistry } from './registry.ts';
import type { Credentials } from './secret.ts';
import { wrapCredentials } from './secret.ts';

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
  /** Defaults to the built-in providers. */
  registry?: ProviderRegistry;
}

/** Published request limits of the built-in providers (docs/carbon.md), used when the spec sets none. */
export const DEFAULT_RATE_LIMITS: Partial<Record<ProviderKind, { requests: number; perSeconds: number }>> =
  Object.fromEntries(
    providerRegistry
      .list()
      .filter((d) => d.rateLimit)
      .map((d) => [d.kind, { requests: d.rateLimit!.requests, perSeconds: d.rateLimit!.perSeconds }]),
  );

function httpOptions(spec: CarbonSourceSpec, def: ProviderDefinition, deps: ProviderDeps): HttpOptions {
  const limit = spec.rateLimit ?? def.rateLimit;
  return {
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
}

export function createProvider(
  spec: CarbonSourceSpec,
  credentials: Credentials | undefined,
  deps: ProviderDeps,
): CheckedProvider {
  const registry = deps.registry ?? providerRegistry;
  const def = registry.get(spec.provider);
  if (!def) throw new CarbonProviderError('config', `unknown provider '${String(spec.provider)}'`);
  const creds = wrapCredentials(credentials);
  const missing = def.credentials.filter((k) => !creds[k]);
  if (missing.length > 0)
    throw new CarbonProviderError(
      'config',
      `${def.kind}: credentials missing: ${missing.join(', ')} (from the Secret)`,
    );
  const block = def.block ? (spec as unknown as Record<string, unknown>)[def.block.key] : undefined;
  if (def.block && block === undefined)
    throw new CarbonProviderError('config', `${def.kind}: spec.${def.block.key} is required`);
  const signalType = spec.signalType ?? def.signalTypes?.default;
  const ctx: ProviderContext<unknown> = {
    spec,
    block,
    endpoint: spec.endpoint ?? def.defaultEndpoint ?? '',
    credentials: creds,
    http: httpOptions(spec, def, deps),
    now: deps.now,
    signalType,
    signal: signalType !== undefined && def.signalTypes ? def.signalTypes.kindOf(signalType) : 'average',
    basis: spec.emissionFactorType ?? 'direct',
  };
  if (def.transport === 'http' && ctx.endpoint === '')
    throw new CarbonProviderError('config', `${def.kind}: spec.endpoint is required`);
  return new CheckedProvider(def.create(ctx), deps.now);
}
