// Kubernetes Events (events.k8s.io/v1) about InferenceServices. A repeat of the same (object, reason, note)
// within the series window updates the existing Event's series count instead of creating a new object, so a
// steady condition does not flood the API server.
import { randomBytes } from 'node:crypto';
import { FIELD_MANAGER, OPERATOR_NAME } from '../constants.ts';
import { collectionPath, objectPath, Resources, type KubeClient } from './kube-client.ts';

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

export class EventRecorder {
  private client: KubeClient;
  private now: () => number;
  private instance: string;
  private recent = new Map<string, { name: string; count: number; lastMs: number }>();
  private seriesWindowMs: number;

  constructor(client: KubeClient, opts: { now?: () => number; instance?: string; seriesWindowMs?: number } = {}) {
    this.client = client;
    this.now = opts.now ?? Date.now;
    this.instance = opts.instance ?? process.env.HOSTNAME ?? 'local';
    this.seriesWindowMs = opts.seriesWindowMs ?? 10 * 60_000;
  }

  async record(target: EventTarget, ev: EventRecord): Promise<void> {
    const now = this.now();
    // The note can carry numbers that change every pass; the series key uses reason + action only.
    const key = `${target.namespace}/${target.name}/${target.uid ?? ''}/${ev.reason}/${ev.action}/${ev.note}`;
    const prev = this.recent.get(key);
    if (prev && now - prev.lastMs < this.seriesWindowMs) {
      prev.count++;
      prev.lastMs = now;
      try {
        await this.client.mergePatch(objectPath(Resources.event, prev.name, target.namespace), {
          series: { count: prev.count, lastObservedTime: microTime(now) },
        });
        return;
      } catch {
        this.recent.delete(key); // the Event expired or was deleted: create a fresh one below
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
      note: ev.note.slice(0, 1024),
      regarding: {
        apiVersion: target.apiVersion,
        kind: target.kind,
        name: target.name,
        namespace: target.namespace,
        uid: target.uid,
      },
    });
    this.recent.set(key, { name, count: 1, lastMs: now });
    if (this.recent.size > 10_000) {
      for (const [k, v] of this.recent) if (now - v.lastMs > this.seriesWindowMs) this.recent.delete(k);
    }
  }
}
