// HTTP exporters over a MeterModel (meter-model.ts), one per meter, each writing its exposition format field by
// field as the meter's own code does:
//   - Kepler 0.11: docs/user/metrics.md ("Pod Metrics") and internal/exporter/prometheus/collector/
//     power_collector.go: kepler_pod_cpu_joules_total{pod_id,pod_name,pod_namespace,state,zone} counter (J, per
//     RAPL zone), kepler_pod_cpu_watts gauge, kepler_pod_gpu_joules_total{pod_id,pod_name,pod_namespace,state}
//     counter, kepler_pod_gpu_watts gauge, constant label node_name; help texts "Energy consumption of cpu at pod
//     level in joules" etc.; a finished pod stays exported under state="terminated" with its final value;
//     kepler_build_info gauge.
//   - dcgm-exporter: etc/default-counters.csv (DCGM_FI_DEV_POWER_USAGE gauge "Power draw (in W).",
//     DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter "Total energy consumption since boot (in mJ)."),
//     internal/pkg/rendermetrics/render_metrics.go (label order gpu, UUID, pci_bus_id, device, modelName,
//     hostname, then the field labels such as DCGM_FI_DRIVER_VERSION, then the pod attributes) and
//     internal/pkg/transformation/kubernetes.go (container, namespace, pod, pod_uid while a pod holds the GPU);
//     the energy counter counts since the driver loaded, in integer millijoules.
//   - the carbonscale model server (model-server/gpu-energy.ts): carbonscale_model_gpu_energy_joules_total{gpu,
//     uuid} counter (J since the server started), as prom-client writes it, with the server's default label model.
// Neither Kepler, dcgm-exporter nor prom-client writes sample timestamps. `timestamps: true` adds the exposition
// format's optional timestamp (ms) to each sample so that the value is the counter at exactly the instant
// Prometheus records: only then can a test hold the operator's figure to the known joules at 1e-9 (without it
// the value is the counter a few ms after the recorded scrape time). The reader never relies on it.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expositionLine, type MeterModel, type PodPower } from './meter-model.ts';

export interface ExporterOptions {
  timestamps?: boolean;
}

export interface Exporter {
  url: string;
  /** Scrapes answered (2xx) and refused (while the model is down). */
  served: number;
  refused: number;
  close(): Promise<void>;
}

/** The body for a path, or undefined for 404. */
type Render = (path: string, now: number, ts: number | undefined) => string | undefined;

