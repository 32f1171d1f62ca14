// Where a service's accounting starts, and how that start survives a restart. A new service is accounted from the
// first accounting boundary after its first pass. The start must be persisted by the same request that makes the
// service run replicas (the first apply of its Deployment), or an operator killed after that apply and before its
// first status write restarts with no trace of it, accounts from the next boundary after the restart, and the
// intervals between lose their rows (and the energy of the replicas that ran in them). So the apply writes the
// start onto the Deployment as an annotation (on the operator's clock, like every interval bound; a replay's trace
// time is not the Deployment's wall-clock creationTimestamp), and a restart reads it back when status has not yet
// counted any interval. Re-accounting an interval is harmless (the sink keeps one row per record id).
import type { Defaulted, InferenceService } from '../api/types.ts';
import { Annotation } from '../constants.ts';
import type { KubeObject } from '../kube/kube-client.ts';

export type AccountingStartBasis = 'status' | 'deployment' | 'new';

export interface AccountingStart {
  fromMs: number;
  /** status.emissions.until, the Deployment's annotation, or the next boundary (a new service). */
  basis: AccountingStartBasis;
  /** Set when the Deployment's annotation was there but could not be trusted: why. */
  distrusted?: string;
}

interface DeploymentMeta {
  metadata?: {
    annotations?: Record<string, string>;
    ownerReferences?: Array<{ uid?: string; controller?: boolean }>;
  };
}

/** The first interval start to account from, for a service the reconciler has no memory of (start or restart). */
export function accountingStart(
  isvc: Defaulted<InferenceService>,
  deployment: KubeObject | undefined,
  nowMs: number,
  intervalMs: number,
): AccountingStart {
  const next = Math.ceil(nowMs / intervalMs) * intervalMs;
  const until = isvc.status?.emissions?.until ? Date.parse(isvc.status.emissions.until) : NaN;
  if (Number.isFinite(until)) return { fromMs: until, basis: 'status' };
  const found = annotatedStart(isvc, deployment);
  if (found === undefined) return { fromMs: next, basis: 'new' };
  if (typeof found === 'string') return { fromMs: next, basis: 'new', distrusted: found };
  // Aligned like every interval (a value written under another accounting interval starts at its next boundary).
  const fromMs = Math.ceil(found / intervalMs) * intervalMs;
  // Later than the next boundary: the clock went back (a replay started again earlier), the value is not ours.
  if (fromMs > next)
    return { fromMs: next, basis: 'new', distrusted: `${Annotation.accountingSince} is after the clock's now` };
  return { fromMs, basis: 'deployment' };
}

/**
 * The annotation's value for the apply: the live Deployment's as it stands when it holds one this service can use
 * (the start is written once; rewriting it would be a write per restart), ours on the first apply and in place of
 * one it cannot use (accountingStart distrusted it: this process accounts from before the time it says). A live
 * Deployment without it (applied before the annotation existed, when status already carries the accounting) is
 * left without it: adding it would write every such Deployment once, reported as drift.
 */
export function accountingSinceAnnotation(
  isvc: Defaulted<InferenceService>,
  live: KubeObject | undefined,
  accountingSinceMs: number,
): Record<string, string> {
  const have = (live as DeploymentMeta | undefined)?.metadata?.annotations?.[Annotation.accountingSince];
  if (live && have === undefined) return {};
  // Usable: the service's own, and not after where this process accounts from (a later one is not ours to keep).
  const at = annotatedStart(isvc, live);
  if (have !== undefined && typeof at === 'number' && at <= accountingSinceMs)
    return { [Annotation.accountingSince]: have };
  return { [Annotation.accountingSince]: new Date(accountingSinceMs).toISOString() };
}

/** The start the Deployment carries (ms), undefined when none, or why it cannot be used. */
function annotatedStart(
  isvc: Defaulted<InferenceService>,
  deployment: KubeObject | undefined,
): number | string | undefined {
  const d = deployment as DeploymentMeta | undefined;
  const raw = d?.metadata?.annotations?.[Annotation.accountingSince];
  if (raw === undefined) return undefined;
  // A Deployment another object of the same name left behind (a service deleted and created again while the old
  // one is still being collected) carries that service's start: only our own service's counts.
  const owner = d?.metadata?.ownerReferences?.find((o) => o.controller);
  if (isvc.metadata.uid !== undefined && owner?.uid !== isvc.metadata.uid)
    return `${Annotation.accountingSince} is on a Deployment another InferenceService owns`;
  const ms = Date.parse(raw);
  if (!Number.isFinite(ms)) return `${Annotation.accountingSince} is not a time: ${JSON.stringify(raw.slice(0, 40))}`;
  return ms;
}
