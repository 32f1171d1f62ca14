// The one interface every carbon source implements, and the reading it returns. The controller, the signal
// service and the policy only ever see these types; provider wire formats stay inside each provider file.
import type { EmissionBasis } from './trace-file.ts';

export type { EmissionBasis } from './trace-file.ts';

/** `average`: location-based average intensity; `marginal`: the emissions of the next MWh (WattTime MOER). */
export type SignalKind = 'average' | 'marginal';

export interface CarbonReading {
  /** The region as the caller asked for it (zone, WattTime region, UK region, SDK location). */
  region: string;
  /** Carbon intensity in gCO2eq/kWh. Zero is legal; never divide by it. */
  valueGPerKWh: number;
  /** Start of the interval the value describes, ms since epoch (UTC), in real (wall-clock) time. */
  timeMs: number;
  /** The provider that produced it (`electricityMaps`, `wattTime`, …). */
  provider: string;
  signal: SignalKind;
  basis: EmissionBasis;
  /** The provider flagged the value as estimated/modelled rather than measured. */
  estimated: boolean;
  /** The value is a forecast (made before the interval), not an observation. */
  forecast: boolean;
  /** Trace replays: the timestamp of the row in the trace file (ms), so a replayed value can be checked against it. */
  sourceTimeMs?: number;
  /** Trace replays without a forecast column: the "forecast" is the actual future value (an oracle). */
  oracle?: boolean;
}

export interface CarbonProvider {
  /** Provider kind, e.g. `electricityMaps`; copied into every reading. */
  readonly name: string;
  /** The latest value for the region. Throws CarbonProviderError (with a reason) when there is none. */
  current(region: string, signal?: AbortSignal): Promise<CarbonReading>;
  /**
   * Forecast points starting at the current interval and covering `horizonMs`, ascending by time.
   * `null` means the provider publishes no forecast for this region: the policy then uses its own fallback forecast.
   */
  forecast(region: string, horizonMs: number, signal?: AbortSignal): Promise<CarbonReading[] | null>;
  /** Observed values in [fromMs, toMs), ascending. Optional: not every provider keeps history. */
  history?(region: string, fromMs: number, toMs: number, signal?: AbortSignal): Promise<CarbonReading[]>;
}

/** Pounds per MWh → grams per kWh (1 lb = 453.59237 g; 1 MWh = 1000 kWh). */
export const LBS_PER_MWH_TO_G_PER_KWH = 0.45359237;
