// A fixed intensity for every region: for clusters without a data feed, for tests, and as the explicit end of a
// fallback chain. The value is an assumption, so readings are labelled estimated; there is no forecast (a
// constant is not a forecast, and the policy should know it has none).
import { checkRange } from './payload.ts';
import { defineProvider } from './provider-definition.ts';
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

export const staticValue = defineProvider<'static', { valueGPerKWh: number }>({
  kind: 'static',
  title: 'A fixed value',
  docsUrl: 'https://github.com/carbonscale/carbonscale/blob/main/docs/carbon.md',
  transport: 'local',
  credentials: [],
  signalTypes: {
    allowed: ['average', 'marginal'],
    default: 'average',
    kindOf: (t) => (t === 'marginal' ? 'marginal' : 'average'),
  },
  emissionFactorTypes: ['direct', 'lifecycle'],
  block: {
    key: 'static',
    schema: {
      type: 'object',
      description: 'static: a fixed intensity.',
      fields: {
        valueGPerKWh: {
          type: 'number',
          description: 'Intensity in gCO2eq/kWh.',
          minimum: 0,
          maximum: 2000,
          unit: 'gCO2eq/kWh',
          required: true,
        },
      },
    },
  },
  notes: 'any region; the configured value, `estimated: true`, no forecast and no history (a constant is neither)',
  create: (c) =>
    new StaticProvider({ valueGPerKWh: c.block.valueGPerKWh, now: c.now, signal: c.signal, basis: c.basis }),
});
