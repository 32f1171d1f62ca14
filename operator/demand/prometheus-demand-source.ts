// Demand from a Prometheus server's HTTP query API: rate() of the model server's request and inference counters
// over the window, summed over the InferenceService's pods, and increase() per variant for the served counts.
import { DemandError, MODEL_METRICS } from './demand-source.ts';
import type { DemandSample, DemandSource, DemandTarget } from './demand-source.ts';

export interface PrometheusDemandSourceOptions {
  /** Base URL of the Prometheus server, e.g. http://prometheus.monitoring:9090 */
  url: string;
  /**
   * PromQL label matchers selecting one InferenceService's pods. The default expects the scrape config to copy
   * the pod's namespace to `namespace` and its `carbonscale.dev/inferenceservice` label to `inferenceservice`.
   */
  matchers?: (target: DemandTarget) => string;
  fetch?: typeof fetch;
  timeoutMs?: number;
  /** Optional bearer token for a Prometheus behind auth (never logged). */
  bearerToken?: string;
}

function promString(s: string): string {
  return JSON.stringify(s);
}

export function defaultMatchers(t: DemandTarget): string {
  return `namespace=${promString(t.namespace)},inferenceservice=${promString(t.name)}`;
}

interface VectorResult {
  metric: Record<string, string>;
  value: [number, string];
}

export class PrometheusDemandSource implements DemandSource {
  private readonly opts: PrometheusDemandSourceOptions;

  constructor(opts: PrometheusDemandSourceOptions) {
    if (!/^https?:\/\//.test(opts.url))
      throw new DemandError('config', `prometheus url: expected http(s)://, got ${opts.url}`);
    this.opts = opts;
  }

  async demand(target: DemandTarget, windowMs: number, nowMs: number): Promise<DemandSample> {
    if (!(windowMs >= 1000)) throw new DemandError('config', `windowMs: expected >= 1000, got ${windowMs}`);
    const sel = `{${(this.opts.matchers ?? defaultMatchers)(target)}}`;
    const w = `${Math.round(windowMs / 1000)}s`;
    const [req, inf, byVariant] = await Promise.all([
      this.query(`sum(rate(${MODEL_METRICS.requests}${sel}[${w}]))`, nowMs),
      this.query(`sum(rate(${MODEL_METRICS.inferences}${sel}[${w}]))`, nowMs),
      this.query(`sum by (variant) (increase(${MODEL_METRICS.inferences}${sel}[${w}]))`, nowMs),
    ]);
    const warnings: string[] = [];
    if (req.length === 0) {
      warnings.push(`no ${MODEL_METRICS.requests} series for ${sel} in the last ${w} (no pods scraped yet, or idle)`);
    }
    const servedByVariant: Record<string, number> = {};
    for (const r of byVariant) servedByVariant[r.metric['variant'] ?? 'unknown'] = num(r);
    return {
      requestsPerSecond: req[0] ? num(req[0]) : 0,
      inferencesPerSecond: inf[0] ? num(inf[0]) : 0,
      servedByVariant,
      windowMs,
      source: 'prometheus',
      sampledAtMs: nowMs,
      basis: 'measured',
      warnings,
    };
  }

  private async query(promql: string, nowMs: number): Promise<VectorResult[]> {
    const u = new URL('/api/v1/query', this.opts.url);
    u.searchParams.set('query', promql);
    u.searchParams.set('time', (nowMs / 1000).toFixed(3));
    let res: Response;
    try {
      res = await (this.opts.fetch ?? fetch)(u, {
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000),
        headers: this.opts.bearerToken ? { authorization: `Bearer ${this.opts.bearerToken}` } : {},
      });
    } catch (err) {
      throw new DemandError('unreachable', `prometheus ${this.opts.url}: ${(err as Error).message}`, { cause: err });
    }
    const text = await res.text();
    let body: { status?: string; error?: string; data?: { resultType?: string; result?: unknown } };
    try {
      body = JSON.parse(text);
    } catch {
      throw new DemandError('bad_response', `prometheus ${this.opts.url}: HTTP ${res.status}, not JSON`);
    }
    if (!res.ok || body.status !== 'success') {
      throw new DemandError('query_failed', `prometheus query ${promql}: HTTP ${res.status}: ${body.error ?? 'error'}`);
    }
    if (body.data?.resultType !== 'vector' || !Array.isArray(body.data.result)) {
      throw new DemandError('bad_response', `prometheus query ${promql}: expected a vector result`);
    }
    return body.data.result as VectorResult[];
  }
}

function num(r: VectorResult): number {
  const v = Number(r.value[1]);
  return Number.isFinite(v) ? v : 0;
}
