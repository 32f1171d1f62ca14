// The signal service's Prometheus metrics (docs/carbon.md, "Metrics"): counters the service increments, and gauges
// read from its cache at scrape time. No metric carries a message, a URL or a credential: labels are the source,
// region, provider, the call, an error reason and a rejected field's JSON path with its indices folded (bounded).
import type { Registry } from 'prom-client';
import { Counter, Gauge } from 'prom-client';
import type { CarbonSignal } from './signal-service.ts';

export interface SignalMetrics {
  errors: Counter;
  requests: Counter;
  rejected: Counter;
}

export function createSignalMetrics(registry: Registry, signals: () => CarbonSignal[]): SignalMetrics {
  const registers = [registry];
  const errors = new Counter({
    name: 'carbonscale_carbon_fetch_errors_total',
    help: 'Failed carbon-signal fetches, by reason (forecast-<reason> and history-<reason> for those calls)',
    labelNames: ['source', 'region', 'provider', 'reason'],
    registers,
  });
  const requests = new Counter({
    name: 'carbonscale_carbon_polls_total',
    help: 'Polls of a (source, region) pair (each is one upstream request per endpoint)',
    labelNames: ['source', 'region', 'provider'],
    registers,
  });
  const rejected = new Counter({
    name: 'carbonscale_carbon_rejected_values_total',
    help: 'Provider answers refused as untrustworthy (malformed, out of range, dated in the future, another region, stale), by reason and field',
    labelNames: ['source', 'provider', 'call', 'reason', 'field'],
    registers,
  });
  new Gauge({
    name: 'carbonscale_carbon_intensity_g_per_kwh',
    help: 'Carbon intensity in use, gCO2eq/kWh (see fallback_level for where it came from)',
    labelNames: ['source', 'region', 'provider', 'signal', 'basis', 'estimated'],
    registers,
    collect() {
      this.reset();
      for (const s of signals())
        if (s.reading)
          this.set(
            {
              source: s.sourceName,
              region: s.region,
              provider: s.reading.provider,
              signal: s.reading.signal,
              basis: s.reading.basis,
              estimated: String(s.reading.estimated),
            },
            s.reading.valueGPerKWh,
          );
    },
  });
  new Gauge({
    name: 'carbonscale_carbon_signal_age_seconds',
    help: 'Age of the carbon intensity in use (now − its data timestamp, never negative), seconds',
    labelNames: ['source', 'region'],
    registers,
    collect() {
      this.reset();
      for (const s of signals())
        if (s.ageMs !== undefined) this.set({ source: s.sourceName, region: s.region }, s.ageMs / 1000);
    },
  });
  new Gauge({
    name: 'carbonscale_carbon_fallback_level',
    help: 'Which level of the fallback chain is in use (1 for the active level)',
    labelNames: ['source', 'region', 'level'],
    registers,
    collect() {
      this.reset();
      for (const s of signals()) this.set({ source: s.sourceName, region: s.region, level: s.fallbackLevel }, 1);
    },
  });
  return { errors, requests, rejected };
}
