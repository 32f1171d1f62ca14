// `carbonscale audit verify DIR`: recomputes the hash chain, the day manifests and the derived columns of an
// audit directory, checks that each service's usage intervals tile time, and reports every gap, edit, duplicate,
// missing, unlisted or swapped file. Rows still in the journal (durable, not yet in Parquet) are counted as
// pending and checked too. Reads one file at a time, so a year of data verifies in bounded memory.
import path from 'node:path';
import { nodeAuditFs, type AuditFs } from './audit-fs.ts';
import { parseJournal, type JournalRow } from './journal.ts';
import { dayOf, journalPath, retentionPath } from './layout.ts';
import { readManifest, type ManifestEntry } from './manifest.ts';
import { readAuditFile, sha256File } from './parquet-file.ts';
import { scanPartFiles, type PartFile } from './part-files.ts';
import {
  fileMetadata,
  GENESIS_HASH,
  isSchemaVersion,
  rowHash,
  STREAMS,
  timeColumnOf,
  type Row,
  type StreamKind,
} from './schema.ts';
import { ServiceObjects, type ServiceName } from './service-objects.ts';
import { TimeCoverage } from './time-coverage.ts';
import { sciPerToken } from './usage.ts';

export type ProblemKind =
  | 'gap'
  | 'edit'
  | 'duplicate'
  | 'chain'
  | 'missing_file'
  | 'unlisted_file'
  | 'file_hash'
  | 'wrong_partition'
  | 'unreadable'
  | 'metadata'
  | 'derived'
  | 'time_gap'
  | 'time_overlap';

export interface VerifyProblem {
  kind: ProblemKind;
  stream?: StreamKind;
  file?: string;
  seq?: number;
  /** namespace/name (uid) of the service, for time_gap and time_overlap. */
  service?: string;
  message: string;
}

export interface VerifyResult {
  ok: boolean;
  problems: VerifyProblem[];
  files: number;
  /** Rows in final Parquet files. */
  rows: Record<StreamKind, number>;
  /** Rows still in the journal (durable, not yet rotated into Parquet), checked to continue the chain. */
  journalRows: Record<StreamKind, number>;
  /** Services whose usage intervals were checked for time continuity: objects (uids), each its own timeline. */
  services: number;
  /** The namespace/names those objects had (fewer than services when a name was deleted and created again). */
  serviceNames: number;
  /** Each name that had more than one object, with the objects' spans (service-objects.ts). */
  recreated: ServiceName[];
}

export const JOURNAL_REL = 'journal/journal.jsonl';
const REL_TOL = 1e-9;

function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= REL_TOL * Math.max(Math.abs(a), Math.abs(b)) + 1e-12;
}

/**
 * Recomputes every derived usage column from its inputs (docs/audit.md, "Methodology"). Returns the mismatches.
 * Unknown values are null (no intensity: emissions; embodied not counted: embodied), never 0.
 */
