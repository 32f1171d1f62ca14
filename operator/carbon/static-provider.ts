// A fixed intensity for every region: for clusters without a data feed, for tests, and as the explicit end of a
// fallback chain. The value is an assumption, so readings are labelled estimated; there is no forecast (a
// constant is not a forecast, and the policy should know it has none).
import { checkRange } from './payload.ts';
import { CarbonProviderError } from './provider-error.ts';
import type { CarbonProvider, CarbonReading, EmissionBasis, SignalKind } from './types.ts';

export interface StaticProviderOptions {
  valueGPerKWh: number;
  now: () => number;
  signal?: SignalKind;
  basis?: EmissionBasis;
}

export class StaticProvider implements CarbonProvider {
  readonly name = 'static';
  readonly #o: StaticProviderOptions;

  constructor(o: StaticProviderOptions) {
    checkRange(o.valueGPerKWh, 'static', 'static.valueGPerKWh');
    this.#o = o;
  }

  async current(region: string, signal?: AbortSignal): Promise<CarbonReading> {
    if (signal?.aborted) throw new CarbonProviderError('aborted', `static ${region}: request cancelled`);
    return {
      region,
      valueGPerKWh: this.#o.valueGPerKWh,
      timeMs: this.#o.now(),
      provider: this.name,
      signal: this.#o.signal ?? 'average',
      basis: this.#o.basis ?? 'direct',
      estimated: true,
      forecast: false,
    };
  }

  async forecast(): Promise<CarbonReading[] | null> {
    return null;
  }
}
