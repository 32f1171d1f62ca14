// Wraps every provider that createProvider builds, so the rules of reading-checks.ts hold for all of them — the
// four HTTP APIs, the replayed trace, the static value and any provider registered later — without each provider
// having to remember them. The wrapped provider stays reachable as `inner` for its extra endpoints
// (WattTime signal-index, Electricity Maps recent history).
import { checkForecast, checkHistory, checkObservation } from './reading-checks.ts';
import type { CarbonProvider, CarbonReading } from './types.ts';

export class CheckedProvider<P extends CarbonProvider = CarbonProvider> implements CarbonProvider {
  readonly name: string;
  readonly inner: P;
  readonly #now: () => number;
  declare history?: CarbonProvider['history'];

  constructor(inner: P, now: () => number) {
    this.inner = inner;
    this.name = inner.name;
    this.#now = now;
    // Only providers that keep history get the method: `history === undefined` means "none" to callers.
    if (inner.history) {
      const h = inner.history.bind(inner);
      this.history = async (region: string, fromMs: number, toMs: number, signal?: AbortSignal) =>
        checkHistory(await h(region, fromMs, toMs, signal), this.#ctx(region), fromMs, toMs);
    }
  }

  #ctx(region: string) {
    return { what: `${this.name} ${region}`, region, now: this.#now() };
  }

  async current(region: string, signal?: AbortSignal): Promise<CarbonReading> {
    const r = await this.inner.current(region, signal);
    return checkObservation(r, this.#ctx(region), 'current');
  }

  async forecast(region: string, horizonMs: number, signal?: AbortSignal): Promise<CarbonReading[] | null> {
    const pts = await this.inner.forecast(region, horizonMs, signal);
    return pts === null ? null : checkForecast(pts, this.#ctx(region));
  }
}
