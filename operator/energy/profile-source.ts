// `energy.source: profile`: no meter. The energy is the power profile's estimate (docs/audit.md, "Energy"), and
// the row says `estimated` with no fallback reason: nothing was expected to measure it.
import type { EnergyReading, EnergySource } from './energy-source.ts';

export const PROFILE_REASON = 'energy.source is profile: estimated from the variant power profile';

export class ProfileEnergySource implements EnergySource {
  readonly name = 'profile' as const;
  readonly settleMs = 0;

  async measure(): Promise<EnergyReading> {
    return { measured: false, source: 'profile', reason: PROFILE_REASON };
  }
}
