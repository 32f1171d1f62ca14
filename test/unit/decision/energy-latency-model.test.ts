import { expect } from 'chai';
import {
  emissionsRateGPerHour,
  p95LatencyMs,
  replicaPowerWatts,
  replicasNeeded,
  servicePowerWatts,
  sloCapacityRps,
  switchEmissionsG,
  utilisationCap,
} from '../../../operator/decision/index.ts';
import { FULL } from './fixtures.ts';

describe('energy model', () => {
  it('interpolates replica power between idle and busy and clamps utilisation', () => {
    const cases: [number, number][] = [
      [0, 54.6],
      [0.5, 54.6 + 0.5 * (204.2 - 54.6)],
      [1, 204.2],
      [1.7, 204.2],
      [-0.2, 54.6],
    ];
    for (const [u, w] of cases) expect(replicaPowerWatts(FULL, u)).to.be.closeTo(w, 1e-9);
  });

  it('charges idle replicas: the same demand on more replicas draws more power', () => {
    expect(servicePowerWatts(FULL, 20, 1)).to.be.greaterThan(servicePowerWatts(FULL, 15, 1));
    // Demand beyond saturation is not served: power tops out at busy.
    expect(servicePowerWatts(FULL, 2, 100)).to.be.closeTo(2 * 204.2, 1e-9);
  });

  it('computes emissions = kWh × PUE × intensity + GPU-hours × embodied', () => {
    // 10 replicas idle (no demand): 546 W → 0.546 kWh/h × 1.2 × 400 g/kWh = 262.08 g/h; + 10 GPU-h × 30 g.
    expect(emissionsRateGPerHour(FULL, 10, 0, 1.2, 400, 0)).to.be.closeTo(262.08, 1e-9);
    expect(emissionsRateGPerHour(FULL, 10, 0, 1.2, 400, 30)).to.be.closeTo(562.08, 1e-9);
    // 20 kJ × 3 replicas = 60 kJ = 1/60 kWh; × 1.5 × 300 = 7.5 g.
    expect(switchEmissionsG(20_000, 3, 1.5, 300)).to.be.closeTo(7.5, 1e-9);
  });
});

describe('latency model (random split over M/M/1 replicas)', () => {
  it('derives the utilisation cap from the SLO and holds p95 at it', () => {
    const cap = utilisationCap(FULL, 2 * FULL.latencyP95Ms);
    expect(cap).to.be.closeTo(0.5, 1e-12);
    expect(p95LatencyMs(FULL, cap)).to.be.closeTo(2 * FULL.latencyP95Ms, 1e-6);
    expect(utilisationCap(FULL, FULL.latencyP95Ms * 0.9)).to.equal(0);
  });

  it('sizes the fewest replicas that hold the SLO with headroom', () => {
    const slo = 2 * FULL.latencyP95Ms;
    for (const rps of [0.01, 0.5, 1, 3.3]) {
      const n = replicasNeeded(FULL, rps, slo, 0.1);
      expect(sloCapacityRps(FULL, n, slo)).to.be.at.least(rps * 1.1 - 1e-9);
      expect(sloCapacityRps(FULL, n - 1, slo)).to.be.below(rps * 1.1);
    }
    expect(replicasNeeded(FULL, 0, slo, 0.1)).to.equal(0);
    expect(replicasNeeded(FULL, 1, FULL.latencyP95Ms / 2, 0.1)).to.equal(Infinity);
  });
});
