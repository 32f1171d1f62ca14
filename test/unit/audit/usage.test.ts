import { expect } from 'chai';
import fc from 'fast-check';
import { computeUsageRecord, estimatedEnergyKWh } from '../../../operator/audit/usage.ts';
import { AuditInputError } from '../../../operator/audit/validate.ts';
import { derivedMismatches } from '../../../operator/audit/verify.ts';
import { usageInput } from '../../fixtures/audit/usage-fixtures.ts';

describe('audit usage accounting (computeUsageRecord)', () => {
  it('applies P = idle + (busy − idle) × utilisation over replica-seconds, then PUE and intensity', () => {
    // 2 replicas × 60 s at 100 + (300 − 100) × 0.5 = 200 W → 24,000 J = 1/150 kWh IT.
    const r = computeUsageRecord(
      usageInput(0, 0, 60_000, {
        replicas: { desired: 2, ready: 2, average: 2 },
        gpusPerReplica: 1,
        power: { idleW: 100, busyW: 300, utilization: 0.5 },
        pue: 1.5,
        embodiedGPerGpuHour: 30,
        inferences: 600,
      }),
    );
    expect(r.energy_it_kwh).to.be.closeTo(1 / 150, 1e-15);
    expect(r.energy_facility_kwh).to.be.closeTo(0.01, 1e-15);
    expect(r.energy_method).to.equal('estimated');
    expect(r.gpu_hours).to.be.closeTo(2 / 60, 1e-15);
    expect(r.embodied_co2e_g).to.be.closeTo(1, 1e-12);
    expect(r.operational_co2e_g).to.be.closeTo(0.01 * (r.ci_g_per_kwh ?? NaN), 1e-12);
    expect(r.sci_g_per_1k_inferences).to.be.closeTo((((r.operational_co2e_g ?? NaN) + 1) / 600) * 1000, 1e-9);
  });

  it('uses measured energy and names its source when given', () => {
    const r = computeUsageRecord(usageInput(0, 1, 60_000, { measuredEnergy: { kWh: 0.05, source: 'dcgm' }, pue: 1.1 }));
    expect(r.energy_method).to.equal('measured');
    expect(r.energy_source).to.equal('dcgm');
    expect(r.energy_it_kwh).to.equal(0.05);
    expect(r.power_idle_w).to.equal(null);
    expect(derivedMismatches(r as unknown as Record<string, number>)).to.deep.equal([]);
  });

  it('gives a null SCI for an interval without inferences and a zero operational figure at zero intensity', () => {
    const base = usageInput(0, 2);
    const r = computeUsageRecord({ ...base, inferences: 0, carbon: { ...base.carbon, valueGPerKWh: 0 } });
    expect(r.sci_g_per_1k_inferences).to.equal(null);
    expect(r.operational_co2e_g).to.equal(0);
    expect(r.embodied_co2e_g).to.be.greaterThan(0);
  });

  it('gives the same record id for the same service and interval, and a different one otherwise', () => {
    expect(computeUsageRecord(usageInput(3, 7)).record_id).to.equal(computeUsageRecord(usageInput(3, 7)).record_id);
    expect(computeUsageRecord(usageInput(3, 7)).record_id).to.not.equal(computeUsageRecord(usageInput(3, 8)).record_id);
    expect(computeUsageRecord(usageInput(3, 7)).record_id).to.not.equal(computeUsageRecord(usageInput(4, 7)).record_id);
  });

  it('rejects bad input with an error naming the field', () => {
    const cases: [string, object][] = [
      ['pue', { pue: 0.8 }],
      ['intervalEndMs', { intervalEndMs: 0 }],
      ['requests', { requests: -1 }],
      ['replicas.desired', { replicas: { desired: 1.5, ready: 1, average: 1 } }],
      ['power.utilization', { power: { idleW: 1, busyW: 2, utilization: 2 } }],
      ['carbon.valueGPerKWh', { carbon: { ...usageInput(0, 0).carbon, valueGPerKWh: Number.NaN } }],
      ['tier', { tier: 'gold' }],
    ];
    for (const [field, override] of cases) {
      const input = { ...usageInput(0, 0), ...override };
      expect(() => computeUsageRecord(input as never), field)
        .to.throw(AuditInputError)
        .with.property('field', field);
    }
  });

  it('keeps every derived column consistent with the documented formulas (property)', () => {
    fc.assert(
      fc.property(
        fc.record({
          svc: fc.nat(200),
          i: fc.nat(500_000),
          avg: fc.double({ min: 0, max: 64, noNaN: true }),
          gpus: fc.integer({ min: 0, max: 8 }),
          util: fc.double({ min: 0, max: 1, noNaN: true }),
          idle: fc.double({ min: 0, max: 1000, noNaN: true }),
          extra: fc.double({ min: 0, max: 5000, noNaN: true }),
          pue: fc.double({ min: 1, max: 3, noNaN: true }),
          ci: fc.double({ min: 0, max: 2000, noNaN: true }),
          inferences: fc.nat(1_000_000),
        }),
        (p) => {
          const base = usageInput(p.svc, p.i);
          const r = computeUsageRecord({
            ...base,
            replicas: { desired: 1, ready: 1, average: p.avg },
            gpusPerReplica: p.gpus,
            power: { idleW: p.idle, busyW: p.idle + p.extra, utilization: p.util },
            pue: p.pue,
            carbon: { ...base.carbon, valueGPerKWh: p.ci },
            inferences: p.inferences,
          });
          expect(derivedMismatches(r as unknown as Record<string, number>)).to.deep.equal([]);
          expect(r.energy_facility_kwh).to.be.at.least(r.energy_it_kwh);
          expect(r.energy_it_kwh).to.be.closeTo(
            estimatedEnergyKWh({ idleW: p.idle, busyW: p.idle + p.extra, utilization: p.util }, p.avg * 60),
            1e-12,
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});
