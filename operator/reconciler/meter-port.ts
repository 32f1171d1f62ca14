// What the accountant measures through (wiring/meter-port.ts builds it): the service's energy source and
// served-count source, and the mapping between the operator's clock and the wall clock the meters count in.
// Absent (unit tests, or no meters wired): every row is estimated and modelled, as it says.
import type { Defaulted, InferenceService } from '../api/types.ts';
import type { ServedCountSource } from '../demand/served-counts.ts';
import type { ServedLatencySource } from '../demand/served-latency.ts';
import type { EnergySource } from '../energy/energy-source.ts';
import type { KubeObject } from '../kube/kube-client.ts';

export interface MeterPort {
  /** The service's energy source: spec.energy.source, else the operator's --energy-source (default profile). */
  energy(isvc: Defaulted<InferenceService>): EnergySource;
  /** The service's served-count source, when its demand path can count (prometheus, scrape); else undefined. */
  counts(isvc: Defaulted<InferenceService>): ServedCountSource | undefined;
  /** The service's served-latency source, by the same rule as counts; absent or undefined: latency unknown. */
  latency?(isvc: Defaulted<InferenceService>): ServedLatencySource | undefined;
  /** host:port of a pod's metrics endpoint (the scrape count source reads it). */
  address(pod: KubeObject): string | undefined;
  /** Wall ms of a clock time; undefined on a replay clock (meters count real seconds: nothing is measured). */
  toWall(clockMs: number): number | undefined;
  /** Clock ms of a wall time (pod condition times). */
  toClock(wallMs: number): number;
  wallNow(): number;
  /** Why nothing is measured on this clock (a replay), for the rows' fallback reason. */
  replayReason?: string;
}
