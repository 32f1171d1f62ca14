// watcher → cache: list, then watch from the list's resourceVersion, into a store this class alone writes.
// Any watch error (apiserver restart, refused connection, 410 Gone) restarts the loop with jittered exponential
// backoff; a silent connection is cut by an idle deadline (bookmarks keep healthy watches talking); the whole
// state is relisted periodically, so a missed event heals. managedFields are stripped before caching.
import {
  KubeApiError,
  collectionPath,
  type KubeClient,
  type KubeObject,
  type ResourceDescriptor,
} from './kube-client.ts';

export interface ReflectorOptions {
  namespace?: string;
  labelSelector?: string;
  /** Called with the key of every object that appeared, changed or vanished. Must only enqueue. */
  onChange: (key: string) => void;
  now?: () => number;
  log?: (level: 'info' | 'warn', msg: string, meta?: Record<string, unknown>) => void;
  relistEveryMs?: number;
  watchTimeoutSeconds?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  random?: () => number;
}

export function keyOf(o: KubeObject): string {
  const m = o.metadata ?? {};
  return m.namespace ? `${m.namespace}/${m.name}` : (m.name ?? '');
}

export class Reflector<T extends KubeObject> {
  readonly resource: ResourceDescriptor;
  private client: KubeClient;
  private opts: ReflectorOptions;
  private store = new Map<string, T>();
  private abort = new AbortController();
  private running = false;
  private syncedOnce = false;
  private syncWaiters: Array<() => void> = [];
  /** Last time anything arrived (list, event or bookmark), ms. */
  lastActivityMs = 0;
  restarts = 0;
  lastError?: string;

  constructor(client: KubeClient, resource: ResourceDescriptor, opts: ReflectorOptions) {
    this.client = client;
    this.resource = resource;
    this.opts = opts;
  }

  private now() {
    return (this.opts.now ?? Date.now)();
  }

  get synced(): boolean {
    return this.syncedOnce;
  }

  waitForSync(): Promise<void> {
    if (this.syncedOnce) return Promise.resolve();
    return new Promise((r) => this.syncWaiters.push(r));
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }

  list(): T[] {
    return [...this.store.values()];
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.loop();
  }

  stop(): void {
    this.running = false;
    this.abort.abort();
  }

  private strip(o: T): T {
    if (o.metadata?.managedFields) delete o.metadata.managedFields;
    return o;
  }

  private set(o: T): void {
    const k = keyOf(o);
    const prev = this.store.get(k);
    this.store.set(k, this.strip(o));
    if (prev?.metadata?.resourceVersion !== o.metadata?.resourceVersion) this.opts.onChange(k);
  }

  private async relist(): Promise<string> {
    const path = collectionPath(this.resource, this.opts.namespace);
    const res = await this.client.list<T>(path, { labelSelector: this.opts.labelSelector });
    const seen = new Set<string>();
    for (const item of res.items) {
      item.apiVersion ??= this.resource.group
        ? `${this.resource.group}/${this.resource.version}`
        : this.resource.version;
      item.kind ??= this.resource.kind;
      seen.add(keyOf(item));
      this.set(item);
    }
    for (const k of [...this.store.keys()]) {
      if (!seen.has(k)) {
        this.store.delete(k);
        this.opts.onChange(k);
      }
    }
    this.lastActivityMs = this.now();
    if (!this.syncedOnce) {
      this.syncedOnce = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
    return res.metadata.resourceVersion ?? '';
  }

  private async loop(): Promise<void> {
    let failures = 0;
    const relistEvery = this.opts.relistEveryMs ?? 10 * 60_000;
    const random = this.opts.random ?? Math.random;
    while (this.running) {
      try {
        let rv = await this.relist();
        const listedAt = this.now();
        failures = 0;
        // Keep watching from the last resourceVersion until a relist is due or the watch fails.
        while (this.running && this.now() - listedAt < relistEvery) {
          const timeoutSeconds = Math.round((this.opts.watchTimeoutSeconds ?? 240) * (0.8 + 0.4 * random()));
          await this.client.watch<T>(
            collectionPath(this.resource, this.opts.namespace),
            { resourceVersion: rv, allowWatchBookmarks: true, timeoutSeconds, labelSelector: this.opts.labelSelector },
            (ev) => {
              this.lastActivityMs = this.now();
              const o = ev.object;
              if (o.metadata?.resourceVersion) rv = o.metadata.resourceVersion;
              if (ev.type === 'BOOKMARK') return;
              if (ev.type === 'DELETED') {
                const k = keyOf(o);
                this.store.delete(k);
                this.opts.onChange(k);
              } else this.set(o);
            },
            this.abort.signal,
            (timeoutSeconds + 30) * 1000,
          );
        }
      } catch (e) {
        if (!this.running) break;
        const gone = e instanceof KubeApiError && e.status === 410;
        this.lastError = (e as Error).message;
        this.restarts++;
        if (gone) {
          this.opts.log?.('info', 'watch expired (410 Gone); relisting', { resource: this.resource.plural });
          continue;
        }
        failures++;
        const base = this.opts.backoffBaseMs ?? 500;
        const max = this.opts.backoffMaxMs ?? 30_000;
        const delay = Math.min(max, base * 2 ** Math.min(failures - 1, 16)) * (0.5 + random() * 0.5);
        this.opts.log?.('warn', 'watch failed; restarting after backoff', {
          resource: this.resource.plural,
          error: this.lastError,
          delayMs: Math.round(delay),
        });
        await sleep(delay, this.abort.signal);
      }
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });
}
