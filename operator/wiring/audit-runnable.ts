// The audit trail's writer, leader only (a standby replaying a shared journal while the leader appends could
// duplicate records): opens the sink when leading, hands it to the reconciler, closes it last on stop so every
// acknowledged row is in a final file before the process (or the embedded control plane) goes.
import type { Registry } from 'prom-client';
import type { Logger } from 'winston';
import { ParquetAuditSink } from '../audit/parquet-sink.ts';
import { MemoryAuditSink, type AuditSink } from '../audit/sink.ts';
import type { Clock } from '../clock.ts';
import type { Runnable } from '../kube/manager.ts';

export interface AuditRunnable extends Runnable {
  sink(): AuditSink | undefined;
}

export function auditRunnable(o: {
  dir?: string;
  clock: Clock;
  log: Logger;
  clusterId: string;
  operatorVersion: string;
  dedupRowsOnOpen: number;
  /** The operator's registry: the sink's carbonscale_audit_* metrics are served on /metrics from it. */
  registry?: Registry;
  onOpen: (sink: AuditSink | undefined) => void;
}): AuditRunnable {
  let sink: AuditSink | undefined;
  return {
    name: 'audit sink',
    needsLeaderElection: true,
    sink: () => sink,
    async start() {
      try {
        sink = o.dir
          ? await ParquetAuditSink.open(o.dir, {
              now: () => o.clock.now(),
              logger: o.log,
              clusterId: o.clusterId,
              operatorVersion: o.operatorVersion,
              dedupRowsOnOpen: o.dedupRowsOnOpen,
              ...(o.registry ? { registry: o.registry } : {}),
            })
          : new MemoryAuditSink();
      } catch (e) {
        // Never crash on the audit trail: keep operating, say so, and hold records in memory.
        o.log.error('audit directory unusable; records are held in memory only', {
          dir: o.dir,
          error: (e as Error).message,
        });
        sink = new MemoryAuditSink();
      }
      o.onOpen(sink);
    },
    async stop() {
      o.onOpen(undefined);
      await sink?.close();
    },
  };
}