export function derivedMismatches(r: Row): string[] {
  const n = (k: string): number => Number(r[k]);
  const out: string[] = [];
  const check = (col: string, expected: number | null): void => {
    const got = r[col];
    if (expected === null) {
      if (got !== null && got !== undefined) out.push(`${col}=${String(got)} but must be null`);
    } else if (got === null || got === undefined || !close(Number(got), expected))
      out.push(`${col}=${String(got)} but recomputed ${expected}`);
  };
  check('interval_s', (n('interval_end') - n('interval_start')) / 1000);
  check('gpu_seconds', n('replicas_avg') * n('gpus_per_replica') * n('interval_s'));
  check('gpu_hours', n('gpu_seconds') / 3600);
  if (r.energy_method === 'estimated') {
    const w = n('power_idle_w') + (n('power_busy_w') - n('power_idle_w')) * n('utilization');
    check('energy_it_kwh', (w * n('replicas_avg') * n('interval_s')) / 3_600_000);
  }
  check('energy_facility_kwh', n('energy_it_kwh') * n('pue'));
  const ciKnown = r.ci_missing !== true; // schema 1.0.0 rows have no ci_missing: always known
  const embCounted = r.embodied_counted !== false; // 1.0.0 rows always counted the factor
  const ci = ciKnown ? n('ci_g_per_kwh') : null;
  if (!ciKnown) check('ci_g_per_kwh', null);
  const emissions = (facility: number, gpuHours: number, prefix: string): number | null => {
    const op = ci === null ? null : facility * ci;
    const emb = embCounted ? gpuHours * n('embodied_g_per_gpu_hour') : null;
    check(`${prefix}operational_co2e_g`, op);
    check(`${prefix}embodied_co2e_g`, emb);
    const total = op === null ? null : op + (emb ?? 0);
    check(`${prefix}total_co2e_g`, total);
    return total;
  };
  const total = emissions(n('energy_facility_kwh'), n('gpu_hours'), '');
  if (ciKnown) check('ci_data_age_s', (n('interval_end') - n('ci_data_time')) / 1000);
  const bw =
    n('baseline_power_idle_w') + (n('baseline_power_busy_w') - n('baseline_power_idle_w')) * n('baseline_utilization');
  check('baseline_energy_it_kwh', (bw * n('baseline_replicas') * n('interval_s')) / 3_600_000);
  check('baseline_energy_facility_kwh', n('baseline_energy_it_kwh') * n('pue'));
  const bGpuHours = (n('baseline_replicas') * n('baseline_gpus_per_replica') * n('interval_s')) / 3600;
  const bTotal = emissions(n('baseline_energy_facility_kwh'), bGpuHours, 'baseline_');
  check('savings_co2e_g', bTotal === null || total === null ? null : bTotal - total);
  check('sci_g_per_1k_inferences', n('inferences') > 0 && total !== null ? (total / n('inferences')) * 1000 : null);
  if ('sci_g_per_1k_tokens' in r) out.push(...measuredEnergyMismatches(r, total, check));
  if (r.ci_fallback_used !== n('ci_fallback_level') > 0) out.push('ci_fallback_used disagrees with ci_fallback_level');
  // carbonscale-sci-4 (2.2.0) and later: an interval that ran the full variant is its own baseline.
  const since4 = r.methodology_version === 'carbonscale-sci-4' || r.methodology_version === 'carbonscale-sci-5';
  if (since4 && r.variant_is_full === true) {
    check('baseline_replicas', n('replicas_avg'));
    if (r.utilization !== null) check('baseline_utilization', n('utilization'));
  }
  // carbonscale-sci-5 (2.3.0): slo_met is a measured p95 against a ceiling; a median above the p95 is no histogram's.
  if (r.slo_met !== null && r.slo_met !== undefined && r.latency_p95_ms === null)
    out.push('slo_met is set but latency_p95_ms is null (slo_met compares the measured p95)');
  if (r.latency_p50_ms !== null && r.latency_p95_ms !== null && n('latency_p50_ms') > n('latency_p95_ms'))
    out.push(`latency_p50_ms=${String(r.latency_p50_ms)} is above latency_p95_ms=${String(r.latency_p95_ms)}`);
  return out;
}

/** 2.1.0 rows: SCI per token, and a fallback reason only on an estimated row of a service with a meter. */
function measuredEnergyMismatches(
  r: Row,
  total: number | null,
  check: (col: string, v: number | null) => void,
): string[] {
  const toCount = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  check('sci_g_per_1k_tokens', sciPerToken(total, toCount(r.prompt_tokens), toCount(r.generated_tokens)));
  const out: string[] = [];
  if (r.energy_method === 'estimated') check('energy_profile_it_kwh', null);
  if (r.energy_fallback_reason !== null && (r.energy_method !== 'estimated' || r.energy_meter === null))
    out.push('energy_fallback_reason is set on a row that is measured or has no energy_meter');
  if (r.energy_method === 'estimated' && r.energy_meter !== null && r.energy_fallback_reason === null)
    out.push('energy_meter is set on an estimated row without energy_fallback_reason');
  return out;
}

interface Journal {
  // Read from disk and not validated per stream: a journal may lack a stream's checkpoint (one written before that
  // stream existed, or damaged), so each stream's is looked up as possibly absent.
  checkpoint: Partial<Record<StreamKind, { seq: number; hash: string }>> | null;
  rows: JournalRow[];
}

async function loadJournal(dir: string, fs: AuditFs, problems: VerifyProblem[]): Promise<Journal> {
  const jf = journalPath(dir);
  if (!(await fs.exists(jf))) return { checkpoint: null, rows: [] };
  try {
    return parseJournal((await fs.readFile(jf)).toString('utf8'), jf);
  } catch (err) {
    problems.push({ kind: 'unreadable', file: JOURNAL_REL, message: (err as Error).message });
    return { checkpoint: null, rows: [] };
  }
}

