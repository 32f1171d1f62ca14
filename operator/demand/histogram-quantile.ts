// Quantiles of a Prometheus histogram's bucket counts over one interval, by the rule of PromQL's
// histogram_quantile (prometheus/promql/quantile.go, bucketQuantile): find the bucket the rank falls in and
// interpolate linearly between its bounds, as if the observations in it were spread evenly. The result is an
// estimate that is exact only to the bucket: the true quantile lies within [lowerMs, upperMs]. A rank in the +Inf
// bucket gives the largest finite bound, as Prometheus does; there the true value is above it (`aboveMs`). Pure.

/** One cumulative bucket: observations ≤ `le` (seconds; Infinity for +Inf). */
export interface Bucket {
  le: number;
  count: number;
}

export interface QuantileEstimate {
  /** The interpolated estimate, ms. */
  ms: number;
  /** The bucket bounds the true quantile lies within, ms (upperMs Infinity in the +Inf bucket). */
  lowerMs: number;
  upperMs: number;
}

/** Bucket counts by upper bound, sorted, cumulative counts made monotonic (as Prometheus does for float noise). */
export function normalise(buckets: readonly Bucket[]): Bucket[] {
  const out = [...buckets].sort((a, b) => a.le - b.le).map((b) => ({ ...b }));
  for (let i = 1; i < out.length; i++) if (out[i]!.count < out[i - 1]!.count) out[i]!.count = out[i - 1]!.count;
  return out;
}

/** Observations in the histogram (the +Inf bucket), or undefined when it has none. */
export function observations(buckets: readonly Bucket[]): number | undefined {
  const inf = buckets.find((b) => b.le === Infinity);
  return inf?.count;
}

/**
 * The q-quantile (0 < q < 1) of the bucket counts, or why there is none: no +Inf bucket (a histogram without it is
 * not one Prometheus would interpolate), no finite bucket, or no observations.
 */
export function histogramQuantile(q: number, raw: readonly Bucket[]): QuantileEstimate | string {
  if (!(q > 0 && q < 1)) return `quantile ${q}: expected 0 < q < 1`;
  const b = normalise(raw);
  if (b.length === 0 || b[b.length - 1]!.le !== Infinity) return 'the histogram has no +Inf bucket';
  if (b.length < 2) return 'the histogram has no finite bucket';
  const total = b[b.length - 1]!.count;
  if (!(total > 0)) return 'no observations in the interval';
  let rank = q * total;
  const i = b.findIndex((x) => x.count >= rank);
  const toMs = (s: number) => s * 1000;
  if (i === b.length - 1) {
    const top = b[b.length - 2]!.le;
    return { ms: toMs(top), lowerMs: toMs(top), upperMs: Infinity };
  }
  const cur = b[i]!;
  if (i === 0 && cur.le <= 0) return { ms: toMs(cur.le), lowerMs: toMs(cur.le), upperMs: toMs(cur.le) };
  const start = i === 0 ? 0 : b[i - 1]!.le;
  let count = cur.count;
  if (i > 0) {
    count -= b[i - 1]!.count;
    rank -= b[i - 1]!.count;
  }
  return { ms: toMs(start + (cur.le - start) * (rank / count)), lowerMs: toMs(start), upperMs: toMs(cur.le) };
}

/** The per-bucket difference between two readings of the same histogram; undefined when any count fell (a reset). */
export function bucketDelta(a: readonly Bucket[], b: readonly Bucket[]): Bucket[] | undefined {
  const before = new Map(a.map((x) => [x.le, x.count]));
  const out: Bucket[] = [];
  for (const x of b) {
    const d = x.count - (before.get(x.le) ?? 0);
    if (d < 0) return undefined;
    out.push({ le: x.le, count: d });
  }
  for (const le of before.keys()) if (!b.some((x) => x.le === le)) return undefined;
  return out;
}

/** Sums bucket counts by upper bound (the pods of a service, the variants of a pod). */
export function sumByLe(sets: ReadonlyArray<readonly Bucket[]>): Bucket[] {
  const m = new Map<number, number>();
  for (const s of sets) for (const x of s) m.set(x.le, (m.get(x.le) ?? 0) + x.count);
  return [...m].map(([le, count]) => ({ le, count })).sort((x, y) => x.le - y.le);
}

/** An `le` label value as Prometheus writes it ("0.005", "+Inf"); NaN when it is not a bound. */
export function parseLe(le: string | undefined): number {
  if (le === undefined) return NaN;
  if (le === '+Inf' || le === 'Inf' || le === '+inf') return Infinity;
  const v = Number(le);
  return le.trim() === '' ? NaN : v;
}
