// The layer between providers and their consumers: deduplication, caching, the fallback chain, staleness, history
// and metrics. Consumers (one per InferenceService) `register` the (source, region) they read; `refresh(now)` polls
// each registered pair once per poll interval however many consumers share it, and concurrent polls of one pair
// share one upstream call (single-flight). `get` is a pure read of the cache at the current time, so the policy
// always sees how old its data is and which level of the chain produced it:
//   primary → fallback:<name> (in the order the source lists them) → last-known (while younger than the
//   primary's staleAfterSeconds) → fail-safe (the source's failSafe; default: eco runs the full variant).
// Only the primary's chain is followed: a fallback's own fallbacks are ignored, so chains cannot loop.
// Time is the injected clock's: staleness is judged when an answer arrives, ages are never negative, and a value
// dated in the future is never used (reading-checks.ts). `history(source, region)` is the measured series behind
// the policy's fallback forecast (carbon-history.ts; docs/adr/0405).
import type { Logger } from 'winston';
import type { Registry } from 'prom-client';
import type { IntensityPoint } from '../decision/types.ts';
import type { CarbonHistoryStore } from './carbon-history.ts';
import { HISTORY_DEPTH_MS, HistorySeries, pointProblem } from './carbon-history.ts';
import type { CarbonSourceSpec, FailSafe } from './config.ts';
import type { CarbonErrorReason } from './provider-error.ts';
import { CarbonProviderError, REJECTION_REASONS } from './provider-error.ts';
import { CLOCK_SKEW_ALLOWANCE_MS, ageMs, checkForecast, checkObservation } from './reading-checks.ts';
import type { SignalMetrics } from './signal-metrics.ts';
import { createSignalMetrics } from './signal-metrics.ts';
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
  /** now − reading.timeMs (ms), never negative; undefined without a reading. */
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
  /** Keeps history across restarts (the controller's store); without it history lives in memory only. */
  historyStore?: CarbonHistoryStore;
  /** Depth of history(); default HISTORY_DEPTH_MS (8 days, the policy's CARBON_HISTORY_MS). */
  historyDepthMs?: number;
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
  history: HistorySeries;
  /** The store's copy has been read into `history` (or reading it failed: logged, not retried). */
  historyLoaded?: Promise<void>;
  /** The provider's history() has seeded `history`; until then it is tried at most once an hour. */
  seeded: boolean;
  seedNotBeforeMs: number;
  /** The last save to the store, so saves of one pair never overlap. */
  saving: Promise<void>;
}

const key = (source: string, region: string) => `${source}\u0000${region}`;
const SEED_RETRY_MS = 3_600_000;

