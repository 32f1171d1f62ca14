// The accountant's MeterPort (reconciler/meter-port.ts): per service, the energy source its spec.energy (or the
// operator's --energy-source) names and the served-count source its demand path allows, each built once per spec
// and rebuilt when the spec changes; and the mapping between the operator's clock and the wall clock the meters
// count in. A replay clock maps onto no wall time a meter saw: nothing is measured then, and the rows say why. A
// source that cannot be built (no Prometheus URL) is not fatal: its intervals are estimated with the error as
// the reason.
import type { Defaulted, InferenceService } from '../api/types.ts';
import type { OperatorClock } from '../clock.ts';
import { PrometheusServedCounts } from '../demand/prometheus-served-counts.ts';
import { ScrapeServedCounts } from '../demand/scrape-served-counts.ts';
import type { ServedCountSource } from '../demand/served-counts.ts';
import { PrometheusServedLatency } from '../demand/prometheus-served-latency.ts';
import { ScrapeServedLatency } from '../demand/scrape-served-latency.ts';
import type { ServedLatencySource } from '../demand/served-latency.ts';
import type { EnergySource, EnergySourceName } from '../energy/energy-source.ts';
import { createEnergySource } from '../energy/registry.ts';
import type { KubeObject } from '../kube/kube-client.ts';
import type { MeterPort } from '../reconciler/meter-port.ts';

export interface EnergyDefaults {
  /** --energy-source: the source of services whose spec names none. */
  source: EnergySourceName;
  /** --energy-prometheus-url: the Prometheus that scrapes the meters. */
  prometheusUrl?: string;
  /** --energy-max-gap-seconds: the longest allowed time between two samples of a series. */
  maxGapMs: number;
}

export interface MeterPortOptions {
  clock: OperatorClock;
  energy: EnergyDefaults;
  address: (pod: KubeObject) => string | undefined;
  /** The wall clock (tests). */
  wallNow?: () => number;
  fetch?: typeof fetch;
}

/** A source that could not be built: never measures, and says why. */
function unusable(name: EnergySourceName, message: string): EnergySource {
  return { name, settleMs: 0, measure: async () => ({ measured: false, source: name, reason: message }) };
}

export function meterPort(o: MeterPortOptions): MeterPort {
  const wallNow = o.wallNow ?? Date.now;
  const energy = new Map<string, { spec: string; src: EnergySource }>();
  const counts = new Map<string, { spec: string; src: ServedCountSource | undefined }>();
  const latencies = new Map<string, { spec: string; src: ServedLatencySource | undefined }>();
  const keyOf = (isvc: Defaulted<InferenceService>) => `${isvc.metadata.namespace}/${isvc.metadata.name}`;
  const energyOf = (isvc: Defaulted<InferenceService>): EnergySource => {
    const name = isvc.spec.energy?.source ?? o.energy.source;
    const url = isvc.spec.energy?.prometheusUrl ?? o.energy.prometheusUrl;
    const spec = JSON.stringify([name, url]);
    const e = energy.get(keyOf(isvc));
    if (e?.spec === spec) return e.src;
    let src: EnergySource;
    try {
      src = createEnergySource(name, {
        ...(url ? { prometheusUrl: url } : {}),
        maxGapMs: o.energy.maxGapMs,
        ...(o.fetch ? { fetch: o.fetch } : {}),
      });
    } catch (err) {
      src = unusable(name, (err as Error).message);
    }
    energy.set(keyOf(isvc), { spec, src });
    return src;
  };
  const countsOf = (isvc: Defaulted<InferenceService>): ServedCountSource | undefined => {
    const d = isvc.spec.demand;
    const spec = JSON.stringify([d.source, d.prometheusUrl]);
    const e = counts.get(keyOf(isvc));
    if (e?.spec === spec) return e.src;
    const src =
      d.source === 'prometheus' && d.prometheusUrl
        ? new PrometheusServedCounts({
            url: d.prometheusUrl,
            maxGapMs: o.energy.maxGapMs,
            ...(o.fetch ? { fetch: o.fetch } : {}),
          })
        : d.source === 'scrape'
          ? new ScrapeServedCounts(o.fetch ? { fetch: o.fetch } : {})
          : undefined;
    counts.set(keyOf(isvc), { spec, src });
    return src;
  };
  // The latency histogram is read on the same demand paths as the counts (trace and static demand: none).
  const latencyOf = (isvc: Defaulted<InferenceService>): ServedLatencySource | undefined => {
    const d = isvc.spec.demand;
    const spec = JSON.stringify([d.source, d.prometheusUrl]);
    const e = latencies.get(keyOf(isvc));
    if (e?.spec === spec) return e.src;
    const src =
      d.source === 'prometheus' && d.prometheusUrl
        ? new PrometheusServedLatency({
            url: d.prometheusUrl,
            maxGapMs: o.energy.maxGapMs,
            ...(o.fetch ? { fetch: o.fetch } : {}),
          })
        : d.source === 'scrape'
          ? new ScrapeServedLatency(o.fetch ? { fetch: o.fetch } : {})
          : undefined;
    latencies.set(keyOf(isvc), { spec, src });
    return src;
  };
  const c = o.clock;
  return {
    energy: energyOf,
    counts: countsOf,
    latency: latencyOf,
    address: o.address,
    // A shifted wall clock (tests start the operator at another time of day) keeps its offset; a replay has none.
    toWall: (ms) => (c.replay ? undefined : ms - (c.now() - wallNow())),
    toClock: (wall) => c.now() - (wallNow() - wall) * c.speedup,
    wallNow,
    ...(c.replay
      ? {
          replayReason: `the operator's clock replays a trace at ${c.speedup}×: meters count real seconds, so an interval of the replay was never metered`,
        }
      : {}),
  };
}
