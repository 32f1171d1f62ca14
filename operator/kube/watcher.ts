// The watcher: list + watch + backoff as an async stream of events, with no cache (kube-rs watcher.rs). It
// knows nothing of stores; the reflector folds its events into one (store.ts).
//   - Restarted(objects): a complete, paginated list (limit/continue; an expired continue token means one
//     fresh unpaginated list). The store replaces its state with it.
//   - Added / Modified / Deleted: watch events, watched from the list's (or the last event's) resourceVersion.
//   - Bookmark: the resourceVersion moved with no object (allowWatchBookmarks), so a restart resumes from there.
//   - Error: something failed; the watcher retries by itself after `retryInMs` (jittered exponential backoff).
// Resuming: a failed or ended watch restarts from the last resourceVersion, not with a list; only 410 Gone
// (the version left the apiserver's window) relists. So after an apiserver restart each watcher lists at most
// once. A watchdog restarts a watch that stays silent longer than its timeout plus a grace (a half-open
// connection sends nothing; a healthy one sends bookmarks). There is no periodic relist by default, as in client-go
// and kube-rs: a watch resumed from its resourceVersion misses nothing, and at 2,000 services a relist every 10
// minutes was 12 LIST pages (several MB) of pure cost (docs/reliability.md, finding 5). `relistEveryMs` remains
// for a caller that wants one.
// Timing uses its own clock: the wall clock in the operator (the apiserver's timeouts are real seconds).
import { backoffDelay } from './backoff.ts';
import { sleep, wallClock, type Clock } from './clock.ts';
import type { ListResult, WatchEvent } from './kube-client.ts';

export type WatcherEvent<T> =
  | { type: 'Restarted'; objects: T[]; resourceVersion: string }
  | { type: 'Added' | 'Modified' | 'Deleted'; object: T }
  | { type: 'Bookmark'; resourceVersion: string }
  | { type: 'Error'; error: Error; retryInMs: number; relist: boolean };

/** Where a watcher lists and watches: the KubeClient for one resource (reflector.ts), or a test's script. */
export interface ListWatchSource<T> {
  readonly description: string;
  list(o: { limit?: number; continue?: string; signal: AbortSignal }): Promise<ListResult<T>>;
  /** Resolves when the server ends the watch; rejects on failure (a KubeApiError with status 410 for Gone). */
  watch(
    o: { resourceVersion: string; timeoutSeconds: number; signal: AbortSignal },
    onEvent: (e: WatchEvent<T>) => void,
  ): Promise<void>;
}

export interface WatcherOptions {
  /** Wall clock by default; see the header. */
  clock?: Clock;
  /** Objects per list page (limit); 0 lists in one request. Default 500. */
  pageSize?: number;
  /** Server-side watch timeout, jittered ±20% per watch so reflectors do not restart together. Default 300. */
  watchTimeoutSeconds?: number;
  /** The watchdog fires after the watch timeout plus this much silence. Default 30 s. */
  stallGraceMs?: number;
  /** Full relist period; 0 = never (the default: see the header). */
  relistEveryMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  random?: () => number;
}

export const WATCHER_DEFAULTS = {
  pageSize: 500,
  watchTimeoutSeconds: 300,
  stallGraceMs: 30_000,
  relistEveryMs: 0,
  backoffBaseMs: 500,
  backoffMaxMs: 30_000,
} as const;

export class WatchStalledError extends Error {
  override name = 'WatchStalledError';
}

const isGone = (e: unknown) => (e as { status?: unknown } | null | undefined)?.status === 410;

/** All pages of a list. An expired continue token (410) restarts as one unpaginated list. */
export async function listAll<T>(
  source: ListWatchSource<T>,
  pageSize: number,
  signal: AbortSignal,
): Promise<{ objects: T[]; resourceVersion: string }> {
  const objects: T[] = [];
  let cont: string | undefined;
  let rv: string | undefined;
  try {
    do {
      const page = await source.list({
        ...(pageSize > 0 ? { limit: pageSize } : {}),
        ...(cont ? { continue: cont } : {}),
        signal,
      });
      objects.push(...page.items);
      rv ??= page.metadata.resourceVersion;
      cont = page.metadata.continue || undefined;
    } while (cont);
  } catch (e) {
    if (!(cont && isGone(e))) throw e;
    const whole = await source.list({ signal });
    return { objects: whole.items, resourceVersion: whole.metadata.resourceVersion ?? '' };
  }
  return { objects, resourceVersion: rv ?? '' };
}

/** Buffers callback-delivered items for an async iterator (the watch callback cannot await). */
class Channel<T> {
  private items: T[] = [];
  private wake?: () => void;
  private ended = false;
  private failure?: Error;

  push(x: T) {
    if (this.ended) return;
    this.items.push(x);
    this.wake?.();
  }
  close(err?: Error) {
    if (this.ended) return;
    this.ended = true;
    this.failure = err;
    this.wake?.();
  }
  async *drain(): AsyncGenerator<T> {
    for (;;) {
      while (this.items.length) yield this.items.shift()!;
      if (this.ended) {
        if (this.failure) throw this.failure;
        return;
      }
      await new Promise<void>((r) => (this.wake = r));
      this.wake = undefined;
    }
  }
}

