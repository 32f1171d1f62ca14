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
      ['requestsMethod', { requestsMethod: 'guessed' }],
      ['replicasAverageMethod', { replicasAverageMethod: 'mean' }],
      ['embodied.source', { embodied: { gPerGpuHour: 10, source: '' } }],
      ['carbon.region', { carbon: { missing: true, region: '', provider: 'electricitymaps' } }],
      ['carbon.forecast', { carbon: { ...usageInput(0, 0).carbon, forecast: 'yes' } }],
      ['carbon.signal', { carbon: { ...usageInput(0, 0).carbon, signal: 'mean' } }],
      ['carbon.basis', { carbon: { ...usageInput(0, 0).carbon, basis: 'scope3' } }],
      // Whole objects absent or null (an input restored from JSON): a named field, never a TypeError.
      ['carbon', { carbon: undefined }],
      ['variant.name', { variant: undefined }],
      ['replicas.desired', { replicas: null }],
      ['baseline.replicas', { baseline: undefined }],
      ['energyFallbackReason', { energyMeter: 'kepler', energyFallbackReason: null }],
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

  it('labels how each value was obtained: modelled unless the caller says measured, snapshot unless time-weighted', () => {
    const plain = computeUsageRecord(usageInput(0, 3));
    expect(plain).to.include({
      requests_method: 'modelled',
      inferences_method: 'modelled',
      utilization_method: 'modelled',
      replicas_avg_method: 'snapshot',
    });
    const told = computeUsageRecord(
      usageInput(0, 3, 60_000, {
        requestsMethod: 'measured',
        inferencesMethod: 'measured',
        utilizationMethod: 'measured',
        replicasAverageMethod: 'time_weighted',
      }),
    );
    expect(told).to.include({
      requests_method: 'measured',
      inferences_method: 'measured',
      utilization_method: 'measured',
      replicas_avg_method: 'time_weighted',
    });
    // Measured energy has no utilisation, so no utilisation method either.
    const metered = computeUsageRecord(usageInput(0, 3, 60_000, { measuredEnergy: { kWh: 0.01, source: 'kepler' } }));
    expect([metered.utilization, metered.utilization_method]).to.deep.equal([null, null]);
  });

  it('sets ci_forecast as the caller says', () => {
    const base = usageInput(0, 4);
    expect(computeUsageRecord({ ...base, carbon: { ...base.carbon, forecast: true } }).ci_forecast).to.equal(true);
    expect(computeUsageRecord(base).ci_forecast).to.equal(false);
  });

  it('writes an interval without any intensity: energy kept, intensity and emissions null, ci_missing true', () => {
    const base = usageInput(1, 5);
    const r = computeUsageRecord({
      ...base,
      carbon: { missing: true, region: 'GB', provider: 'electricitymaps', fallbackLevel: 3 },
    });
    expect(r.ci_missing).to.equal(true);
    expect(r.energy_facility_kwh).to.be.greaterThan(0);
    for (const col of [
      'ci_g_per_kwh',
      'ci_signal',
      'ci_basis',
      'ci_data_time',
      'ci_data_age_s',
      'ci_estimated',
      'ci_forecast',
      'operational_co2e_g',
      'total_co2e_g',
      'baseline_operational_co2e_g',
      'baseline_total_co2e_g',
      'savings_co2e_g',
      'sci_g_per_1k_inferences',
    ] as const)
      expect(r[col], col).to.equal(null);
    expect(r.embodied_co2e_g, 'embodied does not depend on the grid').to.be.greaterThan(0);
    expect([r.ci_region, r.ci_provider, r.ci_fallback_level, r.ci_fallback_used]).to.deep.equal([
      'GB',
      'electricitymaps',
      3,
      true,
    ]);
    expect(derivedMismatches(r as unknown as Record<string, number>)).to.deep.equal([]);
    // A made-up number in a missing row is caught by verify's recomputation.
    expect(derivedMismatches({ ...r, total_co2e_g: 0 } as unknown as Record<string, number>)).to.deep.equal([
      'total_co2e_g=0 but must be null',
    ]);
  });

  it('never carries a 0 embodied figure as if counted: without a factor the row says embodied is not counted', () => {
    const base = usageInput(0, 6);
    const none = computeUsageRecord({ ...base, embodiedGPerGpuHour: 0 });
    expect(none).to.include({ embodied_counted: false, embodied_source: null, embodied_g_per_gpu_hour: null });
    expect([none.embodied_co2e_g, none.baseline_embodied_co2e_g]).to.deep.equal([null, null]);
    expect(none.total_co2e_g).to.equal(none.operational_co2e_g);
    const { embodiedGPerGpuHour: _drop, ...withoutField } = base;
    expect(computeUsageRecord(withoutField).embodied_counted).to.equal(false);
    const configured = computeUsageRecord({ ...base, embodiedGPerGpuHour: 12.5 });
    expect(configured).to.include({
      embodied_counted: true,
      embodied_source: 'configured',
      embodied_g_per_gpu_hour: 12.5,
    });
    const sourced = computeUsageRecord({
      ...base,
      embodied: { gPerGpuHour: 0, source: 'vendor LCA, fully amortised' },
    });
    expect(sourced).to.include({
      embodied_counted: true,
      embodied_co2e_g: 0,
      embodied_source: 'vendor LCA, fully amortised',
    });
    for (const r of [none, configured, sourced])
      expect(derivedMismatches(r as unknown as Record<string, number>)).to.deep.equal([]);
  });
});
