// A ListWatchSource driven by a script, for feeding the watcher and the reflector synthetic event streams
// without an apiserver. Each list()/watch() call takes the next step; with no step left it hangs until aborted
// (a silent connection).
import type { ListResult, WatchEvent } from '../../../operator/kube/kube-client.ts';
import type { ListWatchSource } from '../../../operator/kube/watcher.ts';

export interface Obj {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; managedFields?: unknown };
  spec?: unknown;
}

export type ListStep = { items: Obj[]; rv: string; continue?: string } | { error: Error };
export type WatchStep = { events: WatchEvent<Obj>[]; end?: 'close' | 'hang' | Error };

export const obj = (name: string, rv: string, namespace = 'ns'): Obj => ({
  metadata: { name, namespace, resourceVersion: rv },
});
export const ev = (type: WatchEvent<Obj>['type'], o: Obj): WatchEvent<Obj> => ({ type, object: o });
export const bookmark = (rv: string): WatchEvent<Obj> => ({
  type: 'BOOKMARK',
  object: { metadata: { name: '', resourceVersion: rv } },
});

export class HttpLikeError extends Error {
  status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

const untilAborted = (signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });

export class ScriptedSource implements ListWatchSource<Obj> {
  readonly description = 'scripted things';
  lists: Array<{ limit?: number; continue?: string }> = [];
  watches: Array<{ resourceVersion: string; timeoutSeconds: number }> = [];
  listSteps: ListStep[];
  watchSteps: WatchStep[];

  constructor(listSteps: ListStep[], watchSteps: WatchStep[]) {
    this.listSteps = listSteps;
    this.watchSteps = watchSteps;
  }

  async list(o: { limit?: number; continue?: string; signal: AbortSignal }): Promise<ListResult<Obj>> {
    this.lists.push({
      ...(o.limit !== undefined ? { limit: o.limit } : {}),
      ...(o.continue ? { continue: o.continue } : {}),
    });
    const s = this.listSteps.shift();
    if (!s) {
      await untilAborted(o.signal);
      throw new Error('aborted');
    }
    if ('error' in s) throw s.error;
    // Copies: the reflector strips fields from what it stores, and a script may reuse objects.
    return {
      items: structuredClone(s.items),
      metadata: { resourceVersion: s.rv, ...(s.continue ? { continue: s.continue } : {}) },
    };
  }

  async watch(
    o: { resourceVersion: string; timeoutSeconds: number; signal: AbortSignal },
    onEvent: (e: WatchEvent<Obj>) => void,
  ): Promise<void> {
    this.watches.push({ resourceVersion: o.resourceVersion, timeoutSeconds: o.timeoutSeconds });
    const s = this.watchSteps.shift();
    if (!s) return untilAborted(o.signal);
    for (const e of s.events) {
      await new Promise((r) => setImmediate(r));
      if (o.signal.aborted) return;
      onEvent(structuredClone(e));
    }
    await new Promise((r) => setImmediate(r));
    if (s.end instanceof Error) throw s.end;
    if (s.end === 'hang') return untilAborted(o.signal);
  }
}
