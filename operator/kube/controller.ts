// The controller builder: controller-runtime's For/Owns/Watches in TypeScript. One controller per kind, with its
// own work queue; every trigger is declared in one place (the builder chain), and the reconcile function never
// learns which trigger woke it (level-triggered: it reads the caches and makes the world match).
//
//   const c = new ControllerBuilder<InferenceService>('inferenceservice', { concurrency: 4, clock })
//     .for(isvcs, { predicate: predicates.generationChanged })     // the primary kind: key = its namespace/name
//     .owns(deployments, { by: { ownerKind: 'InferenceService' } })  // children: key = their controller owner
//     .owns(pods, { by: { label: Label.service } })                  // or a label naming the owner
//     .watches(carbonSources, (change) => keysOfServicesUsing(change.object))  // another kind, mapped to keys
//     .triggeredBy('carbon signal', (emit) => signals.onChange((ch) => emit(keysFor(ch))))
//     .build(async ({ key }) => { ...; return { requeueAfterMs: 60_000 }; });
//
// A reconcile returns `{ requeueAfterMs }` or nothing; a TerminalError is recorded and not retried; any other
// error is retried with per-key exponential backoff with jitter. A controller is a leader-only runnable
// (manager.ts): it waits for its sources' first lists, enqueues every primary object, then runs workers.
import { countRequests, type RequestTally } from './request-accounting.ts';
import { keyOf, type Change, type ChangeSource, type ObjectMetaLike } from './store.ts';
import { TerminalError, WorkQueue, type ReconcileResult, type WorkQueueOptions } from './work-queue.ts';

export interface ReconcileRequest {
  key: string;
  namespace: string;
  name: string;
  /** Failures of this key since its last success (0 on a first try). */
  failures: number;
}

export type Reconcile = (req: ReconcileRequest) => Promise<ReconcileResult>;

export type Predicate<T> = (change: Change<T>) => boolean;

interface WithMeta {
  metadata?: {
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
    ownerReferences?: Array<Record<string, unknown>>;
  };
}

export const predicates = {
  /** Every change (the store already drops replays with an unchanged resourceVersion). */
  any: (() => true) as Predicate<unknown>,
  /**
   * Spec changes only (metadata.generation moved), plus creates, deletes, a deletion starting and label or
   * annotation edits: a status write by the controller itself does not wake it again (KEDA's rule).
   */
  generationChanged: ((c: Change<WithMeta>) => {
    if (c.type === 'delete' || !c.old) return true;
    const o = c.old.metadata ?? {};
    const n = c.object.metadata ?? {};
    return (
      o.generation !== n.generation ||
      !!o.deletionTimestamp !== !!n.deletionTimestamp ||
      JSON.stringify(o.labels ?? {}) !== JSON.stringify(n.labels ?? {}) ||
      JSON.stringify(o.annotations ?? {}) !== JSON.stringify(n.annotations ?? {})
    );
  }) as Predicate<unknown>,
};

/** How a child object names its owner's key. */
export type OwnerMapping =
  /** The ownerReference with controller: true and this kind (controller-runtime's Owns). */
  | { ownerKind: string }
  /** A label whose value is the owner's name, in the child's namespace. */
  | { label: string }
  /** The owner has the child's namespace/name. */
  | 'sameName';

export interface Trigger {
  via: 'for' | 'owns' | 'watches' | 'external';
  source: string;
  how: string;
}

export interface ReconcileReport {
  controller: string;
  key: string;
  result: 'success' | 'requeue' | 'error' | 'terminal';
  durationMs: number;
  /** Apiserver requests this pass made, by `verb resource`. */
  requests: RequestTally;
  error?: unknown;
}

export interface ControllerOptions extends WorkQueueOptions {
  /** Called after every pass (metrics: duration, result, requests per reconcile). */
  onReconciled?: (r: ReconcileReport) => void;
  log?: (level: 'info' | 'warn' | 'error', msg: string, meta?: Record<string, unknown>) => void;
}

