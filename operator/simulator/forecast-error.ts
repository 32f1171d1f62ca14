// How good is a forecast on a trace: mean absolute error over leads 1..H steps, gCO2eq/kWh.
import { buildFallbackForecast, CARBON_HISTORY_MS } from '../decision/fallback-forecast.ts';
import type { IntensityPoint } from '../decision/types.ts';

export interface ForecastError {
  /** Mean absolute error over every (issue time, lead ≤ horizon) pair, gCO2eq/kWh. */
  maeGPerKWh: number;
  /** The same relative to the mean actual intensity. */
  relative: number;
  samples: number;
}

/** Error of the history-based fallback forecast over the trace, issued every `everySteps` steps. */
export function fallbackForecastError(
  points: readonly IntensityPoint[],
  stepMs: number,
  horizonSteps = 24,
  everySteps = 1,
): ForecastError {
  let abs = 0;
  let n = 0;
  let sumActual = 0;
  const dayBack = Math.round(86_400_000 / stepMs) + 1;
  for (let t = dayBack; t + 1 < points.length; t += everySteps) {
    const now = points[t]!;
    const history = points.slice(Math.max(0, t - Math.round(CARBON_HISTORY_MS / stepMs)), t);
    const fc = buildFallbackForecast(history, now.timeMs, now.valueGPerKWh, horizonSteps * stepMs, stepMs);
    for (let k = 0; k < fc.length && t + 1 + k < points.length; k++) {
      const actual = points[t + 1 + k]!.valueGPerKWh;
      abs += Math.abs(fc[k]!.valueGPerKWh - actual);
      sumActual += actual;
      n++;
    }
  }
  return { maeGPerKWh: n ? abs / n : NaN, relative: n ? abs / sumActual : NaN, samples: n };
}

/** Error of a trace's own forecast column (e.g. DACF day-ahead) against its actuals. */
export function givenForecastError(actual: Float64Array, forecast: Float64Array): ForecastError {
  let abs = 0;
  let sum = 0;
  let n = 0;
  for (let i = 0; i < actual.length; i++) {
    // NaN: no forecast was issued for that step (an empty cell); it has no error to count.
    if (!Number.isFinite(forecast[i])) continue;
    abs += Math.abs(forecast[i]! - actual[i]!);
    sum += actual[i]!;
    n++;
  }
  return { maeGPerKWh: n ? abs / n : NaN, relative: n ? abs / sum : NaN, samples: n };
}
