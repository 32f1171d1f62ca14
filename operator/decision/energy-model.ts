// The energy and emissions model shared by the policy, the simulator and the audit accounting (docs/policy.md):
//   P_replica = P_idle + (P_busy − P_idle) × utilisation                      (W)
//   operational gCO2e = energy (kWh) × PUE × intensity (gCO2eq/kWh)          (the SCI "E × I" term)
//   embodied gCO2e   = GPU-hours × embodied gCO2e per GPU-hour                (the SCI "M" term)
// Pure arithmetic; every function names its units.
import type { VariantProfile } from './types.ts';

export const JOULES_PER_KWH = 3_600_000;
export const MS_PER_HOUR = 3_600_000;

/** Power between an idle and a busy draw at a utilisation in [0, 1] (clamped), W. */
export function powerAtUtilisationWatts(idleWatts: number, busyWatts: number, utilisation: number): number {
  const u = utilisation < 0 ? 0 : utilisation > 1 ? 1 : utilisation;
  return idleWatts + (busyWatts - idleWatts) * u;
}

/** Power of one replica at a utilisation in [0, 1] (clamped), W. */
export function replicaPowerWatts(v: VariantProfile, utilisation: number): number {
  return powerAtUtilisationWatts(v.powerIdleWatts, v.powerBusyWatts, utilisation);
}

/** Utilisation of each of `replicas` replicas when demand is spread evenly; capped at 1 (excess is not served). */
export function utilisation(v: VariantProfile, replicas: number, demandRps: number): number {
  if (replicas <= 0) return 0;
  const u = demandRps / (replicas * v.capacityRps);
  return u > 1 ? 1 : u < 0 ? 0 : u;
}

/** IT power of a whole service (all replicas) at a demand, W. Idle replicas still draw P_idle. */
export function servicePowerWatts(v: VariantProfile, replicas: number, demandRps: number): number {
  if (replicas <= 0) return 0;
  return replicas * replicaPowerWatts(v, utilisation(v, replicas, demandRps));
}

/** Operational emissions rate of a power draw, gCO2e per hour. */
export function operationalEmissionsGPerHour(powerWatts: number, pue: number, intensityGPerKWh: number): number {
  return (powerWatts / 1000) * pue * intensityGPerKWh;
}

/** Operational + embodied emissions rate of a service, gCO2e per hour. */
export function emissionsRateGPerHour(
  v: VariantProfile,
  replicas: number,
  demandRps: number,
  pue: number,
  intensityGPerKWh: number,
  embodiedGPerGpuHour: number,
): number {
  return (
    operationalEmissionsGPerHour(servicePowerWatts(v, replicas, demandRps), pue, intensityGPerKWh) +
    replicas * v.gpusPerReplica * embodiedGPerGpuHour
  );
}

/** Emissions of one variant swap of `replicas` replicas at an intensity, gCO2e (switch energy counts at the meter, × PUE). */
export function switchEmissionsG(
  switchCostJoules: number,
  replicas: number,
  pue: number,
  intensityGPerKWh: number,
): number {
  return ((switchCostJoules * replicas) / JOULES_PER_KWH) * pue * intensityGPerKWh;
}

/** Energy of a power held for a duration, kWh. */
export function energyKWh(powerWatts: number, durationMs: number): number {
  return energyKWhOfSeconds(powerWatts, durationMs / 1000);
}

/**
 * Energy of a power held for some seconds, kWh. The audit counts replica-seconds (replicas × interval), so it takes
 * seconds rather than going through milliseconds and back (× 1000 / 1000 is not exact in floating point).
 */
export function energyKWhOfSeconds(powerWatts: number, seconds: number): number {
  return (powerWatts * seconds) / JOULES_PER_KWH;
}

/** Facility energy of some IT energy, kWh: IT energy × PUE. */
export function facilityEnergyKWh(itKWh: number, pue: number): number {
  return itKWh * pue;
}

/** Operational emissions of some facility energy at an intensity, gCO2e (the SCI "E × I" term). */
export function operationalEmissionsG(facilityKWh: number, intensityGPerKWh: number): number {
  return facilityKWh * intensityGPerKWh;
}

/** Embodied emissions of some GPU-hours at a factor in gCO2e per GPU-hour, gCO2e (the SCI "M" term). */
export function embodiedEmissionsG(gpuHours: number, gPerGpuHour: number): number {
  return gpuHours * gPerGpuHour;
}
