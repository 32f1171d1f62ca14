// One meter read through Prometheus: a declaration of its counters (names, unit, labels, whether each counts from
// 0, which series overlap) and one algorithm for all of them. For an interval it fetches every raw sample of the
// service's pods' series around the window, follows each series across label changes that are not a new counter
// (Kepler's state running → terminated), maps it to a pod, takes its increase with counter-window.ts and sums
// joules. The interval is measured only when every pod that ran in it has every series the meter must report
// and every series covers the pod's part of the window; otherwise the reading says why (the row falls back).
import type { EnergyReading, EnergyRequest, EnergySource, EnergySourceName, MeteredPod } from './energy-source.ts';
import { increaseOver } from './counter-window.ts';
import {
  PrometheusQueryError,
  promRegexLiteral,
  promString,
  rawSamples,
  type PrometheusOptions,
  type RawSeries,
  type Sample,
} from './prometheus-samples.ts';

export interface MeterMetric {
  name: string;
  /** Factor from the counter's unit to joules (dcgm reports millijoules: 0.001). */
  toJoules: number;
  /** `always`: every pod of the service must report it; `gpu`: every pod, when the variant uses GPUs. */
  required: 'always' | 'gpu';
  /** One series per GPU of the pod (dcgm): a pod must have as many as it has GPUs. */
  perGpu?: boolean;
  /** The series carry overlapping RAPL zones (Kepler's CPU counters): sum only disjoint ones. */
  zones?: boolean;
  /** What to check when a pod has no series of this metric. */
  hint: string;
}

export interface MeterSpec {
  source: EnergySourceName;
  metrics: MeterMetric[];
  /** Labels naming the pod and its namespace on the meter's series. */
  podLabel: string;
  namespaceLabel: string;
  /** Label carrying the pod's UID, when the meter has one (tells a re-created pod of the same name apart). */
  uidLabel?: string;
  /** Labels whose change does not start a new counter (Kepler moves a finished pod to state="terminated"). */
  lifecycleLabels: readonly string[];
  /** The counter starts at 0 with its series (true), or counts since the device's driver loaded (false). */
  startsAtZero: boolean;
}

export interface MeterOptions extends PrometheusOptions {
  /** Longest allowed time between two samples of a series (a longer gap is a missing scrape). */
  maxGapMs: number;
}

interface Track {
  metric: MeterMetric;
  labels: Record<string, string>;
  samples: Sample[];
}

/** Series of the same counter under changing lifecycle labels, merged into one track each. */
function tracksOf(spec: MeterSpec, metric: MeterMetric, series: RawSeries[]): Track[] {
  const byId = new Map<string, Track>();
  for (const s of series) {
    const id = Object.entries(s.labels)
      .filter(([k]) => !spec.lifecycleLabels.includes(k))
      .sort(([x], [y]) => x.localeCompare(y))
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const t = byId.get(id) ?? { metric, labels: s.labels, samples: [] };
    t.samples.push(...s.samples);
    byId.set(id, t);
  }
  for (const t of byId.values()) {
    t.samples.sort((a, b) => a.t - b.t);
    t.samples = t.samples.filter((s, i, all) => i === 0 || s.t !== all[i - 1]!.t);
  }
  return [...byId.values()];
}

/** RAPL zones overlap (psys ⊃ package ⊃ core, uncore; dram apart): keep the disjoint ones a pod reports. */
export function disjointZones(zones: ReadonlySet<string>): Set<string> {
  if (zones.has('psys')) return new Set(['psys']);
  const out = new Set<string>();
  if (zones.has('package')) out.add('package');
  else for (const z of ['core', 'uncore']) if (zones.has(z)) out.add(z);
  if (zones.has('dram')) out.add('dram');
  for (const z of zones) if (!['psys', 'package', 'core', 'uncore', 'dram'].includes(z)) out.add(z);
  return out;
}

export class PrometheusMeter implements EnergySource {
  readonly name: EnergySourceName;
  readonly settleMs: number;
  readonly #spec: MeterSpec;
  readonly #o: MeterOptions;

  constructor(spec: MeterSpec, o: MeterOptions) {
    this.#spec = spec;
    this.#o = o;
    this.name = spec.source;
    // A sample after the interval's end must exist: wait one allowed gap, plus a margin for the scrape itself.
    this.settleMs = o.maxGapMs + 5_000;
  }

