// One error class for everything that can go wrong while reading a carbon signal. `reason` is a short
// machine-readable label that doubles as the metric label (`fetch errors by reason`) and the Event reason;
// `message` is plain English that names the provider, the region and, for bad payloads, the field (`field` holds
// that JSON path with indices folded to `[]`, a bounded metric label).
// The constructor is the boundary every message crosses: it redacts every live secret value in all its encodings
// (redact.ts) and escapes invisible characters (printable.ts), so no call site can forget to. A cause is kept only
// as a redacted copy of its name and message: an underlying error (a JSON parse error, a socket error) may quote
// the body it failed on.
import { escapeInvisible } from './printable.ts';
import { redact } from './redact.ts';

export type CarbonErrorReason =
  | 'timeout' // no complete answer before the deadline (includes slow-loris bodies)
  | 'network' // connection refused/reset, DNS
  | 'redirect' // a 3xx answer: not followed (credentials would travel to the new place); the endpoint is outdated
  | 'unauthorized' // 401 (after one re-login for WattTime)
  | 'forbidden' // 403: a configuration problem (plan does not cover the region), not an outage
  | 'rate-limited' // 429 from upstream, or our own per-source limit
  | 'server-error' // 5xx
  | 'http-error' // any other unexpected status
  | 'unknown-region' // the provider does not know the zone/region/location
  | 'wrong-region' // the answer is for another zone/region/location than the one asked for
  | 'no-data' // the provider answered but has no value (e.g. Carbon Aware SDK 204, no point at or before now)
  | 'malformed' // not JSON, undecodable, HTML instead of JSON, wrong shape, missing field, not a JSON number, units
  | 'out-of-range' // negative, NaN or above 2,000 gCO2eq/kWh
  | 'future-time' // an observation dated after now (beyond the clock-skew allowance)
  | 'too-large' // body above the size cap
  | 'aborted' // the caller cancelled
  | 'stale' // the newest value is older than the staleness bound
  | 'config'; // the source is misconfigured (missing credentials, unknown fallback)

/** Reasons that mean "the provider answered, and we refused what it said" (counted as rejected values). */
export const REJECTION_REASONS: ReadonlySet<CarbonErrorReason> = new Set([
  'malformed',
  'out-of-range',
  'future-time',
  'wrong-region',
  'stale',
  'too-large',
]);

/** Redacted, printable text: what every message that leaves the provider layer is made of. */
export function safeText(text: string): string {
  return escapeInvisible(redact(text));
}

function safeCause(cause: unknown): Error {
  if (cause instanceof CarbonProviderError) return cause;
  const e = cause instanceof Error ? cause : new Error(String(cause));
  const copy = new Error(safeText(e.message));
  copy.name = e.name;
  const code = (e as { code?: unknown }).code ?? (e.cause as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') Object.assign(copy, { code });
  // The stack of the original names our own files only, but its first line repeats the message: rebuild it.
  copy.stack = `${copy.name}: ${copy.message}`;
  return copy;
}

export class CarbonProviderError extends Error {
  override name = 'CarbonProviderError';
  readonly reason: CarbonErrorReason;
  /** Milliseconds the upstream asked us to wait (429 Retry-After), when it said. */
  readonly retryAfterMs: number | undefined;
  /** The JSON path of the rejected field with indices folded (`$.forecast[].carbonIntensity`), when one is to blame. */
  readonly field: string | undefined;

  constructor(
    reason: CarbonErrorReason,
    message: string,
    opts: { cause?: unknown; retryAfterMs?: number; field?: string } = {},
  ) {
    super(safeText(message), opts.cause === undefined ? undefined : { cause: safeCause(opts.cause) });
    this.reason = reason;
    this.retryAfterMs = opts.retryAfterMs;
    this.field = opts.field === undefined ? undefined : opts.field.replace(/\[\d+\]/g, '[]');
  }
}

export function isRetryable(e: unknown): boolean {
  if (!(e instanceof CarbonProviderError)) return false;
  return e.reason === 'timeout' || e.reason === 'network' || e.reason === 'server-error' || e.reason === 'rate-limited';
}
