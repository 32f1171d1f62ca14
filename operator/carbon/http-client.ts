// The HTTP path every network provider uses: one overall deadline (headers and body), a byte cap read from the
// stream (so a huge or never-ending body is cut off, not buffered), typed errors, Retry-After parsing, and
// retries with exponential backoff and full jitter. fetch, the clock, sleep and randomness are injected so the
// tests drive all of it without real waiting.
// Errors say what happened: a redirect is a redirect (status and Location; never followed, because the provider's
// credential headers would travel to wherever it points, and never retried); a body that cannot be decoded
// (Content-Encoding, invalid UTF-8) says so, naming the encoding; a UTF-8 byte-order mark is stripped before
// parsing. Upstream text enters a message only redacted (redact.ts) and with invisible characters escaped.
import { excerpt } from './printable.ts';
import { CarbonProviderError, isRetryable } from './provider-error.ts';
import type { RateLimiter } from './rate-limiter.ts';
import { redact } from './redact.ts';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface HttpOptions {
  fetch: FetchLike;
  now: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  random: () => number;
  /** Overall deadline for one attempt: connect, headers and the whole body. */
  timeoutMs: number;
  /** Bodies above this many bytes are cut off and rejected. */
  maxBytes: number;
  /** Attempts after the first, for retryable failures (timeouts, network errors, 5xx, 429). */
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A 429 asking us to wait longer than this is not waited for: the fallback chain takes over. */
  maxRetryAfterMs: number;
  limiter?: RateLimiter;
}

export const DEFAULT_HTTP: Omit<HttpOptions, 'fetch' | 'now'> = {
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const t = setTimeout(resolve, ms);
      signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(t);
          reject(signal.reason);
        },
        { once: true },
      );
    }),
  random: Math.random,
  timeoutMs: 10_000,
  maxBytes: 2 * 1024 * 1024,
  retries: 2,
  baseDelayMs: 500,
  maxDelayMs: 10_000,
  maxRetryAfterMs: 60_000,
};

export interface JsonResponse {
  status: number;
  /** Parsed body; undefined for 204. */
  body: unknown;
}

export interface RequestSpec {
  /** Label used in messages, e.g. `electricityMaps DE`. Never holds credentials. */
  what: string;
  url: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Provider-specific mapping of a non-2xx answer (e.g. 404 → unknown-region). Return undefined for the default. */
  mapStatus?: (status: number, bodyText: string) => CarbonProviderError | undefined;
}

/**
 * `https://host/path` without the query string and user info: safe to print (no token of ours travels in a path).
 * `foreign`: the URL came from upstream (a Location header), so its path is not ours and is shown redacted.
 */
export function describeUrl(url: string, foreign = false): string {
  try {
    const u = new URL(url);
    const s = `${u.origin}${u.pathname}`;
    return foreign ? excerpt(redact(s), 200) : s;
  } catch {
    return foreign ? `an invalid URL (${excerpt(redact(url), 80)})` : '(invalid URL)';
  }
}

/** Retry-After is either delta-seconds or an HTTP date. Returns ms to wait, or undefined when absent/invalid. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const t = Date.parse(v);
  return Number.isFinite(t) ? Math.max(0, t - nowMs) : undefined;
}

/** Upstream text for a message: redacted before it is cut, so a cut can never leave half a secret behind. */
function snippet(text: string): string {
  return excerpt(redact(text));
}

/** The zlib/brotli error behind a failed body read, when the failure was decoding rather than the connection. */
function decodeFailure(e: unknown): string | undefined {
  for (let c: unknown = e, i = 0; c instanceof Error && i < 4; c = c.cause, i++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string' && /^(Z_|ERR_(ZLIB|BROTLI|ZSTD)|ERR__?DECOMPRESS)/.test(code))
      return c.message || code;
  }
  return undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** UTF-8 text of the body; the decoder drops a leading byte-order mark (ignoreBOM: false). */
function decodeUtf8(bytes: Buffer, what: string): string {
  try {
    return utf8.decode(bytes);
  } catch (e) {
    throw new CarbonProviderError('malformed', `${what}: the response body is not valid UTF-8 text`, { cause: e });
  }
}

async function readCapped(
  res: Response,
  maxBytes: number,
  what: string,
  deadline: AbortSignal,
  timeoutMs: number,
): Promise<string> {
  const len = Number(res.headers.get('content-length'));
  if (Number.isFinite(len) && len > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw new CarbonProviderError(
      'too-large',
      `${what}: response body of ${len} bytes exceeds the ${maxBytes}-byte limit`,
    );
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new CarbonProviderError('too-large', `${what}: response body exceeds the ${maxBytes}-byte limit`);
      }
      chunks.push(value);
    }
  } catch (e) {
    if (e instanceof CarbonProviderError) throw e;
    if (deadline.aborted)
      throw new CarbonProviderError('timeout', `${what}: no complete response within ${timeoutMs} ms`, { cause: e });
    const decode = decodeFailure(e);
    if (decode !== undefined) {
      const enc = res.headers.get('content-encoding') ?? 'unknown';
      throw new CarbonProviderError(
        'malformed',
        `${what}: failed to decode the response body (Content-Encoding: ${enc}): ${decode}`,
        { cause: e },
      );
    }
    throw new CarbonProviderError('network', `${what}: the connection failed while reading the body`, { cause: e });
  }
  return decodeUtf8(Buffer.concat(chunks), what);
}

