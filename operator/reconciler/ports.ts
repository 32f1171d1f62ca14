// The narrow ports a reconcile pass talks through. main.ts wires them to the caches (kube/ reflectors), the one
// Kubernetes door (kube/kube-client.ts), the carbon signal service, the demand sources, the audit sink and the
// clock; the unit tests wire fakes. Nothing in reconciler/ touches the network or the apiserver directly.
import type { Defaulted, InferenceService, InferenceServiceStatus, RawInferenceService } from '../api/types.ts';
import type { DecisionRecord } from '../audit/decision.ts';
import type { UsageRecord } from '../audit/usage.ts';
import type { IntensityPoint } from '../decision/types.ts';
import type { KubeObject } from '../kube/kube-client.ts';
import type { SavedState, ServiceState } from './service-state.ts';
import type { SignalView } from './signal-view.ts';

/** Reads of the watch caches (never the apiserver). Keys are namespace/name. */
export interface CachePort {
  inferenceService(key: string): RawInferenceService | undefined;
  inferenceServices(): RawInferenceService[];
  deployment(key: string): KubeObject | undefined;
  configMap(namespace: string, name: string): KubeObject | undefined;
  service(key: string): KubeObject | undefined;
  /** Pods labelled as the service's. */
  podsOf(namespace: string, name: string): KubeObject[];
  /** Every pod and node, for the GPU headroom. */
  allPods(): KubeObject[];
  nodes(): KubeObject[];
}

export type ChildKind = 'Deployment' | 'Service' | 'ConfigMap';

/** A write the apiserver refused because someone else changed the object first: retry the pass shortly. */
export class ConflictError extends Error {
  override name = 'ConflictError';
}

/** Server-side apply of owned objects and of the status (kube/). */
export interface WritePort {
  /** Applies a child; throws ConflictError on a 409. */
  applyChild(kind: ChildKind, body: Record<string, unknown>): Promise<void>;
  applyStatus(isvc: InferenceService, status: InferenceServiceStatus): Promise<void>;
}

export interface EventTargetRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  uid?: string;
}

export interface EventPort {
  record(
    target: EventTargetRef,
    ev: { type: 'Normal' | 'Warning'; reason: string; action: string; note: string },
  ): Promise<void>;
}

/** The leader's audit sink (absent on a standby and before the sink opened). */
export interface AuditPort {
  writeDecision(r: DecisionRecord): Promise<void>;
  writeUsage(r: UsageRecord): Promise<void>;
}

export interface SignalPort {
  register(source: string, region: string): void;
  unregister(source: string, region: string): void;
  /** The signal now (a pure read of the cache). */
  get(source: string, region: string): SignalView;
  /** Polls the pair first when it is due (single-flight with the poller), then reads. */
  refresh(source: string, region: string): Promise<SignalView>;
  /** Measured intensity, ascending, 48 h deep (the fallback forecast's input). */
  history(source: string, region: string): IntensityPoint[];
}

export interface DemandReading {
  /** Mean requests/s over the span asked for. */
  rps: number;
  /** Which source measured it: 'trace:<file>', 'static', 'prometheus', 'scrape'. */
  source: string;
}

export interface DemandPort {
  /** Mean request rate of a closed span (ms on the operator's clock). Throws when the source cannot say. */
  read(isvc: Defaulted<InferenceService>, fromMs: number, toMs: number): Promise<DemandReading>;
  /** How far back the service's source can answer (0: only the span just ended). */
  backfillMs(isvc: Defaulted<InferenceService>): number;
}

/** Where a service's books persist (kube/service-state-store.ts). */
export interface StatePort {
  load(namespace: string, name: string): { state?: SavedState; error?: string };
  save(isvc: InferenceService, state: ServiceState, savedAtMs: number): Promise<void>;
}

export interface Clock {
  now(): number;
}
