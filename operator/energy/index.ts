// Public face of operator/energy: one EnergySource interface, its registry, the counter-window rule.
export type {
  EnergyReading,
  EnergyRequest,
  EnergySource,
  EnergySourceName,
  MeasuredEnergyReading,
  MeteredPod,
  UnmeasuredEnergyReading,
} from './energy-source.ts';
export { J_PER_KWH } from './energy-source.ts';
export { increaseOver, type WindowIncrease, type WindowOptions } from './counter-window.ts';
export {
  createEnergySource,
  ENERGY_SOURCE_NAMES,
  ENERGY_SOURCES,
  isEnergySourceName,
  type EnergyContext,
  type EnergySourceDefinition,
} from './registry.ts';
export { PROFILE_REASON } from './profile-source.ts';
