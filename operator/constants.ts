// Every name the operator shows to the outside world, in one place: condition types, reasons (which double as
// Event reasons and metric labels), Event actions, labels, annotations and the server-side-apply field manager.

export const FIELD_MANAGER = 'carbonscale-operator';
export const OPERATOR_NAME = 'carbonscale';

export const Condition = {
  Ready: 'Ready',
  CarbonSignalAvailable: 'CarbonSignalAvailable',
  SLOAtRisk: 'SLOAtRisk',
  BudgetExhausted: 'BudgetExhausted',
  Degraded: 'Degraded',
  /**
   * kstatus (sigs.k8s.io/cli-utils): abnormal-true, present only while the operator cannot make progress on this
   * generation (a spec it cannot run, a replica no node fits); Ready is False meanwhile. Absent otherwise.
   */
  Stalled: 'Stalled',
  /** CarbonSource: the spec validated, its credentials loaded and its provider was built. */
  Valid: 'Valid',
  /** A variant's declared power profile differs from what the energy meter measures (reconciler/profile-drift.ts). */
  ProfileDrift: 'ProfileDrift',
} as const;
export type ConditionType = (typeof Condition)[keyof typeof Condition];

export const Reason = {
  // Ready
  RolloutComplete: 'RolloutComplete',
  RollingOut: 'RollingOut',
  PodsPending: 'PodsPending',
  ObserveMode: 'ObserveMode',
  Paused: 'Paused',
  InvalidSpec: 'InvalidSpec',
  ApplyFailed: 'ApplyFailed',
  // Stalled (and Ready False, and a Warning Event): what the operator cannot run (reconciler/feasibility.ts)
  /** metadata.name cannot name the Service / label values of the children (a DNS-1035 label, ≤ 63 characters). */
  InvalidName: 'InvalidName',
  /** runtime carbonscale with a model URI scheme the model server does not read. */
  UnsupportedModelUri: 'UnsupportedModelUri',
  /** slo.latencyP95Ms at or below every eligible variant's measured low-load p95. */
  SLOUnattainable: 'SLOUnattainable',
  /** A variant's gpusPerReplica exceeds what the largest node offers. */
  NoNodeFitsReplica: 'NoNodeFitsReplica',
  // CarbonSignalAvailable
  SignalFresh: 'SignalFresh',
  SignalFallback: 'SignalFallback',
  SignalMissing: 'SignalMissing',
  SourceNotFound: 'SourceNotFound',
  /** The CarbonSource exists but is invalid or cannot load its credentials. */
  SourceUnusable: 'SourceUnusable',
  /** The source has not answered its first poll yet (no decision is made meanwhile). */
  SignalPending: 'SignalPending',
  // SLOAtRisk
  WithinSLO: 'WithinSLO',
  CapacityShort: 'CapacityShort',
  GpuLimited: 'GpuLimited',
  /** The variant serving now cannot meet the ceiling in force at any load (an eco full variant slower than the SLO). */
  LatencyFloor: 'LatencyFloor',
  // BudgetExhausted
  BudgetAvailable: 'BudgetAvailable',
  BudgetSpent: 'BudgetSpent',
  // Degraded
  FullVariant: 'FullVariant',
  SmallerVariant: 'SmallerVariant',
  // CarbonSource Valid
  SourceValid: 'Valid',
  CredentialsUnavailable: 'CredentialsUnavailable',
  ProviderUnavailable: 'ProviderUnavailable',
  // ProfileDrift (also the Events when a variant starts or stops drifting)
  ProfileOffMeter: 'ProfileOffMeter',
  ProfileMatchesMeter: 'ProfileMatchesMeter',
  // Attestations (the operator's attestor: wiring/attestor-runnable.ts)
  AttestationWritten: 'AttestationWritten',
  AttestationRefused: 'AttestationRefused',
  AttestationKeyUnavailable: 'AttestationKeyUnavailable',
  // Events
  Scaled: 'Scaled',
  VariantSwapped: 'VariantSwapped',
  DecisionObserved: 'DecisionObserved',
  CarbonFallback: 'CarbonFallback',
  DriftCorrected: 'DriftCorrected',
  ModeChanged: 'ModeChanged',
} as const;
export type ReasonName = (typeof Reason)[keyof typeof Reason];

export const EventAction = {
  Scale: 'Scale',
  Swap: 'Swap',
  Observe: 'Observe',
  Fallback: 'Fallback',
  Apply: 'Apply',
  Validate: 'Validate',
  /** Energy accounting compared a profile with a meter. */
  Account: 'Account',
  Attest: 'Attest',
} as const;

export const Label = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  managedBy: 'app.kubernetes.io/managed-by',
  component: 'app.kubernetes.io/component',
  service: 'carbonscale.dev/inference-service',
  variant: 'carbonscale.dev/variant',
  tier: 'carbonscale.dev/tier',
} as const;

/** Values of Label.component on the objects carbonscale writes. */
export const Component = {
  model: 'model',
  modelServerConfig: 'model-server-config',
  engineState: 'engine-state',
  carbonHistory: 'carbon-history',
  /** The published public keyring of the attestations. */
  attestationKeys: 'attestation-keys',
} as const;

export const Annotation = {
  /** On the Deployment: the variant carbonscale applied (what the workload is set to run). */
  variant: 'carbonscale.dev/variant',
  /** On the Deployment: the service's first accounting interval start (operator clock), set by the first apply. */
  accountingSince: 'carbonscale.dev/accounting-since',
  decisionReason: 'carbonscale.dev/last-decision',
} as const;

/** Default image of the model server when a service does not name one. */
export const DEFAULT_MODEL_SERVER_IMAGE = 'ghcr.io/carbonscale/carbonscale:0.1.0';
export const MODEL_SERVER_PORT = 8080;
/** File the model server watches for the active variant (a mounted ConfigMap key). */
export const ACTIVE_VARIANT_DIR = '/etc/carbonscale';
export const ACTIVE_VARIANT_FILE = 'active-variant';