async function serve(model: MeterModel, render: Render, o: ExporterOptions): Promise<Exporter> {
  const state = { served: 0, refused: 0 };
  const server: Server = createServer((req, res) => {
    const now = model.now();
    const body = render(req.url ?? '/', now, o.timestamps ? now : undefined);
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    if (model.down) {
      state.refused++;
      res.writeHead(503, { 'content-type': 'text/plain' }).end('exporter restarting\n');
      return;
    }
    state.served++;
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/metrics`,
    get served() {
      return state.served;
    },
    get refused() {
      return state.refused;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const keplerLabels = (p: PodPower, state: string) => ({
  node_name: p.node,
  pod_id: p.uid,
  pod_name: p.name,
  pod_namespace: p.namespace,
  state,
});

/** Kepler's pod metrics (docs/user/metrics.md, "Pod Metrics"). */
export function renderKepler(model: MeterModel, now: number, ts: number | undefined): string {
  const out: string[] = [];
  // A restarted Kepler knows only the pods still running (and those that finish after it started).
  const pods = [...model.pods.values()].filter(
    (p) => p.createdMs <= now && (p.endedMs === undefined || p.endedMs >= model.lastRestart(now)),
  );
  const state = (p: PodPower) => (p.endedMs !== undefined && p.endedMs <= now ? 'terminated' : 'running');
  const live = (p: PodPower, w: number) => (state(p) === 'running' ? w : 0);
  const block = (name: string, type: string, help: string, lines: string[]) =>
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...lines);
  block(
    'kepler_pod_cpu_joules_total',
    'counter',
    'Energy consumption of cpu at pod level in joules',
    pods.flatMap((p) =>
      Object.entries(p.cpuZones).map(([zone, w]) =>
        expositionLine(
          'kepler_pod_cpu_joules_total',
          { ...keplerLabels(p, state(p)), zone },
          model.podCounter(p, w, now),
          ts,
        ),
      ),
    ),
  );
  block(
    'kepler_pod_cpu_watts',
    'gauge',
    'Power consumption of cpu at pod level in watts',
    pods.flatMap((p) =>
      Object.entries(p.cpuZones).map(([zone, w]) =>
        expositionLine('kepler_pod_cpu_watts', { ...keplerLabels(p, state(p)), zone }, live(p, w), ts),
      ),
    ),
  );
  // Kepler writes the GPU series only for pods with GPU energy (power_collector.go: GPUEnergyTotal > 0).
  const gpuPods = pods.filter((p) => p.gpus > 0 && model.podCounter(p, p.gpuWatts * p.gpus, now) > 0);
  block(
    'kepler_pod_gpu_joules_total',
    'counter',
    'Energy consumption of gpu at pod level in joules',
    gpuPods.map((p) =>
      expositionLine(
        'kepler_pod_gpu_joules_total',
        keplerLabels(p, state(p)),
        model.podCounter(p, p.gpuWatts * p.gpus, now),
        ts,
      ),
    ),
  );
  block(
    'kepler_pod_gpu_watts',
    'gauge',
    'Power consumption of gpu at pod level in watts',
    gpuPods.map((p) =>
      expositionLine('kepler_pod_gpu_watts', keplerLabels(p, state(p)), live(p, p.gpuWatts * p.gpus), ts),
    ),
  );
  block('kepler_build_info', 'gauge', "A metric with a constant '1' value labeled with version information", [
    expositionLine(
      'kepler_build_info',
      { arch: 'amd64', branch: 'main', goversion: 'go1.24', revision: 'emulator', version: 'v0.11.0' },
      1,
      ts,
    ),
  ]);
  return out.join('\n') + '\n';
}

export function keplerExporter(model: MeterModel, o: ExporterOptions = {}): Promise<Exporter> {
  return serve(model, (path, now, ts) => (path.startsWith('/metrics') ? renderKepler(model, now, ts) : undefined), o);
}

/** A GPU of the dcgm model: its device counter since boot (mJ), and the pods that held it over time. */
export interface DcgmGpu {
  index: number;
  uuid: string;
  node: string;
  /** Millijoules the device had counted when the model's clock began (driver loaded earlier). */
  bootMj: number;
  idleWatts: number;
  /** The pod holding it, by pod key (namespace/name), over spans; set by holdGpus. */
  holders: Array<{ pod: string; from: number; to?: number }>;
}

export class DcgmDevices {
  readonly gpus: DcgmGpu[] = [];
  readonly model: MeterModel;
  readonly originMs: number;
  /** Driver reloads: the device counters begin again at 0 then (a counter reset). */
  readonly reloads: number[] = [];

  constructor(model: MeterModel, count: number, node = 'gpu-node-1') {
    this.model = model;
    this.originMs = model.now();
    for (let i = 0; i < count; i++)
      this.gpus.push({
        index: i,
        uuid: `GPU-${(0x1000 + i).toString(16)}a5c1-7e2d-4f11-9b0c-00000000000${i}`,
        node,
        bootMj: 4_200_000_000 + i * 1_000_003,
        idleWatts: 60,
        holders: [],
      });
  }

  /** Gives a pod its GPUs (free ones, lowest index first) from its creation to its end. */
  holdGpus(p: PodPower): void {
    const key = `${p.namespace}/${p.name}`;
    const free = this.gpus.filter((g) => !g.holders.some((h) => h.to === undefined || h.to > p.createdMs));
    if (free.length < p.gpus) throw new Error(`dcgm model: ${p.gpus} GPUs wanted, ${free.length} free`);
    for (const g of free.slice(0, p.gpus))
      g.holders.push({ pod: key, from: p.createdMs, ...(p.endedMs !== undefined ? { to: p.endedMs } : {}) });
  }

  release(p: PodPower): void {
    const key = `${p.namespace}/${p.name}`;
    for (const g of this.gpus) for (const h of g.holders) if (h.pod === key && h.to === undefined) h.to = p.endedMs;
  }

  holderAt(g: DcgmGpu, t: number): PodPower | undefined {
    const h = g.holders.find((x) => x.from <= t && (x.to === undefined || t < x.to));
    return h ? this.model.pods.get(h.pod) : undefined;
  }

  /** Device power at t: the holder's GPU power, or idle. */
  watts(g: DcgmGpu, t: number): number {
    return this.holderAt(g, t)?.gpuWatts ?? g.idleWatts;
  }

  reload(atMs = this.model.now()): void {
    this.reloads.push(atMs);
  }

  /** The device counter (integer mJ with integer watts and ms) at t: boot value + ∫ power, from 0 after a reload. */
  energyMj(g: DcgmGpu, t: number): number {
    const reload = Math.max(-Infinity, ...this.reloads.filter((r) => r <= t));
    const from = Math.max(this.originMs, reload);
    const cuts = [from, t, ...g.holders.flatMap((h) => [h.from, h.to ?? t])]
      .filter((x) => x >= from && x <= t)
      .sort((a, b) => a - b);
    let mj = reload > this.originMs ? 0 : g.bootMj;
    for (let i = 1; i < cuts.length; i++) mj += this.watts(g, cuts[i - 1]!) * (cuts[i]! - cuts[i - 1]!);
    return mj;
  }
}

/** dcgm-exporter's exposition (render_metrics.go gpuMetricsFormat; kubernetes.go pod attributes). */
export function renderDcgm(d: DcgmDevices, now: number, ts: number | undefined): string {
  const line = (field: string, g: DcgmGpu, value: number) => {
    const pod = d.holderAt(g, now);
    const head = `gpu="${g.index}",UUID="${g.uuid}",pci_bus_id="00000000:${(0x18 + g.index).toString(16).toUpperCase()}:00.0",device="nvidia${g.index}",modelName="NVIDIA H100 80GB HBM3",hostname="${g.node}"`;
    const fieldLabels = `,DCGM_FI_DRIVER_VERSION="550.127.05"`;
    // Attributes come from a Go map: text/template ranges over it in sorted key order.
    const attrs = pod
      ? `,container="model-server",namespace="${pod.namespace}",pod="${pod.name}",pod_uid="${pod.uid}"`
      : '';
    return `${field}{${head}${fieldLabels}${attrs}} ${value}${ts !== undefined ? ` ${ts}` : ''}`;
  };
  return [
    '# HELP DCGM_FI_DEV_POWER_USAGE Power draw (in W).',
    '# TYPE DCGM_FI_DEV_POWER_USAGE gauge',
    ...d.gpus.map((g) => line('DCGM_FI_DEV_POWER_USAGE', g, d.watts(g, now))),
    '# HELP DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION Total energy consumption since boot (in mJ).',
    '# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter',
    ...d.gpus.map((g) => line('DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION', g, d.energyMj(g, now))),
    '',
  ].join('\n');
}

export function dcgmExporter(d: DcgmDevices, o: ExporterOptions = {}): Promise<Exporter> {
  return serve(d.model, (path, now, ts) => (path.startsWith('/metrics') ? renderDcgm(d, now, ts) : undefined), o);
}

/** The model server's GPU energy counter of one pod (model-server/gpu-energy.ts), as prom-client writes it. */
export function renderModelServerEnergy(model: MeterModel, pod: PodPower, now: number, ts: number | undefined): string {
  const lines = [
    '# HELP carbonscale_model_gpu_energy_joules_total GPU energy since the server started, joules (measured: NVML total energy)',
    '# TYPE carbonscale_model_gpu_energy_joules_total counter',
  ];
  if (pod.createdMs <= now && (pod.endedMs === undefined || now < pod.endedMs))
    for (let i = 0; i < pod.gpus; i++)
      lines.push(
        expositionLine(
          'carbonscale_model_gpu_energy_joules_total',
          { gpu: String(i), uuid: `GPU-${pod.uid.slice(0, 8)}-${i}`, model: 'digits' },
          model.podCounter(pod, pod.gpuWatts, now),
          ts,
          false,
        ),
      );
  return lines.join('\n') + '\n';
}

/** One server for every model-server pod of the model: /metrics/<namespace>/<pod>. */
export function modelServerEnergyExporter(model: MeterModel, o: ExporterOptions = {}): Promise<Exporter> {
  return serve(
    model,
    (path, now, ts) => {
      const m = /^\/metrics\/([^/]+)\/([^/?]+)/.exec(path);
      const pod = m ? model.pods.get(`${m[1]}/${m[2]}`) : undefined;
      return pod ? renderModelServerEnergy(model, pod, now, ts) : undefined;
    },
    o,
  );
}
