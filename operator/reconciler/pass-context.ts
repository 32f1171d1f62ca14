// The context a reconcile pass runs in (ports, options, the per-service memory) and what each phase hands the
// next: observe → gather → decide → apply → report. Phases are small functions over these shapes (Hono's one
// context through a pipeline; kube-rs's reconcile → Action).
import type { Logger } from 'winston';
import type { Defaulted, InferenceService } from '../api/types.ts';
import type { EngineStep, StandingPlan } from '../decision/engine.ts';
import type { IntensityPoint } from '../decision/types.ts';
import type { DemandLedger } from './demand-ledger.ts';
import type { MeterPort } from './meter-port.ts';
import type { OperatorMetrics } from './metrics.ts';
import type { PodLog } from './pod-log.ts';
import type { DriftBook } from './profile-drift.ts';
import type {
  AuditPort,
  CachePort,
  Clock,
  DemandPort,
  EventPort,
  EventTargetRef,
  SignalPort,
  StatePort,
  WritePort,
} from './ports.ts';
import type { SavedState, ServiceState } from './service-state.ts';
import type { SignalView } from './signal-view.ts';
import type { WorkloadView } from './workload.ts';

export interface Ports {
  cache: CachePort;
  writes: WritePort;
  events: EventPort;
  signals: SignalPort;
  demand: DemandPort;
  states: StatePort;
  clock: Clock;
  /** Set when this process leads (the sink opens then); absent on a standby. */
  audit?: AuditPort;
  /** Energy meters and served counters (absent: rows are estimated and modelled, and say so). */
  meters?: MeterPort;
}

export interface ReconcilerOptions {
  clusterId: string;
  operatorVersion: string;
  modelServerImage?: string;
  /** Set when the clock is an accelerated replay: shown in status.clock. */
  clockSpeedup?: number;
  /** Status fields that move every interval (the emissions total) are refreshed at least this often (clock ms). */
  statusHeartbeatMs: number;
  /** Accounting interval of the usage rows (clock ms). */
  accountingIntervalMs: number;
}

/** What the workload was set to run and had ready, from a time on (the accounting reads it back). */
export interface WorkloadSample {
  atMs: number;
  variant?: string;
  desired: number;
  ready: number;
  /** The plan's "budget used" at that time (the audit column). */
  budgetUsed: number;
  /** The decision used the relaxed latency ceiling (slo.relaxedLatencyP95Ms): the usage row's slo_met ceiling. */
  relaxedLatency?: boolean;
}

/** The signal a pass used, from a time on. */
export interface SignalSample {
  atMs: number;
  signal: SignalView;
}

/** What the reconciler remembers of a service between passes (rebuilt from the store and status on restart). */
export interface ServiceMemory {
  state: ServiceState;
  saved?: SavedState;
  registered?: { source: string; region: string };
  /** The fallback level last reported (status.carbon.fallbackLevel after a restart). */
  lastFallbackLevel?: string;
  lastStatusWriteMs?: number;
  /** Generation and variant/replicas of the last apply: a difference after that is someone else's edit. */
  applied?: { generation?: number; key: string };
  /** When the standing variant/replicas were decided (status.lastDecision.time). */
  decisionTimeIso?: string;
  demandSource?: string;
  demandError?: string;
}

/**
 * What the accountant reads and writes for a service. Kept apart from ServiceMemory (which a pass copies and
 * commits at its end) because the accountant updates it between passes: passes append samples to it directly.
 */
export interface UsageMemory {
  /** The running total of status.emissions, and the end of the last interval it counts. */
  emissions: { day: string; todayG: number; untilMs: number };
  /** First time usage is accounted from (the first full accounting interval after the first pass). */
  accountingSinceMs: number;
  workloadLog: WorkloadSample[];
  signalLog: SignalSample[];
  /** The service's pods and their Ready spans (replicas_avg, and the pods the meters are asked about). */
  pods: PodLog;
  /** Profile against meter, per variant (ProfileDrift). */
  drift: DriftBook;
}

export interface ReconcilerContext {
  ports: Ports;
  options: ReconcilerOptions;
  memory: Map<string, ServiceMemory>;
  usage: Map<string, UsageMemory>;
  log: Logger;
  metrics?: OperatorMetrics;
}

export interface ObservedPass {
  key: string;
  isvc: Defaulted<InferenceService>;
  now: number;
  nowIso: string;
  mode: 'active' | 'observe';
  paused: boolean;
  /** A working copy of the service's memory; committed when the pass succeeds. */
  memory: ServiceMemory;
  /** The service's usage memory (shared with the accountant, not a copy). */
  usage: UsageMemory;
  workload: WorkloadView;
  pods: { pending: number; heldGpus: number };
  /** GPUs schedulable beyond what the service holds. */
  headroomGpus: number;
  gpuResource: string;
  target: EventTargetRef;
}

export interface GatheredPass {
  signal: SignalView;
  carbonHistory: IntensityPoint[];
  demand: DemandLedger;
  /** Set when the pass must not decide yet (no first carbon signal): why. */
  waiting?: string;
}

export interface DecidedPass {
  step: EngineStep;
  /** The plan that stood before this pass. */
  previous?: StandingPlan;
  /** A new plan whose variant or replicas differ from the previous one. */
  changed: boolean;
  swapped: boolean;
  /** What to apply (absent: nothing, in observe mode). */
  target?: { variant: string; replicas: number };
}

export interface AppliedPass {
  driftCorrected: boolean;
}
