// A CarbonSource's status shows what it delivers now: one reading per region the operator polls it for (value,
// data time, fallback level) and when the operator last saw the value change, so `kubectl get csrc` shows the
// current value and its age. Written by a JSON merge patch of status.readings only (the controller's
// server-side-applied conditions stay its own), only when a value (to 0.1 g), the fallback level or the estimated
// flag changed, and at most once per source every `minGapMs` of wall time (a replay at 60× changes hourly values
// every wall minute). A data time that moves alone (the static provider stamps every poll with the time of the
// poll; a 5-minute feed can repeat a value) is a moving field as in ADR 0002: it rides along with the next other
// change, or with a heartbeat when the last write is `heartbeatMs` old — never a write per poll.
// `updatedAt` is wall-clock time, like an Event's: kubectl turns it into an age in real seconds.
import { objectPath, Resources, type KubeClient } from './kube-client.ts';

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
  o: { wallNow?: () => number; minGapMs?: number; heartbeatMs?: number; onError?: (e: unknown) => void } = {},
): CarbonSourceReadings {
  const wallNow = o.wallNow ?? Date.now;
  const minGapMs = o.minGapMs ?? 5000;
  const heartbeatMs = o.heartbeatMs ?? 15 * 60_000;
  const bySource = new Map<string, Map<string, SourceReading>>();
  const lastWrite = new Map<string, number>();
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
