// Test fixtures for the policy: a fluent builder over a realistic DecisionInput (Vicuna 13B/7B-like profiles).
import type { DecisionInput, VariantProfile } from '../../../operator/decision/index.ts';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
/** 2023-03-01 00:00 UTC: a day boundary, so budget windows start here. */
export const T0 = Date.UTC(2023, 2, 1);

export const FULL: VariantProfile = {
  name: 'full-13b',
  quality: 1,
  capacityRps: 0.0785,
  latencyP95Ms: 12_738,
  gpusPerReplica: 1,
  powerBusyWatts: 204.2,
  powerIdleWatts: 54.6,
};
export const SMALL: VariantProfile = {
  name: 'small-7b',
  quality: 0.974,
  capacityRps: 0.0971,
  latencyP95Ms: 10_297,
  gpusPerReplica: 1,
  powerBusyWatts: 148.7,
  powerIdleWatts: 54.6,
};

export function baseInput(over: Partial<DecisionInput> = {}): DecisionInput {
  return {
    variants: [FULL, SMALL],
    tier: 'eco',
    replicas: { min: 1, max: 500 },
    slo: {
      latencyP95Ms: 25_476,
      qualityFloor: 0.95,
      relaxedLatencyP95Ms: 38_214,
      degradationBudget: { fraction: 0.2, window: 'day' },
    },
    carbon: { nowGPerKWh: 300 },
    pue: 1.2,
    embodiedGPerGpuHour: 0,
    policy: { hysteresis: 0.05, minDwellMs: 2 * HOUR, switchCostJoules: 20_000, intervalMs: HOUR, headroom: 0.1 },
    demand: { currentRps: 1, predictedRps: 1 },
    state: { budget: { windowStartMs: T0, servedTotal: 0, servedDegraded: 0 } },
    clusterGpuHeadroom: 10_000,
    ...over,
  };
}

/** An hourly series from `from` with values from `f(i)`. */
export function series(from: number, n: number, f: (i: number) => number): { timeMs: number; valueGPerKWh: number }[] {
  return Array.from({ length: n }, (_, i) => ({ timeMs: from + i * HOUR, valueGPerKWh: f(i) }));
}
