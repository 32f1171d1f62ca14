// The reflector's store: a pure fold of watcher events into a map (kube-rs reflector/store.rs). One writer
// (the reflector that owns it) applies events; many readers get(), list() and subscribe to the changes each event
// made. A Restarted event (a fresh list) replaces the whole state: keys it no longer holds are reported as
// deletes, so a delete missed while the watch was down still reaches every subscriber.
import type { WatcherEvent } from './watcher.ts';

export interface ObjectMetaLike {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}

/** What one event did to one key. `object` is the new state (upsert) or the last known state (delete). */
export interface Change<T> {
  type: 'upsert' | 'delete';
  key: string;
  object: T;
  /** The state before, when the key was known. */
  old?: T;
}

export function keyOf(o: ObjectMetaLike): string {
  const m = o.metadata ?? {};
  return m.namespace ? `${m.namespace}/${m.name}` : (m.name ?? '');
}

const rvOf = (o: ObjectMetaLike | undefined) => o?.metadata?.resourceVersion;

/**
 * Applies one event to `state` in place and returns the changes it made. Pure apart from `state`: no clock,
 * no I/O. An upsert whose resourceVersion equals the stored one changes nothing (relists replay objects).
 */
export function foldEvent<T extends ObjectMetaLike>(state: Map<string, T>, ev: WatcherEvent<T>): Change<T>[] {
  switch (ev.type) {
    case 'Added':
    case 'Modified':
      return upsert(state, ev.object);
    case 'Deleted': {
      const key = keyOf(ev.object);
      const old = state.get(key);
      if (old === undefined) return [];
      state.delete(key);
      return [{ type: 'delete', key, object: ev.object, old }];
    }
    case 'Restarted': {
      const changes: Change<T>[] = [];
      const seen = new Set<string>();
      for (const o of ev.objects) {
        seen.add(keyOf(o));
        changes.push(...upsert(state, o));
      }
      for (const [key, old] of [...state]) {
        if (seen.has(key)) continue;
        state.delete(key);
        changes.push({ type: 'delete', key, object: old, old });
      }
      return changes;
    }
    case 'Bookmark':
    case 'Error':
      return [];
  }
}

function upsert<T extends ObjectMetaLike>(state: Map<string, T>, o: T): Change<T>[] {
  const key = keyOf(o);
  const old = state.get(key);
  state.set(key, o);
  if (old !== undefined && rvOf(old) !== undefined && rvOf(old) === rvOf(o)) return [];
  return [old === undefined ? { type: 'upsert', key, object: o } : { type: 'upsert', key, object: o, old }];
}

/** Anything a controller can take triggers from: the changes of a store, after its first list. */
export interface ChangeSource<T> {
  /** A name for logs and the controller's trigger table (e.g. the resource plural). */
  readonly sourceName: string;
  subscribe(fn: (change: Change<T>) => void): () => void;
  waitForSync(signal?: AbortSignal): Promise<void>;
  list(): T[];
}

export interface StoreReader<T> extends ChangeSource<T> {
  get(key: string): T | undefined;
  keys(): string[];
  readonly size: number;
  /** True once the first list has arrived. */
  readonly ready: boolean;
  waitUntilReady(signal?: AbortSignal): Promise<void>;
  /** resourceVersion of the last event applied ('' before the first list). */
  readonly resourceVersion: string;
  /** When the writer last applied an event (list, watch event or bookmark), on the writer's clock. */
  readonly lastActivityMs: number;
}

interface StoreState<T> {
  map: Map<string, T>;
  subscribers: Set<(c: Change<T>) => void>;
  waiters: Array<() => void>;
  ready: boolean;
  rv: string;
  lastMs: number;
}

/** The read side: a view of the writer's state that cannot change it. */
class Reader<T> implements StoreReader<T> {
  readonly sourceName: string;
  private s: StoreState<T>;
  constructor(name: string, s: StoreState<T>) {
    this.sourceName = name;
    this.s = s;
  }
  get(key: string): T | undefined {
    return this.s.map.get(key);
  }
  list(): T[] {
    return [...this.s.map.values()];
  }
  keys(): string[] {
    return [...this.s.map.keys()];
  }
  get size(): number {
    return this.s.map.size;
  }
  get ready(): boolean {
    return this.s.ready;
  }
  get resourceVersion(): string {
    return this.s.rv;
  }
  get lastActivityMs(): number {
    return this.s.lastMs;
  }
  waitUntilReady(signal?: AbortSignal): Promise<void> {
    if (this.s.ready || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      this.s.waiters.push(resolve);
      signal?.addEventListener('abort', () => resolve(), { once: true });
    });
  }
  waitForSync(signal?: AbortSignal): Promise<void> {
    return this.waitUntilReady(signal);
  }
  subscribe(fn: (change: Change<T>) => void): () => void {
    this.s.subscribers.add(fn);
    return () => this.s.subscribers.delete(fn);
  }
}

/** The one writer of a store; `reader` is what everyone else gets. */
export class StoreWriter<T extends ObjectMetaLike> {
  private s: StoreState<T> = { map: new Map(), subscribers: new Set(), waiters: [], ready: false, rv: '', lastMs: 0 };
  private onSubscriberError: (e: unknown) => void;
  readonly reader: StoreReader<T>;

  constructor(name: string, opts: { onSubscriberError?: (e: unknown) => void } = {}) {
    this.onSubscriberError = opts.onSubscriberError ?? (() => undefined);
    this.reader = new Reader<T>(name, this.s);
  }

  /** Folds one event in and tells every subscriber what changed. Returns the changes. */
  apply(ev: WatcherEvent<T>, nowMs: number): Change<T>[] {
    if (ev.type === 'Error') return [];
    const s = this.s;
    const changes = foldEvent(s.map, ev);
    s.lastMs = nowMs;
    if (ev.type === 'Restarted' || ev.type === 'Bookmark') s.rv = ev.resourceVersion || s.rv;
    else s.rv = rvOf(ev.object) ?? s.rv;
    if (ev.type === 'Restarted' && !s.ready) {
      s.ready = true;
      for (const w of s.waiters.splice(0)) w();
    }
    for (const c of changes) {
      for (const fn of s.subscribers) {
        // One subscriber's bug must not stop the others or the fold.
        try {
          fn(c);
        } catch (e) {
          this.onSubscriberError(e);
        }
      }
    }
    return changes;
  }
}
