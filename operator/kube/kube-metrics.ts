// Prometheus metrics of the kube layer: apiserver requests by verb, resource and code (from the client's
// onRequest hook), and requests per reconcile by controller (from the controller's onReconciled hook), so the
// scale work reads requests per reconcile off /metrics and a quiet pass shows up as zero.
import { Counter, Histogram, type Registry } from 'prom-client';
import type { ReconcileReport } from './controller.ts';
import type { RequestRecord } from './request-accounting.ts';

export function apiserverRequestMetrics(registry: Registry): (r: RequestRecord) => void {
  const requests = new Counter({
    name: 'carbonscale_apiserver_requests_total',
    help: 'Requests the operator sent to the Kubernetes apiserver (measured at the client), by verb, resource and HTTP code (0: no answer).',
    labelNames: ['verb', 'resource', 'code'] as const,
    registers: [registry],
  });
  const throttled = new Counter({
    name: 'carbonscale_apiserver_client_throttled_seconds_total',
    help: 'Seconds requests waited for the client-side rate limiter (QPS/burst), measured.',
    registers: [registry],
  });
  return (r) => {
    requests.inc({ verb: r.verb, resource: r.resource, code: String(r.status) });
    if (r.throttledMs > 0) throttled.inc(r.throttledMs / 1000);
  };
}

export function reconcileMetrics(registry: Registry): (r: ReconcileReport) => void {
  const perReconcile = new Histogram({
    name: 'carbonscale_reconcile_apiserver_requests',
    help: 'Apiserver requests made by one reconcile pass (measured), by controller; 0 for a quiet pass served from caches.',
    labelNames: ['controller'] as const,
    buckets: [0, 1, 2, 3, 5, 8, 13, 21],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'carbonscale_reconcile_duration_seconds',
    help: 'Wall time of one reconcile pass (measured), by controller and result.',
    labelNames: ['controller', 'result'] as const,
    buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2, 10],
    registers: [registry],
  });
  return (r) => {
    perReconcile.observe({ controller: r.controller }, r.requests.total);
    duration.observe({ controller: r.controller, result: r.result }, r.durationMs / 1000);
  };
}
