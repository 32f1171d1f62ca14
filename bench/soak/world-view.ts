// The harness's view of the world while scenarios run: trackers of InferenceServices and Deployments, helpers that
// wait for the world to converge, and the questions scenarios ask of it (which services a write touched, how many
// swaps happened since a time).
import { Label, OPERATOR_NAME } from '../../operator/constants.ts';
import type { KubeObject } from '../../operator/kube/kube-client.ts';
import type { AuditRequest } from './apiserver-audit.ts';
import { deploymentsPath, isvcsPath, VARIANT_ENV, type ServiceRef, type World } from './fixtures.ts';
import { ObjectTracker, deploymentVariant, isReconciled, variantChanges } from './object-tracker.ts';
import { sleep } from './operator-process.ts';
import type { SoakCluster } from './soak-cluster.ts';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export class WorldView {
  readonly isvcs: ObjectTracker;
  readonly deployments: ObjectTracker;
  readonly world: World;
  private readonly byKey: Map<string, ServiceRef>;

  constructor(env: SoakCluster, world: World) {
    this.world = world;
    this.isvcs = new ObjectTracker(env.client, isvcsPath);
    this.deployments = new ObjectTracker(env.client, deploymentsPath, {
      labelSelector: `${Label.managedBy}=${OPERATOR_NAME}`,
    });
    this.byKey = new Map(world.services.map((s) => [`${s.namespace}/${s.name}`, s]));
  }

  async start(): Promise<void> {
    await this.isvcs.start();
    await this.deployments.start();
  }

  async stop(): Promise<void> {
    await this.isvcs.stop();
    await this.deployments.stop();
  }

  service(key: string): ServiceRef | undefined {
    return this.byKey.get(key);
  }

  /** The service a request touched: the InferenceService itself or a child named after it (`name`, `name-…`). */
  serviceOf(r: AuditRequest): ServiceRef | undefined {
    if (!r.namespace || !r.name) return undefined;
    for (let n = r.name; n; n = n.slice(0, Math.max(0, n.lastIndexOf('-')))) {
      const s = this.byKey.get(`${r.namespace}/${n}`);
      if (s) return s;
      if (!n.includes('-')) break;
    }
    return undefined;
  }

  /** Reconciled (status caught up with its generation, a decision made) and a Deployment exists. */
  reconciled(s: ServiceRef): boolean {
    const k = `${s.namespace}/${s.name}`;
    const i = this.isvcs.objects.get(k);
    return !!i && isReconciled(i) && this.deployments.objects.has(k);
  }

  /** First harness time at which the service was reconciled with a Deployment, after `sinceMs`. */
  reconciledAt(s: ServiceRef, sinceMs: number): number | undefined {
    const k = `${s.namespace}/${s.name}`;
    const i = (this.isvcs.history.get(k) ?? []).find((h) => h.atMs >= sinceMs && isReconciled(h.object))?.atMs;
    const d = (this.deployments.history.get(k) ?? []).find((h) => h.atMs >= sinceMs)?.atMs;
    return i === undefined || d === undefined ? undefined : Math.max(i, d);
  }

  /** Deployments whose pods are not all ready (status.readyReplicas below spec.replicas): the cluster is still moving. */
  deploymentsRollingOut(): number {
    let n = 0;
    for (const d of this.deployments.objects.values()) {
      const a = d as Any;
      if ((a.status?.readyReplicas ?? 0) < (a.spec?.replicas ?? 0)) n++;
    }
    return n;
  }

  variant(s: ServiceRef): string | undefined {
    const d = this.deployments.objects.get(`${s.namespace}/${s.name}`);
    return d ? deploymentVariant(d, VARIANT_ENV) : undefined;
  }

  /** Variant changes of this service's Deployment seen after `sinceMs`. */
  changesSince(s: ServiceRef, sinceMs: number): Array<{ atMs: number; variant: string }> {
    return variantChanges(this.deployments.history.get(`${s.namespace}/${s.name}`) ?? [], VARIANT_ENV).filter(
      (c) => c.atMs >= sinceMs,
    );
  }

  status(s: ServiceRef): Any | undefined {
    return (this.isvcs.objects.get(`${s.namespace}/${s.name}`) as Any | undefined)?.status;
  }

  /** Waits until `pred` holds for every service in `of` (default all), or the timeout; returns those that never did. */
  async waitAll(pred: (s: ServiceRef) => boolean, timeoutMs: number, of: readonly ServiceRef[] = this.world.services) {
    const deadline = Date.now() + timeoutMs;
    let left = of.filter((s) => !pred(s));
    while (left.length && Date.now() < deadline) {
      await sleep(500);
      left = left.filter((s) => !pred(s));
    }
    return left;
  }
}

export const keyOf = (s: ServiceRef) => `${s.namespace}/${s.name}`;

export function describeObject(o: KubeObject | undefined): string {
  if (!o) return '(absent)';
  const a = o as Any;
  return JSON.stringify({ generation: a.metadata?.generation, status: a.status }).slice(0, 1500);
}
