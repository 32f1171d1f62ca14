// Audit trails for the HTML report tests, written through the real Parquet sink: four services (two premium, two
// eco in two namespaces) on the GB 2023 hourly intensities of the shared fixtures, where the eco services run a
// smaller variant through the middle third of the period and use up degradation budget meanwhile, and one premium
// service's energy is metered (measured) for half of its intervals.
import winston from 'winston';
import { makeDecisionRecord } from '../../../operator/audit/decision.ts';
import { ParquetAuditSink } from '../../../operator/audit/parquet-sink.ts';
import { computeUsageRecord, type UsageInput, type UsageRecord } from '../../../operator/audit/usage.ts';
import { usageInput, YEAR_START_MS } from '../../fixtures/audit/usage-fixtures.ts';

export const SERVICES = 4;

export interface TrailOptions {
  intervals: number;
  intervalMs: number;
  /** Index of the first interval from 2023-01-01 00:00 UTC (default 0). */
  startIndex?: number;
  /** Close the sink (everything in Parquet); false leaves the last rows pending in journal/ (rotated at 2/3). */
  close?: boolean;
  /** Smaller Parquet files, so that removing one leaves a gap. */
  maxRowsPerFile?: number;
}

const silent = winston.createLogger({ silent: true });

function inputFor(svc: number, i: number, n: number, intervalMs: number, first: number): UsageInput {
  const base = usageInput(svc, first + i, intervalMs);
  const eco = base.tier === 'eco';
  const small = eco && i >= n / 3 && i < (2 * n) / 3;
  const over: Partial<UsageInput> = {
    variant: small
      ? { name: 'llama-8b-int8', quality: 0.91, isFull: false, modelDigest: 'sha256:ab12' }
      : { name: 'llama-70b', quality: 1, isFull: true },
    gpusPerReplica: small ? 1 : 4,
    power: small
      ? { idleW: 70, busyW: 350, utilization: base.power?.utilization ?? 0.5 }
      : { idleW: 280, busyW: 2800, utilization: base.power?.utilization ?? 0.5 },
    degradationBudgetUsed: eco
      ? Math.min(1, (Math.max(0, Math.min(i + 1, (2 * n) / 3) - n / 3) / n) * (svc === 1 ? 2 : 1))
      : 0,
  };
  // Half of svc-2's intervals are metered: the page must count that energy as measured.
  if (svc === 2 && i % 2 === 0) {
    over.measuredEnergy = { kWh: 0.05 * (intervalMs / 60_000), source: 'model-server-counters' };
    delete over.power;
  }
  const merged: UsageInput = { ...base, ...over };
  if (over.measuredEnergy) delete merged.power;
  return merged;
}

/** Writes the trail into `dir`; returns the usage records written (in order). */
export async function writeTrail(dir: string, opts: TrailOptions): Promise<UsageRecord[]> {
  let now = YEAR_START_MS;
  const sinkOpts: Parameters<typeof ParquetAuditSink.open>[1] = { now: () => now, tickMs: 0, logger: silent };
  if (opts.maxRowsPerFile !== undefined) sinkOpts.maxRowsPerFile = opts.maxRowsPerFile;
  const sink = await ParquetAuditSink.open(dir, sinkOpts);
  const written: UsageRecord[] = [];
  const n = opts.intervals;
  for (let i = 0; i < n; i++) {
    const recs = Array.from({ length: SERVICES }, (_, s) =>
      computeUsageRecord(inputFor(s, i, n, opts.intervalMs, opts.startIndex ?? 0)),
    );
    now = (recs[0] as UsageRecord).interval_end + 1000;
    await Promise.all(recs.map((r) => sink.writeUsage(r)));
    written.push(...recs);
    for (const svc of [1, 3]) {
      if (i !== Math.ceil(n / 3) && i !== Math.ceil((2 * n) / 3)) continue;
      const toSmall = i === Math.ceil(n / 3);
      await sink.writeDecision(
        makeDecisionRecord({
          timeMs: (recs[0] as UsageRecord).interval_start,
          clusterId: 'test-cluster',
          operatorVersion: '0.1.0',
          namespace: `ns-${svc % 5}`,
          name: `svc-${svc}`,
          uid: `00000000-0000-4000-8000-${String(svc).padStart(12, '0')}`,
          kind: 'swap',
          before: { variant: toSmall ? 'llama-70b' : 'llama-8b-int8' },
          after: { variant: toSmall ? 'llama-8b-int8' : 'llama-70b' },
          reason: toSmall ? 'high-carbon hour: smaller variant within the budget' : 'grid cleaner: full variant again',
          inputs: { interval: i },
        }),
      );
    }
    if (opts.close === false && i === Math.floor((2 * n) / 3)) await sink.rotate();
  }
  if (opts.close !== false) await sink.close();
  return written;
}
