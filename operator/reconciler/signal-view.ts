// The reconciler's view of a service's carbon signal (the SignalPort returns it; main.ts maps the carbon signal
// service's CarbonSignal onto it).
import type { IntensityPoint } from '../decision/types.ts';

export interface SignalView {
  /** A real provider value (primary, fallback or last-known) is in use. */
  available: boolean;
  /**
   * The source exists but has not answered its first poll yet (operator start, new source): the controller makes
   * no decision and writes nothing until it has, so a restart never flips services to the fail-safe.
   */
  pending: boolean;
  /** gCO2eq/kWh: the provider's value, or the fail-safe's assumed one (then `available` is false). */
  valueGPerKWh?: number;
  provider?: string;
  signal?: 'average' | 'marginal';
  basis?: 'direct' | 'lifecycle';
  /** Start of the interval the value describes, on the operator's clock. */
  dataTimeMs?: number;
  estimated?: boolean;
  /** The value is a provider forecast, not an observation. */
  isForecast?: boolean;
  forecast: IntensityPoint[] | null;
  /** primary, fallback:<source>, last-known, fail-safe or none. */
  fallbackLevel: string;
  /** Plain words for Events (may hold times and ages). */
  reason: string;
  /** Words for the condition message: no times or ages, so it changes only when the situation does. */
  summary: string;
  conditionReason: string;
}

/** Audit rows number the fallback level: 0 primary, 1 a fallback source, 2 last known value, 3 fail-safe/none. */
export function fallbackIndex(level: string): number {
  if (level === 'primary') return 0;
  if (level.startsWith('fallback:')) return 1;
  if (level === 'last-known') return 2;
  return 3;
}
