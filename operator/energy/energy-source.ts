// Measured energy of one InferenceService over one accounting interval, from a meter the platform team already
// runs (Kepler, NVIDIA dcgm-exporter, the model server's own NVML counter) through Prometheus, or no meter at all
// (the power profile's estimate). The accountant sees only this interface; registry.ts lists the implementations.
// Times here are WALL-clock ms: meters stamp their samples in real time (the operator maps its clock onto it).

/** `energy.source` of an InferenceService (or the cluster default): a meter, or the power-profile estimate. */
export type EnergySourceName = 'kepler' | 'dcgm' | 'model-server' | 'profile';

/** A pod of the service as the operator saw it (its pod log), in wall ms. */
export interface MeteredPod {
  name: string;
  uid?: string;
  /** metadata.creationTimestamp: a series first seen after this began inside the window. */
  createdMs?: number;
  /** When it stopped serving or was deleted, if it did: a series that ends by then ended with the pod. */
  endMs?: number;
}

export interface EnergyRequest {
  namespace: string;
  /** The InferenceService (and its Deployment): its pods are named `<service>-<replicaset hash>-<suffix>`. */
  service: string;
  /** The interval, wall ms, end exclusive. */
  fromMs: number;
  toMs: number;
  /** Every pod of the service that ran at some time in [fromMs, toMs), as the pod log knows them. */
  pods: MeteredPod[];
  /** GPUs per replica of the variant served (a meter that reports GPU energy must have it for a GPU pod). */
  gpusPerReplica: number;
}

export interface MeasuredEnergyReading {
  measured: true;
  source: EnergySourceName;
  /** IT energy of the service's pods over the interval, joules (the meter's own figure, not modelled). */
  joules: number;
  /** Series (per pod, device, zone) that were summed. */
  series: number;
  /** Counter resets inside the window (a meter or pod restarted): the energy between the last sample before a
   * reset and the restart is not seen (at most one sample gap per reset). */
  resets: number;
  /** What the caller should know (pods seen in the meter only, resets). */
  notes: string[];
}

export interface UnmeasuredEnergyReading {
  measured: false;
  source: EnergySourceName;
  /** Why the interval is not measured (the row falls back to the estimate and says this): names the pod, the
   * metric and the time where there is one. */
  reason: string;
}

export type EnergyReading = MeasuredEnergyReading | UnmeasuredEnergyReading;

export interface EnergySource {
  readonly name: EnergySourceName;
  /** Wall ms after an interval's end before it can be measured (the meter's samples after the end must have been
   * scraped); the accountant waits this long. 0: answers at once. */
  readonly settleMs: number;
  /** Never throws: a failure is an unmeasured reading with its reason. */
  measure(req: EnergyRequest): Promise<EnergyReading>;
}

export const J_PER_KWH = 3_600_000;
