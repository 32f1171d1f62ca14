// Kubernetes Events (events.k8s.io/v1) about InferenceServices and CarbonSources. A repeat of the same
// (object, reason, action) within the series window is one Event series: the existing Event's series.count
// grows and its note becomes the latest occurrence's, instead of a new object per pass. The note is NOT in the
// key: notes carry numbers that change every pass ("3 of 4 pods pending"), and keying on them made PodsPending
// Events multiply (issue 13).
//
// A repeat with the same note is counted in memory and written at most once per heartbeat (seriesHeartbeatMs),
// as client-go's event broadcaster does: a standing situation re-reported every pass (PodsPending while no GPU
// is free) must not patch its Event every pass. A changed note is news and is written at once.
//
// events.k8s.io/v1 makes `note` immutable on update (the apiserver answers 422 "field is immutable"), while the
// same object through core/v1 takes a new `message` (the note) with the series. So a changed note is patched
// through core/v1 (RBAC: patch on core events); an unchanged one through events.k8s.io/v1. Without the core
// permission (an older chart) the series still counts and the note stays the first occurrence's.
import { randomBytes } from 'node:crypto';
import { FIELD_MANAGER, OPERATOR_NAME } from '../constants.ts';
import { wallClock, type Clock } from './clock.ts';
import { collectionPath, KubeApiError, objectPath, Resources, type KubeClient } from './kube-client.ts';

export interface EventTarget {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  uid?: string;
}

export interface EventRecord {
  type: 'Normal' | 'Warning';
  reason: string;
  action: string;
  note: string;
}

/** V1MicroTime: RFC 3339 with exactly 6 fractional digits, or the API server answers 400. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

const NOTE_LIMIT = 1024;
const coreEvent = { group: '', version: 'v1', plural: 'events', kind: 'Event', namespaced: true };

/** The series key: the object (kind, namespace, name, uid), reason and action. Never the note. */
export function seriesKey(target: EventTarget, ev: Pick<EventRecord, 'reason' | 'action'>): string {
  return [target.kind, target.namespace, target.name, target.uid ?? '', ev.reason, ev.action].join('\u0000');
}

interface Series {
  name: string;
  count: number;
  lastMs: number;
  note: string;
  /** When the series was last written to the apiserver: the heartbeat runs from there. */
  writtenMs: number;
}

export class EventRecorder {
  private client: KubeClient;
  private clock: Clock;
  private instance: string;
  private recent = new Map<string, Series>();
  /** One record at a time per series, so two passes cannot both create the first Event of a series. */
  private inFlight = new Map<string, Promise<void>>();
  private seriesWindowMs: number;
  private seriesHeartbeatMs: number;
  private coreNotePatch = true;

  constructor(
    client: KubeClient,
    opts: {
      now?: () => number;
      clock?: Clock;
      instance?: string;
      seriesWindowMs?: number;
      seriesHeartbeatMs?: number;
    } = {},
  ) {
    this.client = client;
    this.clock = opts.clock ?? (opts.now ? { ...wallClock, now: opts.now } : wallClock);
    this.instance = opts.instance ?? process.env.HOSTNAME ?? 'local';
    this.seriesWindowMs = opts.seriesWindowMs ?? 10 * 60_000;
    // Under the window, so a series that keeps recurring is refreshed before a quiet gap would end it.
    this.seriesHeartbeatMs = Math.min(opts.seriesHeartbeatMs ?? 5 * 60_000, this.seriesWindowMs / 2);
  }

  record(target: EventTarget, ev: EventRecord): Promise<void> {
    const key = seriesKey(target, ev);
    const prev = this.inFlight.get(key) ?? Promise.resolve();
    const next = prev.then(() => this.recordNow(key, target, ev));
    const settled = next.catch(() => undefined);
    this.inFlight.set(key, settled);
    void settled.then(() => {
      if (this.inFlight.get(key) === settled) this.inFlight.delete(key);
    });
    return next;
  }

  private async recordNow(key: string, target: EventTarget, ev: EventRecord): Promise<void> {
    const now = this.clock.now();
    const note = ev.note.slice(0, NOTE_LIMIT);
    const prev = this.recent.get(key);
    if (prev && now - prev.lastMs < this.seriesWindowMs) {
      const count = prev.count + 1;
      if (note === prev.note && now - prev.writtenMs < this.seriesHeartbeatMs) {
        Object.assign(prev, { count, lastMs: now });
        return;
      }
      try {
        await this.patchSeries(target.namespace, prev, count, now, note);
        Object.assign(prev, {
          count,
          lastMs: now,
          note: this.coreNotePatch ? note : prev.note,
          writtenMs: now,
        });
        return;
      } catch (e) {
        if (!(e instanceof KubeApiError && e.status === 404)) throw e;
        this.recent.delete(key); // the Event expired (TTL) or was deleted: start a fresh series below
      }
    }
    const name = `${target.name}.${now.toString(16)}${randomBytes(3).toString('hex')}`;
    await this.client.create(collectionPath(Resources.event, target.namespace), {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name, namespace: target.namespace },
      eventTime: microTime(now),
      reportingController: `carbonscale.dev/${OPERATOR_NAME}`,
      reportingInstance: `${FIELD_MANAGER}-${this.instance}`.slice(0, 128),
      action: ev.action,
      reason: ev.reason,
      type: ev.type,
      note,
      regarding: {
        apiVersion: target.apiVersion,
        kind: target.kind,
        name: target.name,
        namespace: target.namespace,
        uid: target.uid,
      },
    });
    this.recent.set(key, { name, count: 1, lastMs: now, note, writtenMs: now });
    if (this.recent.size > 10_000) {
      for (const [k, v] of this.recent) if (now - v.lastMs > this.seriesWindowMs) this.recent.delete(k);
    }
  }

  private async patchSeries(namespace: string, s: Series, count: number, now: number, note: string): Promise<void> {
    const series = { count, lastObservedTime: microTime(now) };
    if (note !== s.note && this.coreNotePatch) {
      try {
        await this.client.mergePatch(objectPath(coreEvent, s.name, namespace), { message: note, series });
        return;
      } catch (e) {
        if (!(e instanceof KubeApiError && e.status === 403)) throw e;
        this.coreNotePatch = false; // no RBAC for core events: keep counting through events.k8s.io
      }
    }
    await this.client.mergePatch(objectPath(Resources.event, s.name, namespace), { series });
  }
}
