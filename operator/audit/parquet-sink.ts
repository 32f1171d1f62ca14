// The durable audit sink: every record is appended to an fsync'd journal before the write resolves, then
// rotated (hourly, or by rows/bytes) into Hive-partitioned Parquet files written under a temp name and
// renamed when complete. Rows carry a per-stream sequence and hash chain; each day has a manifest. On open,
// the journal is replayed against the files already on disk, so a kill -9 at any point loses nothing and
// duplicates nothing. When the disk refuses writes, records wait in a bounded buffer and health() says so.
import path from 'node:path';
import { Counter, Gauge, type Registry } from 'prom-client';
import winston from 'winston';
import { nodeAuditFs, type AuditFs } from './audit-fs.ts';
import type { DecisionRecord } from './decision.ts';
import { makeDecisionRecord } from './decision.ts';
import {
  dayOf,
  journalPath,
  parseDtDir,
  parsePartFileName,
  partFileName,
  partitionDir,
  retentionPath,
  TMP_SUFFIX,
} from './layout.ts';
import { addToManifest, readManifest, type ManifestEntry } from './manifest.ts';
import { readAuditFile, sha256File, writeParquetAtomically } from './parquet-file.ts';
import { GENESIS_HASH, STREAMS, timeColumnOf, validateRecord, type StreamKind } from './schema.ts';
import { parseJournal, type Checkpoint } from './journal.ts';
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
  pending: ChainedRow[];
}

interface Buffered {
  kind: StreamKind;
  record: UsageRecord | DecisionRecord;
}

const DAY_MS = 86_400_000;

function errText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e && e.code ? `${e.code}: ${e.message}` : String(err);
}

