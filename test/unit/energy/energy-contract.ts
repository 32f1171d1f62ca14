// The contract every energy source meets, as scenarios over a MeterModel (test/emulators/meter-model.ts) served
// by the source's own exposition format (meter-exporters.ts) and scraped by a real Prometheus every second:
//   steady      two pods for the whole window: measured, equal to the known joules to 1e-9 relative
//   reset       the meter restarts mid-window: measured, a reset counted, short of the known joules by at most one
//               sample gap of power (what was counted before the restart and not yet scraped)
//   missing     the exporter refuses scrapes for longer than the allowed gap: not measured, the gap named
//   moved       a pod replaced by another mid-window: both counted (exact where the counter starts at 0 and the
//               finished pod stays exported; otherwise within one sample gap at each edge)
//   partial     the meter's first sample comes after the window began: not measured
//   unknown     the pod log names a pod the meter has never reported: not measured, the pod named
// A case says how to serve its meter; profile has no meter and is never measured.
import type { EnergySourceName } from '../../../operator/energy/energy-source.ts';
import {
  DcgmDevices,
  dcgmExporter,
  keplerExporter,
  modelServerEnergyExporter,
  type Exporter,
} from '../../emulators/meter-exporters.ts';
import type { MeterModel, PodPower } from '../../emulators/meter-model.ts';
import type { ScrapeTarget } from './prometheus-process.ts';

export interface MeterHandle {
  targets: ScrapeTarget[];
  /** Called for every pod added to the model (dcgm gives it GPUs; the model server gets a target). */
  onPod(p: PodPower): void;
  onEnd(p: PodPower): void;
  /** The meter's own reset: Kepler or the model server restarts, the GPU driver reloads. */
  reset(atMs: number): void;
  close(): Promise<void>;
}

export interface EnergyCase {
  name: EnergySourceName;
  /** What the meter measures of a pod. */
  parts: { cpu: boolean; gpu: boolean };
  /** A pod replaced mid-window is counted exactly (counters from 0, finished pods still exported). */
  exactWhenMoved: boolean;
  /** Serves the meter over a model; `podsUpFront` are the pods known before Prometheus starts. */
  serve?(model: MeterModel, podsUpFront: PodPower[]): Promise<MeterHandle>;
}

const noop = () => {};

export const ENERGY_CASES: EnergyCase[] = [
  {
    name: 'kepler',
    parts: { cpu: true, gpu: true },
    exactWhenMoved: true,
    async serve(model) {
      const e: Exporter = await keplerExporter(model, { timestamps: true });
      return {
        targets: [{ job: 'kepler', url: e.url }],
        onPod: noop,
        onEnd: noop,
        reset: (t) => model.restart(t),
        close: () => e.close(),
      };
    },
  },
  {
    name: 'dcgm',
    parts: { cpu: false, gpu: true },
    exactWhenMoved: false,
    async serve(model, pods) {
      const d = new DcgmDevices(model, 8);
      for (const p of pods) d.holdGpus(p);
      const e = await dcgmExporter(d, { timestamps: true });
      return {
        targets: [{ job: 'dcgm', url: e.url }],
        onPod: (p) => d.holdGpus(p),
        onEnd: (p) => d.release(p),
        reset: (t) => d.reload(t),
        close: () => e.close(),
      };
    },
  },
  {
    name: 'model-server',
    parts: { cpu: false, gpu: true },
    exactWhenMoved: false,
    async serve(model, pods) {
      const e = await modelServerEnergyExporter(model, { timestamps: true });
      // One scrape target per pod, labelled as the Kubernetes scrape config would (namespace, pod). Pods added
      // later are declared up front by the scenarios (their target answers 404 until they exist: no sample).
      return {
        targets: pods.map((p) => ({
          job: 'model-server',
          url: `${e.url}/${p.namespace}/${p.name}`,
          labels: { namespace: p.namespace, pod: p.name },
        })),
        onPod: noop,
        onEnd: noop,
        reset: (t) => model.restart(t),
        close: () => e.close(),
      };
    },
  },
  { name: 'profile', parts: { cpu: false, gpu: false }, exactWhenMoved: true },
];
