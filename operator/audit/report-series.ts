// The time series behind the HTML report's charts and headline, gathered in one pass over the usage rows that
// `buildReport` selects (its `onRow` hook), so the charts, the headline and the table sum the very same rows.
//
// Resolution adapts to the period without knowing it in advance: buckets start at one accounting interval (so an
// hour of 1-minute intervals is drawn interval by interval) and are merged into coarser, round steps (1 min, 5 min,
// 1 h, 1 d, ...) whenever there would be more than MAX_BUCKETS, so a year of data is drawn per day in bounded memory.
// Buckets count from the Unix epoch, so every step up to a day starts on a round UTC time, whatever the row order.
import type { Row } from './schema.ts';

/** The most time buckets a chart gets; more are merged into the next coarser step. */
export const MAX_BUCKETS = 400;

/** Rows looked at before the base step is chosen (their median interval length), so one short first interval
 * (an operator that started mid-interval) does not set the resolution. */
const SAMPLE_ROWS = 1000;

/** Round steps buckets are merged into (ms); a step is used only when it is a multiple of the current one. */
const NICE_STEPS_MS = [
  1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 604_800,
].map((s) => s * 1000);

interface ServiceBucket {
  /** Seconds served per variant in the bucket. */
  variantSeconds: Map<string, number>;
  /** degradation_budget_used of the latest interval in the bucket (it accumulates within its window). */
  budgetUsed: number;
  budgetEndMs: number;
}

interface Bucket {
  totalG: number;
  baselineG: number;
  /** Intervals whose emissions are known (ci_missing rows are not). */
  knownIntervals: number;
  unknownIntervals: number;
  /** Per grid region: Σ intensity and count, over the rows that had one. */
  intensity: Map<string, { sum: number; n: number }>;
  services: Map<string, ServiceBucket>;
}

export interface ServiceInfo {
  key: string;
  namespace: string;
  name: string;
  tier: string;
}

/** Totals over every selected row; every number says how it was obtained (measured, modelled, estimated). */
export interface SeriesTotals {
  intervals: number;
  firstStartMs: number | null;
  lastEndMs: number | null;
  totalG: number;
  baselineG: number;
  savingsG: number;
  energyKwh: number;
  measuredEnergyKwh: number;
  estimatedEnergyKwh: number;
  /** Rows whose interval times are not usable (not finite, or end before start): in no chart. */
  badTimeRows: number;
  /** Intervals without an intensity (emissions unknown, not in totalG). */
  ciMissingIntervals: number;
  ciForecastIntervals: number;
  ciFallbackIntervals: number;
  ciEstimatedIntervals: number;
  /** Intervals by requests_method (absent in schema 1.0.0 rows: counted as 'unlabelled'). */
  requestsMethod: Record<string, number>;
  embodiedNotCountedIntervals: number;
  /** Per variant: seconds served, Σ intensity × seconds over the seconds with an intensity, emissions. */
  variants: Map<string, { full: boolean; seconds: number; ciWeighted: number; ciSeconds: number; totalG: number }>;
}

export interface SeriesPoint {
  startMs: number;
  endMs: number;
}

export interface ReportSeries {
  stepMs: number;
  /** Step equals the accounting interval (one point per interval). */
  perInterval: boolean;
  intervalMs: number | null;
  buckets: (SeriesPoint & Bucket)[];
  services: ServiceInfo[];
  regions: string[];
  totals: SeriesTotals;
}

