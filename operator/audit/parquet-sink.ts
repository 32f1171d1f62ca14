// The durable audit sink: every record is appended to an fsync'd journal before the write resolves, then
// rotated (hourly, or by rows/bytes) into Hive-partitioned Parquet files written under a temp name and
// renamed when complete. Rows carry a per-stream sequence and hash chain; each day has a manifest. On open,
// the journal is replayed against the files already on disk (recovery.ts), so a kill -9 at any point, recovery
// itself included, loses nothing and duplicates nothing: the journal is only ever compacted past rows that are
// in final files. When the disk refuses writes, records wait in a bounded buffer and health() says so.
import path from 'node:path';
import { Counter, Gauge, type Registry } from 'prom-client';
import winston from 'winston';
import { nodeAuditFs, type AuditFs } from './audit-fs.ts';
import type { DecisionRecord } from './decision.ts';
import { makeDecisionRecord } from './decision.ts';
import { dayOf, journalPath, partFileName, partitionDir, retentionPath, TMP_SUFFIX } from './layout.ts';
import { addToManifest, readManifest, type ManifestEntry } from './manifest.ts';
import { encodeInChild } from './parquet-encoder.ts';
import { publishAtomically, ROW_GROUP_ROWS, sha256File, writeParquetRows } from './parquet-file.ts';
import { PendingRows } from './pending-rows.ts';
import { compactedJournal, recoverAuditDir } from './recovery.ts';
import { GENESIS_HASH, STREAMS, validateRecord, type SchemaVersion, type StreamKind } from './schema.ts';
import { chainRow, type AuditHealth, type AuditSink, type ChainedRow } from './sink.ts';
import type { UsageRecord } from './usage.ts';

export interface ParquetAuditSinkOptions {
  /** Clock, ms since epoch. Drives hourly rotation and retention. */
  now?: () => number;
  fs?: AuditFs;
  /** Rotate when the clock enters a new interval of this length (default 1 h, aligned to the epoch). */
  rotateIntervalMs?: number;
  /** Rotate early when this many rows are pending (default 200,000). */
  maxRowsPerFile?: number;
  /** Rotate early when pending rows reach about this many bytes as JSON (default 64 MiB). */
  maxPendingBytes?: number;
  /** Records held in memory while the disk refuses writes; beyond it, records are dropped and named (default 10,000). */
  maxBuffered?: number;
  /**
   * A file of more rows than this is encoded in a child process (parquet-encoder.ts), and a rotation of more
   * pending rows than this encodes while new records go on being journaled (default ROW_GROUP_ROWS: one row group
   * is cheap in the operator's thread; starting a process costs ~0.3 s).
   */
  encodeInChildAboveRows?: number;
  /** Days of files kept (default 400). */
  retentionDays?: number;
  /** Size cap of all Parquet files; the oldest days go first (default: none). */
  maxTotalBytes?: number;
  /** Record ids remembered for idempotent replay (default 100,000: 16 h of 100 services at 60 s). */
  dedupWindow?: number;
  /** Ids of at least this many of the newest stored rows per stream are loaded on open for dedup (default 20,000). */
  dedupRowsOnOpen?: number;
  /** Retry/rotation timer period; 0 disables the timer (tests and benches drive the sink). Default 10 s. */
  tickMs?: number;
  logger?: winston.Logger;
  /** prom-client registry for the sink's metrics. */
  registry?: Registry;
  /** Called on degraded/recovered/dropped so the controller can set a condition and emit an Event. */
  onHealthChange?: (health: AuditHealth, event: 'degraded' | 'recovered' | 'dropped') => void;
  /** cluster id and operator version used for the audit_drop decision rows the sink writes itself. */
  clusterId?: string;
  operatorVersion?: string;
}

interface StreamState {
  seq: number;
  hash: string;
  /** Journaled, not yet in a final file: kept as JSON text (pending-rows.ts). */
  pending: PendingRows;
}

/** One Parquet file a rotation writes: the rows [at, at + n) of a stream's pending rows. */
interface PlannedFile {
  kind: StreamKind;
  version: SchemaVersion;
  day: string;
  at: number;
  n: number;
  first: ChainedRow;
  last: ChainedRow;
  rel: string;
  finalPath: string;
}

