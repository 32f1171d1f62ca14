// ProfileDrift: where a meter measures a service, the variant's declared power profile is compared with it, so a
// profile cannot quietly flatter the savings (the baseline and every estimated interval rest on it). Per variant,
// over its last DRIFT_WINDOW measured intervals: drift = Σ profile estimate / Σ measured − 1. With at least
// DRIFT_MIN_INTERVALS of them and |drift| > DRIFT_BOUND the variant drifts: a Warning Event and the ProfileDrift
// condition (True), until the window agrees again. The bound is wider than the ±10 % a profile measured on the
// same GPU typically holds (docs/profiles.md), because a meter also counts what the profile leaves out (Kepler: the
// pod's CPU; dcgm: the whole device). Pure; docs/audit.md, "ProfileDrift".
import { Condition, Reason } from '../constants.ts';

export const DRIFT_BOUND = 0.25;
export const DRIFT_WINDOW = 60;
export const DRIFT_MIN_INTERVALS = 10;

export interface DriftSample {
  measuredKWh: number;
  profileKWh: number;
}

export interface VariantDrift {
  samples: DriftSample[];
  /** The variant drifts now (set when the window says so, cleared when it agrees again). */
  drifting: boolean;
}

/** Per variant name. */
export type DriftBook = Map<string, VariantDrift>;

export interface DriftChange {
  variant: string;
  drifting: boolean;
  /** Σ profile / Σ measured − 1 over the window. */
  drift: number;
  intervals: number;
}

export function driftOf(v: VariantDrift): number | undefined {
  const m = v.samples.reduce((s, x) => s + x.measuredKWh, 0);
  const p = v.samples.reduce((s, x) => s + x.profileKWh, 0);
  return m > 0 ? p / m - 1 : undefined;
}

/** Adds one measured interval; returns the change of state when the variant starts or stops drifting. */
export function noteMeasured(book: DriftBook, variant: string, s: DriftSample): DriftChange | undefined {
  const v = book.get(variant) ?? { samples: [], drifting: false };
  book.set(variant, v);
  v.samples.push(s);
  if (v.samples.length > DRIFT_WINDOW) v.samples.splice(0, v.samples.length - DRIFT_WINDOW);
  const d = driftOf(v);
  if (d === undefined || v.samples.length < DRIFT_MIN_INTERVALS) return undefined;
  const drifting = Math.abs(d) > DRIFT_BOUND;
  if (drifting === v.drifting) return undefined;
  v.drifting = drifting;
  return { variant, drifting, drift: d, intervals: v.samples.length };
}

const pct = (d: number) => `${d > 0 ? '+' : ''}${(d * 100).toFixed(0)}%`;

export function driftNote(c: DriftChange): string {
  return c.drifting
    ? `variant ${c.variant}: its power profile estimates ${pct(c.drift)} against the meter over the last ${c.intervals} measured intervals (bound ±${DRIFT_BOUND * 100}%): re-measure it (carbonscale profile) and update powerIdleWatts/powerBusyWatts`
    : `variant ${c.variant}: its power profile agrees with the meter again (${pct(c.drift)} over the last ${c.intervals} measured intervals)`;
}

/** The ProfileDrift condition; none while nothing was measured (no meter, or not covered yet). */
export function driftCondition(
  book: DriftBook | undefined,
): { type: string; status: 'True' | 'False'; reason: string; message: string } | undefined {
  if (!book || book.size === 0) return undefined;
  const off = [...book]
    .filter(([, v]) => v.drifting)
    .map(([name]) => name)
    .sort();
  if (off.length > 0)
    return {
      type: Condition.ProfileDrift,
      status: 'True',
      reason: Reason.ProfileOffMeter,
      message: `the power profile of ${off.join(', ')} differs from the meter by more than ${DRIFT_BOUND * 100}%: re-measure it (carbonscale profile)`,
    };
  return {
    type: Condition.ProfileDrift,
    status: 'False',
    reason: Reason.ProfileMatchesMeter,
    message: `the measured variants' power profiles agree with the meter within ${DRIFT_BOUND * 100}%`,
  };
}
