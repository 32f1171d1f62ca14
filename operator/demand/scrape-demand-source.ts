// Demand by scraping the model-server pods' /metrics directly (no Prometheus needed): each call reads the
// counters, and the rate is the increase since this source's previous scrape of that pod. On a pod's first
// scrape, the rate is its counters over the time since the process started (process_start_time_seconds).
import { DemandError, MODEL_METRICS } from './demand-source.ts';
import type { DemandSample, DemandSource, DemandTarget } from './demand-source.ts';
import { parsePrometheusText } from './prometheus-text.ts';

export interface ScrapeDemandSourceOptions {
  /** Port of the pods' metrics endpoint when a pod address has none. */
  port?: number;
  path?: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

interface PodReading {
  atMs: number;
  startMs: number;
  requests: number;
  inferences: Record<string, number>;
}

export class ScrapeDemandSource implements DemandSource {
  private readonly opts: ScrapeDemandSourceOptions;
  private readonly previous = new Map<string, PodReading>();

  constructor(opts: ScrapeDemandSourceOptions = {}) {
    this.opts = opts;
  }

  async demand(target: DemandTarget, windowMs: number, nowMs: number): Promise<DemandSample> {
    const pods = target.podIps ?? [];
    if (pods.length === 0)
      throw new DemandError('no_pods', `${target.namespace}/${target.name}: no pod addresses to scrape`);
    const warnings: string[] = [];
    const readings = await Promise.all(
      pods.map(async (pod) => {
        try {
          return { pod, reading: await this.scrape(pod, nowMs) };
        } catch (err) {
          warnings.push(`pod ${pod}: ${(err as Error).message}`);
          return undefined;
        }
      }),
    );
    const ok = readings.filter((r) => r !== undefined);
    if (ok.length === 0) {
      throw new DemandError(
        'unreachable',
        `${target.namespace}/${target.name}: no pod answered (${warnings.join('; ')})`,
      );
    }
    let requestsPerSecond = 0;
    let inferencesPerSecond = 0;
    let longest = 0;
    const servedByVariant: Record<string, number> = {};
    for (const { pod, reading } of ok) {
      const key = `${target.namespace}/${target.name}/${pod}`;
      const prev = this.previous.get(key);
      this.previous.set(key, reading);
      const restarted = prev !== undefined && (reading.startMs !== prev.startMs || reading.requests < prev.requests);
      if (restarted) warnings.push(`pod ${pod}: counters reset (process restarted); rate taken since its start`);
      const base: Omit<PodReading, 'startMs'> =
        prev && !restarted ? prev : { atMs: reading.startMs, requests: 0, inferences: {} };
      const spanMs = reading.atMs - base.atMs;
      if (spanMs <= 0) continue;
      longest = Math.max(longest, spanMs);
      requestsPerSecond += (reading.requests - base.requests) / (spanMs / 1000);
      let inf = 0;
      for (const [variant, n] of Object.entries(reading.inferences)) {
        const d = n - (base.inferences[variant] ?? 0);
        servedByVariant[variant] = (servedByVariant[variant] ?? 0) + d;
        inf += d;
      }
      inferencesPerSecond += inf / (spanMs / 1000);
    }
    return {
      requestsPerSecond,
      inferencesPerSecond,
      servedByVariant,
      windowMs: longest || windowMs,
      source: 'scrape',
      sampledAtMs: nowMs,
      basis: 'measured',
      warnings,
    };
  }

  private async scrape(pod: string, nowMs: number): Promise<PodReading> {
    const hostPort = /:\d+$/.test(pod) ? pod : `${pod.includes(':') ? `[${pod}]` : pod}:${this.opts.port ?? 8080}`;
    const res = await (this.opts.fetch ?? fetch)(`http://${hostPort}${this.opts.path ?? '/metrics'}`, {
      signal: AbortSignal.timeout(this.opts.timeoutMs ?? 5000),
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const samples = parsePrometheusText(await res.text());
    let requests = 0;
    let startMs: number | undefined;
    const inferences: Record<string, number> = {};
    for (const s of samples) {
      if (s.name === MODEL_METRICS.requests) requests += s.value;
      else if (s.name === MODEL_METRICS.inferences) {
        const v = s.labels['variant'] ?? 'unknown';
        inferences[v] = (inferences[v] ?? 0) + s.value;
      } else if (s.name === MODEL_METRICS.processStart) startMs = s.value * 1000;
    }
    if (startMs === undefined) throw new Error(`no ${MODEL_METRICS.processStart} in /metrics`);
    return { atMs: nowMs, startMs, requests, inferences };
  }
}