export class ParquetAuditSink implements AuditSink {
  private readonly dir: string;
  private readonly fs: AuditFs;
  private readonly now: () => number;
  private readonly opts: Required<
    Pick<
      ParquetAuditSinkOptions,
      'rotateIntervalMs' | 'maxRowsPerFile' | 'maxPendingBytes' | 'maxBuffered' | 'retentionDays' | 'maxTotalBytes'
    >
  >;
  private readonly log: winston.Logger;
  private readonly onHealthChange: ParquetAuditSinkOptions['onHealthChange'];
  private readonly streams: Record<StreamKind, StreamState> = {
    usage: { seq: 0, hash: GENESIS_HASH, pending: [] },
    decision: { seq: 0, hash: GENESIS_HASH, pending: [] },
  };
  private pendingBytes = 0;
  private journalSize = 0;
  private journalMayBeTorn = false;
  private buffer: Buffered[] = [];
  private incoming: Buffered[] = [];
  private readonly seen = new Map<string, true>();
  private readonly maxSeen: number;
  private readonly dedupRowsOnOpen: number;
  private dropped = 0;
  private unreportedDrops: string[] = [];
  private degraded = false;
  private lastError: string | undefined;
  private lastRotationBucket: number;
  private manifestBacklog = new Map<string, ManifestEntry[]>();
  private readonly dayBytes = new Map<string, number>();
  private lock: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly clusterId: string;
  private readonly operatorVersion: string;
  private readonly metrics: { buffered?: Gauge; dropped?: Counter; errors?: Counter; healthy?: Gauge; rows?: Counter };

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
    const reg = options.registry;
    this.metrics = reg
      ? {
          buffered: new Gauge({
            name: 'carbonscale_audit_buffered_records',
            help: 'Audit records held in memory, not yet durable',
            registers: [reg],
          }),
          dropped: new Counter({
            name: 'carbonscale_audit_dropped_records_total',
            help: 'Audit records dropped because the buffer bound was hit',
            registers: [reg],
          }),
          errors: new Counter({
            name: 'carbonscale_audit_write_errors_total',
            help: 'Failed audit writes (journal, Parquet, manifest)',
            registers: [reg],
          }),
          healthy: new Gauge({
            name: 'carbonscale_audit_healthy',
            help: '1 when audit records are being made durable',
            registers: [reg],
          }),
          rows: new Counter({
            name: 'carbonscale_audit_rows_total',
            help: 'Audit rows made durable',
            labelNames: ['kind'],
            registers: [reg],
          }),
        }
      : {};
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
    await this.run(async () => {
      await this.flushBuffer();
      await this.rotateNow();
    });
  }

  /** Retries buffered writes and time-based rotation (the timer calls this too). */
  async tick(): Promise<void> {
    await this.run(() => this.processIncoming());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.run(async () => {
      await this.processIncoming();
      await this.rotateNow();
    });
    if (this.buffer.length > 0) {
      // Closing with records that never became durable: name every one, never drop silently.
      for (const b of this.buffer)
        this.log.error('audit record lost at close: disk refused writes', {
          record_id: b.record.record_id,
          kind: b.kind,
        });
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
    if (this.unreportedDrops.length < 10_000) this.unreportedDrops.push(b.record.record_id);
    const r = b.record as Partial<UsageRecord & DecisionRecord>;
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
    const ids = this.unreportedDrops;
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
        inputs: { dropped_record_ids: ids, dropped_total: this.dropped },
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
    const rows: { kind: StreamKind; row: ChainedRow }[] = [];
    let text = '';
    for (const b of this.buffer) {
      const st = next[b.kind];
      const row = chainRow(b.kind, b.record, st.seq + 1, st.hash);
      st.seq = row.stream_seq;
      st.hash = row.row_hash;
      rows.push({ kind: b.kind, row });
      text += JSON.stringify({ k: b.kind, r: row }) + '\n';
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
    for (const { kind, row } of rows) {
      const st = this.streams[kind];
      st.seq = row.stream_seq;
      st.hash = row.row_hash;
      st.pending.push(row);
      this.metrics.rows?.inc({ kind });
    }
    this.pendingBytes += text.length;
    this.buffer = [];
    this.setRecovered();
    if (this.unreportedDrops.length > 0) {
      this.queueDropReport();
      await this.flushBuffer();
    }
  }

  private async maybeRotate(): Promise<void> {
    const bucket = Math.floor(this.now() / this.opts.rotateIntervalMs);
    const pendingRows = this.streams.usage.pending.length + this.streams.decision.pending.length;
    if (
      bucket !== this.lastRotationBucket ||
      pendingRows >= this.opts.maxRowsPerFile ||
      this.pendingBytes >= this.opts.maxPendingBytes ||
      this.manifestBacklog.size > 0
    ) {
      await this.rotateNow();
    }
  }

  /** Writes pending rows to final Parquet files (one per stream and day), updates manifests, compacts the journal. */
  private async rotateNow(): Promise<void> {
    this.lastRotationBucket = Math.floor(this.now() / this.opts.rotateIntervalMs);
    let wrote = false;
    try {
      for (const kind of STREAMS) {
        const st = this.streams[kind];
        while (st.pending.length > 0) {
          const first = st.pending[0] as ChainedRow;
          const day = dayOf(first[timeColumnOf(kind)] as number);
          let n = 0;
          while (n < st.pending.length && dayOf((st.pending[n] as ChainedRow)[timeColumnOf(kind)] as number) === day)
            n++;
          const group = st.pending.slice(0, n);
          const last = group[group.length - 1] as ChainedRow;
          const rel = `${partitionDir(kind, day)}/${partFileName(first.stream_seq, last.stream_seq)}`;
          const finalPath = path.join(this.dir, rel);
          await this.fs.mkdirp(path.dirname(finalPath));
          await writeParquetAtomically(this.fs, kind, group, finalPath + TMP_SUFFIX, finalPath);
          st.pending.splice(0, n);
          wrote = true;
          const bytes = await this.fs.size(finalPath);
          this.dayBytes.set(day, (this.dayBytes.get(day) ?? 0) + bytes);
          const entry: ManifestEntry = {
            kind,
            path: rel,
            sha256: await sha256File(finalPath),
            bytes,
            rows: group.length,
            first_seq: first.stream_seq,
            last_seq: last.stream_seq,
            first_prev_hash: first.prev_hash,
            last_row_hash: last.row_hash,
          };
          this.manifestBacklog.set(day, [...(this.manifestBacklog.get(day) ?? []), entry]);
        }
      }
      for (const [day, entries] of [...this.manifestBacklog]) {
        await addToManifest(this.fs, this.dir, day, entries);
        this.manifestBacklog.delete(day);
      }
      if (wrote) await this.compactJournal();
    } catch (err) {
      this.setDegraded(err);
      return;
    }
    this.pendingBytes = 0;
    if (this.buffer.length === 0) this.setRecovered();
    if (wrote)
      await this.applyRetention().catch((err: unknown) =>
        this.log.warn('audit retention failed', { error: errText(err) }),
      );
  }

  /** Replaces the journal by a checkpoint (last seq and hash per stream) plus the rows still pending. */
  private async compactJournal(): Promise<void> {
    const jf = journalPath(this.dir);
    const cp: Checkpoint = {
      checkpoint: {
        usage: { seq: this.streams.usage.seq, hash: this.streams.usage.hash },
        decision: { seq: this.streams.decision.seq, hash: this.streams.decision.hash },
      },
    };
    let text = JSON.stringify(cp) + '\n';
    for (const kind of STREAMS)
      for (const row of this.streams[kind].pending) text += JSON.stringify({ k: kind, r: row }) + '\n';
    await this.fs.writeFileDurable(jf + TMP_SUFFIX, text);
    await this.fs.rename(jf + TMP_SUFFIX, jf);
    await this.fs.fsyncDir(path.dirname(jf));
    this.journalSize = Buffer.byteLength(text, 'utf8');
    this.journalMayBeTorn = false;
  }

  private async recover(): Promise<void> {
    const fs = this.fs;
    await fs.mkdirp(path.join(this.dir, 'journal'));
    await fs.mkdirp(path.join(this.dir, 'manifests'));
    // Every final file on disk, by stream: its seq range decides which journal rows are already in Parquet.
    const parts: Record<StreamKind, { day: string; rel: string; firstSeq: number; lastSeq: number }[]> = {
      usage: [],
      decision: [],
    };
    for (const kind of STREAMS) {
      for (const dtName of await fs.readdir(path.join(this.dir, `kind=${kind}`))) {
        const day = parseDtDir(dtName);
        if (!day) continue;
        const pdir = path.join(this.dir, `kind=${kind}`, dtName);
        for (const name of await fs.readdir(pdir)) {
          if (name.endsWith(TMP_SUFFIX)) {
            await fs.unlink(path.join(pdir, name)); // an unfinished write; its rows are still in the journal
            continue;
          }
          const seqs = parsePartFileName(name);
          if (!seqs) continue;
          const rel = `${partitionDir(kind, day)}/${name}`;
          parts[kind].push({ day, rel, ...seqs });
          this.dayBytes.set(day, (this.dayBytes.get(day) ?? 0) + (await fs.size(path.join(this.dir, rel))));
        }
      }
    }
    for (const name of await fs.readdir(path.join(this.dir, 'manifests'))) {
      if (name.endsWith(TMP_SUFFIX)) await fs.unlink(path.join(this.dir, 'manifests', name));
    }
    const jf = journalPath(this.dir);
    if (await fs.exists(jf + TMP_SUFFIX)) await fs.unlink(jf + TMP_SUFFIX);
    const journal = (await fs.exists(jf))
      ? parseJournal((await fs.readFile(jf)).toString('utf8'), jf)
      : { checkpoint: null, rows: [] };
    const touchedDays = new Set<string>();
    for (const kind of STREAMS) {
      const st = this.streams[kind];
      const cp = journal.checkpoint?.[kind];
      if (cp) {
        st.seq = cp.seq;
        st.hash = cp.hash;
      }
      const fileHigh = parts[kind].reduce((m, p) => Math.max(m, p.lastSeq), 0);
      for (const { row } of journal.rows.filter((r) => r.kind === kind)) {
        if (row.stream_seq <= st.seq && cp) continue; // older than the checkpoint: already in Parquet
        if (row.stream_seq !== st.seq + 1 || row.prev_hash !== st.hash) {
          throw new Error(`journal ${jf}: ${kind} row ${row.stream_seq} does not follow ${st.seq} (chain broken)`);
        }
        st.seq = row.stream_seq;
        st.hash = row.row_hash;
        this.remember(row.record_id);
        touchedDays.add(dayOf(row[timeColumnOf(kind)] as number));
        if (row.stream_seq > fileHigh) st.pending.push(row); // else written to Parquet before the crash
      }
      // Ids of the newest files (at least dedupRowsOnOpen rows), so re-accounting the intervals that were in
      // flight at the crash is a no-op even when a rotation split them across files.
      const newestFirst = [...parts[kind]].sort((a, b) => b.lastSeq - a.lastSeq);
      if (newestFirst[0]) touchedDays.add(newestFirst[0].day);
      let loaded = 0;
      const ids: string[] = [];
      for (const p of newestFirst) {
        if (loaded >= this.dedupRowsOnOpen) break;
        const { rows } = await readAuditFile(path.join(this.dir, p.rel));
        for (let i = rows.length - 1; i >= 0; i--) ids.push(String(rows[i]?.record_id));
        loaded += rows.length;
      }
      for (let i = ids.length - 1; i >= 0; i--) this.remember(ids[i] as string);
    }
    // A crash between rename and manifest update leaves a final file the manifest does not list yet.
    for (const day of touchedDays) {
      const listed = new Set(((await readManifest(fs, this.dir, day))?.files ?? []).map((f) => f.path));
      const missing: ManifestEntry[] = [];
      for (const kind of STREAMS) {
        for (const p of parts[kind].filter((q) => q.day === day && !listed.has(q.rel))) {
          const file = path.join(this.dir, p.rel);
          const { rows } = await readAuditFile(file);
          const first = rows[0];
          const last = rows[rows.length - 1];
          missing.push({
            kind,
            path: p.rel,
            sha256: await sha256File(file),
            bytes: await fs.size(file),
            rows: rows.length,
            first_seq: p.firstSeq,
            last_seq: p.lastSeq,
            first_prev_hash: String(first?.prev_hash ?? ''),
            last_row_hash: String(last?.row_hash ?? ''),
          });
        }
      }
      if (missing.length > 0) await addToManifest(fs, this.dir, day, missing);
    }
    for (const kind of STREAMS)
      for (const r of this.streams[kind].pending) this.pendingBytes += JSON.stringify(r).length;
    await this.compactJournal();
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
    for (const kind of STREAMS)
      for (const r of this.streams[kind].pending) pendingDays.add(dayOf(r[timeColumnOf(kind)] as number));
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