interface Buffered {
  kind: StreamKind;
  record: UsageRecord | DecisionRecord;
}

/** What an audit_drop row says of each record it names, so verify can tie a time gap to the drop. */
interface DroppedRecord {
  record_id: string;
  stream: StreamKind;
  uid: string;
  /** Usage: the interval; decision: the decision time (start = end). */
  start: number;
  end: number;
}

const DAY_MS = 86_400_000;

function errText(err: unknown): string {
  // Anything can be thrown, null included: only an errno error has a code.
  const e = err as NodeJS.ErrnoException | null | undefined;
  return e?.code ? `${e.code}: ${e.message}` : String(err);
}

type SinkMetrics = { buffered?: Gauge; dropped?: Counter; errors?: Counter; healthy?: Gauge; rows?: Counter };

/**
 * The sink's metrics in `reg`, made on the first open and found there on every later one: the leader opens a new
 * sink each time it gains the lease, and a second registration of a name would throw (the counters go on counting
 * across the reopen, as a process-wide counter should).
 */
function auditMetrics(reg: Registry): SinkMetrics {
  const gauge = (name: string, help: string) =>
    (reg.getSingleMetric(name) as Gauge | undefined) ?? new Gauge({ name, help, registers: [reg] });
  const counter = (name: string, help: string, labelNames: string[] = []) =>
    (reg.getSingleMetric(name) as Counter | undefined) ?? new Counter({ name, help, labelNames, registers: [reg] });
  return {
    buffered: gauge('carbonscale_audit_buffered_records', 'Audit records held in memory, not yet durable'),
    dropped: counter(
      'carbonscale_audit_dropped_records_total',
      'Audit records dropped because the buffer bound was hit',
    ),
    errors: counter('carbonscale_audit_write_errors_total', 'Failed audit writes (journal, Parquet, manifest)'),
    healthy: gauge('carbonscale_audit_healthy', '1 when audit records are being made durable'),
    rows: counter('carbonscale_audit_rows_total', 'Audit rows made durable', ['kind']),
  };
}

export class ParquetAuditSink implements AuditSink {
  private readonly dir: string;
  private readonly fs: AuditFs;
  private readonly now: () => number;
  private readonly opts: Required<
    Pick<
      ParquetAuditSinkOptions,
      | 'rotateIntervalMs'
      | 'maxRowsPerFile'
      | 'maxPendingBytes'
      | 'maxBuffered'
      | 'retentionDays'
      | 'maxTotalBytes'
      | 'encodeInChildAboveRows'
    >
  >;
  private readonly log: winston.Logger;
  private readonly onHealthChange: ParquetAuditSinkOptions['onHealthChange'];
  private readonly streams: Record<StreamKind, StreamState> = {
    usage: { seq: 0, hash: GENESIS_HASH, pending: new PendingRows('usage') },
    decision: { seq: 0, hash: GENESIS_HASH, pending: new PendingRows('decision') },
  };
  private journalSize = 0;
  private journalMayBeTorn = false;
  private buffer: Buffered[] = [];
  private incoming: Buffered[] = [];
  private readonly seen = new Map<string, true>();
  private readonly maxSeen: number;
  private readonly dedupRowsOnOpen: number;
  private dropped = 0;
  private unreportedDrops: DroppedRecord[] = [];
  private degraded = false;
  private lastError: string | undefined;
  private lastRotationBucket: number;
  private manifestBacklog = new Map<string, ManifestEntry[]>();
  private readonly dayBytes = new Map<string, number>();
  private lock: Promise<unknown> = Promise.resolve();
  /** A rotation encoding outside the lock (rotateInBackground); at most one, and no other rotation meanwhile. */
  private rotation: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly clusterId: string;
  private readonly operatorVersion: string;
  private readonly metrics: SinkMetrics;

