// The InferenceService controller: every trigger declared here, in one place (controller-runtime's For/Owns/
// Watches): the service itself on spec changes, its owned Deployment, Service and model-server ConfigMap, its pods
// (readiness, scheduling), and, from the CarbonSource controller and the signal poller, its CarbonSource once loaded
// and the carbon signal of its (source, region).
import { carbonRefOf } from '../api/defaults.ts';
import type { RawInferenceService } from '../api/types.ts';
import { Component, Label } from '../constants.ts';
import type { Clock } from '../clock.ts';
import {
  ControllerBuilder,
  predicates,
  type Controller,
  type EmitKeys,
  type ReconcileReport,
} from '../kube/controller.ts';
import type { KubeObject } from '../kube/kube-client.ts';
import type { Reconciler } from '../reconciler/reconciler.ts';
import type { Caches } from './caches.ts';

export interface IsvcControllerOptions {
  concurrency: number;
  ratePerSecond: number;
  burst: number;
  clock: Clock;
  log: (level: 'info' | 'warn' | 'error', msg: string, meta?: Record<string, unknown>) => void;
  onReconciled?: (r: ReconcileReport) => void;
}

/** What the lookups below read of the caches (a test hands in plain lists). */
export interface ServiceLookup {
  isvcs: Pick<Caches['isvcs'], 'list' | 'get'>;
  carbonSources: Pick<Caches['carbonSources'], 'list'>;
}

/**
 * Keys of the services that read `source` (directly, or through a source whose fallback chain lists it), eco
 * services first. A new signal can change an eco service's Deployment (a swap, a scale); a premium one keeps the
 * full variant and its replicas follow demand, so only its status changes. Every pass shares the client's request
 * rate, so at 2,000 services the swaps of a step would otherwise wait behind hundreds of premium passes
 * (docs/reliability.md, finding 3). Both wakes of a carbon change (the CarbonSource once loaded, then its signal)
 * come in this order, and the controller puts decided premium keys in the periodic lane, behind every triggered
 * key (byTier): the work queue takes namespaces in turn, so within one lane a namespace with few eco services
 * would offer its premium ones while another namespace still had eco services waiting (the soak's step had all
 * 667 passes of the region done before its last swap).
 */
export function servicesUsingSource(c: ServiceLookup, source: string): string[] {
  const chains = new Map<string, string[]>();
  for (const s of c.carbonSources.list())
    chains.set(s.metadata!.name!, ((s.spec as { fallback?: string[] } | undefined)?.fallback ?? []) as string[]);
  return ecoFirst(
    c.isvcs.list().filter((o) => {
      const ref = carbonRefOf(o as unknown as RawInferenceService).sourceRef;
      return ref === source || (chains.get(ref) ?? []).includes(source);
    }),
  );
}

/** Keys of the services that read the (source, region) pair, eco services first (see servicesUsingSource). */
export function servicesOfPair(c: ServiceLookup, source: string, region: string): string[] {
  return servicesUsingSource(c, source).filter((k) => {
    const o = c.isvcs.get(k);
    return o !== undefined && carbonRefOf(o as unknown as RawInferenceService).region === region;
  });
}

/**
 * Emits the eco keys, and any service that has no decision yet, in the triggered lane; the rest (premium services
 * already running) after every triggered key. A service without a decision is waiting for its first signal to
 * create its Deployment: behind every triggered key, a cold start of 2,000 services took its premium ones 357 s
 * instead of 207-295 s to converge (docs/reliability.md, sixth run).
 */
export function byTier(isvcs: Pick<Caches['isvcs'], 'get'>, keys: Iterable<string>, emit: EmitKeys): void {
  const now: string[] = [];
  const later: string[] = [];
  for (const k of keys) {
    const o = isvcs.get(k) as { spec?: { tier?: string }; status?: { lastDecision?: unknown } } | undefined;
    (o?.spec?.tier === 'eco' || (o !== undefined && o.status?.lastDecision === undefined) ? now : later).push(k);
  }
  emit(now);
  emit(later, 'after-triggered');
}

function ecoFirst(objects: KubeObject[]): string[] {
  const eco: string[] = [];
  const rest: string[] = [];
  for (const o of objects) {
    const key = `${o.metadata?.namespace}/${o.metadata?.name}`;
    ((o as unknown as RawInferenceService).spec.tier === 'eco' ? eco : rest).push(key);
  }
  return [...eco, ...rest];
}

export function inferenceServiceController(
  c: Caches,
  reconciler: Reconciler,
  o: IsvcControllerOptions,
  signalWakes: (emit: (keys: Iterable<string>) => void) => () => void,
): Controller<KubeObject> {
  const notState = (ch: { object: KubeObject }) =>
    ch.object.metadata?.labels?.[Label.component] !== Component.engineState;
  return (
    new ControllerBuilder<KubeObject>('inferenceservice', {
      concurrency: o.concurrency,
      ratePerSecond: o.ratePerSecond,
      burst: o.burst,
      clock: o.clock,
      log: o.log,
      ...(o.onReconciled ? { onReconciled: o.onReconciled } : {}),
    })
      .for(c.isvcs, { predicate: predicates.generationChanged })
      .owns(c.deployments, { by: { ownerKind: 'InferenceService' } })
      .owns(c.services, { by: { ownerKind: 'InferenceService' } })
      // The model-server ConfigMap; the books ConfigMap is written by the pass itself and wakes nothing.
      .owns(c.configMaps, { by: { label: Label.service }, predicate: notState })
      .owns(c.pods, { by: { label: Label.service } })
      // No watch of the CarbonSources themselves: their controller wakes the services that read one once it has
      // loaded the change into the signal service (or found it unusable, or deleted). A watch here woke them before
      // that, so they planned on the old signal, and each status write of the source woke them again: at 2,000
      // services a step took three rounds of the region's passes (docs/reliability.md, finding 3).
      // Eco services (and any without a decision) with the watch events; decided premium ones behind every
      // triggered key (byTier).
      .triggeredBy(
        'its CarbonSource loaded, changed, unusable or deleted (services whose sourceRef or fallback chain names it), and the carbon signal of its (source, region)',
        (emit) => signalWakes((keys) => byTier(c.isvcs, keys, emit)),
      )
      .build(async ({ key }) => reconciler.reconcile(key))
  );
}
