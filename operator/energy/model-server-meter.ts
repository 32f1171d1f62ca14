// The model server's own counter (model-server/gpu-energy.ts): on a host with NVML (nvidia-smi) it exports
//   carbonscale_model_gpu_energy_joules_total  counter, joules since the server started, labels gpu, uuid
// scraped by Prometheus with the pod's namespace and name attached by relabelling (the same scrape config the
// demand path uses: namespace, pod). Without NVML the server exports nothing and the interval is not measured.
import type { MeterSpec } from './prometheus-meter.ts';

export const GPU_ENERGY_METRIC = 'carbonscale_model_gpu_energy_joules_total';

export const MODEL_SERVER: MeterSpec = {
  source: 'model-server',
  podLabel: 'pod',
  namespaceLabel: 'namespace',
  lifecycleLabels: [],
  startsAtZero: true,
  metrics: [
    {
      name: GPU_ENERGY_METRIC,
      toJoules: 1,
      required: 'always',
      perGpu: true,
      hint: 'the model server exports GPU energy only where NVML (nvidia-smi) answers; the scrape must add namespace and pod labels',
    },
  ],
};