  private constructor(dir: string, options: ParquetAuditSinkOptions) {
    this.dir = dir;
    this.fs = options.fs ?? nodeAuditFs;
    this.now = options.now ?? Date.now;
    this.opts = {
      rotateIntervalMs: options.rotateIntervalMs ?? 3_600_000,
      maxRowsPerFile: options.maxRowsPerFile ?? 200_000,
      maxPendingBytes: options.maxPendingBytes ?? 64 * 1024 * 1024,
      maxBuffered: options.maxBuffered ?? 10_000,
      retentionDays: options.retentionDays ?? 400,
      maxTotalBytes: options.maxTotalBytes ?? Number.POSITIVE_INFINITY,
      encodeInChildAboveRows: options.encodeInChildAboveRows ?? ROW_GROUP_ROWS,
    };
    this.log =
      options.logger ??
      winston.createLogger({
        level: 'info',
        format: winston.format.json(),
        transports: [new winston.transports.Console()],
      });
    this.onHealthChange = options.onHealthChange;
    this.dedupRowsOnOpen = options.dedupRowsOnOpen ?? 20_000;
    this.maxSeen = Math.max(options.dedupWindow ?? 100_000, this.dedupRowsOnOpen);
    this.clusterId = options.clusterId ?? 'unknown';
    this.operatorVersion = options.operatorVersion ?? 'unknown';
    this.lastRotationBucket = Math.floor(this.now() / this.opts.rotateIntervalMs);
    this.metrics = options.registry ? auditMetrics(options.registry) : {};
    this.metrics.healthy?.set(1);
    const tickMs = options.tickMs ?? 10_000;
    if (tickMs > 0) {
      this.timer = setInterval(() => void this.run(() => this.processIncoming()).catch(() => undefined), tickMs);
      this.timer.unref();
    }
  }

  /** Opens (creating if needed) an audit directory, removes stale temp files and replays the journal. */
  static async open(dir: string, options: ParquetAuditSinkOptions = {}): Promise<ParquetAuditSink> {
    const sink = new ParquetAuditSink(dir, options);
    await sink.recover();
    return sink;
  }

  async writeUsage(r: UsageRecord): Promise<void> {
    return this.write('usage', r);
  }

  async writeDecision(r: DecisionRecord): Promise<void> {
    return this.write('decision', r);
  }

  health(): AuditHealth {
    const h: AuditHealth = {
      ok: !this.degraded,
      buffered: this.buffer.length,
      dropped: this.dropped,
    };
    if (this.lastError !== undefined) h.lastError = this.lastError;
    return h;
  }

  /** Writes every pending row to Parquet now (normally hourly). */
  async rotate(): Promise<void> {
    await this.afterBackgroundRotation(async () => {
      await this.flushBuffer();
      await this.rotateNow();
    });
  }

  /**
   * Runs fn under the lock once no rotation encodes in the background. A rotation can start from a run queued
   * before fn's, so this checks again under the lock (waiting for it there would deadlock: its commit needs it).
   */
  private async afterBackgroundRotation(fn: () => Promise<void>): Promise<void> {
    for (;;) {
      await this.rotation;
      const ran = await this.run(async () => {
        if (this.rotation) return false;
        await fn();
        return true;
      });
      if (ran) return;
    }
  }

  /** Retries buffered writes and time-based rotation (the timer calls this too). */
  async tick(): Promise<void> {
    await this.run(() => this.processIncoming());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.afterBackgroundRotation(async () => {
      await this.processIncoming(); // starts no background rotation once closed (maybeRotate)
      await this.rotateNow();
    });
    if (this.buffer.length > 0) {
      // Closing with records that never became durable: name and count every one, never drop silently. (The
      // controller re-accounts them after the restart if it can: their ids are not in the journal.)
      for (const b of this.buffer) {
        this.dropped++;
        this.metrics.dropped?.inc();
        this.log.error('audit record lost at close: disk refused writes', {
          record_id: b.record.record_id,
          kind: b.kind,
          dropped_total: this.dropped,
        });
      }
      this.buffer = [];
      this.metrics.buffered?.set(0);
      this.onHealthChange?.(this.health(), 'dropped');
    }
  }

