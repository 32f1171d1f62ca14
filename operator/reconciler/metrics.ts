// Operator metrics (prom-client), registered on an injected Registry: reconciles, errors by reason, queue depth,
// decision gauges, informer staleness. Carbon metrics per region come from the carbon signal service.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { InferenceService } from '../api/types.ts';
import type { Decision } from '../decision/index.ts';
import type { SignalView } from './signal-view.ts';

export class OperatorMetrics {
  readonly reconciles: Counter<'result'>;
  readonly errors: Counter<'reason'>;
  readonly decisions: Counter<'kind' | 'mode'>;
  readonly queueDepth: Gauge;
  readonly desiredReplicas: Gauge<'namespace' | 'name' | 'tier'>;
  readonly activeVariant: Gauge<'namespace' | 'name' | 'variant'>;
  readonly emissionsRate: Gauge<'namespace' | 'name' | 'tier'>;
  readonly intensity: Gauge<'namespace' | 'name' | 'region' | 'fallback_level'>;
  readonly staleness: Gauge<'resource'>;
  readonly baselineEmissions: Gauge<'namespace' | 'name'>;
  readonly budgetUsed: Gauge<'namespace' | 'name'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.reconciles = new Counter({
      name: 'carbonscale_reconciles_total',
      help: 'Reconcile passes by result',
      labelNames: ['result'],
      registers,
    });
    this.errors = new Counter({
      name: 'carbonscale_reconcile_errors_total',
      help: 'Errors by reason',
      labelNames: ['reason'],
      registers,
    });
    this.decisions = new Counter({
      name: 'carbonscale_decisions_total',
      help: 'Decision changes by kind and mode',
      labelNames: ['kind', 'mode'],
      registers,
    });
    this.queueDepth = new Gauge({
      name: 'carbonscale_workqueue_depth',
      help: 'Keys waiting in the work queue',
      registers,
    });
    this.desiredReplicas = new Gauge({
      name: 'carbonscale_desired_replicas',
      help: 'Replicas the last decision asked for',
      labelNames: ['namespace', 'name', 'tier'],
      registers,
    });
    this.activeVariant = new Gauge({
      name: 'carbonscale_decided_variant_info',
      help: '1 for the variant the last decision chose',
      labelNames: ['namespace', 'name', 'variant'],
      registers,
    });
    this.emissionsRate = new Gauge({
      name: 'carbonscale_expected_emissions_g_per_hour',
      help: 'Expected emissions rate, gCO2e/h (estimated)',
      labelNames: ['namespace', 'name', 'tier'],
      registers,
    });
    this.intensity = new Gauge({
      name: 'carbonscale_service_carbon_intensity_g_per_kwh',
      help: 'Carbon intensity the last decision used, gCO2eq/kWh',
      labelNames: ['namespace', 'name', 'region', 'fallback_level'],
      registers,
    });
    this.baselineEmissions = new Gauge({
      name: 'carbonscale_baseline_emissions_g_per_hour',
      help: 'Emissions rate had the full variant run at demand-only replicas, gCO2e/h (estimated)',
      labelNames: ['namespace', 'name'],
      registers,
    });
    this.budgetUsed = new Gauge({
      name: 'carbonscale_degradation_budget_used_ratio',
      help: 'Share of the eco degradation budget used in the current window, 0..1',
      labelNames: ['namespace', 'name'],
      registers,
    });
    this.staleness = new Gauge({
      name: 'carbonscale_informer_staleness_seconds',
      help: 'Seconds since an informer last heard from the API server',
      labelNames: ['resource'],
      registers,
    });
  }

  observeDecision(isvc: InferenceService, d: Decision, s: SignalView): void {
    const l = { namespace: isvc.metadata.namespace, name: isvc.metadata.name };
    this.desiredReplicas.set({ ...l, tier: isvc.spec.tier }, d.replicas);
    for (const v of isvc.spec.variants) this.activeVariant.set({ ...l, variant: v.name }, v.name === d.variant ? 1 : 0);
    if (d.expectedEmissionsGPerHour !== null)
      this.emissionsRate.set({ ...l, tier: isvc.spec.tier }, d.expectedEmissionsGPerHour);
    if (s.valueGPerKWh !== undefined)
      this.intensity.set({ ...l, region: isvc.spec.carbon.region, fallback_level: s.fallbackLevel }, s.valueGPerKWh);
  }
}
