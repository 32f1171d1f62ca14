// A CarbonSource's status shows what it delivers now: one reading per region the operator polls it for (value,
// data time, fallback level) and when the operator last saw the value change, so `kubectl get csrc` shows the
// current value and its age. Written by a JSON merge patch of status.readings only (the controller's
// server-side-applied conditions stay its own), only when a value (to 0.1 g), the fallback level or the estimated
// flag changed, and at most once per source every `minGapMs` of wall time (a replay at 60× changes hourly values
// every wall minute). A data time that moves alone (the static provider stamps every poll with the time of the
// poll; a 5-minute feed can repeat a value) is a moving field as in ADR 0002: it rides along with the next other
// change, or with a heartbeat when the last write is `heartbeatMs` old — never a write per poll.
// `updatedAt` is wall-clock time, like an Event's: kubectl turns it into an age in real seconds.
// The writer's memory of what it wrote is seeded from the CarbonSource as the watch cache holds it (`stored`), so a
// restarted operator whose sources still deliver the values the status shows writes nothing: a region's cached
// reading stands in for the last one written when the region is first noted (a region no longer polled is not
// carried over, so the next write drops it), the heartbeat counts from the newest cached `updatedAt` (the last
// write was at or after it: at worst the heartbeat comes early, never late), and until the source first answers
// (pending) the cached reading stays. A cached reading that is malformed or stamped after now is not used.
import { objectPath, Resources, type KubeClient, type KubeObject } from './kube-client.ts';

export interface SourceReading {
  region: string;
  valueGPerKWh: number;
  unit: 'gCO2eq/kWh';
  /** Start of the interval the value describes (trace time on a replay clock). */
  dataTime: string;
  fallbackLevel: string;
  estimated: boolean;
  /** When the operator first saw this value (wall clock). */
  updatedAt: string;
}

export interface ReadingView {
  /** The source has not answered since the operator started (no value yet, and no failure either). */
  pending?: boolean;
  valueGPerKWh?: number;
  dataTimeMs?: number;
  fallbackLevel: string;
  estimated?: boolean;
  available: boolean;
}

export interface CarbonSourceReadings {
  /** Called after a poll with what the pair delivers now; writes the source's status when it changed. */
  note(source: string, region: string, view: ReadingView): void;
  /** Waits for writes under way (shutdown). */
  flush(): Promise<void>;
}

export function carbonSourceReadings(
  client: KubeClient,
  o: {
    wallNow?: () => number;
    minGapMs?: number;
    heartbeatMs?: number;
    onError?: (e: unknown) => void;
    /** The CarbonSource as the watch cache holds it (its status.readings seed the memory of what was written). */
    stored?: (source: string) => KubeObject | undefined;
  } = {},
): CarbonSourceReadings {
  const wallNow = o.wallNow ?? Date.now;
  const minGapMs = o.minGapMs ?? 5000;
  const heartbeatMs = o.heartbeatMs ?? 15 * 60_000;
  const bySource = new Map<string, Map<string, SourceReading>>();
  const lastWrite = new Map<string, number>();
  const seeds = new CachedSeeds(o.stored);
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  let writing: Promise<void> = Promise.resolve();

  const write = (source: string) => {
    timers.delete(source);
    lastWrite.set(source, wallNow());
    const readings = [...(bySource.get(source)?.values() ?? [])].sort((a, b) => a.region.localeCompare(b.region));
    writing = writing
      .then(() => client.mergePatch(`${objectPath(Resources.carbonSource, source)}/status`, { status: { readings } }))
      .then(
        () => undefined,
        (e: unknown) => o.onError?.(e),
      );
  };

  const schedule = (source: string) => {
    if (timers.has(source)) return;
    const wait = Math.max(0, (lastWrite.get(source) ?? -Infinity) + minGapMs - wallNow());
    const t = setTimeout(() => write(source), wait);
    t.unref();
    timers.set(source, t);
  };

  return {
    note(source, region, view) {
      const regions = bySource.get(source) ?? bySource.set(source, new Map()).get(source)!;
      const seeded = seeds.of(source, region, wallNow(), (t) => lastWrite.has(source) || lastWrite.set(source, t));
      if (seeded && !regions.has(region)) regions.set(region, seeded);
      // Not answered yet since the start: what the status shows (from before the restart) stays until it answers.
      if (view.pending && seeded && regions.get(region) === seeded) return;
      seeds.drop(source, region);
      const prev = regions.get(region);
      if (!view.available || view.valueGPerKWh === undefined) {
        // No usable value (fail-safe): the region's reading goes, rather than show an old value as current.
        if (prev && regions.delete(region)) schedule(source);
        return;
      }
      const reading: SourceReading = {
        region,
        valueGPerKWh: Math.round(view.valueGPerKWh * 10) / 10,
        unit: 'gCO2eq/kWh',
        dataTime: new Date(view.dataTimeMs ?? wallNow()).toISOString(),
        fallbackLevel: view.fallbackLevel,
        estimated: view.estimated ?? false,
        updatedAt: new Date(wallNow()).toISOString(),
      };
      const same =
        prev &&
        prev.valueGPerKWh === reading.valueGPerKWh &&
        prev.fallbackLevel === reading.fallbackLevel &&
        prev.estimated === reading.estimated;
      if (same && prev.dataTime === reading.dataTime) return;
      if (same) {
        // Only the data time moved: keep it for the next write; write now only as the heartbeat.
        regions.set(region, { ...reading, updatedAt: prev.updatedAt });
        if (wallNow() - (lastWrite.get(source) ?? -Infinity) < heartbeatMs) return;
        return schedule(source);
      }
      regions.set(region, reading);
      schedule(source);
    },
    async flush() {
      for (const [source, t] of [...timers]) {
        clearTimeout(t);
        write(source);
      }
      await writing;
    },
  };
}