  async measure(req: EnergyRequest): Promise<EnergyReading> {
    try {
      return await this.#measure(req);
    } catch (e) {
      const msg = e instanceof PrometheusQueryError ? e.message : `unexpected: ${(e as Error).message}`;
      return { measured: false, source: this.name, reason: `${this.name}: ${msg}` };
    }
  }

  #selector(metric: MeterMetric, req: EnergyRequest): string {
    const s = this.#spec;
    // The Deployment's pods are <service>-<replicaset hash>-<suffix>; pods the log knows are named as well.
    const names = [
      `${promRegexLiteral(req.service)}-[a-z0-9]+-[a-z0-9]+`,
      ...req.pods.map((p) => promRegexLiteral(p.name)),
    ];
    return `${metric.name}{${s.namespaceLabel}=${promString(req.namespace)},${s.podLabel}=~${promString(names.join('|'))}}`;
  }

  #podOf(t: Track, pods: readonly MeteredPod[]): MeteredPod | undefined {
    const uid = this.#spec.uidLabel ? t.labels[this.#spec.uidLabel] : undefined;
    const name = t.labels[this.#spec.podLabel];
    return (uid ? pods.find((p) => p.uid === uid) : undefined) ?? pods.find((p) => p.name === name && (!uid || !p.uid));
  }

  async #measure(req: EnergyRequest): Promise<EnergyReading> {
    const g = this.#o.maxGapMs;
    const unmeasured = (reason: string): EnergyReading => ({ measured: false, source: this.name, reason });
    let joules = 0;
    let series = 0;
    let resets = 0;
    const notes: string[] = [];
    for (const metric of this.#spec.metrics) {
      const raw = await rawSamples(this.#o, this.#selector(metric, req), req.fromMs - g - 1, req.toMs + g);
      const tracks = this.#chosen(metric, tracksOf(this.#spec, metric, raw));
      const missing = this.#missing(metric, tracks, req);
      if (missing) return unmeasured(missing);
      for (const t of tracks) {
        const pod = this.#podOf(t, req.pods);
        const what = `${this.name} ${metric.name} of pod ${req.namespace}/${t.labels[this.#spec.podLabel] ?? '?'}`;
        const inc = increaseOver(t.samples, {
          fromMs: req.fromMs,
          toMs: req.toMs,
          maxGapMs: g,
          startsAtZero: this.#spec.startsAtZero,
          what,
          ...(pod ? { pod } : {}),
        });
        if (!inc.ok) return unmeasured(inc.reason);
        if (!pod && inc.increase > 0) notes.push(`${what}: not in the pod log, counted`);
        joules += inc.increase * metric.toJoules;
        series++;
        resets += inc.resets;
      }
    }
    if (resets > 0) notes.push(`${resets} counter reset(s) in the window`);
    return { measured: true, source: this.name, joules, series, resets, notes };
  }

  /** Kepler's CPU series come per RAPL zone: keep only the disjoint zones of each pod. */
  #chosen(metric: MeterMetric, tracks: Track[]): Track[] {
    if (!metric.zones) return tracks;
    const byPod = new Map<string, Set<string>>();
    for (const t of tracks) {
      const pod = t.labels[this.#spec.podLabel] ?? '';
      (byPod.get(pod) ?? byPod.set(pod, new Set()).get(pod)!).add(t.labels['zone'] ?? '');
    }
    const keep = new Map([...byPod].map(([pod, zones]) => [pod, disjointZones(zones)]));
    return tracks.filter((t) => keep.get(t.labels[this.#spec.podLabel] ?? '')!.has(t.labels['zone'] ?? ''));
  }

  /** The first pod of the log that lacks a series this meter must report, in words. */
  #missing(metric: MeterMetric, tracks: Track[], req: EnergyRequest): string | undefined {
    if (metric.required === 'gpu' && req.gpusPerReplica === 0) return undefined;
    for (const pod of req.pods) {
      const mine = tracks.filter((t) => this.#podOf(t, [pod]) === pod);
      const want = metric.perGpu ? req.gpusPerReplica : 1;
      const have = metric.perGpu
        ? new Set(mine.map((t) => t.labels['UUID'] ?? t.labels['uuid'] ?? t.labels['gpu'])).size
        : mine.length;
      if (have === 0)
        return `${this.name}: no ${metric.name} series for pod ${req.namespace}/${pod.name} (${metric.hint})`;
      if (have < want)
        return `${this.name}: ${metric.name} reports ${have} of the ${want} GPUs of pod ${req.namespace}/${pod.name}`;
    }
    return undefined;
  }
}