  private run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.lock.then(fn);
    this.lock = p.catch(() => undefined);
    return p;
  }

  private write(kind: StreamKind, record: UsageRecord | DecisionRecord): Promise<void> {
    if (this.closed) return Promise.reject(new Error('audit sink is closed'));
    try {
      validateRecord(kind, record);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.seen.has(record.record_id)) return Promise.resolve();
    this.remember(record.record_id);
    this.incoming.push({ kind, record });
    // Group commit: the first queued run journals everything that arrived meanwhile in one fsync.
    return this.run(() => this.processIncoming());
  }

  private remember(id: string): void {
    this.seen.set(id, true);
    if (this.seen.size > this.maxSeen) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }

  private async processIncoming(): Promise<void> {
    // Retry what is already buffered first, so a disk that came back frees room before the bound is applied.
    if (this.buffer.length > 0) await this.flushBuffer();
    const batch = this.incoming;
    this.incoming = [];
    for (const b of batch) {
      if (this.buffer.length >= this.opts.maxBuffered) this.drop(b);
      else this.buffer.push(b);
    }
    await this.flushBuffer();
    await this.maybeRotate();
    this.metrics.buffered?.set(this.buffer.length);
  }

  private drop(b: Buffered): void {
    this.dropped++;
    this.seen.delete(b.record.record_id); // never stored: a later re-send must be accepted
    this.metrics.dropped?.inc();
    const r = b.record as Partial<UsageRecord & DecisionRecord>;
    if (this.unreportedDrops.length < 10_000)
      this.unreportedDrops.push({
        record_id: b.record.record_id,
        stream: b.kind,
        uid: String(r.uid),
        start: Number(r.interval_start ?? r.time),
        end: Number(r.interval_end ?? r.time),
      });
    this.log.error('audit record dropped: buffer bound reached while the disk refuses writes', {
      record_id: b.record.record_id,
      kind: b.kind,
      namespace: r.namespace,
      name: r.name,
      interval_start: r.interval_start,
      time: r.time,
      buffered: this.buffer.length,
      dropped_total: this.dropped,
    });
    this.onHealthChange?.(this.health(), 'dropped');
  }

  private setDegraded(err: unknown): void {
    this.lastError = errText(err);
    this.metrics.errors?.inc();
    this.metrics.healthy?.set(0);
    if (!this.degraded) {
      this.degraded = true;
      this.log.error('audit writes failing; holding records in memory', {
        error: this.lastError,
        buffered: this.buffer.length,
      });
      this.onHealthChange?.(this.health(), 'degraded');
    }
  }

  private setRecovered(): void {
    if (!this.degraded) return;
    this.degraded = false;
    this.metrics.healthy?.set(1);
    this.log.info('audit writes recovered', { buffered: this.buffer.length, dropped_total: this.dropped });
    this.onHealthChange?.(this.health(), 'recovered');
  }

  /** Queues an audit_drop decision naming the dropped records, so the trail itself shows the gap. */
  private queueDropReport(): void {
    if (this.unreportedDrops.length === 0) return;
    const drops = this.unreportedDrops;
    const ids = drops.map((d) => d.record_id);
    this.unreportedDrops = [];
    const t = this.now();
    this.buffer.push({
      kind: 'decision',
      record: makeDecisionRecord({
        timeMs: t,
        clusterId: this.clusterId,
        operatorVersion: this.operatorVersion,
        namespace: '-',
        name: '-',
        uid: `audit-drop-${this.dropped}`, // unique per report: the record id must not repeat
        kind: 'audit_drop',
        before: {},
        after: {},
        reason: `${ids.length} audit record(s) were dropped while the audit directory refused writes (buffer bound ${this.opts.maxBuffered})`,
        inputs: { dropped_record_ids: ids, dropped_records: drops, dropped_total: this.dropped },
      }),
    });
  }

  /** Journals every buffered record in one append + fsync; on failure they stay buffered, in order. */
  private async flushBuffer(): Promise<void> {
    if (this.buffer.length === 0) return;
    const jf = journalPath(this.dir);
    const next: Record<StreamKind, { seq: number; hash: string }> = {
      usage: { seq: this.streams.usage.seq, hash: this.streams.usage.hash },
      decision: { seq: this.streams.decision.seq, hash: this.streams.decision.hash },
    };
    const rows: { kind: StreamKind; row: ChainedRow; json: string }[] = [];
    let text = '';
    for (const b of this.buffer) {
      const st = next[b.kind];
      const row = chainRow(b.kind, b.record, st.seq + 1, st.hash);
      st.seq = row.stream_seq;
      st.hash = row.row_hash;
      const json = JSON.stringify(row);
      rows.push({ kind: b.kind, row, json });
      text += `{"k":${JSON.stringify(b.kind)},"r":${json}}\n`;
    }
    try {
      if (this.journalMayBeTorn) {
        await this.fs.truncate(jf, this.journalSize);
        this.journalMayBeTorn = false;
      }
      await this.fs.appendDurable(jf, text);
    } catch (err) {
      this.journalMayBeTorn = true;
      this.setDegraded(err);
      return;
    }
    this.journalSize += Buffer.byteLength(text, 'utf8');
    for (const { kind, row, json } of rows) {
      const st = this.streams[kind];
      st.seq = row.stream_seq;
      st.hash = row.row_hash;
      st.pending.push(row, json);
      this.metrics.rows?.inc({ kind });
    }
    this.buffer = [];
    this.setRecovered();
    if (this.unreportedDrops.length > 0) {
      this.queueDropReport();
      await this.flushBuffer();
    }
  }

  private async maybeRotate(): Promise<void> {
    if (this.rotation) return; // the running one takes what it planned; the rest waits for the next check
    const bucket = Math.floor(this.now() / this.opts.rotateIntervalMs);
    const pendingRows = this.streams.usage.pending.length + this.streams.decision.pending.length;
    const due =
      bucket !== this.lastRotationBucket ||
      pendingRows >= this.opts.maxRowsPerFile ||
      this.streams.usage.pending.bytes + this.streams.decision.pending.bytes >= this.opts.maxPendingBytes ||
      this.manifestBacklog.size > 0;
    if (!due) return;
    if (pendingRows > this.opts.encodeInChildAboveRows && !this.closed) {
      // Big: encode outside the lock so records go on being journaled meanwhile (and their writes resolve).
      this.lastRotationBucket = bucket;
      this.rotation = this.rotateInBackground(this.planFiles());
      return;
    }
    await this.rotateNow();
  }

  /** Writes pending rows to final Parquet files (one per stream and day), updates manifests, compacts the journal. */
  private async rotateNow(): Promise<void> {
    this.lastRotationBucket = Math.floor(this.now() / this.opts.rotateIntervalMs);
    const files = this.planFiles();
    const failed = await this.encodeFiles(files);
    await (failed === undefined ? this.commitRotation(files) : this.abandonRotation(files, failed));
  }

  /**
   * A rotation whose files are encoded while the lock is free: rows journaled meanwhile are pushed behind the
   * planned ones, and nothing else drops pending rows until the commit, which runs under the lock.
   */
  private async rotateInBackground(files: PlannedFile[]): Promise<void> {
    try {
      const failed = await this.encodeFiles(files);
      await this.run(() => {
        // Cleared here, not only below: a run queued behind this one must see no rotation in flight.
        this.rotation = undefined;
        return failed === undefined ? this.commitRotation(files) : this.abandonRotation(files, failed);
      });
    } catch (err) {
      this.log.error('audit rotation failed', { error: errText(err) }); // commitRotation catches its own errors
    } finally {
      this.rotation = undefined;
    }
  }

  /** One file per stream, UTC day and schema version (rows replayed from an older journal keep theirs). */
  private planFiles(): PlannedFile[] {
    const files: PlannedFile[] = [];
    for (const kind of STREAMS) {
      const pending = this.streams[kind].pending;
      for (let at = 0; at < pending.length;) {
        const n = pending.fileLengthAt(at);
        const { day, version } = pending.fileOf(at);
        const first = pending.row(at);
        const last = pending.row(at + n - 1);
        const rel = `${partitionDir(kind, day)}/${partFileName(first.stream_seq, last.stream_seq)}`;
        files.push({ kind, version, day, at, n, first, last, rel, finalPath: path.join(this.dir, rel) });
        at += n;
      }
    }
    return files;
  }

  /** Writes a planned file under its temp name, complete and closed (publishing it is the commit's). */
  private async encodeFile(f: PlannedFile): Promise<void> {
    const dir = path.dirname(f.finalPath);
    await this.fs.mkdirp(dir);
    await this.fs.probeWritable(dir);
    const tmpPath = f.finalPath + TMP_SUFFIX;
    const pending = this.streams[f.kind].pending;
    if (f.n > this.opts.encodeInChildAboveRows) {
      const { peakRssBytes } = await encodeInChild(
        { kind: f.kind, version: f.version, tmpPath, rowGroupRows: ROW_GROUP_ROWS },
        pending.texts(f.at, f.n),
      );
      this.log.info('audit file encoded in a child process', {
        file: f.rel,
        rows: f.n,
        encoder_peak_rss_mib: Math.round(peakRssBytes / 1048576),
      });
    } else await writeParquetRows(f.kind, f.version, pending.rows(f.at, f.n), tmpPath);
  }

  /** Encodes every planned file; the error of the first that fails (nothing is published then), or undefined. */
  private async encodeFiles(files: PlannedFile[]): Promise<unknown> {
    try {
      for (const f of files) await this.encodeFile(f);
      return undefined;
    } catch (err) {
      return err ?? new Error('Parquet encoding failed');
    }
  }

  /** A rotation whose encoding failed: its temp files go, its rows stay pending, and the sink says it is degraded. */
  private async abandonRotation(files: PlannedFile[], err: unknown): Promise<void> {
    await this.discardTemps(files);
    this.setDegraded(err);
  }

  private async discardTemps(files: PlannedFile[]): Promise<void> {
    for (const f of files) await this.fs.unlink(f.finalPath + TMP_SUFFIX).catch(() => undefined);
  }

  /**
   * Publishes encoded files in order (each dropped from pending once renamed), then updates the manifests and
   * compacts the journal. Under the lock: no journal append can fall between the compaction's write and rename.
   */
  private async commitRotation(files: PlannedFile[]): Promise<void> {
    let wrote = false;
    try {
      for (const f of files) {
        await publishAtomically(this.fs, f.finalPath + TMP_SUFFIX, f.finalPath);
        this.streams[f.kind].pending.dropFirst(f.n);
        wrote = true;
        await this.recordFile(f);
      }
      for (const [day, entries] of [...this.manifestBacklog]) {
        await addToManifest(this.fs, this.dir, day, entries);
        this.manifestBacklog.delete(day);
      }
      if (wrote) await this.compactJournal();
    } catch (err) {
      await this.discardTemps(files);
      this.setDegraded(err);
      return;
    }
    if (this.buffer.length === 0) this.setRecovered();
    if (wrote)
      await this.applyRetention().catch((err: unknown) =>
        this.log.warn('audit retention failed', { error: errText(err) }),
      );
  }

  private async recordFile(f: PlannedFile): Promise<void> {
    const bytes = await this.fs.size(f.finalPath);
    this.dayBytes.set(f.day, (this.dayBytes.get(f.day) ?? 0) + bytes);
    const entry: ManifestEntry = {
      kind: f.kind,
      path: f.rel,
      sha256: await sha256File(f.finalPath),
      bytes,
      rows: f.n,
      first_seq: f.first.stream_seq,
      last_seq: f.last.stream_seq,
      first_prev_hash: f.first.prev_hash,
      last_row_hash: f.last.row_hash,
    };
    this.manifestBacklog.set(f.day, [...(this.manifestBacklog.get(f.day) ?? []), entry]);
  }

  /**
   * Replaces the journal, atomically, by a checkpoint (per stream, the last row that is in a final file) plus the
   * rows still pending. Called only after the files holding every other row were renamed and fsync'd.
   */
  private async compactJournal(): Promise<void> {
    const jf = journalPath(this.dir);
    const size = { bytes: 0 };
    const pieces = compactedJournal(
      {
        usage: { head: this.streams.usage, pending: this.streams.usage.pending },
        decision: { head: this.streams.decision, pending: this.streams.decision.pending },
      },
      size,
    );
    await this.fs.writeFileDurable(jf + TMP_SUFFIX, pieces);
    await this.fs.rename(jf + TMP_SUFFIX, jf);
    await this.fs.fsyncDir(path.dirname(jf));
    this.journalSize = size.bytes;
    this.journalMayBeTorn = false;
  }

  private async recover(): Promise<void> {
    await this.fs.mkdirp(path.join(this.dir, 'journal'));
    await this.fs.mkdirp(path.join(this.dir, 'manifests'));
    const rec = await recoverAuditDir(this.fs, this.dir, journalPath(this.dir), this.dedupRowsOnOpen);
    for (const kind of STREAMS) {
      for (const p of rec.parts[kind])
        this.dayBytes.set(p.day, (this.dayBytes.get(p.day) ?? 0) + (await this.fs.size(p.abs)));
      const st = this.streams[kind];
      const r = rec.streams[kind];
      st.seq = r.seq;
      st.hash = r.hash;
      st.pending = new PendingRows(kind);
      for (const p of r.pending) st.pending.push(p.row, p.text);
    }
    for (const id of rec.ids) this.remember(id);
    // Safe to interrupt: the new journal holds the same pending rows behind a checkpoint they all follow.
    try {
      await this.compactJournal();
    } catch (err) {
      // A full or read-only disk at start: the old journal is still whole and new rows can follow it (the next
      // recovery reads it the same way), so keep it and start degraded rather than refuse the directory.
      await this.fs.unlink(journalPath(this.dir) + TMP_SUFFIX).catch(() => undefined);
      this.journalSize = rec.journalWholeBytes;
      this.journalMayBeTorn = rec.journalWholeBytes > 0; // the next append first cuts off a torn tail
      this.setDegraded(err);
    }
    this.log.info('audit sink opened', {
      dir: this.dir,
      usage_seq: this.streams.usage.seq,
      decision_seq: this.streams.decision.seq,
      pending: this.streams.usage.pending.length + this.streams.decision.pending.length,
    });
  }

  /** Deletes whole days older than the retention or beyond the size cap, oldest first, leaving a chain anchor. */
  private async applyRetention(): Promise<void> {
    const today = dayOf(this.now());
    const cutoff = dayOf(this.now() - this.opts.retentionDays * DAY_MS);
    const pendingDays = new Set<string>();
    for (const kind of STREAMS) for (const d of this.streams[kind].pending.pendingDays()) pendingDays.add(d);
    const days = [...this.dayBytes.keys()].sort();
    let total = days.reduce((s, d) => s + (this.dayBytes.get(d) ?? 0), 0);
    for (const day of days) {
      if (day === today || pendingDays.has(day)) break;
      if (!(day < cutoff || total > this.opts.maxTotalBytes)) break;
      total -= this.dayBytes.get(day) ?? 0;
      await this.deleteDay(day);
    }
  }

  private async deleteDay(day: string): Promise<void> {
    const manifest = await readManifest(this.fs, this.dir, day);
    const anchors: string[] = [];
    for (const kind of STREAMS) {
      const entries = (manifest?.files ?? []).filter((f) => f.kind === kind);
      const lastEntry = entries.reduce<ManifestEntry | undefined>(
        (a, e) => (!a || e.last_seq > a.last_seq ? e : a),
        undefined,
      );
      if (lastEntry) {
        anchors.push(
          JSON.stringify({
            kind,
            day,
            through_seq: lastEntry.last_seq,
            last_row_hash: lastEntry.last_row_hash,
            deleted_at: this.now(),
          }),
        );
      }
    }
    // The anchor is durable before anything is deleted, so the verifier knows where the kept chain starts.
    if (anchors.length > 0) await this.fs.appendDurable(retentionPath(this.dir), anchors.join('\n') + '\n');
    for (const kind of STREAMS) {
      const pdir = path.join(this.dir, partitionDir(kind, day));
      for (const name of await this.fs.readdir(pdir)) await this.fs.unlink(path.join(pdir, name));
      if (await this.fs.exists(pdir)) await this.fs.rmdir(pdir);
    }
    const mf = path.join(this.dir, 'manifests', `dt=${day}.json`);
    if (await this.fs.exists(mf)) await this.fs.unlink(mf);
    this.dayBytes.delete(day);
    this.log.info('audit retention deleted a day', { day });
  }
}