function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return i === -1 ? { namespace: '', name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

function ownerKeys(o: ObjectMetaLike & WithMeta, by: OwnerMapping): string[] {
  const ns = o.metadata?.namespace;
  const prefix = ns ? `${ns}/` : '';
  if (by === 'sameName') return o.metadata?.name ? [`${prefix}${o.metadata.name}`] : [];
  if ('label' in by) {
    const v = o.metadata?.labels?.[by.label];
    return v ? [`${prefix}${v}`] : [];
  }
  return (o.metadata?.ownerReferences ?? [])
    .filter((r) => r.controller === true && r.kind === by.ownerKind && typeof r.name === 'string')
    .map((r) => `${prefix}${r.name as string}`);
}

function describeMapping(by: OwnerMapping): string {
  if (by === 'sameName') return 'same namespace/name';
  return 'label' in by ? `label ${by.label}` : `controller ownerReference of kind ${by.ownerKind}`;
}

/** Which lane an emitted key waits in: with the watch events, or behind every triggered key (periodic lane). */
export type TriggerLane = 'triggered' | 'after-triggered';
export type EmitKeys = (keys: Iterable<string>, lane?: TriggerLane) => void;

interface Wiring {
  sources: ChangeSource<unknown>[];
  hooks: Array<(enqueue: (key: string, lane?: TriggerLane) => void) => () => void>;
}

export class ControllerBuilder<P extends ObjectMetaLike> {
  private name: string;
  private opts: ControllerOptions;
  private primary?: ChangeSource<P>;
  private triggers: Trigger[] = [];
  private wiring: Wiring = { sources: [], hooks: [] };

  constructor(name: string, opts: ControllerOptions = {}) {
    this.name = name;
    this.opts = opts;
  }

  private source<T>(
    src: ChangeSource<T>,
    trigger: Trigger,
    predicate: Predicate<T>,
    map: (c: Change<T>) => Iterable<string>,
  ): this {
    this.triggers.push(trigger);
    this.wiring.sources.push(src as ChangeSource<unknown>);
    this.wiring.hooks.push((enqueue) =>
      src.subscribe((c) => {
        if (!predicate(c)) return;
        for (const k of map(c)) enqueue(k);
      }),
    );
    return this;
  }

  /** The primary kind: every change (passing the predicate) enqueues the object's own key. */
  for(src: ChangeSource<P>, o: { predicate?: Predicate<P> } = {}): this {
    if (this.primary) throw new Error(`controller ${this.name}: for() may be called once`);
    this.primary = src;
    return this.source(
      src,
      { via: 'for', source: src.sourceName, how: 'its own key' },
      o.predicate ?? predicates.any,
      (c) => [c.key],
    );
  }

  /** Children: a change to one enqueues its owner's key (before and after the change, if the owner moved). */
  owns<C extends ObjectMetaLike & WithMeta>(
    src: ChangeSource<C>,
    o: { by?: OwnerMapping; predicate?: Predicate<C> } = {},
  ): this {
    const by = o.by ?? 'sameName';
    return this.source(
      src,
      { via: 'owns', source: src.sourceName, how: describeMapping(by) },
      o.predicate ?? predicates.any,
      (c) => new Set([...ownerKeys(c.object, by), ...(c.old ? ownerKeys(c.old, by) : [])]),
    );
  }

  /** Another kind, mapped to the primary keys it affects by `map` (e.g. services that use a CarbonSource). */
  watches<O>(
    src: ChangeSource<O>,
    map: (c: Change<O>) => Iterable<string>,
    o: { predicate?: Predicate<O>; how?: string } = {},
  ): this {
    return this.source(
      src,
      { via: 'watches', source: src.sourceName, how: o.how ?? 'mapped' },
      o.predicate ?? predicates.any,
      map,
    );
  }

  /**
   * A trigger that is not a Kubernetes cache (e.g. the carbon signal): `subscribe` calls emit(keys). Keys emitted
   * with lane 'after-triggered' wait in the periodic lane, behind every triggered key: for passes the change
   * cannot make urgent (a premium service's pass on a new carbon signal can only refresh its status).
   */
  triggeredBy(name: string, subscribe: (emit: EmitKeys) => () => void): this {
    this.triggers.push({ via: 'external', source: name, how: 'emitted keys' });
    this.wiring.hooks.push((enqueue) =>
      subscribe((keys, lane = 'triggered') => {
        for (const k of keys) enqueue(k, lane);
      }),
    );
    return this;
  }

  build(reconcile: Reconcile): Controller<P> {
    if (!this.primary) throw new Error(`controller ${this.name}: call for() before build()`);
    return new Controller<P>(this.name, this.primary, this.triggers, this.wiring, reconcile, this.opts);
  }
}

export class Controller<P extends ObjectMetaLike> {
  readonly name: string;
  readonly needsLeaderElection = true;
  /** Every trigger of this controller, as declared (for docs, logs and tests). */
  readonly triggers: readonly Trigger[];
  private primary: ChangeSource<P>;
  private wiring: Wiring;
  private queue: WorkQueue;
  private opts: ControllerOptions;
  private unsubscribe: Array<() => void> = [];
  private abort?: AbortController;
  private started = false;

  constructor(
    name: string,
    primary: ChangeSource<P>,
    triggers: Trigger[],
    wiring: Wiring,
    reconcile: Reconcile,
    opts: ControllerOptions,
  ) {
    this.name = name;
    this.primary = primary;
    this.triggers = triggers;
    this.wiring = wiring;
    this.opts = opts;
    this.queue = new WorkQueue((key) => this.run(reconcile, key), {
      ...opts,
      onError: (key, err, retry) => {
        opts.onError?.(key, err, retry);
        opts.log?.(retry === null ? 'error' : 'warn', 'reconcile failed', {
          controller: name,
          key,
          error: (err as Error | null | undefined)?.message ?? String(err),
          retryInMs: retry,
        });
      },
    });
  }

  get depth(): number {
    return this.queue.depth;
  }

  get processing(): number {
    return this.queue.processing;
  }

  /** Enqueues a key by hand (tests, or a trigger that cannot be declared). */
  enqueue(key: string): void {
    this.queue.add(key);
  }

  private async run(reconcile: Reconcile, key: string): Promise<ReconcileResult> {
    const started = Date.now();
    const req: ReconcileRequest = { key, ...splitKey(key), failures: this.queue.failuresOf(key) };
    let result: ReconcileReport['result'] = 'success';
    let error: unknown;
    const { value, requests } = await countRequests(async () => {
      try {
        const r = await reconcile(req);
        if (r && r.requeueAfterMs !== undefined) result = 'requeue';
        return r;
      } catch (e) {
        error = e;
        result = e instanceof TerminalError ? 'terminal' : 'error';
        return undefined;
      }
    });
    this.opts.onReconciled?.({
      controller: this.name,
      key,
      result,
      durationMs: Date.now() - started,
      requests,
      ...(error !== undefined ? { error } : {}),
    });
    if (error !== undefined) throw error;
    return value;
  }

  /** Subscribes to every trigger, waits for the sources' first lists, enqueues every primary object, runs. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.abort = new AbortController();
    const enqueue = (k: string, lane: TriggerLane = 'triggered') =>
      lane === 'triggered' ? this.queue.add(k) : this.queue.addPeriodic(k);
    for (const hook of this.wiring.hooks) this.unsubscribe.push(hook(enqueue));
    await Promise.all(this.wiring.sources.map((s) => s.waitForSync(this.abort!.signal)));
    if (this.abort.signal.aborted) return;
    for (const o of this.primary.list()) enqueue(keyOf(o));
    this.queue.start();
    this.opts.log?.('info', 'controller started', {
      controller: this.name,
      triggers: this.triggers.map((t) => `${t.via} ${t.source} (${t.how})`),
    });
  }

  /** Stops taking work; waits for passes in flight. A stopped controller is not started again: build anew. */
  async stop(): Promise<void> {
    this.abort?.abort();
    for (const u of this.unsubscribe.splice(0)) u();
    await this.queue.stop();
  }
}