/** Every listed file must exist with the listed hash; every file must be listed. */
async function checkManifests(dir: string, fs: AuditFs, onDisk: PartFile[], problems: VerifyProblem[]): Promise<void> {
  const listed = new Map<string, ManifestEntry>();
  for (const name of await fs.readdir(path.join(dir, 'manifests'))) {
    const day = /^dt=(\d{4}-\d{2}-\d{2})\.json$/.exec(name)?.[1];
    if (!day) continue;
    try {
      const m = await readManifest(fs, dir, day);
      for (const e of m?.files ?? []) listed.set(e.path, e);
    } catch (err) {
      problems.push({
        kind: 'unreadable',
        file: `manifests/${name}`,
        message: `manifest unreadable: ${(err as Error).message}`,
      });
    }
  }
  const diskSet = new Set(onDisk.map((f) => f.rel));
  for (const [rel, e] of listed) {
    if (!diskSet.has(rel))
      problems.push({
        kind: 'missing_file',
        stream: e.kind,
        file: rel,
        message: `listed in the manifest (seq ${e.first_seq}..${e.last_seq}, ${e.rows} rows) but absent`,
      });
  }
  for (const f of onDisk) {
    const e = listed.get(f.rel);
    if (!e) {
      problems.push({
        kind: 'unlisted_file',
        stream: f.kind,
        file: f.rel,
        message: 'file is not listed in its day manifest',
      });
      continue;
    }
    const sha = await sha256File(f.abs);
    if (sha !== e.sha256)
      problems.push({
        kind: 'file_hash',
        stream: f.kind,
        file: f.rel,
        message: `sha256 ${sha} differs from the manifest's ${e.sha256} (file edited or replaced)`,
      });
  }
}

/** Retention anchors: where the kept part of each chain starts. */
async function loadAnchors(dir: string, fs: AuditFs): Promise<Record<StreamKind, { seq: number; hash: string }>> {
  const anchor = { usage: { seq: 0, hash: GENESIS_HASH }, decision: { seq: 0, hash: GENESIS_HASH } };
  const rp = retentionPath(dir);
  if (!(await fs.exists(rp))) return anchor;
  for (const line of (await fs.readFile(rp)).toString('utf8').split('\n')) {
    if (!line.trim()) continue;
    const a = JSON.parse(line) as { kind: StreamKind; through_seq: number; last_row_hash: string };
    if (STREAMS.includes(a.kind) && a.through_seq > anchor[a.kind].seq)
      anchor[a.kind] = { seq: a.through_seq, hash: a.last_row_hash };
  }
  return anchor;
}

/** The chain walk of one stream: the last row seen, and the hash at the journal checkpoint's seq. */
class ChainWalk {
  readonly kind: StreamKind;
  readonly checkpointSeq: number | undefined;
  prevSeq: number;
  prevHash: string;
  hashAtCheckpoint: string | undefined;
  private readonly problems: VerifyProblem[];
  private readonly coverage: TimeCoverage;
  private readonly recentIds = new Map<string, number>(); // sliding window: replays happen close together
  readonly drops: DropIndex = new Map();
  /** The usage stream's services by name and uid (a name deleted and created again has several). */
  readonly objects = new ServiceObjects();

  constructor(
    kind: StreamKind,
    start: { seq: number; hash: string },
    checkpointSeq: number | undefined,
    problems: VerifyProblem[],
    coverage: TimeCoverage,
  ) {
    this.kind = kind;
    this.checkpointSeq = checkpointSeq;
    this.prevSeq = start.seq;
    this.prevHash = start.hash;
    this.problems = problems;
    this.coverage = coverage;
  }

  noteDrops(r: Row, seq: number): void {
    noteDrops(this.drops, r, seq);
  }

