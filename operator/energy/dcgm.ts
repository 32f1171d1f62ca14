// NVIDIA dcgm-exporter (github.com/NVIDIA/dcgm-exporter; fields: etc/default-counters.csv; exposition:
// internal/pkg/rendermetrics/render_metrics.go; pod mapping: internal/pkg/transformation/kubernetes.go):
//   DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION  counter, "Total energy consumption since boot (in mJ)", per GPU
//   DCGM_FI_DEV_POWER_USAGE               gauge, "Power draw (in W)", per GPU
// labels gpu, UUID, pci_bus_id, device, modelName, hostname, and with the Kubernetes pod mapping on: pod,
// namespace, container, pod_uid (the GPU's series carry the pod that holds the device).
// The energy counter counts since the driver loaded, not since the pod started: a pod's energy is the increase
// while its labels are on the series. The power gauge is not integrated into energy (a gauge sampled every scrape
// misses what happens between samples); GPUs that report no energy counter (before Volta) are not measured.
import type { MeterSpec } from './prometheus-meter.ts';

export const DCGM: MeterSpec = {
  source: 'dcgm',
  podLabel: 'pod',
  namespaceLabel: 'namespace',
  uidLabel: 'pod_uid',
  lifecycleLabels: [],
  startsAtZero: false,
  metrics: [
    {
      name: 'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION',
      toJoules: 0.001,
      required: 'always',
      perGpu: true,
      hint: 'is dcgm-exporter running with its Kubernetes pod mapping, and does the GPU report total energy (Volta or later)?',
    },
  ],
};