function toError(e: unknown, what: string): CarbonProviderError {
  if (e instanceof CarbonProviderError) return e;
  return new CarbonProviderError('network', `${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

function minutes(ms: number): string {
  const m = Math.round(ms / 60_000);
  return m < 120 ? `${m} min` : `${Math.round(m / 6) / 10} h`;
}

/** What a change of spec invalidates in the history: another provider, signal, basis or region map. */
function sameSeries(a: CarbonSourceSpec, b: CarbonSourceSpec): boolean {
  const pick = (s: CarbonSourceSpec) =>
    JSON.stringify([s.provider, s.signalType, s.emissionFactorType, s.regionMap, s.trace, s.static]);
  return pick(a) === pick(b);
}

export class CarbonSignalService {
  readonly #deps: CarbonSignalServiceDeps;
  readonly #sources = new Map<string, Source>();
  readonly #entries = new Map<string, Entry>();
  readonly #metrics?: SignalMetrics;
  readonly #depthMs: number;

  constructor(deps: CarbonSignalServiceDeps) {
    this.#deps = deps;
    this.#depthMs = deps.historyDepthMs ?? HISTORY_DEPTH_MS;
    if (deps.registry)
      this.#metrics = createSignalMetrics(deps.registry, () =>
        [...this.#entries.values()].filter((e) => e.refs > 0).map((e) => this.get(e.source, e.region)),
      );
  }

  /** Adds or replaces a CarbonSource. Cached values of a replaced source are dropped (its config changed). */
  setSource(name: string, spec: CarbonSourceSpec, provider: CarbonProvider): void {
    const had = this.#sources.get(name);
    this.#sources.set(name, { name, spec, provider });
    if (had)
      for (const e of this.#entries.values())
        if (e.source === name) {
          delete e.good;
          delete e.error;
          e.forecast = null;
          e.attempted = false;
          e.nextDueMs = 0;
          // The grid's past does not change with a poll interval; it does with another provider or region map.
          if (!sameSeries(had.spec, spec)) {
            e.history.clear();
            e.seeded = false;
            e.seedNotBeforeMs = 0;
            this.#save(e);
          }
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
    const e: Entry = {
      source,
      region,
      refs: 0,
      nextDueMs: 0,
      attempted: false,
      forecast: null,
      lastLevel: 'none',
      history: new HistorySeries(this.#depthMs),
      seeded: false,
      seedNotBeforeMs: 0,
      saving: Promise.resolve(),
    };
    this.#entries.set(key(source, region), e);
    return e;
  }

  /**
   * Measured intensity for the pair, ascending, one point per distinct data time, HISTORY_DEPTH_MS deep: the
   * values its chain produced (primary or a fallback; never the fail-safe's assumption), seeded from the primary
   * provider's history() and from the store. Pure read.
   */
  history(sourceName: string, region: string): IntensityPoint[] {
    return this.#entries.get(key(sourceName, region))?.history.at(this.#deps.now()) ?? [];
  }

  /** Reads the store's copy of the pair's history, once (the first poll does it; callers may do it earlier). */
  loadHistory(sourceName: string, region: string): Promise<void> {
    const e = this.#entries.get(key(sourceName, region)) ?? this.#newEntry(sourceName, region);
    e.historyLoaded ??= this.#load(e);
    return e.historyLoaded;
  }

  async #load(e: Entry): Promise<void> {
    const store = this.#deps.historyStore;
    if (!store) return;
    try {
      const pts = await store.load(e.source, e.region);
      const now = this.#deps.now();
      const bad = pts.map((p) => pointProblem(p, now)).filter((x) => x !== undefined);
      if (bad.length > 0)
        this.#deps.logger?.warn('stored carbon history has points that cannot be trusted; they are dropped', {
          source: e.source,
          region: e.region,
          dropped: bad.length,
          first: bad[0],
        });
      e.history.merge(pts, now);
    } catch (err) {
      this.#deps.logger?.warn('could not load the stored carbon history; starting without it', {
        source: e.source,
        region: e.region,
        error: toError(err, `${e.source} ${e.region} history store`).message,
      });
    }
  }

  #save(e: Entry): void {
    const store = this.#deps.historyStore;
    if (!store) return;
    const points = e.history.at(this.#deps.now());
    e.saving = e.saving
      .then(() => store.save(e.source, e.region, points))
      .catch((err: unknown) => {
        this.#deps.logger?.warn('could not save the carbon history', {
          source: e.source,
          region: e.region,
          error: toError(err, `${e.source} ${e.region} history store`).message,
        });
      });
  }

  /** Waits for every history save under way (graceful shutdown; tests). Saves that failed were logged. */
  async flushHistory(): Promise<void> {
    await Promise.all([...this.#entries.values()].map((e) => e.saving));
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
    await this.loadHistory(e.source, e.region);
    await this.#walkChain(e, now);
    this.#record(e);
  }

  async #walkChain(e: Entry, now: number): Promise<void> {
    await this.#poll(e, now, true);
    if (this.#fresh(e, this.#deps.now())) return;
    const src = this.#sources.get(e.source);
    for (const fb of src?.spec.fallback ?? []) {
      if (!this.#sources.has(fb)) continue;
      const fe = this.#entries.get(key(fb, e.region)) ?? this.#newEntry(fb, e.region);
      if (fe.nextDueMs <= now) await this.#poll(fe, now, false);
      else if (fe.inflight) await fe.inflight;
      if (this.#fresh(fe, this.#deps.now())) return;
    }
  }

  /** After a chain walk: the real value in use joins the pair's history (never a fail-safe assumption). */
  #record(e: Entry): void {
    const s = this.get(e.source, e.region);
    if (!s.available || !s.reading || s.reading.provider === 'fail-safe') return;
    if (e.history.merge([{ timeMs: s.reading.timeMs, valueGPerKWh: s.reading.valueGPerKWh }], this.#deps.now()))
      this.#save(e);
  }

  /** Single-flight poll of one pair: concurrent callers share the upstream calls. */
  #poll(e: Entry, now: number, primary: boolean): Promise<void> {
    if (e.inflight) return e.inflight;
    const src = this.#sources.get(e.source);
    if (!src) return Promise.resolve();
    e.nextDueMs = now + src.spec.pollIntervalSeconds * 1000;
    e.inflight = this.#doPoll(e, src, now, primary && e.refs > 0).finally(() => {
      e.inflight = undefined;
    });
    return e.inflight;
  }

  /** Counts and logs one failed call; returns the error as a CarbonProviderError. */
  #failed(src: Source, e: Entry, call: 'current' | 'forecast' | 'history', err: unknown): CarbonProviderError {
    const what = `${src.name} (${src.provider.name}) ${e.region}${call === 'current' ? '' : ` ${call}`}`;
    const pe = toError(err, what);
    const labels = { source: src.name, region: e.region, provider: src.provider.name };
    this.#metrics?.errors.inc({ ...labels, reason: call === 'current' ? pe.reason : `${call}-${pe.reason}` });
    if (REJECTION_REASONS.has(pe.reason))
      this.#metrics?.rejected.inc({
        source: src.name,
        provider: src.provider.name,
        call,
        reason: pe.reason,
        field: pe.field ?? '',
      });
    this.#deps.logger?.warn(`carbon signal ${call === 'current' ? 'fetch' : call} failed`, {
      ...labels,
      reason: pe.reason,
      ...(pe.field !== undefined ? { field: pe.field } : {}),
      error: pe.message,
    });
    return pe;
  }

  async #doPoll(e: Entry, src: Source, now: number, seed: boolean): Promise<void> {
    const { provider, spec } = src;
    const what = `${src.name} (${provider.name}) ${e.region}`;
    this.#metrics?.requests.inc({ source: src.name, region: e.region, provider: provider.name });
    const region = spec.regionMap?.[e.region] ?? e.region;
    const wantSeed = seed && !e.seeded && provider.history !== undefined && now >= e.seedNotBeforeMs;
    const [cur, fc, hist] = await Promise.allSettled([
      provider.current(region),
      provider.forecast(region, spec.forecastHorizonHours * 3_600_000),
      wantSeed ? provider.history!(region, now - this.#depthMs, now) : Promise.resolve(null),
    ]);
    // Judge the answers on the clock as it is when they arrived, not as it was when the poll began.
    const at = this.#deps.now();
    e.attempted = true;
    try {
      if (cur.status === 'rejected') throw cur.reason;
      // Defence in depth: whatever a provider returns, nothing untrustworthy gets past here.
      const r = checkObservation(cur.value, { what, region, now: at }, 'current');
      if (at - r.timeMs > spec.staleAfterSeconds * 1000)
        throw new CarbonProviderError(
          'stale',
          `${what}: newest value is ${minutes(at - r.timeMs)} old, older than staleAfterSeconds (${minutes(spec.staleAfterSeconds * 1000)}): it is dated ${new Date(r.timeMs).toISOString()}`,
          { field: 'current.timeMs' },
        );
      e.good = r;
      delete e.error;
    } catch (err) {
      e.error = this.#failed(src, e, 'current', err);
    }
    this.#takeForecast(e, src, fc, { what, region, now: at });
    if (hist.status === 'fulfilled' && hist.value) {
      e.seeded = true;
      if (
        e.history.merge(
          hist.value.map((p) => ({ timeMs: p.timeMs, valueGPerKWh: p.valueGPerKWh })),
          at,
        )
      )
        this.#save(e);
    } else if (hist.status === 'rejected') {
      e.seedNotBeforeMs = at + SEED_RETRY_MS;
      this.#failed(src, e, 'history', hist.reason);
    }
  }

  #takeForecast(
    e: Entry,
    src: Source,
    fc: PromiseSettledResult<CarbonReading[] | null>,
    ctx: { what: string; region: string; now: number },
  ): void {
    try {
      if (fc.status === 'rejected') throw fc.reason;
      e.forecast = fc.value === null ? null : checkForecast(fc.value, ctx);
      if (fc.value === null) e.forecastNote = `${src.provider.name} publishes no forecast for ${e.region}`;
      else delete e.forecastNote;
    } catch (err) {
      // Keep an older forecast: #forecastFrom drops the points that are already past.
      e.forecastNote = `forecast failed: ${this.#failed(src, e, 'forecast', err).message}`;
    }
  }

  /** A usable value: polled without error, not dated in the future, younger than the source's staleness bound. */
  #usable(e: Entry, now: number, boundMs?: number): boolean {
    const src = this.#sources.get(e.source);
    if (!src || !e.good) return false;
    const t = e.good.timeMs;
    return t <= now + CLOCK_SKEW_ALLOWANCE_MS && now - t <= (boundMs ?? src.spec.staleAfterSeconds * 1000);
  }

  #fresh(e: Entry, now: number): boolean {
    return e.error === undefined && this.#usable(e, now);
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
    const base = { sourceName, region, failSafe };
    const none = (reason: string): CarbonSignal => ({
      ...base,
      forecast: null,
      fallbackLevel: 'none',
      available: false,
      conditionReason: 'NoSignal',
      reason: `${reason}; ${failSafeText(failSafe)}.`,
      failures: [],
    });
    if (!src) return none(`CarbonSource '${sourceName}' does not exist`);
    const primary = this.#entries.get(key(sourceName, region));
    if (!primary || !primary.attempted)
      return none(`CarbonSource '${sourceName}' has not been polled for ${region} yet`);
    const { chain, failures } = this.#chain(src, primary, region);
    for (const [i, e] of chain.entries()) {
      if (this.#fresh(e, now)) return this.#fromLink(base, e, i, failures, now);
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
    return this.#lastKnownOrFailSafe(base, src, chain, failures, now);
  }

  #chain(src: Source, primary: Entry, region: string): { chain: Entry[]; failures: SourceFailure[] } {
    const failures: SourceFailure[] = [];
    const chain: Entry[] = [primary];
    for (const fb of src.spec.fallback ?? []) {
      const fe = this.#entries.get(key(fb, region));
      if (!this.#sources.has(fb))
        failures.push({ source: fb, reason: 'config', message: `fallback CarbonSource '${fb}' does not exist` });
      else if (fe) chain.push(fe);
    }
    return { chain, failures };
  }

  #fromLink(
    base: Pick<CarbonSignal, 'sourceName' | 'region' | 'failSafe'>,
    e: Entry,
    i: number,
    failures: SourceFailure[],
    now: number,
  ): CarbonSignal {
    const good = e.good!;
    const forecast = this.#forecastFrom(e, now);
    const fcText = forecast ? '' : ` No forecast (${e.forecastNote ?? 'none published'}): the policy uses its own.`;
    const failText = failures.map((f) => `${f.source}: ${f.message}`).join('; ');
    return {
      ...base,
      reading: good,
      forecast,
      fallbackLevel: i === 0 ? 'primary' : `fallback:${e.source}`,
      ageMs: ageMs(now, good.timeMs),
      available: true,
      conditionReason: i === 0 ? 'SignalFromPrimary' : 'SignalFromFallback',
      reason:
        i === 0
          ? `Carbon signal from '${e.source}': ${describeReading(good, now)}.${fcText}`
          : `Primary CarbonSource failed (${failText}); using fallback '${e.source}': ${describeReading(good, now)}.${fcText}`,
      failures,
    };
  }

  #lastKnownOrFailSafe(
    base: Pick<CarbonSignal, 'sourceName' | 'region' | 'failSafe'>,
    src: Source,
    chain: Entry[],
    failures: SourceFailure[],
    now: number,
  ): CarbonSignal {
    const failText = failures.map((f) => `${f.source}: ${f.message}`).join('; ') || 'no answer yet';
    const bound = src.spec.staleAfterSeconds * 1000;
    const lastKnown = chain
      .filter((e) => this.#usable(e, now, bound))
      .sort((a, b) => b.good!.timeMs - a.good!.timeMs)[0];
    if (lastKnown?.good)
      return {
        ...base,
        reading: lastKnown.good,
        forecast: this.#forecastFrom(lastKnown, now),
        fallbackLevel: 'last-known',
        ageMs: ageMs(now, lastKnown.good.timeMs),
        available: true,
        conditionReason: 'LastKnownValue',
        reason: `No source in the chain answered (${failText}); using the last known value from '${lastKnown.source}': ${describeReading(
          lastKnown.good,
          now,
        )} (usable until ${minutes(bound)} old).`,
        failures,
      };
    const signal: CarbonSignal = {
      ...base,
      forecast: null,
      fallbackLevel: 'fail-safe',
      available: false,
      conditionReason: 'FailSafe',
      reason: `No usable carbon signal for ${base.region} (${failText}); fail-safe: ${failSafeText(base.failSafe)}.`,
      failures,
    };
    if (base.failSafe.action === 'assume-intensity') {
      signal.reading = {
        region: base.region,
        valueGPerKWh: base.failSafe.valueGPerKWh,
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

function failSafeText(f: FailSafe): string {
  return f.action === 'full-variant'
    ? 'eco services run the full variant; premium services are never degraded'
    : `assuming ${f.valueGPerKWh} gCO2eq/kWh (configured fail-safe); premium services are never degraded`;
}

function describeReading(r: CarbonReading, now: number): string {
  return `${r.valueGPerKWh} gCO2eq/kWh (${r.signal}, ${r.basis}, ${r.estimated ? 'estimated' : 'measured'}${
    r.forecast ? ', forecast' : ''
  }) for ${new Date(r.timeMs).toISOString()}, ${minutes(ageMs(now, r.timeMs))} old`;
}
