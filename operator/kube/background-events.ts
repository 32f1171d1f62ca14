// Events are recorded in the background, as client-go's event broadcaster does: a pass hands its Event over and
// goes on to its status write without waiting for the Event's request. Why: an Event is a report about the pass,
// not part of it. Awaited, it was one more apiserver round trip in every swap pass (a quarter of a swap's requests
// when a region's eco services all swap at once), and a failed Event failed the pass: its status write and its
// audit decision row waited for a retry. Best effort, but never silent: a failure is logged with the Event's
// reason and object and counted (carbonscale_reconcile_errors_total{reason="EventNotRecorded"}), and at most
// `maxPending` Events wait at once (more are dropped, logged and counted the same way) so a slow apiserver cannot
// grow memory.
import type { EventRecord, EventRecorder, EventTarget } from './events.ts';

export interface BackgroundEventsOptions {
  /** Events waiting for their request at most (client-go's broadcaster queues 1,000). */
  maxPending?: number;
  log?: (level: 'warn', msg: string, meta: Record<string, unknown>) => void;
  /** Counts each Event that was not recorded (dropped or failed). */
  onNotRecorded?: () => void;
}

export class BackgroundEvents {
  private pending = new Set<Promise<void>>();
  private readonly maxPending: number;
  private readonly recorder: Pick<EventRecorder, 'record'>;
  private readonly opts: BackgroundEventsOptions;

  constructor(recorder: Pick<EventRecorder, 'record'>, opts: BackgroundEventsOptions = {}) {
    this.recorder = recorder;
    this.opts = opts;
    this.maxPending = opts.maxPending ?? 1000;
  }

  /** Hands the Event over and resolves at once; the request runs in the background. */
  record(target: EventTarget, ev: EventRecord): Promise<void> {
    if (this.pending.size >= this.maxPending) {
      this.notRecorded(target, ev, `${this.maxPending} Events are already waiting for the apiserver`);
      return Promise.resolve();
    }
    const p: Promise<void> = this.recorder
      .record(target, ev)
      .catch((e: unknown) => this.notRecorded(target, ev, e instanceof Error ? e.message : String(e)))
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
    return Promise.resolve();
  }

  /** Events still waiting for their request. */
  get size(): number {
    return this.pending.size;
  }

  /** Waits for the Events handed over so far, at most `timeoutMs` (the ordered stop, before the client closes). */
  async drain(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([Promise.allSettled([...this.pending]), timeout]);
    clearTimeout(timer);
  }

  private notRecorded(target: EventTarget, ev: EventRecord, error: string): void {
    this.opts.onNotRecorded?.();
    this.opts.log?.('warn', 'Event not recorded', {
      reason: ev.reason,
      object: `${target.kind} ${target.namespace}/${target.name}`,
      error,
    });
  }
}
