// Decision rows: one per scale, swap, fallback or mode change, with before/after, the reason in words and the
// inputs that drove it (kept as JSON so new inputs need no schema change).
import { SCHEMA_VERSION } from './usage.ts';
import { AuditInputError, finite, requireString, stableId } from './validate.ts';

export type DecisionKind = 'scale' | 'swap' | 'fallback' | 'mode' | 'audit_drop';
const KINDS: readonly string[] = ['scale', 'swap', 'fallback', 'mode', 'audit_drop'];

export interface DecisionState {
  variant?: string;
  replicas?: number;
  mode?: string;
}

export interface DecisionInput {
  timeMs: number;
  clusterId: string;
  operatorVersion: string;
  namespace: string;
  name: string;
  uid: string;
  kind: DecisionKind;
  before: DecisionState;
  after: DecisionState;
  reason: string;
  /** Everything that drove the decision (carbon reading, forecast, demand, SLO state...). JSON-serialisable; absent: `{}`. */
  inputs?: Record<string, unknown>;
  /** Carbon intensity at decision time, gCO2eq/kWh, when one was used. */
  ciGPerKWh?: number;
}

export interface DecisionRecord {
  record_id: string;
  schema_version: string;
  operator_version: string;
  cluster_id: string;
  time: number;
  namespace: string;
  name: string;
  uid: string;
  kind: DecisionKind;
  before_variant: string | null;
  after_variant: string | null;
  before_replicas: number | null;
  after_replicas: number | null;
  before_mode: string | null;
  after_mode: string | null;
  reason: string;
  inputs_json: string;
  ci_g_per_kwh: number | null;
}

export function makeDecisionRecord(d: DecisionInput): DecisionRecord {
  finite(d.timeMs, 'timeMs');
  for (const f of ['clusterId', 'operatorVersion', 'namespace', 'name', 'uid', 'reason'] as const)
    requireString(d[f], f);
  if (!KINDS.includes(d.kind)) throw new AuditInputError('kind', `must be one of ${KINDS.join('|')}`);
  if (d.ciGPerKWh !== undefined) finite(d.ciGPerKWh, 'ciGPerKWh');
  let inputsJson: string;
  try {
    inputsJson = JSON.stringify(d.inputs ?? {});
  } catch (err) {
    throw new AuditInputError('inputs', `must be JSON-serialisable (${(err as Error).message})`);
  }
  const rec: DecisionRecord = {
    record_id: '',
    schema_version: SCHEMA_VERSION,
    operator_version: d.operatorVersion,
    cluster_id: d.clusterId,
    time: d.timeMs,
    namespace: d.namespace,
    name: d.name,
    uid: d.uid,
    kind: d.kind,
    before_variant: d.before.variant ?? null,
    after_variant: d.after.variant ?? null,
    before_replicas: d.before.replicas ?? null,
    after_replicas: d.after.replicas ?? null,
    before_mode: d.before.mode ?? null,
    after_mode: d.after.mode ?? null,
    reason: d.reason,
    inputs_json: inputsJson,
    ci_g_per_kwh: d.ciGPerKWh ?? null,
  };
  // The same decision replayed (same object, time, kind and outcome) gets the same id and is deduplicated.
  rec.record_id =
    'd-' +
    stableId([
      d.clusterId,
      d.uid,
      String(d.timeMs),
      d.kind,
      JSON.stringify([rec.after_variant, rec.after_replicas, rec.after_mode]),
    ]);
  return rec;
}
