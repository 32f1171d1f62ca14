// Kepler (sustainable-computing-io/kepler 0.11; metric list: docs/user/metrics.md, "Pod Metrics"; labels from
// internal/exporter/prometheus/collector/power_collector.go):
//   kepler_pod_cpu_joules_total  COUNTER, joules  labels pod_id, pod_name, pod_namespace, state, zone; node_name
//   kepler_pod_gpu_joules_total  COUNTER, joules  labels pod_id, pod_name, pod_namespace, state; node_name
//                                (only with --experimental.gpu.enabled; a MIG-partitioned GPU needs dcgm-exporter)
// A pod's counters start at 0 when Kepler first sees it; when it finishes, Kepler keeps exporting its final value
// under state="terminated" (the same counter: followed across the label change). CPU series come per RAPL zone,
// and zones overlap (psys ⊃ package ⊃ core, uncore; dram apart), so only disjoint zones are summed. In a VM
// without RAPL, Kepler's CPU figures are modelled, not measured (Kepler issues #2280, #2487): docs/audit.md.
import type { MeterSpec } from './prometheus-meter.ts';

export const KEPLER: MeterSpec = {
  source: 'kepler',
  podLabel: 'pod_name',
  namespaceLabel: 'pod_namespace',
  uidLabel: 'pod_id',
  lifecycleLabels: ['state'],
  startsAtZero: true,
  metrics: [
    {
      name: 'kepler_pod_cpu_joules_total',
      toJoules: 1,
      required: 'always',
      zones: true,
      hint: 'is Kepler running on its node, and does Prometheus scrape it?',
    },
    {
      name: 'kepler_pod_gpu_joules_total',
      toJoules: 1,
      required: 'gpu',
      hint: 'Kepler reports GPU energy only with --experimental.gpu.enabled; MIG GPUs need dcgm-exporter',
    },
  ],
};