/** Per source, the cached readings no note has taken over yet (loaded at the source's first note). */
class CachedSeeds {
  private readonly bySource = new Map<string, Map<string, SourceReading>>();
  private readonly stored: ((source: string) => KubeObject | undefined) | undefined;

  constructor(stored: ((source: string) => KubeObject | undefined) | undefined) {
    this.stored = stored;
  }

  /** The region's cached reading; the first call for a source loads them and hands `onLoad` the newest updatedAt. */
  of(source: string, region: string, nowMs: number, onLoad: (newestMs: number) => void): SourceReading | undefined {
    let seed = this.bySource.get(source);
    if (!seed) {
      const cached = cachedReadings(this.stored?.(source), nowMs);
      this.bySource.set(source, (seed = cached.readings));
      if (cached.newestMs !== undefined) onLoad(cached.newestMs);
    }
    return seed.get(region);
  }

  /** A note with an answer took the region over: its cached reading is no longer what the status stands on. */
  drop(source: string, region: string): void {
    this.bySource.get(source)?.delete(region);
  }
}

/** The readings a cached CarbonSource's status shows, each one checked, and the newest `updatedAt` among them. */
function cachedReadings(
  obj: KubeObject | undefined,
  nowMs: number,
): { readings: Map<string, SourceReading>; newestMs?: number } {
  const readings = new Map<string, SourceReading>();
  const list = (obj?.status as { readings?: unknown } | undefined)?.readings;
  let newestMs: number | undefined;
  for (const r of Array.isArray(list) ? list : []) {
    const ok = trustedReading(r, nowMs);
    if (!ok || readings.has(ok.region)) continue;
    readings.set(ok.region, ok);
    newestMs = Math.max(newestMs ?? -Infinity, Date.parse(ok.updatedAt));
  }
  return { readings, ...(newestMs !== undefined ? { newestMs } : {}) };
}

/** A stored reading in the shape this writer writes, with times that parse and an `updatedAt` not after now. */
function trustedReading(r: unknown, nowMs: number): SourceReading | undefined {
  if (!r || typeof r !== 'object') return undefined;
  const x = r as Record<string, unknown>;
  const time = (v: unknown) => (typeof v === 'string' ? Date.parse(v) : NaN);
  const updated = time(x.updatedAt);
  if (
    typeof x.region !== 'string' ||
    typeof x.valueGPerKWh !== 'number' ||
    !Number.isFinite(x.valueGPerKWh) ||
    x.unit !== 'gCO2eq/kWh' ||
    !Number.isFinite(time(x.dataTime)) ||
    typeof x.fallbackLevel !== 'string' ||
    typeof x.estimated !== 'boolean' ||
    !Number.isFinite(updated) ||
    updated > nowMs
  )
    return undefined;
  return {
    region: x.region,
    valueGPerKWh: x.valueGPerKWh,
    unit: 'gCO2eq/kWh',
    dataTime: x.dataTime as string,
    fallbackLevel: x.fallbackLevel,
    estimated: x.estimated,
    updatedAt: x.updatedAt as string,
  };
}
