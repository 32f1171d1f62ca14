// Demand and served counts for one InferenceService, from whatever can measure them (a Prometheus server, the
// pods' /metrics, a static number, a replayed trace): the operator sees only this interface.

export interface DemandTarget {
  namespace: string;
  /** The InferenceService's name. */
  name: string;
  /** Pod IPs (or host:port) to scrape directly; used by the scrape source. */
  podIps?: string[];
  /** A label selector for the pods (informational for sources that resolve pods themselves). */
  selector?: string;
}

export interface DemandSample {
  /** Inference requests per second over the window (measured, or replayed from a trace). */
  requestsPerSecond: number;
  /** Inferences (rows along the batch dimension) per second over the window. */
  inferencesPerSecond: number;
  /** Inferences served in the window, by variant name. Empty when the source cannot tell (static, trace). */
  servedByVariant: Record<string, number>;
  /** The window the rates cover, ms (may differ from the one asked for: e.g. time since the last scrape). */
  windowMs: number;
  /** Which source produced it: 'prometheus', 'scrape', 'static', 'trace:<label>'. */
  source: string;
  /** When the sample was taken, ms since the epoch. */
  sampledAtMs: number;
  /** 'measured' from the serving pods, or 'assumed' (static, trace). */
  basis: 'measured' | 'assumed';
  /** Things the caller should know (pods that did not answer, counter resets). */
  warnings: string[];
}

export interface DemandSource {
  demand(target: DemandTarget, windowMs: number, nowMs: number): Promise<DemandSample>;
}

/** A demand read that failed as a whole (nothing answered, or bad data); `reason` suits a metric label. */
export class DemandError extends Error {
  readonly reason: string;
  constructor(reason: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DemandError';
    this.reason = reason;
  }
}

/** The model server's metric names this folder reads (kept in step with model-server/metrics.ts). */
export const MODEL_METRICS = {
  requests: 'carbonscale_model_requests_total',
  inferences: 'carbonscale_model_inferences_total',
  processStart: 'process_start_time_seconds',
} as const;
