// Served latency through Prometheus: the raw samples of the runtime's `<histogram>_bucket` series around the
// interval, each series' increase over exactly [from, to) by the served counts' and measured energy's rule
// (operator/energy/counter-window.ts: resets, gaps, series that begin or end with their pod), summed by `le` over
// the service's pods and variants, then histogram_quantile's interpolation (histogram-quantile.ts). That is
// `histogram_quantile(q, sum by (le) (increase(<histogram>_bucket{…}[interval])))` without increase()'s
// extrapolation past the first and last samples. Every pod that served in the interval must have series.
import { increaseOver } from '../energy/counter-window.ts';
import { PrometheusQueryError, rawSamples } from '../energy/prometheus-samples.ts';
import { parseLe, type Bucket } from './histogram-quantile.ts';
import { defaultMatchers } from './prometheus-demand-source.ts';
import type { PrometheusCountOptions } from './prometheus-served-counts.ts';
import type { CountTarget } from './served-counts.ts';
import {
  latencyFromBuckets,
  RUNTIME_HISTOGRAMS,
  type LatencyReading,
  type ServedLatencySource,
} from './served-latency.ts';

export class PrometheusServedLatency implements ServedLatencySource {
  readonly name = 'prometheus';
  readonly settleMs: number;
  readonly #o: PrometheusCountOptions;

  constructor(o: PrometheusCountOptions) {
    this.#o = o;
    this.settleMs = o.maxGapMs + 5_000;
  }

  async latency(t: CountTarget, i: { wallFromMs: number; wallToMs: number }): Promise<LatencyReading> {
    const no = (reason: string): LatencyReading => ({ measured: false, source: this.name, reason });
    try {
      for (const rh of RUNTIME_HISTOGRAMS) {
        const r = await this.#buckets(t, rh.metric, i.wallFromMs, i.wallToMs);
        if (r === undefined) continue;
        if (typeof r === 'string') return no(r);
        return latencyFromBuckets(r, `${this.name}:${rh.runtime}`);
      }
      return no(
        `no request-duration histogram (${RUNTIME_HISTOGRAMS.map((h) => h.metric).join(', ')}) for ${t.namespace}/${t.service}`,
      );
    } catch (e) {
      return no(e instanceof PrometheusQueryError ? e.message : `unexpected: ${(e as Error).message}`);
    }
  }

  /** The bucket increases over [from, to) summed by bound; undefined: no series; a string: why not covered. */
  async #buckets(t: CountTarget, metric: string, from: number, to: number): Promise<Bucket[] | string | undefined> {
    const g = this.#o.maxGapMs;
    const sel = `${metric}_bucket{${defaultMatchers({ namespace: t.namespace, name: t.service })}}`;
    const series = await rawSamples(this.#o, sel, from - g - 1, to + g);
    if (series.length === 0) return undefined;
    const podLabel = this.#o.podLabel ?? 'pod';
    for (const p of t.pods)
      if (!series.some((s) => s.labels[podLabel] === p.name))
        return `no ${metric} series for pod ${t.namespace}/${p.name}`;
    const byLe = new Map<number, number>();
    for (const s of series) {
      const le = parseLe(s.labels['le']);
      if (Number.isNaN(le)) return `${metric}_bucket: le=${JSON.stringify(s.labels['le'] ?? '')} is not a bound`;
      const podName = s.labels[podLabel];
      const pod = t.pods.find((p) => p.name === podName);
      const inc = increaseOver(s.samples, {
        fromMs: from,
        toMs: to,
        maxGapMs: g,
        startsAtZero: true,
        what: `${metric}_bucket{le="${s.labels['le']}"} of ${podName ? `pod ${t.namespace}/${podName}` : `${t.namespace}/${t.service}`}`,
        ...(pod ? { pod } : {}),
      });
      if (!inc.ok) return inc.reason;
      byLe.set(le, (byLe.get(le) ?? 0) + inc.increase);
    }
    return [...byLe].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
  }
}
