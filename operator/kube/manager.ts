// The manager of runnables (controller-runtime's manager): caches and servers run on every replica, so a standby
// keeps warm caches; leader-only runnables (controllers, pollers that write, the audit writer) start when the
// lease is won and stop when it is lost. Losing the lease ends the process (`done` resolves 1), as
// controller-runtime does: a fresh process rejoins as a standby, and two leaders never act at once. Without
// leader election, leader-only runnables start at once.
import type { KubeClient } from './kube-client.ts';
import { LeaderElector, type LeaderElectionOptions } from './leader-election.ts';

export interface Runnable {
  readonly name: string;
  /** true: runs only while this replica holds the lease. */
  readonly needsLeaderElection: boolean;
  start(): void | Promise<void>;
  stop(): void | Promise<void>;
}

/** A cache (reflector) as a runnable on every replica. */
export function cacheRunnable(r: { resource: { plural: string }; start(): void; stop(): Promise<void> }): Runnable {
  return {
    name: `cache ${r.resource.plural}`,
    needsLeaderElection: false,
    start: () => r.start(),
    stop: () => r.stop(),
  };
}

/** A function pair as a runnable. */
export function runnable(
  name: string,
  needsLeaderElection: boolean,
  start: () => void | Promise<void>,
  stop: () => void | Promise<void> = () => undefined,
): Runnable {
  return { name, needsLeaderElection, start, stop };
}

export interface ManagerOptions {
  client: KubeClient;
  /** Leader election (lease namespace, name, identity; wall-clock timing); omit to run without it. */
  leaderElection?: Omit<LeaderElectionOptions, 'onStartedLeading' | 'onStoppedLeading' | 'log'>;
  /** Waited for (e.g. all caches synced) before leader-only runnables start. */
  beforeLeading?: () => Promise<void>;
  log?: (level: 'info' | 'warn' | 'error', msg: string, meta?: Record<string, unknown>) => void;
}

export class Manager {
  private opts: ManagerOptions;
  private always: Runnable[] = [];
  private leaderOnly: Runnable[] = [];
  private running: Runnable[] = [];
  private elector?: LeaderElector;
  private leading = false;
  private stopping?: Promise<void>;
  private resolveDone!: (code: number) => void;
  /** 0 after stop(), 1 after lost leadership: the process should exit with it. */
  readonly done: Promise<number>;

  constructor(opts: ManagerOptions) {
    this.opts = opts;
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  get isLeader(): boolean {
    return this.leading;
  }

  add(...rs: Runnable[]): this {
    for (const r of rs) (r.needsLeaderElection ? this.leaderOnly : this.always).push(r);
    return this;
  }

  private async startAll(rs: Runnable[]): Promise<void> {
    for (const r of rs) {
      if (this.stopping) return;
      this.running.push(r);
      await r.start();
    }
  }

  /** Starts the runnables for every replica, then campaigns (or, without election, starts the rest). */
  async start(): Promise<void> {
    await this.startAll(this.always);
    if (!this.opts.leaderElection) {
      await this.becomeLeader();
      return;
    }
    this.elector = new LeaderElector(this.opts.client, {
      ...this.opts.leaderElection,
      ...(this.opts.log ? { log: this.opts.log } : {}),
      onStartedLeading: () => void this.becomeLeader(),
      onStoppedLeading: () => {
        this.opts.log?.('error', 'lost leadership: stopping and exiting');
        void this.shutdown(1, false);
      },
    });
    this.elector.start();
  }

  private async becomeLeader(): Promise<void> {
    if (this.stopping) return;
    this.leading = true;
    try {
      await this.opts.beforeLeading?.();
      await this.startAll(this.leaderOnly);
    } catch (e) {
      // A leader that cannot start acting must not hold the lease: stop, release, and exit non-zero.
      this.opts.log?.('error', 'a leader-only runnable failed to start: stopping', { error: String(e) });
      await this.shutdown(1, true);
      if (!this.opts.leaderElection) throw e;
    }
  }

  /** Stops leader-only runnables first (stop acting), releases the lease, then stops the rest. */
  stop(): Promise<void> {
    return this.shutdown(0, true);
  }

  private shutdown(code: number, release: boolean): Promise<void> {
    this.stopping ??= (async () => {
      const leaderRunning = this.running.filter((r) => r.needsLeaderElection).reverse();
      await this.stopEach(leaderRunning);
      this.leading = false;
      await this.elector?.stop(release);
      await this.stopEach(this.running.filter((r) => !r.needsLeaderElection).reverse());
      this.running = [];
      this.resolveDone(code);
    })();
    return this.stopping;
  }

  private async stopEach(rs: Runnable[]): Promise<void> {
    for (const r of rs) {
      try {
        await r.stop();
      } catch (e) {
        this.opts.log?.('warn', 'a runnable failed to stop', { runnable: r.name, error: String(e) });
      }
    }
  }
}
