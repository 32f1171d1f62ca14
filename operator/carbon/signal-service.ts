// The layer between providers and their consumers: deduplication, caching, the fallback chain, staleness and
// metrics. Consumers (one per InferenceService) `register` the (source, region) they read; `refresh(now)` polls
// each registered pair once per poll interval however many consumers share it, and concurrent polls of one pair
// share one upstream call (single-flight). `get` is a pure read of the cache at the current time, so the policy
// always sees how old its data is and which level of the chain produced it:
//   primary → fallback:<name> (in the order the source lists them) → last-known (while younger than the
//   primary's staleAfterSeconds) → fail-safe (the source's failSafe; default: eco runs the full variant).
// Only the primary's chain is followed: a fallback's own fallbacks are ignored, so chains cannot loop.
import type { Logger } from 'winston';
import type { Registry } from 'prom-client';
import { Counter, Gauge } from 'prom-client';
import type { CarbonSourceSpec, FailSafe } from './config.ts';
import { checkRange } from './payload.ts';
import type { CarbonErrorReason } from './provider-error.ts';
import { CarbonProviderError } from './provider-error.ts';
import type { CarbonProvider, CarbonReading } from './types.ts';

export type FallbackLevel = 'primary' | `fallback:${string}` | 'last-known' | 'fail-safe' | 'none';

/** Condition/Event reasons (CamelCase, as Kubernetes wants them). */
export type SignalConditionReason =
  'SignalFromPrimary' | 'SignalFromFallback' | 'LastKnownValue' | 'FailSafe' | 'NoSignal';

export interface SourceFailure {
  source: string;
  reason: CarbonErrorReason;
  message: string;
}

export interface CarbonSignal {
  sourceName: string;
  region: string;
  /** The value to use. Absent when no source has one (unless the fail-safe assumes an intensity). */
  reading?: CarbonReading;
  /** Forecast points from now on; `null` = none available, the policy uses its own fallback forecast. */
  forecast: CarbonReading[] | null;
  fallbackLevel: FallbackLevel;
  /** now − reading.timeMs (ms); undefined without a reading. */
  ageMs?: number;
  /** A real provider value (primary, fallback or last-known) is in use. False at fail-safe and none. */
  available: boolean;
  /** Plain English for the CarbonSignalAvailable condition message and the Event. Never holds credentials. */
  reason: string;
  conditionReason: SignalConditionReason;
  /** What eco services do while `available` is false. */
  failSafe: FailSafe;
  /** The latest failure of each source in the chain that failed, primary first. */
  failures: SourceFailure[];
}

export interface SignalChange {
  sourceName: string;
  region: string;
  from: FallbackLevel;
  signal: CarbonSignal;
}

export interface CarbonSignalServiceDeps {
  now: () => number;
  registry?: Registry;
  logger?: Logger;
  /** Called after a refresh when a pair's fallback level changed: the controller turns it into an Event. */
  onChange?: (change: SignalChange) => void;
}

interface Source {
  name: string;
  spec: CarbonSourceSpec;
  provider: CarbonProvider;
}

interface Entry {
  source: string;
  region: string;
  refs: number;
  nextDueMs: number;
  attempted: boolean;
  good?: CarbonReading;
  forecast: CarbonReading[] | null;
  forecastNote?: string;
  error?: CarbonProviderError;
  inflight?: Promise<void>;
  /** The whole chain walk (primary, then fallbacks) in flight for this pair. */
  chainInflight?: Promise<void>;
  lastLevel: FallbackLevel;
}

const key = (source: string, region: string) => `${source}\u0000${region}`;

function toError(e: unknown, what: string): CarbonProviderError {
  if (e instanceof CarbonProviderError) return e;
  return new CarbonProviderError('network', `${what}: ${e instanceof Error ? e.message : String(e)}`);
}

function minutes(ms: number): string {
  const m = Math.round(ms / 60_000);
  return m < 120 ? `${m} min` : `${Math.round(m / 6) / 10} h`;
}

export class CarbonSignalService {
  readonly #deps: CarbonSignalServiceDeps;
  readonly #sources = new Map<string, Source>();
  readonly #entries = new Map<string, Entry>();
  readonly #errors?: Counter;
  readonly #requests?: Counter;

