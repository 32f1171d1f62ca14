// Raw samples of counters from a Prometheus server's HTTP API: an instant query of a range selector
// (`metric{matchers}[<window>ms]` at time t) returns every stored sample of every matching series in the window,
// unaggregated, so the caller computes increases itself (resets, gaps and coverage handled and said, which
// increase() would extrapolate over). Bounded: a deadline, a byte cap on the body, and a cap on the series.
// Prometheus HTTP API: https://prometheus.io/docs/prometheus/latest/querying/api/ ("Range vectors").

export interface Sample {
  /** ms since the epoch (wall clock). */
  t: number;
  v: number;
}

export interface RawSeries {
  labels: Record<string, string>;
  /** Ascending by time. */
  samples: Sample[];
}

export interface PrometheusOptions {
  /** Base URL, http(s)://host:port[/prefix]. */
  url: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
  /** Bearer token for a Prometheus behind auth; never logged, never in an error. */
  bearerToken?: string;
  /** Largest response body read (default 16 MiB). */
  maxBytes?: number;
  /** Most series one query may return (default 2,000): a selector matching more is a configuration error. */
  maxSeries?: number;
}

/** A query that could not be answered; the message names the URL (never the token) and the cause. */
export class PrometheusQueryError extends Error {
  override name = 'PrometheusQueryError';
}

/** Prometheus label values are quoted like Go strings; JSON's escaping is a subset Prometheus accepts. */
export const promString = (s: string): string => JSON.stringify(s);

/** A regex matching `s` literally (Prometheus uses RE2, fully anchored). */
export function promRegexLiteral(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function boundedText(res: Response, maxBytes: number, what: string): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    n += value.byteLength;
    if (n > maxBytes) {
      await reader.cancel();
      throw new PrometheusQueryError(`${what}: response body over ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseSample(p: unknown, what: string): Sample {
  if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== 'number' || typeof p[1] !== 'string')
    throw new PrometheusQueryError(`${what}: a sample is not [time, "value"]: ${JSON.stringify(p).slice(0, 80)}`);
  const v = Number(p[1]);
  // A counter's NaN, infinity or negative value cannot be trusted as energy or a count.
  if (!Number.isFinite(v) || v < 0)
    throw new PrometheusQueryError(`${what}: sample value ${JSON.stringify(p[1])} at ${p[0]} is not a counter value`);
  return { t: Math.round(p[0] * 1000), v };
}

/** Every sample of the series matching `selector` in the window (fromMs, toMs]. Throws PrometheusQueryError. */
export async function rawSamples(
  o: PrometheusOptions,
  selector: string,
  fromMs: number,
  toMs: number,
): Promise<RawSeries[]> {
  if (!/^https?:\/\//.test(o.url)) throw new PrometheusQueryError(`prometheus url: expected http(s)://, got ${o.url}`);
  const windowMs = Math.max(1, Math.round(toMs - fromMs));
  const query = `${selector}[${windowMs}ms]`;
  const u = new URL('api/v1/query', o.url.endsWith('/') ? o.url : o.url + '/');
  u.searchParams.set('query', query);
  u.searchParams.set('time', (toMs / 1000).toFixed(3));
  const what = `prometheus ${o.url} query ${query}`;
  let res: Response;
  try {
    res = await (o.fetch ?? fetch)(u, {
      signal: AbortSignal.timeout(o.timeoutMs ?? 10_000),
      headers: o.bearerToken ? { authorization: `Bearer ${o.bearerToken}` } : {},
    });
  } catch (err) {
    throw new PrometheusQueryError(`${what}: ${(err as Error).message}`);
  }
  const text = await boundedText(res, o.maxBytes ?? 16 * 1024 * 1024, what);
  let body: { status?: string; error?: string; data?: { resultType?: string; result?: unknown } };
  try {
    body = JSON.parse(text);
  } catch {
    throw new PrometheusQueryError(`${what}: HTTP ${res.status}, body is not JSON`);
  }
  if (!res.ok || body.status !== 'success')
    throw new PrometheusQueryError(`${what}: HTTP ${res.status}: ${String(body.error ?? 'error').slice(0, 200)}`);
  if (body.data?.resultType !== 'matrix' || !Array.isArray(body.data.result))
    throw new PrometheusQueryError(`${what}: expected a matrix result, got ${String(body.data?.resultType)}`);
  const result = body.data.result as Array<{ metric?: Record<string, string>; values?: unknown[] }>;
  if (result.length > (o.maxSeries ?? 2000))
    throw new PrometheusQueryError(`${what}: ${result.length} series, more than ${o.maxSeries ?? 2000}`);
  return result.map((r) => ({
    labels: r.metric ?? {},
    samples: (r.values ?? []).map((p) => parseSample(p, what)).sort((a, b) => a.t - b.t),
  }));
}
