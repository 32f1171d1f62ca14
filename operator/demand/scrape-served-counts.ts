// Served counts straight from the pods (no Prometheus): at every accounting boundary the accountant asks this
// source to read each pod's /metrics; an interval's counts are the differences between the readings at its two
// boundaries. A pod is counted only when it was read at both (or it started after the first: its counters began
// at 0, process_start_time_seconds says when) and did not restart in between; a pod that ended inside the
// interval was not read at its end, so the interval is not counted. The readings are taken a moment after the
// boundary (the time a scrape takes), which the docs state.
import type { MeteredPod } from '../energy/energy-source.ts';
import { MODEL_METRICS } from './demand-source.ts';
import { parsePrometheusText } from './prometheus-text.ts';
import { RUNTIME_COUNTERS, type CountReading, type CountTarget, type ServedCountSource } from './served-counts.ts';

interface PodCounters {
  startWallMs: number;
  requests: number;
  inferences?: number;
  promptTokens?: number;
  generatedTokens?: number;
  runtime: string;
}

export interface ScrapeCountOptions {
  fetch?: typeof fetch;
  timeoutMs?: number;
  path?: string;
  /** Largest /metrics body read (default 4 MiB). */
  maxBytes?: number;
  /** Boundaries kept per service (default 4). */
  keep?: number;
}

/** The runtime's counters in one /metrics text (the first runtime whose request counter appears). */
export function countersOf(text: string): PodCounters | undefined {
  const samples = parsePrometheusText(text);
  const start = samples.find((s) => s.name === MODEL_METRICS.processStart)?.value;
  for (const rc of RUNTIME_COUNTERS) {
    const req = samples.filter((s) => s.name === rc.requests.metric && (rc.requests.sampleFilter?.(s.labels) ?? true));
    if (req.length === 0) continue;
    const sum = (m: { metric: string } | undefined) =>
      m ? samples.filter((s) => s.name === m.metric).reduce((x, s) => x + s.value, 0) : undefined;
    const out: PodCounters = {
      runtime: rc.runtime,
      startWallMs: start !== undefined ? start * 1000 : NaN,
      requests: req.reduce((x, s) => x + s.value, 0),
    };
    const inf = sum(rc.inferences);
    const p = sum(rc.promptTokens);
    const g = sum(rc.generatedTokens);
    if (inf !== undefined) out.inferences = inf;
    if (p !== undefined) out.promptTokens = p;
    if (g !== undefined) out.generatedTokens = g;
    return out;
  }
  return undefined;
}

export class ScrapeServedCounts implements ServedCountSource {
  readonly name = 'scrape';
  readonly settleMs = 0;
  readonly #o: ScrapeCountOptions;
  /** service → boundary (clock ms) → pod name → counters (absent: the pod did not answer). */
  readonly #readings = new Map<string, Map<number, Map<string, PodCounters>>>();

  constructor(o: ScrapeCountOptions = {}) {
    this.#o = o;
  }

  async #read(address: string): Promise<PodCounters | undefined> {
    try {
      const res = await (this.#o.fetch ?? fetch)(`http://${address}${this.#o.path ?? '/metrics'}`, {
        signal: AbortSignal.timeout(this.#o.timeoutMs ?? 5000),
      });
      if (!res.ok) return undefined;
      const text = await res.text();
      if (text.length > (this.#o.maxBytes ?? 4 * 1024 * 1024)) return undefined;
      return countersOf(text);
    } catch {
      return undefined;
    }
  }

  async atBoundary(t: CountTarget, boundaryMs: number): Promise<void> {
    const key = `${t.namespace}/${t.service}`;
    const byBoundary = this.#readings.get(key) ?? new Map<number, Map<string, PodCounters>>();
    this.#readings.set(key, byBoundary);
    const now = new Map<string, PodCounters>();
    await Promise.all(
      [...(t.addresses ?? new Map<string, string>())].map(async ([pod, addr]) => {
        const c = await this.#read(addr);
        if (c) now.set(pod, c);
      }),
    );
    byBoundary.set(boundaryMs, now);
    const keep = this.#o.keep ?? 4;
    for (const b of [...byBoundary.keys()].sort((x, y) => x - y).slice(0, -keep)) byBoundary.delete(b);
  }

  async counts(t: CountTarget, i: { fromMs: number; toMs: number; wallFromMs: number }): Promise<CountReading> {
    const no = (reason: string): CountReading => ({ counted: false, source: this.name, reason });
    const by = this.#readings.get(`${t.namespace}/${t.service}`);
    const atA = by?.get(i.fromMs);
    const atB = by?.get(i.toMs);
    if (!atB) return no(`the pods were not read at the interval's end (${new Date(i.toMs).toISOString()})`);
    const total = { requests: 0, inferences: 0, promptTokens: 0, generatedTokens: 0 };
    let tokens = true;
    let runtime = '';
    for (const p of t.pods) {
      const d = delta(p, atA?.get(p.name), atB.get(p.name), i.wallFromMs, atA !== undefined);
      if (typeof d === 'string') return no(`pod ${t.namespace}/${p.name}: ${d}`);
      total.requests += d.requests;
      total.inferences += d.inferences ?? d.requests;
      if (d.promptTokens === undefined || d.generatedTokens === undefined) tokens = false;
      else {
        total.promptTokens += d.promptTokens;
        total.generatedTokens += d.generatedTokens;
      }
      runtime = d.runtime;
    }
    return {
      counted: true,
      source: `${this.name}${runtime ? `:${runtime}` : ''}`,
      counts: {
        requests: Math.round(total.requests),
        inferences: Math.round(total.inferences),
        ...(tokens && t.pods.length > 0
          ? { promptTokens: Math.round(total.promptTokens), generatedTokens: Math.round(total.generatedTokens) }
          : {}),
      },
      notes: [],
    };
  }
}

/** A pod's counts between two readings, or why they cannot be known. */
function delta(
  pod: MeteredPod,
  a: PodCounters | undefined,
  b: PodCounters | undefined,
  wallFromMs: number,
  readAtStart: boolean,
): PodCounters | string {
  if (!b)
    return pod.endMs !== undefined
      ? 'ended inside the interval: its last requests were not read'
      : 'did not answer at the interval end';
  if (!a) {
    // Started after the first boundary: its counters began at 0 inside the interval.
    if (readAtStart && Number.isFinite(b.startWallMs) && b.startWallMs >= wallFromMs) return b;
    return 'was not read at the interval start';
  }
  if (a.startWallMs !== b.startWallMs || b.requests < a.requests) return 'restarted inside the interval';
  const d = (x?: number, y?: number) => (x === undefined || y === undefined ? undefined : Math.max(0, y - x));
  const out: PodCounters = { runtime: b.runtime, startWallMs: b.startWallMs, requests: b.requests - a.requests };
  const inf = d(a.inferences, b.inferences);
  const p = d(a.promptTokens, b.promptTokens);
  const g = d(a.generatedTokens, b.generatedTokens);
  if (inf !== undefined) out.inferences = inf;
  if (p !== undefined) out.promptTokens = p;
  if (g !== undefined) out.generatedTokens = g;
  return out;
}
