import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import winston from 'winston';
import { ParquetAuditSink } from '../../../operator/audit/parquet-sink.ts';
import { readAuditFile } from '../../../operator/audit/parquet-file.ts';
import type { Row, StreamKind } from '../../../operator/audit/schema.ts';
import { MemoryAuditSink } from '../../../operator/audit/sink.ts';
import { listAuditFiles } from '../../fixtures/audit/audit-dir.ts';
import { sinkContract } from './sink-contract.ts';

sinkContract('MemoryAuditSink', async () => {
  const sink = new MemoryAuditSink();
  return { sink, readBack: async () => sink.rows, cleanup: async () => undefined };
});

sinkContract('ParquetAuditSink', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'audit-contract-'));
  const logger = winston.createLogger({ silent: true });
  const sink = await ParquetAuditSink.open(dir, { now: () => Date.parse('2023-01-01T00:30:00Z'), tickMs: 0, logger });
  return {
    sink,
    async readBack() {
      await sink.close();
      const out: Record<StreamKind, Row[]> = { usage: [], decision: [] };
      for (const f of await listAuditFiles(dir)) out[f.kind].push(...(await readAuditFile(f.file)).rows);
      return out;
    },
    cleanup: async () => {
      await sink.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
