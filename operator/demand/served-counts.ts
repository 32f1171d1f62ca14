// What a service served in one accounting interval, counted (not a rate × the interval): requests, inferences,
// and for an LLM runtime the prompt and generated tokens (SCI for AI's per-token unit). From the model server's
// counters (carbonscale_model_requests_total, carbonscale_model_inferences_total) or a runtime's own (vLLM's
// vllm:request_success_total, vllm:prompt_tokens_total, vllm:generation_tokens_total), read through Prometheus or
// straight from the pods at each accounting boundary. A count is given only when every pod that served in the
// interval is covered; otherwise the reading says why and the row keeps the modelled figure, labelled modelled.
// Times are wall-clock ms (the counters count real time).
import type { MeteredPod } from '../energy/energy-source.ts';

export interface ServedCounts {
  requests: number;
  inferences: number;
  /** Present only where the runtime counts tokens (vLLM). */
  promptTokens?: number;
  generatedTokens?: number;
}

export type CountReading =
  | { counted: true; counts: ServedCounts; source: string; notes: string[] }
  | { counted: false; source: string; reason: string };

export interface CountTarget {
  namespace: string;
  service: string;
  /** Pods that served at some time in the interval (the pod log), wall ms. */
  pods: MeteredPod[];
  /** host:port of each pod's metrics endpoint, by pod name (the scrape source reads them). */
  addresses?: Map<string, string>;
}

export interface ServedCountSource {
  readonly name: string;
  /** Wall ms after an interval's end before it can be counted. */
  readonly settleMs: number;
  /** Called at every accounting boundary (clock ms, and the wall time now): a source that reads the pods reads now. */
  atBoundary?(target: CountTarget, boundaryMs: number, wallMs: number): Promise<void>;
  /** Never throws. `fromMs`/`toMs` are the interval on the clock, `wall` the same on the wall clock. */
  counts(
    target: CountTarget,
    interval: { fromMs: number; toMs: number; wallFromMs: number; wallToMs: number },
  ): Promise<CountReading>;
}

/** The counters of one runtime, by what they count. */
export interface RuntimeCounters {
  runtime: string;
  requests: { metric: string; matchers?: string; sampleFilter?: (labels: Record<string, string>) => boolean };
  /** Absent: one inference per request (a generation per request, as an LLM server counts). */
  inferences?: { metric: string };
  promptTokens?: { metric: string };
  generatedTokens?: { metric: string };
}

/** carbonscale's model server (model-server/metrics.ts) and vLLM (docs.vllm.ai, "Production Metrics"). */
export const RUNTIME_COUNTERS: readonly RuntimeCounters[] = [
  {
    runtime: 'carbonscale',
    // Answered with a 2xx: a refused or failed request was not served.
    requests: {
      metric: 'carbonscale_model_requests_total',
      matchers: 'code=~"2.."',
      sampleFilter: (l) => /^2\d\d$/.test(l['code'] ?? ''),
    },
    inferences: { metric: 'carbonscale_model_inferences_total' },
  },
  {
    runtime: 'vllm',
    requests: { metric: 'vllm:request_success_total' },
    promptTokens: { metric: 'vllm:prompt_tokens_total' },
    generatedTokens: { metric: 'vllm:generation_tokens_total' },
  },
];
