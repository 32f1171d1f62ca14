// The latency a service served in one accounting interval, measured: the p50 and p95 of the runtime's
// request-duration histogram over the interval (bucket increases summed over the service's pods, quantiles by
// histogram_quantile's interpolation: histogram-quantile.ts), read through Prometheus or straight from the pods
// at each accounting boundary, by the same coverage rules as the served counts (served-counts.ts): every pod
// that served in the interval must be covered, a restart inside it is not guessed over. Too few requests, or a
// runtime without the histogram (trace demand, another server), leave the latency unknown: the row says null,
// never a made-up figure. Times are wall-clock ms.
import { histogramQuantile, observations, type Bucket } from './histogram-quantile.ts';
import type { CountTarget } from './served-counts.ts';

/**
 * Fewest requests in an interval for a p95: below 1 / (1 − 0.95) = 20 observations the 95th percentile's rank
 * falls on the largest observation, so the figure would be the interval's maximum, not its 95th percentile.
 */
export const MIN_LATENCY_REQUESTS = 20;

export interface MeasuredLatency {
  /** Interpolated estimates, ms (docs/audit.md: exact to the bucket). */
  p50Ms: number;
  p95Ms: number;
  /** Set when the p95 falls in the +Inf bucket: p95Ms is then the largest finite bound, and the true p95 above it. */
  p95AboveMs?: number;
  /** Requests the histogram observed in the interval. */
  requests: number;
}

export type LatencyReading =
  { measured: true; latency: MeasuredLatency; source: string } | { measured: false; source: string; reason: string };

export interface ServedLatencySource {
  readonly name: string;
  /** Wall ms after an interval's end before it can be read. */
  readonly settleMs: number;
  /** Called at every accounting boundary (clock ms): a source that reads the pods reads now. */
  atBoundary?(target: CountTarget, boundaryMs: number): Promise<void>;
  /** Never throws. */
  latency(
    target: CountTarget,
    interval: { fromMs: number; toMs: number; wallFromMs: number; wallToMs: number },
  ): Promise<LatencyReading>;
}

/** A runtime's request-duration histogram (seconds, Prometheus base unit). */
export interface RuntimeHistogram {
  runtime: string;
  /** The histogram's name; its series are `<metric>_bucket{le=...}`. */
  metric: string;
}

/**
 * carbonscale's model server (model-server/metrics.ts): observed for requests answered 200, from the request's
 * arrival to its response. Other runtimes are not read (their rows keep the latency unknown).
 */
export const RUNTIME_HISTOGRAMS: readonly RuntimeHistogram[] = [
  { runtime: 'carbonscale', metric: 'carbonscale_model_request_duration_seconds' },
];

/** p50 and p95 of one interval's summed bucket increases, or why they are unknown. */
export function latencyFromBuckets(buckets: readonly Bucket[], source: string): LatencyReading {
  const no = (reason: string): LatencyReading => ({ measured: false, source, reason });
  const n = observations(buckets);
  if (n === undefined) return no('the request-duration histogram has no +Inf bucket');
  if (n < MIN_LATENCY_REQUESTS)
    return no(`${Math.round(n)} requests observed, fewer than the ${MIN_LATENCY_REQUESTS} a p95 needs`);
  const p50 = histogramQuantile(0.5, buckets);
  const p95 = histogramQuantile(0.95, buckets);
  if (typeof p50 === 'string') return no(p50);
  if (typeof p95 === 'string') return no(p95);
  return {
    measured: true,
    source,
    latency: {
      p50Ms: p50.ms,
      p95Ms: p95.ms,
      ...(p95.upperMs === Infinity ? { p95AboveMs: p95.lowerMs } : {}),
      requests: Math.round(n),
    },
  };
}
