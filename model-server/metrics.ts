// The model server's Prometheus metrics (prom-client, one Registry per server so tests can run several in one
// process). operator/demand/ reads the request and inference counters by these names.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { registerGpuEnergy, type GpuEnergyReader } from './gpu-energy.ts';

export const METRIC = {
  requests: 'carbonscale_model_requests_total',
  inferences: 'carbonscale_model_inferences_total',
  errors: 'carbonscale_model_errors_total',
  requestDuration: 'carbonscale_model_request_duration_seconds',
  queueDuration: 'carbonscale_model_queue_duration_seconds',
  batchSize: 'carbonscale_model_batch_size',
  activeVariant: 'carbonscale_model_active_variant',
  switchDuration: 'carbonscale_model_variant_switch_duration_seconds',
  switches: 'carbonscale_model_variant_switches_total',
  computeSeconds: 'carbonscale_model_compute_seconds_total',
  inFlight: 'carbonscale_model_in_flight_requests',
} as const;

export interface ServerMetrics {
  registry: Registry;
  requests: Counter<'variant' | 'code'>;
  inferences: Counter<'variant'>;
  errors: Counter<'variant' | 'reason'>;
  requestDuration: Histogram<'variant'>;
  queueDuration: Histogram<'variant'>;
  batchSize: Histogram<'variant'>;
  activeVariant: Gauge<'variant'>;
  switchDuration: Histogram<'from' | 'to'>;
  switches: Counter<'from' | 'to' | 'result'>;
  computeSeconds: Counter<'variant' | 'device'>;
  inFlight: Gauge;
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** `gpuEnergy`: the NVML reader (tests pass a fake); undefined probes nvidia-smi at the first scrape; null: off. */
export function createServerMetrics(modelName: string, gpuEnergy?: GpuEnergyReader | null): ServerMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ model: modelName });
  // GPU energy where the host can measure it (gpu-energy.ts): the operator's `energy.source: model-server`.
  registerGpuEnergy(registry, gpuEnergy);
  // process_cpu_seconds_total and process_start_time_seconds come from here; the scrape DemandSource uses the
  // start time to turn a first scrape's counters into a rate.
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    requests: new Counter({
      name: METRIC.requests,
      help: 'Inference requests answered, by the variant that served them and HTTP status code',
      labelNames: ['variant', 'code'],
      registers,
    }),
    inferences: new Counter({
      name: METRIC.inferences,
      help: 'Inferences served (rows along the batch dimension), by variant',
      labelNames: ['variant'],
      registers,
    }),
    errors: new Counter({
      name: METRIC.errors,
      help: 'Failed inference requests, by variant (active at the time) and reason',
      labelNames: ['variant', 'reason'],
      registers,
    }),
    requestDuration: new Histogram({
      name: METRIC.requestDuration,
      help: 'Inference request latency from first byte to response, seconds',
      labelNames: ['variant'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    queueDuration: new Histogram({
      name: METRIC.queueDuration,
      help: 'Time a request waited in the batching queue before its batch ran, seconds',
      labelNames: ['variant'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    batchSize: new Histogram({
      name: METRIC.batchSize,
      help: 'Rows per onnxruntime session.run',
      labelNames: ['variant'],
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers,
    }),
    activeVariant: new Gauge({
      name: METRIC.activeVariant,
      help: '1 for the variant currently served, 0 for the other configured variants',
      labelNames: ['variant'],
      registers,
    }),
    switchDuration: new Histogram({
      name: METRIC.switchDuration,
      help: 'Variant switch time from instruction to serving the new variant (load + warm-up + swap), seconds',
      labelNames: ['from', 'to'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60],
      registers,
    }),
    switches: new Counter({
      name: METRIC.switches,
      help: 'Variant switches attempted, by result (ok or failed)',
      labelNames: ['from', 'to', 'result'],
      registers,
    }),
    computeSeconds: new Counter({
      name: METRIC.computeSeconds,
      help: 'Wall-clock seconds spent inside onnxruntime session.run, by variant and device (cpu or gpu)',
      labelNames: ['variant', 'device'],
      registers,
    }),
    inFlight: new Gauge({ name: METRIC.inFlight, help: 'Inference requests being handled now', registers }),
  };
}
