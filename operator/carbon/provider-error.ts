// One error class for everything that can go wrong while reading a carbon signal. `reason` is a short
// machine-readable label that doubles as the metric label (`fetch errors by reason`) and the Event reason;
// `message` is plain English that names the provider, the region and, for bad payloads, the field.
// Messages never contain credentials: they are built from the provider name, region, URL path and status only.

export type CarbonErrorReason =
  | 'timeout' // no complete answer before the deadline (includes slow-loris bodies)
  | 'network' // connection refused/reset, DNS
  | 'unauthorized' // 401 (after one re-login for WattTime)
  | 'forbidden' // 403: a configuration problem (plan does not cover the region), not an outage
  | 'rate-limited' // 429 from upstream, or our own per-source limit
  | 'server-error' // 5xx
  | 'http-error' // any other unexpected status
  | 'unknown-region' // the provider does not know the zone/region/location
  | 'no-data' // the provider answered but has no value (e.g. Carbon Aware SDK 204)
  | 'malformed' // not JSON, HTML instead of JSON, wrong shape, missing field, wrong units
  | 'out-of-range' // negative, NaN or above 2,000 gCO2eq/kWh
  | 'too-large' // body above the size cap
  | 'aborted' // the caller cancelled
  | 'stale' // the newest value is older than the staleness bound
  | 'config'; // the source is misconfigured (missing credentials, unknown fallback)

export class CarbonProviderError extends Error {
  override name = 'CarbonProviderError';
  readonly reason: CarbonErrorReason;
  /** Milliseconds the upstream asked us to wait (429 Retry-After), when it said. */
  readonly retryAfterMs: number | undefined;

  constructor(reason: CarbonErrorReason, message: string, opts: { cause?: unknown; retryAfterMs?: number } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.reason = reason;
    this.retryAfterMs = opts.retryAfterMs;
  }
}

export function isRetryable(e: unknown): boolean {
  if (!(e instanceof CarbonProviderError)) return false;
  return e.reason === 'timeout' || e.reason === 'network' || e.reason === 'server-error' || e.reason === 'rate-limited';
}
