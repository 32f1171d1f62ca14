// watcher → store: the reflector runs a watcher (watcher.ts) and folds its events into a store it alone writes
// (store.ts), stripping managedFields (and filling apiVersion/kind, which list items lack) before anything
// enters the cache. Readers use get/list/subscribe; the controller builder (controller.ts) takes it as a source.
//
// For the controller engineer: the public shape the reconciler used is kept — get(key), list(), synced,
// lastActivityMs, waitForSync(), start(), stop(), the `onChange(key)` option, `resource`, `restarts`,
// `lastError`. New: subscribe(fn(change)) with the old and new object (deletes carry the last known object),
// `store` (a read-only StoreReader), `resourceVersion`, stop() returns a promise, and `clock` (timers, wall
// clock by default) next to `now` (only stamps lastActivityMs, for /healthz on the operator's clock).
import { wallClock, type Clock } from './clock.ts';
import { apiVersionOf, collectionPath, KubeClient, type KubeObject, type ResourceDescriptor } from './kube-client.ts';
import { keyOf as storeKeyOf, StoreWriter, type Change, type ChangeSource, type StoreReader } from './store.ts';
import { watcher, type ListWatchSource, type WatcherEvent, type WatcherOptions } from './watcher.ts';

export interface ReflectorOptions extends WatcherOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Called with the key of every object that appeared, changed or vanished. Must only enqueue. */
  onChange?: (key: string) => void;
  /** Stamps lastActivityMs (default: clock.now). */
  now?: () => number;
  log?: (level: 'info' | 'warn', msg: string, meta?: Record<string, unknown>) => void;
  /** Changes each object before it is stored (after managedFields are stripped). */
  transform?: (o: KubeObject) => KubeObject;
}

export const keyOf = storeKeyOf;

/** managedFields are large (often half an object) and never read by the operator: drop them at the door. */
export function stripManagedFields<T extends KubeObject>(o: T): T {
  if (o.metadata?.managedFields !== undefined) delete o.metadata.managedFields;
  return o;
}

/** The list/watch source for one resource through the KubeClient (the one door). */
export function clientSource<T extends KubeObject>(
  client: KubeClient,
  resource: ResourceDescriptor,
  sel: { namespace?: string; labelSelector?: string; fieldSelector?: string } = {},
): ListWatchSource<T> {
  const path = collectionPath(resource, sel.namespace);
  const selectors = { labelSelector: sel.labelSelector, fieldSelector: sel.fieldSelector };
  const description =
    `${resource.plural}` +
    (sel.namespace ? ` in ${sel.namespace}` : '') +
    (sel.labelSelector ? ` (${sel.labelSelector})` : '');
  return {
    description,
    list: (o) => client.list<T>(path, { ...selectors, limit: o.limit, continue: o.continue }),
    watch: (o, onEvent) =>
      client.watch<T>(
        path,
        {
          ...selectors,
          resourceVersion: o.resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds: o.timeoutSeconds,
        },
        onEvent,
        o.signal,
      ),
  };
}

export class Reflector<T extends KubeObject> implements ChangeSource<T> {
  readonly resource: ResourceDescriptor;
  readonly store: StoreReader<T>;
  readonly sourceName: string;
  private writer: StoreWriter<T>;
  private source: ListWatchSource<T>;
  private opts: ReflectorOptions;
  private clock: Clock;
  private abort?: AbortController;
  private loop?: Promise<void>;
  restarts = 0;
  lastError?: string;
  /** Lists that completed (the first one and every relist). */
  lists = 0;

  constructor(client: KubeClient | ListWatchSource<T>, resource: ResourceDescriptor, opts: ReflectorOptions = {}) {
    this.resource = resource;
    this.opts = opts;
    this.clock = opts.clock ?? wallClock;
    this.source = client instanceof KubeClient ? clientSource<T>(client, resource, opts) : client;
    this.sourceName = resource.plural;
    this.writer = new StoreWriter<T>(resource.plural, {
      onSubscriberError: (e) =>
        opts.log?.('warn', 'a cache subscriber threw', { resource: resource.plural, error: String(e) }),
    });
    this.store = this.writer.reader;
    if (opts.onChange) {
      const onChange = opts.onChange;
      this.store.subscribe((c) => onChange(c.key));
    }
  }

  get synced(): boolean {
    return this.store.ready;
  }

  get lastActivityMs(): number {
    return this.store.lastActivityMs;
  }

  get resourceVersion(): string {
    return this.store.resourceVersion;
  }

  waitForSync(signal?: AbortSignal): Promise<void> {
    return this.store.waitUntilReady(signal);
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }

  list(): T[] {
    return this.store.list();
  }

  subscribe(fn: (change: Change<T>) => void): () => void {
    return this.store.subscribe(fn);
  }

  start(): void {
    if (this.loop) return;
    const abort = new AbortController();
    this.abort = abort;
    this.loop = this.run(abort.signal);
  }

  /** Stops the watch; resolves when the loop has ended. The cache keeps its last state. */
  async stop(): Promise<void> {
    this.abort?.abort();
    await this.loop;
    this.loop = undefined;
  }

  private prepare(o: T): T {
    stripManagedFields(o);
    o.apiVersion ??= apiVersionOf(this.resource);
    o.kind ??= this.resource.kind;
    return (this.opts.transform ? this.opts.transform(o) : o) as T;
  }

  private async run(signal: AbortSignal): Promise<void> {
    const now = this.opts.now ?? (() => this.clock.now());
    for await (const ev of watcher(this.source, { ...this.opts, clock: this.clock }, signal)) {
      if (ev.type === 'Error') {
        this.noteError(ev);
        continue;
      }
      if (ev.type === 'Restarted') {
        ev.objects = ev.objects.map((o) => this.prepare(o));
        this.lists++;
      } else if (ev.type !== 'Bookmark') ev.object = this.prepare(ev.object);
      this.writer.apply(ev, now());
    }
  }

  private noteError(ev: Extract<WatcherEvent<T>, { type: 'Error' }>): void {
    this.restarts++;
    this.lastError = ev.error.message;
    if (ev.relist && ev.retryInMs === 0) {
      this.opts.log?.('info', 'watch expired (410 Gone); relisting', { resource: this.resource.plural });
      return;
    }
    this.opts.log?.(
      'warn',
      ev.relist ? 'list failed; retrying after backoff' : 'watch failed; resuming after backoff',
      {
        resource: this.resource.plural,
        error: ev.error.message,
        retryInMs: ev.retryInMs,
      },
    );
  }
}

export type { Change };