/** The list/watch loop as a stream of events; ends when `signal` aborts. */
export async function* watcher<T extends { metadata?: { resourceVersion?: string } }>(
  source: ListWatchSource<T>,
  opts: WatcherOptions,
  signal: AbortSignal,
): AsyncGenerator<WatcherEvent<T>> {
  const clock = opts.clock ?? wallClock;
  const random = opts.random ?? Math.random;
  const relistEvery = opts.relistEveryMs ?? WATCHER_DEFAULTS.relistEveryMs;
  const backoff = (n: number) =>
    backoffDelay(n, {
      baseMs: opts.backoffBaseMs ?? WATCHER_DEFAULTS.backoffBaseMs,
      maxMs: opts.backoffMaxMs ?? WATCHER_DEFAULTS.backoffMaxMs,
      jitter: 0.5,
      random,
    });
  let rv: string | undefined;
  let listedAt = 0;
  let failures = 0;
  // A call, not `signal.aborted`: the signal can abort during any await below, and TypeScript would otherwise keep
  // the loop condition's narrowing (`false`) across the awaits and call the checks after them dead code.
  const aborted = () => signal.aborted;
  while (!aborted()) {
    if (rv === undefined || (relistEvery > 0 && clock.now() - listedAt >= relistEvery)) {
      try {
        const listed = await listAll(source, opts.pageSize ?? WATCHER_DEFAULTS.pageSize, signal);
        if (aborted()) return;
        rv = listed.resourceVersion;
        listedAt = clock.now();
        failures = 0;
        yield { type: 'Restarted', ...listed };
      } catch (e) {
        if (aborted()) return;
        const retryInMs = backoff(++failures);
        yield { type: 'Error', error: asError(e), retryInMs, relist: true };
        await sleep(clock, retryInMs, signal);
      }
      continue;
    }
    const outcome = yield* watchOnce(source, rv, opts, clock, random, signal);
    if (aborted()) return;
    rv = outcome.resourceVersion;
    if (outcome.error === undefined) {
      // A server-side timeout ends a healthy watch: go on from where it stopped. One that ended at once with
      // nothing in it is treated as a failure, so a proxy that closes watches cannot spin this loop.
      if (outcome.events > 0 || clock.now() - outcome.startedAt >= 1000) failures = 0;
      else await pause(++failures);
      continue;
    }
    if (isGone(outcome.error)) {
      rv = undefined; // the version is gone from the apiserver's window: relist now
      yield { type: 'Error', error: outcome.error, retryInMs: 0, relist: true };
      continue;
    }
    if (outcome.events > 0) failures = 0;
    const retryInMs = backoff(++failures);
    yield { type: 'Error', error: outcome.error, retryInMs, relist: false };
    await sleep(clock, retryInMs, signal);
  }

  async function pause(n: number) {
    await sleep(clock, backoff(n), signal);
  }
}

interface WatchOutcome {
  resourceVersion: string;
  events: number;
  startedAt: number;
  error?: Error;
}

async function* watchOnce<T extends { metadata?: { resourceVersion?: string } }>(
  source: ListWatchSource<T>,
  fromRv: string,
  opts: WatcherOptions,
  clock: Clock,
  random: () => number,
  signal: AbortSignal,
): AsyncGenerator<WatcherEvent<T>, WatchOutcome> {
  const timeoutSeconds = Math.max(
    1,
    Math.round((opts.watchTimeoutSeconds ?? WATCHER_DEFAULTS.watchTimeoutSeconds) * (0.8 + 0.4 * random())),
  );
  const stallMs = timeoutSeconds * 1000 + (opts.stallGraceMs ?? WATCHER_DEFAULTS.stallGraceMs);
  const out: WatchOutcome = { resourceVersion: fromRv, events: 0, startedAt: clock.now() };
  const abort = new AbortController();
  const onOuterAbort = () => abort.abort();
  signal.addEventListener('abort', onOuterAbort, { once: true });
  const ch = new Channel<WatchEvent<T>>();
  let cancelWatchdog = () => {};
  const armWatchdog = () => {
    cancelWatchdog();
    cancelWatchdog = clock.setTimer(() => {
      ch.close(new WatchStalledError(`${source.description}: no watch event for ${stallMs} ms; restarting the watch`));
      abort.abort();
    }, stallMs);
  };
  armWatchdog();
  source
    .watch({ resourceVersion: fromRv, timeoutSeconds, signal: abort.signal }, (e) => ch.push(e))
    .then(
      () => ch.close(),
      (e: unknown) => ch.close(asError(e)),
    );
  try {
    for await (const e of ch.drain()) {
      armWatchdog();
      const converted = convert(e, source.description);
      const rv = converted.type === 'Bookmark' ? converted.resourceVersion : converted.object.metadata?.resourceVersion;
      if (rv) out.resourceVersion = rv;
      out.events++;
      yield converted;
    }
  } catch (e) {
    out.error = asError(e);
  } finally {
    cancelWatchdog();
    signal.removeEventListener('abort', onOuterAbort);
    abort.abort();
  }
  return out;
}

function convert<T extends { metadata?: { resourceVersion?: string } }>(
  e: WatchEvent<T>,
  description: string,
): Exclude<WatcherEvent<T>, { type: 'Restarted' | 'Error' }> {
  switch (e.type) {
    case 'ADDED':
      return { type: 'Added', object: e.object };
    case 'MODIFIED':
      return { type: 'Modified', object: e.object };
    case 'DELETED':
      return { type: 'Deleted', object: e.object };
    case 'BOOKMARK':
      return { type: 'Bookmark', resourceVersion: e.object.metadata?.resourceVersion ?? '' };
    case 'ERROR': {
      const st = e.object as unknown as { code?: number; reason?: string; message?: string };
      throw Object.assign(new Error(`${description}: watch error ${st.code}: ${st.message ?? st.reason ?? ''}`), {
        status: st.code ?? 500,
        reason: st.reason ?? 'Error',
      });
    }
    default:
      throw new Error(`${description}: unknown watch event type ${JSON.stringify((e as { type: unknown }).type)}`);
  }
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