const n = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export class ReportSeriesCollector {
  private step = 0;
  private intervalMs: number | null = null;
  /** Every interval had the base step's length (so a bucket is one interval). */
  private uniform = true;
  private sample: Row[] | null = [];
  private buckets = new Map<number, Bucket>();
  private services = new Map<string, ServiceInfo>();
  private regions = new Set<string>();
  private t: SeriesTotals = {
    intervals: 0,
    firstStartMs: null,
    lastEndMs: null,
    totalG: 0,
    baselineG: 0,
    savingsG: 0,
    energyKwh: 0,
    measuredEnergyKwh: 0,
    estimatedEnergyKwh: 0,
    badTimeRows: 0,
    ciMissingIntervals: 0,
    ciForecastIntervals: 0,
    ciFallbackIntervals: 0,
    ciEstimatedIntervals: 0,
    requestsMethod: {},
    embodiedNotCountedIntervals: 0,
    variants: new Map(),
  };

  /** One selected usage row (as stored: timestamps in ms). Bound, so it can be passed as a callback. */
  readonly add = (r: Row): void => {
    if (this.sample) {
      this.sample.push(r);
      if (this.sample.length >= SAMPLE_ROWS) this.startBuckets();
      return;
    }
    this.addRow(r);
  };

  /** Chooses the base step (the median interval length of the sample), then adds the sampled rows. */
  private startBuckets(): void {
    const rows = this.sample ?? [];
    this.sample = null;
    const lengths = rows
      .map((r) => Number(r.interval_end) - Number(r.interval_start))
      .filter((l) => Number.isFinite(l) && l > 0)
      .sort((a, b) => a - b);
    this.intervalMs = lengths.length ? (lengths[Math.floor(lengths.length / 2)] as number) : 60_000;
    this.step = this.intervalMs;
    for (const r of rows) this.addRow(r);
  }

  private addRow(r: Row): void {
    const start = Number(r.interval_start);
    const end = Number(r.interval_end);
    this.addTotals(r, start, end);
    if (!Number.isFinite(start) || !Number.isFinite(end) || !(end > start)) {
      this.t.badTimeRows++;
      return;
    }
    if (end - start !== this.intervalMs) this.uniform = false;
    const b = this.bucketAt(start);
    const total = n(r.total_co2e_g);
    const baseline = n(r.baseline_total_co2e_g);
    if (total === null || baseline === null) b.unknownIntervals++;
    else {
      b.totalG += total;
      b.baselineG += baseline;
      b.knownIntervals++;
    }
    const ci = n(r.ci_g_per_kwh);
    const region = String(r.ci_region);
    this.regions.add(region);
    if (ci !== null) {
      const c = b.intensity.get(region) ?? { sum: 0, n: 0 };
      c.sum += ci;
      c.n++;
      b.intensity.set(region, c);
    }
    const key = `${String(r.namespace)}/${String(r.name)}`;
    if (!this.services.has(key))
      this.services.set(key, { key, namespace: String(r.namespace), name: String(r.name), tier: String(r.tier) });
    let s = b.services.get(key);
    if (!s) b.services.set(key, (s = { variantSeconds: new Map(), budgetUsed: 0, budgetEndMs: -Infinity }));
    const variant = String(r.variant);
    s.variantSeconds.set(variant, (s.variantSeconds.get(variant) ?? 0) + Number(r.interval_s));
    if (end >= s.budgetEndMs) {
      s.budgetUsed = Number(r.degradation_budget_used);
      s.budgetEndMs = end;
    }
    while (this.buckets.size > MAX_BUCKETS) this.coarsen();
  }

  private addTotals(r: Row, start: number, end: number): void {
    const t = this.t;
    t.intervals++;
    if (Number.isFinite(start)) t.firstStartMs = t.firstStartMs === null ? start : Math.min(t.firstStartMs, start);
    if (Number.isFinite(end)) t.lastEndMs = t.lastEndMs === null ? end : Math.max(t.lastEndMs, end);
    const total = n(r.total_co2e_g);
    const baseline = n(r.baseline_total_co2e_g);
    if (total !== null) t.totalG += total;
    if (baseline !== null) t.baselineG += baseline;
    const savings = n(r.savings_co2e_g);
    if (savings !== null) t.savingsG += savings;
    const kwh = Number(r.energy_facility_kwh);
    t.energyKwh += kwh;
    if (r.energy_method === 'measured') t.measuredEnergyKwh += kwh;
    else t.estimatedEnergyKwh += kwh;
    if (r.ci_missing === true) t.ciMissingIntervals++;
    if (r.ci_forecast === true) t.ciForecastIntervals++;
    if (r.ci_fallback_used === true) t.ciFallbackIntervals++;
    if (r.ci_estimated === true) t.ciEstimatedIntervals++;
    if (r.embodied_counted === false) t.embodiedNotCountedIntervals++;
    const rm = typeof r.requests_method === 'string' ? r.requests_method : 'unlabelled';
    t.requestsMethod[rm] = (t.requestsMethod[rm] ?? 0) + 1;
    const variant = String(r.variant);
    const v = t.variants.get(variant) ?? {
      full: r.variant_is_full === true,
      seconds: 0,
      ciWeighted: 0,
      ciSeconds: 0,
      totalG: 0,
    };
    const secs = Number(r.interval_s);
    v.seconds += secs;
    const ci = n(r.ci_g_per_kwh);
    if (ci !== null) {
      v.ciWeighted += ci * secs;
      v.ciSeconds += secs;
    }
    if (total !== null) v.totalG += total;
    t.variants.set(variant, v);
  }

  private bucketAt(startMs: number): Bucket {
    const idx = Math.floor(startMs / this.step);
    let b = this.buckets.get(idx);
    if (!b) {
      b = {
        totalG: 0,
        baselineG: 0,
        knownIntervals: 0,
        unknownIntervals: 0,
        intensity: new Map(),
        services: new Map(),
      };
      this.buckets.set(idx, b);
    }
    return b;
  }

  /** Merges buckets into the next round step that is a multiple of the current one (or twice the current). */
  private coarsen(): void {
    const next = NICE_STEPS_MS.find((s) => s > this.step && s % this.step === 0) ?? this.step * 2;
    const ratio = next / this.step;
    const old = this.buckets;
    this.buckets = new Map();
    this.step = next;
    for (const [idx, b] of old) {
      const to = Math.floor(idx / ratio);
      const into = this.buckets.get(to);
      this.buckets.set(to, into ? mergeBuckets(into, b) : b);
    }
  }

  finish(): ReportSeries {
    if (this.sample) this.startBuckets();
    const buckets = [...this.buckets.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([idx, b]) => ({ startMs: idx * this.step, endMs: (idx + 1) * this.step, ...b }));
    return {
      stepMs: this.step,
      perInterval: this.uniform && this.t.intervals > 0 && this.step === this.intervalMs,
      intervalMs: this.intervalMs,
      buckets,
      services: [...this.services.values()].sort((a, b) => a.key.localeCompare(b.key)),
      regions: [...this.regions].sort(),
      totals: this.t,
    };
  }
}

function mergeBuckets(a: Bucket, b: Bucket): Bucket {
  a.totalG += b.totalG;
  a.baselineG += b.baselineG;
  a.knownIntervals += b.knownIntervals;
  a.unknownIntervals += b.unknownIntervals;
  for (const [region, c] of b.intensity) {
    const x = a.intensity.get(region) ?? { sum: 0, n: 0 };
    x.sum += c.sum;
    x.n += c.n;
    a.intensity.set(region, x);
  }
  for (const [key, s] of b.services) {
    const x = a.services.get(key);
    if (!x) {
      a.services.set(key, s);
      continue;
    }
    for (const [v, secs] of s.variantSeconds) x.variantSeconds.set(v, (x.variantSeconds.get(v) ?? 0) + secs);
    if (s.budgetEndMs >= x.budgetEndMs) {
      x.budgetUsed = s.budgetUsed;
      x.budgetEndMs = s.budgetEndMs;
    }
  }
  return a;
}