  /** Checks one row in stream order; `day` is the partition it is stored under (none for journal rows). */
  row(r: Row, file: string, day: string | undefined): void {
    const kind = this.kind;
    const seq = Number(r.stream_seq);
    const at = { stream: kind, file, seq };
    if (rowHash(kind, r) !== r.row_hash)
      this.problems.push({ kind: 'edit', ...at, message: `row ${seq}: content does not match its row_hash (edited)` });
    const rowDay = dayOf(Number(r[timeColumnOf(kind)]));
    if (day !== undefined && rowDay !== day)
      this.problems.push({
        kind: 'wrong_partition',
        ...at,
        message: `row ${seq} is dated ${rowDay} but stored under dt=${day}`,
      });
    const id = String(r.record_id);
    if (this.recentIds.has(id))
      this.problems.push({
        kind: 'duplicate',
        ...at,
        message: `record_id ${id} already at seq ${this.recentIds.get(id)}`,
      });
    this.recentIds.set(id, seq);
    if (this.recentIds.size > 200_000) this.recentIds.delete(this.recentIds.keys().next().value as string);
    if (seq <= this.prevSeq) {
      this.problems.push({
        kind: 'duplicate',
        ...at,
        message: `seq ${seq} repeats or goes back (previous ${this.prevSeq})`,
      });
      return;
    }
    if (seq > this.prevSeq + 1)
      this.problems.push({
        kind: 'gap',
        ...at,
        message: `seq ${this.prevSeq + 1}..${seq - 1} missing before row ${seq}`,
      });
    else if (r.prev_hash !== this.prevHash)
      this.problems.push({
        kind: 'chain',
        ...at,
        message: `row ${seq}: prev_hash does not match row ${this.prevSeq}'s row_hash`,
      });
    if (kind === 'usage') {
      for (const m of derivedMismatches(r)) this.problems.push({ kind: 'derived', ...at, message: `row ${seq}: ${m}` });
      this.objects.add(r);
      const label = `${String(r.namespace)}/${String(r.name)} (uid ${String(r.uid)})`;
      this.coverage.add(
        `${String(r.cluster_id)}\u0000${String(r.uid)}`,
        label,
        Number(r.interval_start),
        Number(r.interval_end),
        { seq, file },
      );
    }
    if (kind === 'decision' && r.kind === 'audit_drop') this.noteDrops(r, seq);
    if (seq === this.checkpointSeq) this.hashAtCheckpoint = String(r.row_hash);
    this.prevSeq = seq;
    this.prevHash = String(r.row_hash);
  }
}

/** Usage records an audit_drop row says the sink dropped: uid → intervals, with the decision row's seq. */
export type DropIndex = Map<string, { start: number; end: number; seq: number }[]>;

function noteDrops(drops: DropIndex, r: Row, seq: number): void {
  let inputs: { dropped_records?: { stream?: string; uid?: string; start?: number; end?: number }[] };
  try {
    inputs = JSON.parse(String(r.inputs_json)) as typeof inputs;
  } catch {
    return;
  }
  for (const d of inputs.dropped_records ?? []) {
    if (d.stream !== 'usage' || typeof d.uid !== 'string') continue;
    drops.set(d.uid, [...(drops.get(d.uid) ?? []), { start: Number(d.start), end: Number(d.end), seq }]);
  }
}

/** The words added to a time gap that the sink itself recorded as dropped rows. */
function dropNote(drops: DropIndex, key: string, start: number, end: number): string {
  const uid = key.split('\u0000')[1] ?? '';
  const inGap = (drops.get(uid) ?? []).filter((d) => d.start >= start && d.end <= end);
  if (inGap.length === 0) return '';
  const seqs = [...new Set(inGap.map((d) => d.seq))].join(', ');
  return `; the sink recorded dropping ${inGap.length} row(s) of this gap while the disk refused writes (audit_drop, decision seq ${seqs})`;
}

async function walkFiles(files: PartFile[], walk: ChainWalk, problems: VerifyProblem[]): Promise<number> {
  let rows = 0;
  for (const f of files) {
    let data: { rows: Row[]; metadata: Record<string, string> };
    try {
      data = await readAuditFile(f.abs);
    } catch (err) {
      problems.push({
        kind: 'unreadable',
        stream: f.kind,
        file: f.rel,
        message: `cannot be read as Parquet: ${(err as Error).message}`,
      });
      continue;
    }
    const version = data.metadata['carbonscale.schema_version'];
    const expected = fileMetadata(f.kind, isSchemaVersion(version) ? version : undefined);
    for (const [k, v] of Object.entries(expected)) {
      if (data.metadata[k] !== v)
        problems.push({
          kind: 'metadata',
          stream: f.kind,
          file: f.rel,
          message: `key-value metadata ${k}=${data.metadata[k]} (expected ${v})`,
        });
    }
    for (const r of data.rows) {
      rows++;
      if (r.schema_version !== version)
        problems.push({
          kind: 'metadata',
          stream: f.kind,
          file: f.rel,
          seq: Number(r.stream_seq),
          message: `row ${String(r.stream_seq)} has schema_version ${String(r.schema_version)} in a ${version} file`,
        });
      walk.row(r, f.rel, f.day);
    }
  }
  return rows;
}

