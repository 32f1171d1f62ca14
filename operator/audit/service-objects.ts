// The InferenceService objects behind each namespace/name of a trail. A service deleted and created again is a new
// object (a new metadata.uid) under the same name: its usage rows are another timeline (verify checks each uid's
// intervals for continuity on their own), while the report sums rows by name. Both say when a name had more than
// one object, with each object's span, so a user does not read "4 services" for 2 names, or a doubled total, without
// an explanation. The embedded demo meets this on every restart on the same --audit-dir: a fresh local cluster
// makes new uids, and the replayed clock starts at the same trace time again, so the objects' intervals overlap.
import type { Row } from './schema.ts';

export interface ServiceObject {
  uid: string;
  /** Lowest stream_seq of its usage rows: the order the objects were accounted in (creation order). */
  firstSeq: number;
  /** Earliest interval_start and latest interval_end of its usage rows, UTC ms. */
  firstStartMs: number;
  lastEndMs: number;
  rows: number;
}

export interface ServiceName {
  cluster: string;
  namespace: string;
  name: string;
  /** In the order they were accounted (firstSeq). */
  objects: ServiceObject[];
}

/** Collects the objects (uids) of every cluster/namespace/name from usage rows, in any order. */
export class ServiceObjects {
  private readonly names = new Map<string, { n: ServiceName; byUid: Map<string, ServiceObject> }>();

  add(r: Row): void {
    const cluster = String(r.cluster_id);
    const namespace = String(r.namespace);
    const name = String(r.name);
    const key = `${cluster}\u0000${namespace}\u0000${name}`;
    let e = this.names.get(key);
    if (!e) this.names.set(key, (e = { n: { cluster, namespace, name, objects: [] }, byUid: new Map() }));
    const uid = String(r.uid);
    const start = Number(r.interval_start);
    const end = Number(r.interval_end);
    const seq = Number(r.stream_seq);
    const o = e.byUid.get(uid);
    if (!o) {
      const made = { uid, firstSeq: seq, firstStartMs: start, lastEndMs: end, rows: 1 };
      e.byUid.set(uid, made);
      e.n.objects.push(made);
      return;
    }
    o.rows++;
    o.firstSeq = Math.min(o.firstSeq, seq);
    o.firstStartMs = Math.min(o.firstStartMs, start);
    o.lastEndMs = Math.max(o.lastEndMs, end);
  }

  /** Every name, sorted by cluster, namespace and name; each name's objects in accounting order. */
  list(): ServiceName[] {
    const out = [...this.names.values()].map((e) => ({
      ...e.n,
      objects: [...e.n.objects].sort((a, b) => a.firstSeq - b.firstSeq),
    }));
    return out.sort(
      (a, b) =>
        a.cluster.localeCompare(b.cluster) || a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name),
    );
  }

  /** Objects (uids) seen, and the names they had. */
  counts(): { objects: number; names: number } {
    let objects = 0;
    for (const e of this.names.values()) objects += e.byUid.size;
    return { objects, names: this.names.size };
  }
}

const minute = (ms: number): string => new Date(ms).toISOString().slice(0, 16) + 'Z';

/** Whether two objects' usage intervals cover some of the same time. */
function overlapping(objects: readonly ServiceObject[]): boolean {
  const byStart = [...objects].sort((a, b) => a.firstStartMs - b.firstStartMs);
  return byStart.some((o, i) => i > 0 && o.firstStartMs < (byStart[i - 1] as ServiceObject).lastEndMs);
}

/**
 * One line per name that had more than one object: how many, when each later one was first accounted, each uid's
 * span, and whether their intervals overlap in time (then a total by name adds the same clock time more than once).
 * `sums` says what the command does with the objects' rows (the report adds them up by name).
 */
export function recreatedLines(names: readonly ServiceName[], sums: string): string[] {
  const clusters = new Set(names.map((n) => n.cluster));
  return names
    .filter((n) => n.objects.length > 1)
    .map((n) => {
      const label = `${clusters.size > 1 ? `${n.cluster}:` : ''}${n.namespace}/${n.name}`;
      const again = n.objects.slice(1).map((o) => minute(o.firstStartMs));
      const spans = n.objects.map(
        (o) => `uid ${o.uid} ${minute(o.firstStartMs)}..${minute(o.lastEndMs)} (${o.rows} usage rows)`,
      );
      const overlap = overlapping(n.objects)
        ? '; their intervals overlap in time (the same clock time accounted again, as when the embedded demo ' +
          'restarts its replay on the same --audit-dir)'
        : '';
      return (
        `${label}: ${n.objects.length} objects (deleted and created again; recreated at ${again.join(', ')}): ` +
        `${spans.join('; ')}${overlap}; ${sums}`
      );
    });
}
