// The physical side of the energy-meter emulators: pods that draw a constant power per component from their
// creation to their end, a meter process that can restart (its per-pod counters begin again at 0) or stop
// answering (a missing scrape), and the exact joules any span held. Every counter is linear in time, so the
// energy between two instants is known exactly and a reader that interpolates between samples can be held to
// 1e-9. Time is wall-clock ms (the meters' time base), from an injected clock.

export interface PodPower {
  namespace: string;
  name: string;
  uid: string;
  node: string;
  /** CPU power per RAPL zone, watts (Kepler's zones overlap: package contains core and uncore). */
  cpuZones: Record<string, number>;
  /** Power of each GPU the pod holds, watts (integers keep dcgm's millijoule counter integral). */
  gpuWatts: number;
  gpus: number;
  createdMs: number;
  endedMs?: number;
}

export interface MeterModelOptions {
  now?: () => number;
}

export class MeterModel {
  readonly pods = new Map<string, PodPower>();
  /** Times the meter process restarted: counters that start with their series begin again at 0 then. */
  readonly restarts: number[] = [];
  /** While true, or inside one of `downDuring`, the exporter answers 503 (a failed scrape: no sample). */
  stopped = false;
  readonly downDuring: Array<[number, number]> = [];
  readonly now: () => number;

  constructor(o: MeterModelOptions = {}) {
    this.now = o.now ?? (() => Date.now());
  }

  get down(): boolean {
    const t = this.now();
    return this.stopped || this.downDuring.some(([a, b]) => t >= a && t < b);
  }

  addPod(p: Omit<PodPower, 'createdMs'> & { createdMs?: number }): PodPower {
    const pod: PodPower = { ...p, createdMs: p.createdMs ?? this.now() };
    this.pods.set(`${pod.namespace}/${pod.name}`, pod);
    return pod;
  }

  endPod(namespace: string, name: string, atMs = this.now()): void {
    const p = this.pods.get(`${namespace}/${name}`);
    if (!p) throw new Error(`no pod ${namespace}/${name} in the meter model`);
    p.endedMs = atMs;
  }

  restart(atMs = this.now()): void {
    this.restarts.push(atMs);
  }

  /** Seconds the pod drew power in [from, to). */
  activeSeconds(p: PodPower, fromMs: number, toMs: number): number {
    const a = Math.max(fromMs, p.createdMs);
    const b = Math.min(toMs, p.endedMs ?? Infinity);
    return b > a ? (b - a) / 1000 : 0;
  }

  /** The last meter restart at or before t (counters that start with their series count from then). */
  lastRestart(t: number): number {
    let r = -Infinity;
    for (const x of this.restarts) if (x <= t) r = Math.max(r, x);
    return r;
  }

  /** A pod counter's value at t: watts × seconds active since the pod's creation or the meter's last restart. */
  podCounter(p: PodPower, watts: number, t: number): number {
    return watts * this.activeSeconds(p, Math.max(p.createdMs, this.lastRestart(t)), t);
  }

  /** The IT energy the pod really drew in [from, to), joules: CPU (disjoint zones) and GPUs. */
  trueJoules(p: PodPower, fromMs: number, toMs: number, parts: { cpu: boolean; gpu: boolean }): number {
    const s = this.activeSeconds(p, fromMs, toMs);
    const z = p.cpuZones;
    const cpu = z['psys'] ?? (z['package'] ?? (z['core'] ?? 0) + (z['uncore'] ?? 0)) + (z['dram'] ?? 0);
    return s * ((parts.cpu ? cpu : 0) + (parts.gpu ? p.gpuWatts * p.gpus : 0));
  }

  podsOf(namespace: string, service: string): PodPower[] {
    return [...this.pods.values()].filter((p) => p.namespace === namespace && p.name.startsWith(`${service}-`));
  }
}

/** One exposition line: `name{labels} value [timestamp]`, labels sorted by name as client_golang writes them. */
export function expositionLine(
  name: string,
  labels: Record<string, string>,
  value: number,
  timestampMs?: number,
  sortLabels = true,
): string {
  const entries = Object.entries(labels);
  if (sortLabels) entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const l = entries.map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return `${name}{${l.join(',')}} ${value}${timestampMs !== undefined ? ` ${timestampMs}` : ''}`;
}