/** The stream's journal rows continue the stored chain; its checkpoint must name a stored row (ADR 0201). Returns the pending count. */
function walkJournal(journal: Journal, walk: ChainWalk, filesEnd: number, problems: VerifyProblem[]): number {
  const kind = walk.kind;
  let pending = 0;
  for (const { row } of journal.rows) {
    // A journal row already in a final file: the crash came between the file's rename and the compaction.
    if (row.stream_seq <= filesEnd) continue;
    pending++;
    if (row.stream_seq !== walk.prevSeq + 1 || row.prev_hash !== walk.prevHash)
      problems.push({
        kind: 'gap',
        stream: kind,
        file: JOURNAL_REL,
        seq: row.stream_seq,
        message: `journal row ${row.stream_seq} does not follow the last stored row ${walk.prevSeq}`,
      });
    walk.row(row, JOURNAL_REL, undefined);
  }
  const cp = journal.checkpoint?.[kind];
  if (cp && cp.seq > walk.prevSeq)
    problems.push({
      kind: 'gap',
      stream: kind,
      seq: cp.seq,
      message: `the journal checkpoint is at seq ${cp.seq} but the stored rows end at ${walk.prevSeq} (newest files missing)`,
    });
  else if (cp && cp.seq > 0 && walk.hashAtCheckpoint !== undefined && walk.hashAtCheckpoint !== cp.hash)
    problems.push({
      kind: 'chain',
      stream: kind,
      seq: cp.seq,
      message: `the journal checkpoint hash differs from stored row ${cp.seq}`,
    });
  return pending;
}

export async function verifyAuditDir(dir: string, fs: AuditFs = nodeAuditFs): Promise<VerifyResult> {
  if (!(await fs.exists(dir))) throw new Error(`audit directory ${dir} does not exist`);
  const problems: VerifyProblem[] = [];
  const journal = await loadJournal(dir, fs, problems);
  const scan = await scanPartFiles(fs, dir);
  const onDisk = [...scan.parts.usage, ...scan.parts.decision];
  await checkManifests(dir, fs, onDisk, problems);
  const anchor = await loadAnchors(dir, fs);
  const coverage = new TimeCoverage();
  const rows: Record<StreamKind, number> = { usage: 0, decision: 0 };
  const journalRows: Record<StreamKind, number> = { usage: 0, decision: 0 };
  const drops: DropIndex = new Map();
  let objects = new ServiceObjects();
  for (const kind of STREAMS) {
    const walk = new ChainWalk(kind, anchor[kind], journal.checkpoint?.[kind]?.seq, problems, coverage);
    rows[kind] = await walkFiles(scan.parts[kind], walk, problems);
    const own = { checkpoint: journal.checkpoint, rows: journal.rows.filter((j) => j.kind === kind) };
    journalRows[kind] = walkJournal(own, walk, walk.prevSeq, problems);
    for (const [uid, list] of walk.drops) drops.set(uid, [...(drops.get(uid) ?? []), ...list]);
    if (kind === 'usage') objects = walk.objects;
  }
  for (const p of coverage.problems()) {
    const note = p.kind === 'time_gap' ? dropNote(drops, p.key, p.start, p.end) : '';
    problems.push({
      kind: p.kind,
      stream: 'usage',
      file: p.file,
      seq: p.seq,
      service: p.service,
      message: p.message + note,
    });
  }
  const recreated = objects.list().filter((n) => n.objects.length > 1);
  const serviceNames = objects.counts().names;
  const ok = problems.length === 0;
  return {
    ok,
    problems,
    files: onDisk.length,
    rows,
    journalRows,
    services: coverage.services,
    serviceNames,
    recreated,
  };
}
