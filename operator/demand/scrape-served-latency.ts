// Served latency straight from the pods (no Prometheus): at every accounting boundary each pod's /metrics is read
// and its request-duration histogram kept (buckets summed over the variants it served); an interval's latency is
// from the bucket differences between the readings at its two boundaries, summed over the pods. A pod counts only
// when it was read at both (or it started after the first: its histogram began at 0, process_start_time_seconds
// says when) and did not restart in between (a new start time, or a bucket that fell): the same rules as the
// served counts (scrape-served-counts.ts), so the observations before a restart are never guessed.
import { MODEL_METRICS } from './demand-source.ts';
import { bucketDelta, parseLe, sumByLe, type Bucket } from './histogram-quantile.ts';
import { parsePrometheusText } from './prometheus-text.ts';
import type { CountTarget } from './served-counts.ts';
import {
  latencyFromBuckets,
  RUNTIME_HISTOGRAMS,
  type LatencyReading,
  type ServedLatencySource,
} from './served-latency.ts';

interface PodHistogram {
  startWallMs: number;
  /** '' when the pod answered without a request-duration histogram (none observed yet, or another runtime). */
  runtime: string;
  buckets: Bucket[];
}

export interface ScrapeLatencyOptions {
  fetch?: typeof fetch;
  timeoutMs?: number;
  path?: string;
  /** Largest /metrics body read (default 4 MiB). */
  maxBytes?: number;
  /** Boundaries kept per service (default 4). */
  keep?: number;
}

/**
 * The runtime's request-duration histogram in one /metrics text, buckets summed by bound (no buckets: none yet; a
 * labelled histogram has no series before its first observation). Undefined when a bucket is not a count.
 */
export function histogramOf(text: string): PodHistogram | undefined {
  const samples = parsePrometheusText(text);
  const start = samples.find((s) => s.name === MODEL_METRICS.processStart)?.value;
  const startWallMs = start !== undefined ? start * 1000 : NaN;
  for (const rh of RUNTIME_HISTOGRAMS) {
    const series = samples.filter((s) => s.name === `${rh.metric}_bucket`);
    if (series.length === 0) continue;
    const buckets = series.map((s) => ({ le: parseLe(s.labels['le']), count: s.value }));
    if (buckets.some((b) => Number.isNaN(b.le) || !Number.isFinite(b.count) || b.count < 0)) return undefined;
    return { runtime: rh.runtime, startWallMs, buckets: sumByLe([buckets]) };
  }
  return { runtime: '', startWallMs, buckets: [] };
}

export class ScrapeServedLatency implements ServedLatencySource {
  readonly name = 'scrape';
  readonly settleMs = 0;
  readonly #o: ScrapeLatencyOptions;
  /** service → boundary (clock ms) → pod name → histogram (absent: the pod did not answer, or has none). */
  readonly #readings = new Map<string, Map<number, Map<string, PodHistogram>>>();

  constructor(o: ScrapeLatencyOptions = {}) {
    this.#o = o;
  }

  async #read(address: string): Promise<PodHistogram | undefined> {
    try {
      const res = await (this.#o.fetch ?? fetch)(`http://${address}${this.#o.path ?? '/metrics'}`, {
        signal: AbortSignal.timeout(this.#o.timeoutMs ?? 5000),
      });
      if (!res.ok) return undefined;
      const text = await res.text();
      if (text.length > (this.#o.maxBytes ?? 4 * 1024 * 1024)) return undefined;
      return histogramOf(text);
    } catch {
      return undefined;
    }
  }

  async atBoundary(t: CountTarget, boundaryMs: number): Promise<void> {
    const key = `${t.namespace}/${t.service}`;
    const byBoundary = this.#readings.get(key) ?? new Map<number, Map<string, PodHistogram>>();
    this.#readings.set(key, byBoundary);
    const now = new Map<string, PodHistogram>();
    await Promise.all(
      [...(t.addresses ?? new Map<string, string>())].map(async ([pod, addr]) => {
        const h = await this.#read(addr);
        if (h) now.set(pod, h);
      }),
    );
    byBoundary.set(boundaryMs, now);
    const keep = this.#o.keep ?? 4;
    for (const b of [...byBoundary.keys()].sort((x, y) => x - y).slice(0, -keep)) byBoundary.delete(b);
  }

  async latency(t: CountTarget, i: { fromMs: number; toMs: number; wallFromMs: number }): Promise<LatencyReading> {
    const no = (reason: string): LatencyReading => ({ measured: false, source: this.name, reason });
    const by = this.#readings.get(`${t.namespace}/${t.service}`);
    const atA = by?.get(i.fromMs);
    const atB = by?.get(i.toMs);
    if (!atB) return no(`the pods were not read at the interval's end (${new Date(i.toMs).toISOString()})`);
    if (t.pods.length === 0) return no('no pod served in the interval');
    const deltas: Bucket[][] = [];
    let runtime = '';
    for (const p of t.pods) {
      const b = atB.get(p.name);
      const d = podDelta(atA?.get(p.name), b, i.wallFromMs, atA !== undefined, p.endMs !== undefined);
      if (typeof d === 'string') return no(`pod ${t.namespace}/${p.name}: ${d}`);
      if (d.length > 0) deltas.push(d);
      runtime ||= b!.runtime;
    }
    if (!runtime)
      return no(`no request-duration histogram (${RUNTIME_HISTOGRAMS.map((h) => h.metric).join(', ')}) on the pods`);
    const bounds = (x: Bucket[]) => x.map((y) => y.le).join(',');
    if (deltas.some((d) => bounds(d) !== bounds(deltas[0]!)))
      return no('the pods do not share the same histogram bucket bounds');
    return latencyFromBuckets(sumByLe(deltas), `${this.name}:${runtime}`);
  }
}

/** A pod's bucket increases between two readings, or why they cannot be known. */
function podDelta(
  a: PodHistogram | undefined,
  b: PodHistogram | undefined,
  wallFromMs: number,
  readAtStart: boolean,
  ended: boolean,
): Bucket[] | string {
  if (!b)
    return ended ? 'ended inside the interval: its last requests were not read' : 'did not answer at the interval end';
  if (!a) {
    // Started after the first boundary: its histogram began at 0 inside the interval.
    if (readAtStart && Number.isFinite(b.startWallMs) && b.startWallMs >= wallFromMs) return b.buckets;
    return 'was not read at the interval start';
  }
  if (a.startWallMs !== b.startWallMs) return 'restarted inside the interval';
  return bucketDelta(a.buckets, b.buckets) ?? 'restarted inside the interval (a bucket count fell)';
}
