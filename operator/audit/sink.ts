// The audit sink contract the reconciler writes to, and the in-memory implementation (tests, observe mode).
// Both implementations pass the same contract suite (test/unit/audit/sink-contract.ts).
import type { DecisionRecord } from './decision.ts';
import { GENESIS_HASH, rowHash, validateRecord, type Row, type StreamKind } from './schema.ts';
import type { UsageRecord } from './usage.ts';

export interface AuditHealth {
  /** false while records cannot be made durable (disk full, read-only). */
  ok: boolean;
  /** Records held in memory, not yet durable. */
  buffered: number;
  /** Records dropped because the buffer bound was hit (each one logged by id). */
  dropped: number;
  lastError?: string;
}

export interface AuditSink {
  /**
   * Resolves once the record is durable (journal fsync'd) or, when the disk refuses writes, held in the
   * bounded buffer (see health()). A record whose record_id was already written is ignored (idempotent replay).
   * Rejects only for an invalid record.
   */
  writeUsage(r: UsageRecord): Promise<void>;
  writeDecision(r: DecisionRecord): Promise<void>;
  health(): AuditHealth;
  close(): Promise<void>;
}

/** A row as stored: the record plus its place in the stream and the hash chain. */
export type ChainedRow = Row & { stream_seq: number; prev_hash: string; row_hash: string; record_id: string };

/** Turns a record into the stored row: -0 normalised (JSON keeps no sign), position and hashes added. */
export function chainRow(
  kind: StreamKind,
  record: UsageRecord | DecisionRecord,
  seq: number,
  prevHash: string,
): ChainedRow {
  const row: Row = {};
  for (const [k, v] of Object.entries(record)) row[k] = typeof v === 'number' && Object.is(v, -0) ? 0 : v;
  row.stream_seq = seq;
  row.prev_hash = prevHash;
  row.row_hash = '';
  row.row_hash = rowHash(kind, row);
  return row as ChainedRow;
}

/** Keeps rows in memory with the same ids, chain and dedup rules as the Parquet sink. */
export class MemoryAuditSink implements AuditSink {
  readonly rows: Record<StreamKind, ChainedRow[]> = { usage: [], decision: [] };
  private readonly seen = new Set<string>();
  private closed = false;

  async writeUsage(r: UsageRecord): Promise<void> {
    this.append('usage', r);
  }

  async writeDecision(r: DecisionRecord): Promise<void> {
    this.append('decision', r);
  }

  private append(kind: StreamKind, r: UsageRecord | DecisionRecord): void {
    if (this.closed) throw new Error('audit sink is closed');
    validateRecord(kind, r);
    if (this.seen.has(r.record_id)) return;
    this.seen.add(r.record_id);
    const list = this.rows[kind];
    const last = list[list.length - 1];
    list.push(chainRow(kind, r, list.length + 1, last ? last.row_hash : GENESIS_HASH));
  }

  health(): AuditHealth {
    return { ok: true, buffered: 0, dropped: 0 };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
