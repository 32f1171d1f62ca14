// Demand by scraping the model-server pods' /metrics directly (no Prometheus needed). Each call reads the pods'
// counters now and answers the rate over the last `windowMs` of wall time: the increase since the newest earlier
// reading of that pod at or before the window's start (this source keeps a short history of its readings per pod).
// So callers asking for different spans — the decision pass for its interval, the accountant for its shorter one —
// each get the rate over their own span, and one never resets the other's baseline.
// Counters and process_start_time_seconds count real seconds, so spans are read from the wall clock (`wallNow`),
// never from the operator's clock (on a replay at N× the caller converts its span: demand-port.ts).
//   - A pod not read before: the increase since its process started (process_start_time_seconds) — but a process
//     that started inside the window served nothing before, so its requests count over the whole window, never over
//     its own short life: that start time is whole seconds, and a pod a second old would otherwise count double (or
//     ten times), making every scale-up read as a demand spike.
//   - A process that restarted (another start time, or counters that went down) is read from its start, with a
//     warning.
import { DemandError, MODEL_METRICS } from './demand-source.ts';
import type { DemandSample, DemandSource, DemandTarget } from './demand-source.ts';
import { parsePrometheusText } from './prometheus-text.ts';

export interface ScrapeDemandSourceOptions {
  /** Port of the pods' metrics endpoint when a pod address has none. */
  port?: number;
  path?: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
  /** The clock the counters count in (default Date.now). */
  wallNow?: () => number;
}

interface PodReading {
  atMs: number;
  startMs: number;
  requests: number;
  inferences: Record<string, number>;
}

/** Readings kept per pod: the newest, and none older than this (enough for any decision interval at any speed). */
const KEEP_READINGS = 64;
const KEEP_MS = 15 * 60_000;

export class ScrapeDemandSource implements DemandSource {
  private readonly opts: ScrapeDemandSourceOptions;
  /** Readings per target/pod, oldest first. */
  private readonly history = new Map<string, PodReading[]>();

  constructor(opts: ScrapeDemandSourceOptions = {}) {
    this.opts = opts;
  }

  async demand(target: DemandTarget, windowMs: number, nowMs: number): Promise<DemandSample> {
    const pods = target.podIps ?? [];
    if (pods.length === 0)
      throw new DemandError('no_pods', `${target.namespace}/${target.name}: no pod addresses to scrape`);
    if (!(windowMs > 0)) throw new DemandError('config', `windowMs: expected > 0, got ${windowMs}`);
    const wallNow = (this.opts.wallNow ?? Date.now)();
    const warnings: string[] = [];
    const readings = await Promise.all(
      pods.map(async (pod) => {
        try {
          return { pod, reading: await this.scrape(pod, wallNow) };
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
    let requests = 0;
    let inferences = 0;
    let longest = 0;
    const servedByVariant: Record<string, number> = {};
    for (const { pod, reading } of ok) {
      const { base, restarted } = this.baseFor(`${target.namespace}/${target.name}/${pod}`, reading, windowMs);
      if (restarted) warnings.push(`pod ${pod}: counters reset (process restarted); rate taken since its start`);
      const spanMs = reading.atMs - base.atMs;
      if (spanMs <= 0) continue;
      longest = Math.max(longest, spanMs);
      // Each pod's increase as a rate over its own span, summed: pods read over the same window add up exactly.
      requests += (reading.requests - base.requests) / (spanMs / 1000);
      let inf = 0;
      for (const [variant, n] of Object.entries(reading.inferences)) {
        const d = n - (base.inferences[variant] ?? 0);
        servedByVariant[variant] = (servedByVariant[variant] ?? 0) + d;
        inf += d;
      }
      inferences += inf / (spanMs / 1000);
    }
    return {
      requestsPerSecond: requests,
      inferencesPerSecond: inferences,
      servedByVariant,
      windowMs: longest || windowMs,
      source: 'scrape',
      sampledAtMs: nowMs,
      basis: 'measured',
      warnings,
    };
  }

  /** Where the increase of this reading is counted from, and whether the process restarted; keeps the reading. */
  private baseFor(
    key: string,
    reading: PodReading,
    windowMs: number,
  ): { base: Omit<PodReading, 'startMs'>; restarted: boolean } {
    let past = this.history.get(key) ?? [];
    const newest = past[past.length - 1];
    const restarted =
      newest !== undefined && (reading.startMs !== newest.startMs || reading.requests < newest.requests);
    if (restarted) past = [];
    const from = reading.atMs - windowMs;
    let base: Omit<PodReading, 'startMs'> | undefined;
    for (const r of past) if (r.atMs <= from) base = r;
    // Started inside the window: nothing was served before the start, so count from the window's start.
    if (!base && reading.startMs > from) base = { atMs: from, requests: 0, inferences: {} };
    base ??= past[0] ?? { atMs: reading.startMs, requests: 0, inferences: {} };
    past.push(reading);
    this.history.set(
      key,
      past.filter((r, i) => i >= past.length - KEEP_READINGS && r.atMs >= reading.atMs - KEEP_MS),
    );
    return { base, restarted };
  }

  private async scrape(pod: string, wallMs: number): Promise<PodReading> {
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
    return { atMs: wallMs, startMs, requests, inferences };
  }
}
