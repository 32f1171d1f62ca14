// Leader election over a coordination.k8s.io/v1 Lease with client-go's semantics: lease 15 s, renew deadline
// 10 s, retry 2 s (controller-runtime's defaults). A standby keeps trying to acquire; a leader that cannot renew
// within the deadline reports the loss (the manager then stops acting and the process exits, so two leaders
// never act at once). The elector has its own clock, the wall clock by default: the apiserver and the other
// candidates judge the lease in real seconds, so it must never run on the operator's replay clock.
import { wallClock, type Clock } from './clock.ts';
import { KubeApiError, collectionPath, objectPath, Resources, type KubeClient } from './kube-client.ts';
import { microTime } from './events.ts';

export const LEADER_ELECTION_DEFAULTS = {
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
} as const;

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Lease timing: the wall clock unless a test passes its own. Never the operator's (replay) clock. */
  clock?: Clock;
  /**
   * @deprecated Ignored: a lease is judged on the wall clock (pass `clock` in tests). Kept so that callers
   * that passed the operator's clock here still compile; they no longer put a replay clock on the lease.
   */
  now?: () => number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  log?: (level: 'info' | 'warn', msg: string, meta?: Record<string, unknown>) => void;
}

interface Lease {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

export class LeaderElector {
  private client: KubeClient;
  private o: LeaderElectionOptions;
  private cancelTimer?: () => void;
  private clock: Clock;
  private leading = false;
  private lastRenewMs = 0;
  private stopped = false;
  /** When we last saw the observed record change (client-go uses local observation time, not renewTime). */
  private observed?: { rv: string; holder: string; atMs: number };

  constructor(client: KubeClient, o: LeaderElectionOptions) {
    this.client = client;
    this.o = o;
    this.clock = o.clock ?? wallClock;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  private now() {
    return this.clock.now();
  }

  start(): void {
    void this.tick();
  }

  async stop(release = true): Promise<void> {
    this.stopped = true;
    this.cancelTimer?.();
    if (this.leading && release) {
      // Release so a standby takes over at once instead of waiting out the lease.
      try {
        const path = objectPath(Resources.lease, this.o.name, this.o.namespace);
        const lease = await this.client.get<Lease>(path);
        if (lease.spec.holderIdentity === this.o.identity) {
          lease.spec.holderIdentity = '';
          lease.spec.leaseDurationSeconds = 1;
          await this.client.update(path, lease);
        }
      } catch {
        // best effort
      }
    }
    this.leading = false;
  }

  private schedule() {
    if (this.stopped) return;
    this.cancelTimer = this.clock.setTimer(
      () => void this.tick(),
      this.o.retryPeriodMs ?? LEADER_ELECTION_DEFAULTS.retryPeriodMs,
    );
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      const ok = await this.tryAcquireOrRenew();
      if (ok) {
        this.lastRenewMs = this.now();
        if (!this.leading) {
          this.leading = true;
          this.o.log?.('info', 'became leader', {
            lease: `${this.o.namespace}/${this.o.name}`,
            identity: this.o.identity,
          });
          this.o.onStartedLeading();
        }
      } else if (this.leading) {
        this.lose('another holder took the lease');
        return;
      }
    } catch (e) {
      this.o.log?.('warn', 'lease update failed', { error: (e as Error).message });
    }
    if (
      this.leading &&
      this.now() - this.lastRenewMs > (this.o.renewDeadlineMs ?? LEADER_ELECTION_DEFAULTS.renewDeadlineMs)
    ) {
      this.lose('could not renew the lease within the renew deadline');
      return;
    }
    this.schedule();
  }

  private lose(why: string) {
    this.leading = false;
    this.stopped = true;
    this.o.log?.('warn', 'lost leadership', { why });
    this.o.onStoppedLeading();
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.now();
    const durationS = Math.round((this.o.leaseDurationMs ?? LEADER_ELECTION_DEFAULTS.leaseDurationMs) / 1000);
    const path = objectPath(Resources.lease, this.o.name, this.o.namespace);
    let lease: Lease | null;
    try {
      lease = await this.client.get<Lease>(path);
    } catch (e) {
      if (!(e instanceof KubeApiError && e.status === 404)) throw e;
      lease = null;
    }
    if (!lease) {
      await this.client.create(collectionPath(Resources.lease, this.o.namespace), {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.o.name, namespace: this.o.namespace },
        spec: {
          holderIdentity: this.o.identity,
          leaseDurationSeconds: durationS,
          acquireTime: microTime(now),
          renewTime: microTime(now),
          leaseTransitions: 0,
        },
      });
      return true;
    }
    const holder = lease.spec.holderIdentity ?? '';
    const rv = lease.metadata.resourceVersion ?? '';
    if (!this.observed || this.observed.rv !== rv) this.observed = { rv, holder, atMs: now };
    const expired = now - this.observed.atMs > (lease.spec.leaseDurationSeconds ?? durationS) * 1000;
    if (holder && holder !== this.o.identity && !expired) return false;
    const transitions = (lease.spec.leaseTransitions ?? 0) + (holder === this.o.identity ? 0 : 1);
    lease.spec = {
      holderIdentity: this.o.identity,
      leaseDurationSeconds: durationS,
      acquireTime: holder === this.o.identity ? lease.spec.acquireTime : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: transitions,
    };
    try {
      // PUT with the resourceVersion we read: optimistic concurrency decides a race between two candidates.
      const updated = await this.client.update<Lease>(path, lease);
      this.observed = { rv: updated.metadata.resourceVersion ?? '', holder: this.o.identity, atMs: now };
      return true;
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 409) return false;
      throw e;
    }
  }
}
