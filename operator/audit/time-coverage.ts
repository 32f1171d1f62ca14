// Time continuity of the usage stream: the intervals of one service must tile time from its first row to its
// last, with no gap (an interval nobody accounted: its energy would vanish from the trail) and no overlap (an
// interval accounted twice). Rows arrive in stream order, which is not time order (a restart re-accounts the
// interval that was running), so each service keeps its covered time as merged spans: one span when the trail is
// whole, so memory stays bounded by the number of services plus the number of defects.

/** Where a row is: its seq and file (or journal/journal.jsonl). */
export interface RowRef {
  seq: number;
  file: string;
}

export interface CoverageProblem {
  kind: 'time_gap' | 'time_overlap';
  /** The key the rows were added under, and the label naming the service. */
  key: string;
  service: string;
  /** The uncovered time [start, end) of a gap, or the doubly covered row's interval. */
  start: number;
  end: number;
  seq: number;
  file: string;
  message: string;
}

interface Span {
  start: number;
  end: number;
  /** The row that starts the span and the row that ends it. */
  first: RowRef;
  last: RowRef;
}

const iso = (ms: number): string => new Date(ms).toISOString();

function duration(ms: number): string {
  const s = ms / 1000;
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(2)} h`;
}

export class TimeCoverage {
  private readonly spans = new Map<string, Span[]>();
  private readonly labels = new Map<string, string>();
  readonly overlaps: CoverageProblem[] = [];

  /**
   * Adds the interval [start, end) of one usage row. `key` identifies the service (cluster and uid: a service
   * deleted and created again is another timeline); `label` names it in messages.
   */
  add(key: string, label: string, start: number, end: number, at: RowRef): void {
    this.labels.set(key, label);
    const list = this.spans.get(key);
    if (!list) {
      this.spans.set(key, [{ start, end, first: at, last: at }]);
      return;
    }
    // Fast path: the row continues the newest span (the normal case, in stream order).
    const tail = list[list.length - 1] as Span;
    if (start === tail.end) {
      tail.end = end;
      tail.last = at;
      return;
    }
    const i = upperBound(list, start); // first span starting after `start`
    const prev = list[i - 1];
    const next = list[i];
    if ((prev && start < prev.end) || (next && end > next.start)) {
      const hit = prev && start < prev.end ? prev : (next as Span);
      this.overlaps.push({
        kind: 'time_overlap',
        key,
        service: label,
        start,
        end,
        seq: at.seq,
        file: at.file,
        message:
          `usage ${label}: row ${at.seq} (${iso(start)}..${iso(end)}) overlaps the interval ${iso(hit.start)}..${iso(hit.end)} ` +
          `already covered by rows ${hit.first.seq}..${hit.last.seq} (${hit.first.file}): that time is accounted twice`,
      });
    }
    // Merge the row into the spans it touches or overlaps, so later rows are judged against the union.
    let lo = i;
    while (lo > 0 && (list[lo - 1] as Span).end >= start) lo--;
    let hi = i;
    while (hi < list.length && (list[hi] as Span).start <= end) hi++;
    if (lo === hi) {
      list.splice(i, 0, { start, end, first: at, last: at });
      return;
    }
    const a = list[lo] as Span;
    const b = list[hi - 1] as Span;
    const merged: Span = {
      start: Math.min(start, a.start),
      end: Math.max(end, b.end),
      first: start < a.start ? at : a.first,
      last: end > b.end ? at : b.last,
    };
    list.splice(lo, hi - lo, merged);
  }

  /** Every gap between a service's first and last row, with the rows on either side, then every overlap. */
  problems(): CoverageProblem[] {
    const out: CoverageProblem[] = [];
    for (const [key, list] of this.spans) {
      const label = this.labels.get(key) ?? key;
      for (let i = 1; i < list.length; i++) {
        const before = list[i - 1] as Span;
        const after = list[i] as Span;
        out.push({
          kind: 'time_gap',
          key,
          service: label,
          start: before.end,
          end: after.start,
          seq: after.first.seq,
          file: after.first.file,
          message:
            `usage ${label}: no row for ${iso(before.end)}..${iso(after.start)} (${duration(after.start - before.end)}) ` +
            `between row ${before.last.seq} (${before.last.file}, ends ${iso(before.end)}) ` +
            `and row ${after.first.seq} (${after.first.file}, starts ${iso(after.start)})`,
        });
      }
    }
    return [...out, ...this.overlaps];
  }

  /** Services seen. */
  get services(): number {
    return this.spans.size;
  }
}

/** Index of the first span whose start is greater than `t` (spans sorted by start, disjoint). */
function upperBound(list: readonly Span[], t: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((list[mid] as Span).start <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