  constructor(deps: CarbonSignalServiceDeps) {
    this.#deps = deps;
    const registers = deps.registry ? [deps.registry] : [];
    if (deps.registry) {
      this.#errors = new Counter({
        name: 'carbonscale_carbon_fetch_errors_total',
        help: 'Failed carbon-signal fetches, by reason',
        labelNames: ['source', 'region', 'provider', 'reason'],
        registers,
      });
      this.#requests = new Counter({
        name: 'carbonscale_carbon_polls_total',
        help: 'Polls of a (source, region) pair (each is one upstream request per endpoint)',
        labelNames: ['source', 'region', 'provider'],
        registers,
      });
      const signals = () =>
        [...this.#entries.values()].filter((e) => e.refs > 0).map((e) => this.get(e.source, e.region));
      new Gauge({
        name: 'carbonscale_carbon_intensity_g_per_kwh',
        help: 'Carbon intensity in use, gCO2eq/kWh (see fallback_level for where it came from)',
        labelNames: ['source', 'region', 'provider', 'signal', 'basis', 'estimated'],
        registers,
        collect() {
          this.reset();
          for (const s of signals())
            if (s.reading)
              this.set(
                {
                  source: s.sourceName,
                  region: s.region,
                  provider: s.reading.provider,
                  signal: s.reading.signal,
                  basis: s.reading.basis,
                  estimated: String(s.reading.estimated),
                },
                s.reading.valueGPerKWh,
              );
        },
      });
      new Gauge({
        name: 'carbonscale_carbon_signal_age_seconds',
        help: 'Age of the carbon intensity in use (now − its data timestamp)',
        labelNames: ['source', 'region'],
        registers,
        collect() {
          this.reset();
          for (const s of signals())
            if (s.ageMs !== undefined) this.set({ source: s.sourceName, region: s.region }, s.ageMs / 1000);
        },
      });
      new Gauge({
        name: 'carbonscale_carbon_fallback_level',
        help: 'Which level of the fallback chain is in use (1 for the active level)',
        labelNames: ['source', 'region', 'level'],
        registers,
        collect() {
          this.reset();
          for (const s of signals()) this.set({ source: s.sourceName, region: s.region, level: s.fallbackLevel }, 1);
        },
      });
    }
  }

  /** Adds or replaces a CarbonSource. Cached values of a replaced source are dropped (its config changed). */
  setSource(name: string, spec: CarbonSourceSpec, provider: CarbonProvider): void {
    const had = this.#sources.has(name);
    this.#sources.set(name, { name, spec, provider });
    if (had)
      for (const e of this.#entries.values())
        if (e.source === name) {
          delete e.good;
          delete e.error;
          e.forecast = null;
          e.attempted = false;
          e.nextDueMs = 0;
        }
  }

  removeSource(name: string): void {
    this.#sources.delete(name);
  }

  /** One consumer reads (source, region). Call once per consumer; the pair is polled once whatever the count. */
  register(sourceName: string, region: string): void {
    const k = key(sourceName, region);
    const e = this.#entries.get(k) ?? this.#newEntry(sourceName, region);
    e.refs++;
  }

  unregister(sourceName: string, region: string): void {
    const e = this.#entries.get(key(sourceName, region));
    if (e && e.refs > 0) e.refs--;
  }

  #newEntry(source: string, region: string): Entry {
    const e: Entry = { source, region, refs: 0, nextDueMs: 0, attempted: false, forecast: null, lastLevel: 'none' };
    this.#entries.set(key(source, region), e);
    return e;
  }

  /** Polls every registered pair that is due, walking fallbacks where the primary has no fresh value. */
  async refresh(now: number = this.#deps.now()): Promise<void> {
    const due = [...this.#entries.values()].filter((e) => e.refs > 0 && e.nextDueMs <= now);
    await Promise.all(due.map((e) => this.#sharedChain(e, now)));
    for (const e of this.#entries.values()) {
      if (e.refs === 0) continue;
      const s = this.get(e.source, e.region);
      if (s.fallbackLevel !== e.lastLevel) {
        const from = e.lastLevel;
        e.lastLevel = s.fallbackLevel;
        this.#deps.onChange?.({ sourceName: e.source, region: e.region, from, signal: s });
      }
    }
  }

  /**
   * The signal for a pair, polling first if it has never been polled or is due (e.g. a new InferenceService
   * wants a value before the next tick). Concurrent callers wait for the same flight: one upstream call.
   */
  async ensure(sourceName: string, region: string): Promise<CarbonSignal> {
    const e = this.#entries.get(key(sourceName, region)) ?? this.#newEntry(sourceName, region);
    const now = this.#deps.now();
    if (e.chainInflight) await e.chainInflight;
    else if (!e.attempted || e.nextDueMs <= now) await this.#sharedChain(e, now);
    return this.get(sourceName, region);
  }

  #sharedChain(e: Entry, now: number): Promise<void> {
    e.chainInflight ??= this.#pollChain(e, now).finally(() => {
      e.chainInflight = undefined;
    });
    return e.chainInflight;
  }

  async #pollChain(e: Entry, now: number): Promise<void> {
    await this.#poll(e, now);
    if (this.#fresh(e, now)) return;
    const src = this.#sources.get(e.source);
    for (const fb of src?.spec.fallback ?? []) {
      if (!this.#sources.has(fb)) continue;
      const fe = this.#entries.get(key(fb, e.region)) ?? this.#newEntry(fb, e.region);
      if (fe.nextDueMs <= now) await this.#poll(fe, now);
      else if (fe.inflight) await fe.inflight;
      if (this.#fresh(fe, now)) return;
    }
  }

  /** Single-flight poll of one pair: concurrent callers share the upstream calls. */
  #poll(e: Entry, now: number): Promise<void> {
    if (e.inflight) return e.inflight;
    const src = this.#sources.get(e.source);
    if (!src) return Promise.resolve();
    e.nextDueMs = now + src.spec.pollIntervalSeconds * 1000;
    e.inflight = this.#doPoll(e, src, now).finally(() => {
      e.inflight = undefined;
    });
    return e.inflight;
  }

  async #doPoll(e: Entry, src: Source, now: number): Promise<void> {
    const { provider, spec } = src;
    const what = `${src.name} (${provider.name}) ${e.region}`;
    this.#requests?.inc({ source: src.name, region: e.region, provider: provider.name });
    const region = spec.regionMap?.[e.region] ?? e.region;
    const [cur, fc] = await Promise.allSettled([
      provider.current(region),
      provider.forecast(region, spec.forecastHorizonHours * 3_600_000),
    ]);
    e.attempted = true;
    try {
      if (cur.status === 'rejected') throw toError(cur.reason, what);
      const r = cur.value;
      // Defence in depth: whatever a provider returns, nothing out of range gets past here.
      checkRange(r.valueGPerKWh, what, 'valueGPerKWh');
      const age = now - r.timeMs;
      if (age > spec.staleAfterSeconds * 1000)
        throw new CarbonProviderError(
          'stale',
          `${what}: newest value is ${minutes(age)} old, older than staleAfterSeconds (${minutes(spec.staleAfterSeconds * 1000)})`,
        );
      e.good = r;
      delete e.error;
    } catch (err) {
      e.error = toError(err, what);
      this.#errors?.inc({ source: src.name, region: e.region, provider: provider.name, reason: e.error.reason });
      this.#deps.logger?.warn('carbon signal fetch failed', {
        source: src.name,
        provider: provider.name,
        region: e.region,
        reason: e.error.reason,
        error: e.error.message,
      });
    }
    if (fc.status === 'fulfilled') {
      e.forecast = fc.value;
      if (fc.value === null) e.forecastNote = `${provider.name} publishes no forecast for ${e.region}`;
      else delete e.forecastNote;
    } else {
      const fe = toError(fc.reason, `${what} forecast`);
      // Keep an older forecast: #forecastFrom drops the points that are already past.
      e.forecastNote = `forecast failed: ${fe.message}`;
      this.#errors?.inc({
        source: src.name,
        region: e.region,
        provider: provider.name,
        reason: `forecast-${fe.reason}`,
      });
    }
  }

  #fresh(e: Entry, now: number): boolean {
    const src = this.#sources.get(e.source);
    return !!src && !!e.good && e.error === undefined && now - e.good.timeMs <= src.spec.staleAfterSeconds * 1000;
  }

  #forecastFrom(e: Entry, now: number): CarbonReading[] | null {
    if (!e.forecast) return null;
    const pts = e.forecast.filter((p, i, all) => {
      const next = all[i + 1];
      const end = next ? next.timeMs : p.timeMs + 3_600_000;
      return end > now;
    });
    return pts.length > 0 ? pts : null;
  }

  /** The signal for (source, region) at the current time. Pure read: never calls a provider. */
  get(sourceName: string, region: string): CarbonSignal {
    const now = this.#deps.now();
    const src = this.#sources.get(sourceName);
    const failSafe: FailSafe = src?.spec.failSafe ?? { action: 'full-variant' };
    const failSafeText =
      failSafe.action === 'full-variant'
        ? 'eco services run the full variant; premium services are never degraded'
        : `assuming ${failSafe.valueGPerKWh} gCO2eq/kWh (configured fail-safe); premium services are never degraded`;
    const base = { sourceName, region, failSafe };
    if (!src)
      return {
        ...base,
        forecast: null,
        fallbackLevel: 'none',
        available: false,
        conditionReason: 'NoSignal',
        reason: `CarbonSource '${sourceName}' does not exist; ${failSafeText}.`,
        failures: [],
      };
    const primary = this.#entries.get(key(sourceName, region));
    if (!primary || !primary.attempted)
      return {
        ...base,
        forecast: null,
        fallbackLevel: 'none',
        available: false,
        conditionReason: 'NoSignal',
        reason: `CarbonSource '${sourceName}' has not been polled for ${region} yet; ${failSafeText}.`,
        failures: [],
      };

    const failures: SourceFailure[] = [];
    const chain: Entry[] = [primary];
    for (const fb of src.spec.fallback ?? []) {
      const fe = this.#entries.get(key(fb, region));
      if (!this.#sources.has(fb))
        failures.push({ source: fb, reason: 'config', message: `fallback CarbonSource '${fb}' does not exist` });
      else if (fe) chain.push(fe);
    }
    const describe = (r: CarbonReading) =>
      `${r.valueGPerKWh} gCO2eq/kWh (${r.signal}, ${r.basis}, ${r.estimated ? 'estimated' : 'measured'}${
        r.forecast ? ', forecast' : ''
      }) for ${new Date(r.timeMs).toISOString()}, ${minutes(now - r.timeMs)} old`;

    for (const [i, e] of chain.entries()) {
      const fresh = this.#fresh(e, now);
      if (fresh && e.good) {
        const level: FallbackLevel = i === 0 ? 'primary' : `fallback:${e.source}`;
        const failText = failures.map((f) => `${f.source}: ${f.message}`).join('; ');
        const forecast = this.#forecastFrom(e, now);
        const fcText = forecast ? '' : ` No forecast (${e.forecastNote ?? 'none published'}): the policy uses its own.`;
        return {
          ...base,
          reading: e.good,
          forecast,
          fallbackLevel: level,
          ageMs: now - e.good.timeMs,
          available: true,
          conditionReason: i === 0 ? 'SignalFromPrimary' : 'SignalFromFallback',
          reason:
            i === 0
              ? `Carbon signal from '${e.source}': ${describe(e.good)}.${fcText}`
              : `Primary CarbonSource failed (${failText}); using fallback '${e.source}': ${describe(e.good)}.${fcText}`,
          failures,
        };
      }
      if (e.error) failures.push({ source: e.source, reason: e.error.reason, message: e.error.message });
      else if (e.good)
        failures.push({
          source: e.source,
          reason: 'stale',
          message: `value from ${new Date(e.good.timeMs).toISOString()} is older than ${minutes(
            (this.#sources.get(e.source)?.spec.staleAfterSeconds ?? 0) * 1000,
          )}`,
        });
    }
    const failText = failures.map((f) => `${f.source}: ${f.message}`).join('; ') || 'no answer yet';

    const bound = src.spec.staleAfterSeconds * 1000;
    const lastKnown = chain
      .filter((e) => e.good && now - e.good.timeMs <= bound)
      .sort((a, b) => b.good!.timeMs - a.good!.timeMs)[0];
    if (lastKnown?.good)
      return {
        ...base,
        reading: lastKnown.good,
        forecast: this.#forecastFrom(lastKnown, now),
        fallbackLevel: 'last-known',
        ageMs: now - lastKnown.good.timeMs,
        available: true,
        conditionReason: 'LastKnownValue',
        reason: `No source in the chain answered (${failText}); using the last known value from '${lastKnown.source}': ${describe(
          lastKnown.good,
        )} (usable until ${minutes(bound)} old).`,
        failures,
      };

    const signal: CarbonSignal = {
      ...base,
      forecast: null,
      fallbackLevel: 'fail-safe',
      available: false,
      conditionReason: 'FailSafe',
      reason: `No usable carbon signal for ${region} (${failText}); fail-safe: ${failSafeText}.`,
      failures,
    };
    if (failSafe.action === 'assume-intensity') {
      signal.reading = {
        region,
        valueGPerKWh: failSafe.valueGPerKWh,
        timeMs: now,
        provider: 'fail-safe',
        signal: 'average',
        basis: 'direct',
        estimated: true,
        forecast: false,
      };
      signal.ageMs = 0;
    }
    return signal;
  }
}