/** A 3xx answer: reported with its status and where it points (path only, redacted), never followed. */
function redirectError(what: string, res: Response): CarbonProviderError {
  const location = res.headers.get('location');
  const where = location === null ? 'without a Location header' : `to ${describeUrl(location, true)}`;
  return new CarbonProviderError(
    'redirect',
    `${what}: the server answered ${res.status} ${res.statusText || 'redirect'} ${where}; redirects are not followed ` +
      `(the credentials would go along): set spec.endpoint to the provider's current URL`,
  );
}

/** One attempt: GET, status mapping, capped body, JSON parse. */
export async function getJsonOnce(opts: HttpOptions, req: RequestSpec): Promise<JsonResponse> {
  const { what } = req;
  if (req.signal?.aborted) throw new CarbonProviderError('aborted', `${what}: request cancelled`);
  if (opts.limiter && !opts.limiter.tryTake())
    throw new CarbonProviderError(
      'rate-limited',
      `${what}: local rate limit of ${opts.limiter.limit} requests per ${opts.limiter.windowMs / 1000} s reached`,
    );
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new Error('deadline')), opts.timeoutMs);
  const onAbort = () => deadline.abort(new Error('aborted'));
  req.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    let res: Response;
    try {
      res = await opts.fetch(req.url, {
        method: 'GET',
        headers: { accept: 'application/json', ...req.headers },
        signal: deadline.signal,
        redirect: 'manual',
      });
    } catch (e) {
      if (req.signal?.aborted) throw new CarbonProviderError('aborted', `${what}: request cancelled`, { cause: e });
      if (deadline.signal.aborted)
        throw new CarbonProviderError('timeout', `${what}: no response within ${opts.timeoutMs} ms`, { cause: e });
      throw new CarbonProviderError('network', `${what}: cannot reach ${describeUrl(req.url)}`, { cause: e });
    }
    const status = res.status;
    if (status >= 300 && status <= 399) {
      await res.body?.cancel().catch(() => undefined);
      throw redirectError(what, res);
    }
    const text = await readCapped(res, opts.maxBytes, what, deadline.signal, opts.timeoutMs);
    if (status < 200 || status > 299) {
      const mapped = req.mapStatus?.(status, text);
      if (mapped) throw mapped;
      if (status === 401)
        throw new CarbonProviderError('unauthorized', `${what}: 401 Unauthorized: the credentials were rejected`);
      if (status === 403)
        throw new CarbonProviderError(
          'forbidden',
          `${what}: 403 Forbidden: the account or plan does not cover this request (a configuration problem)`,
        );
      if (status === 429) {
        const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), opts.now());
        const after = retryAfterMs === undefined ? '' : `, retry after ${Math.ceil(retryAfterMs / 1000)} s`;
        throw new CarbonProviderError('rate-limited', `${what}: 429 Too Many Requests${after}`, { retryAfterMs });
      }
      if (status >= 500)
        throw new CarbonProviderError('server-error', `${what}: upstream error ${status}: ${snippet(text)}`);
      throw new CarbonProviderError('http-error', `${what}: unexpected status ${status}: ${snippet(text)}`);
    }
    if (status === 204 || text.trim() === '') return { status, body: undefined };
    const type = res.headers.get('content-type') ?? '';
    if (/html/i.test(type) || /^\s*</.test(text))
      throw new CarbonProviderError(
        'malformed',
        `${what}: expected JSON but got an HTML page (status ${status}): ${snippet(text)}`,
      );
    try {
      return { status, body: JSON.parse(text) as unknown };
    } catch (e) {
      throw new CarbonProviderError(
        'malformed',
        `${what}: malformed JSON: failed to parse the body (${(e as Error).message}); it begins: ${snippet(text)}`,
        { cause: e },
      );
    }
  } finally {
    clearTimeout(timer);
    req.signal?.removeEventListener('abort', onAbort);
  }
}

/** Backoff before retry `attempt` (0-based): full jitter over an exponentially growing cap. */
export function backoffMs(opts: Pick<HttpOptions, 'baseDelayMs' | 'maxDelayMs' | 'random'>, attempt: number): number {
  const cap = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** attempt);
  return Math.round(opts.random() * cap);
}

/** Runs `attempt` with retries for retryable errors; a 429's Retry-After replaces the backoff. */
export async function withRetries<T>(
  opts: HttpOptions,
  signal: AbortSignal | undefined,
  attempt: () => Promise<T>,
): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (e) {
      if (!isRetryable(e) || i >= opts.retries) throw e;
      const err = e as CarbonProviderError;
      if (err.message.includes('local rate limit')) throw e;
      let delay = backoffMs(opts, i);
      if (err.reason === 'rate-limited' && err.retryAfterMs !== undefined) {
        if (err.retryAfterMs > opts.maxRetryAfterMs) throw e;
        delay = err.retryAfterMs;
      }
      await opts.sleep(delay, signal);
    }
  }
}

export function getJson(opts: HttpOptions, req: RequestSpec): Promise<JsonResponse> {
  return withRetries(opts, req.signal, () => getJsonOnce(opts, req));
}
