// Served counts through Prometheus: the raw samples of the runtime's counters around the interval, each series'
// increase over exactly [from, to) by the same rule as measured energy (operator/energy/counter-window.ts: resets,
// gaps, series that begin or end with their pod), summed over the service's pods. The scrape config attaches
// `namespace` and `inferenceservice` (the demand path's matchers) and `pod` (to tell which pod a series is).
import { increaseOver } from '../energy/counter-window.ts';
import {
  PrometheusQueryError,
  rawSamples,
  type PrometheusOptions,
  type RawSeries,
} from '../energy/prometheus-samples.ts';
import { defaultMatchers } from './prometheus-demand-source.ts';
import {
  RUNTIME_COUNTERS,
  type CountReading,
  type CountTarget,
  type RuntimeCounters,
  type ServedCountSource,
} from './served-counts.ts';

export interface PrometheusCountOptions extends PrometheusOptions {
  maxGapMs: number;
  /** Label naming the pod on the runtime's series (default `pod`). */
  podLabel?: string;
}

type Sum = { ok: true; value: number; series: RawSeries[] } | { ok: false; reason: string };

export class PrometheusServedCounts implements ServedCountSource {
  readonly name = 'prometheus';
  readonly settleMs: number;
  readonly #o: PrometheusCountOptions;

  constructor(o: PrometheusCountOptions) {
    this.#o = o;
    this.settleMs = o.maxGapMs + 5_000;
  }

  async #sum(t: CountTarget, metric: string, extra: string | undefined, from: number, to: number): Promise<Sum> {
    const g = this.#o.maxGapMs;
    const sel = `${metric}{${defaultMatchers({ namespace: t.namespace, name: t.service })}${extra ? `,${extra}` : ''}}`;
    const series = await rawSamples(this.#o, sel, from - g - 1, to + g);
    const podLabel = this.#o.podLabel ?? 'pod';
    let value = 0;
    for (const s of series) {
      const podName = s.labels[podLabel];
      const pod = t.pods.find((p) => p.name === podName);
      const inc = increaseOver(s.samples, {
        fromMs: from,
        toMs: to,
        maxGapMs: g,
        startsAtZero: true,
        what: `${metric} of ${podName ? `pod ${t.namespace}/${podName}` : `${t.namespace}/${t.service}`}`,
        ...(pod ? { pod } : {}),
      });
      if (!inc.ok) return { ok: false, reason: inc.reason };
      value += inc.increase;
    }
    return { ok: true, value, series };
  }

  /** The first runtime whose request counter has series for the service. */
  async #runtime(
    t: CountTarget,
    from: number,
    to: number,
  ): Promise<{ rc: RuntimeCounters; requests: Sum } | undefined> {
    for (const rc of RUNTIME_COUNTERS) {
      const requests = await this.#sum(t, rc.requests.metric, rc.requests.matchers, from, to);
      if (!requests.ok || requests.series.length > 0) return { rc, requests };
    }
    return undefined;
  }

  async counts(t: CountTarget, i: { wallFromMs: number; wallToMs: number }): Promise<CountReading> {
    const from = i.wallFromMs;
    const to = i.wallToMs;
    const no = (reason: string): CountReading => ({ counted: false, source: this.name, reason });
    try {
      const found = await this.#runtime(t, from, to);
      if (!found)
        return no(
          `no served-request counter (${RUNTIME_COUNTERS.map((r) => r.requests.metric).join(', ')}) for ${t.namespace}/${t.service}`,
        );
      const { rc, requests } = found;
      if (!requests.ok) return no(requests.reason);
      const podLabel = this.#o.podLabel ?? 'pod';
      for (const p of t.pods)
        if (!requests.series.some((s) => s.labels[podLabel] === p.name))
          return no(`no ${rc.requests.metric} series for pod ${t.namespace}/${p.name}`);
      const part = async (c: { metric: string } | undefined) =>
        c ? this.#sum(t, c.metric, undefined, from, to) : undefined;
      const [inf, prompt, gen] = await Promise.all([
        part(rc.inferences),
        part(rc.promptTokens),
        part(rc.generatedTokens),
      ]);
      for (const x of [inf, prompt, gen]) if (x && !x.ok) return no(x.reason);
      const v = (x: Sum | undefined) => (x && x.ok ? Math.round(x.value) : undefined);
      const requestsN = Math.round(requests.value);
      return {
        counted: true,
        source: `${this.name}:${rc.runtime}`,
        counts: {
          requests: requestsN,
          inferences: v(inf) ?? requestsN,
          ...(prompt ? { promptTokens: v(prompt)! } : {}),
          ...(gen ? { generatedTokens: v(gen)! } : {}),
        },
        notes: [],
      };
    } catch (e) {
      return no(e instanceof PrometheusQueryError ? e.message : `unexpected: ${(e as Error).message}`);
    }
  }
}
