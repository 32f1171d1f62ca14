// `carbonscale audit verify DIR`: recomputes the hash chain, the day manifests and the derived columns of an
// audit directory and reports every gap, edit, duplicate, missing, unlisted or swapped file. Reads one file at a
// time, so a year of data verifies in bounded memory.
import path from 'node:path';
import { nodeAuditFs, type AuditFs } from './audit-fs.ts';
import { dayOf, journalPath, parseDtDir, parsePartFileName, retentionPath, TMP_SUFFIX } from './layout.ts';
import { parseJournal } from './journal.ts';
import { readManifest, type ManifestEntry } from './manifest.ts';
import { readAuditFile, sha256File } from './parquet-file.ts';
import { fileMetadata, GENESIS_HASH, rowHash, STREAMS, timeColumnOf, type Row, type StreamKind } from './schema.ts';

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
  | 'derived';

export interface VerifyProblem {
  kind: ProblemKind;
  stream?: StreamKind;
  file?: string;
  seq?: number;
  message: string;
}

export interface VerifyResult {
  ok: boolean;
  problems: VerifyProblem[];
  files: number;
  rows: Record<StreamKind, number>;
  /** Rows still in the journal (durable, not yet rotated into Parquet), checked to continue the chain. */
  journalRows: Record<StreamKind, number>;
}

const REL_TOL = 1e-9;

function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= REL_TOL * Math.max(Math.abs(a), Math.abs(b)) + 1e-12;
}

/** Recomputes every derived usage column from its inputs (docs/audit.md, "Methodology"). Returns the mismatches. */
export function derivedMismatches(r: Row): string[] {
  const n = (k: string): number => Number(r[k]);
  const out: string[] = [];
  const check = (col: string, expected: number): void => {
    if (!close(n(col), expected)) out.push(`${col}=${n(col)} but recomputed ${expected}`);
  };
  const intervalS = (n('interval_end') - n('interval_start')) / 1000;
  check('interval_s', intervalS);
  check('gpu_seconds', n('replicas_avg') * n('gpus_per_replica') * n('interval_s'));
  check('gpu_hours', n('gpu_seconds') / 3600);
  if (r.energy_method === 'estimated') {
    const w = n('power_idle_w') + (n('power_busy_w') - n('power_idle_w')) * n('utilization');
    check('energy_it_kwh', (w * n('replicas_avg') * n('interval_s')) / 3_600_000);
  }
  check('energy_facility_kwh', n('energy_it_kwh') * n('pue'));
  check('operational_co2e_g', n('energy_facility_kwh') * n('ci_g_per_kwh'));
  check('embodied_co2e_g', n('gpu_hours') * n('embodied_g_per_gpu_hour'));
  check('total_co2e_g', n('operational_co2e_g') + n('embodied_co2e_g'));
  check('ci_data_age_s', (n('interval_end') - n('ci_data_time')) / 1000);
  const bw =
    n('baseline_power_idle_w') + (n('baseline_power_busy_w') - n('baseline_power_idle_w')) * n('baseline_utilization');
  check('baseline_energy_it_kwh', (bw * n('baseline_replicas') * n('interval_s')) / 3_600_000);
  check('baseline_energy_facility_kwh', n('baseline_energy_it_kwh') * n('pue'));
  check('baseline_operational_co2e_g', n('baseline_energy_facility_kwh') * n('ci_g_per_kwh'));
  check(
    'baseline_embodied_co2e_g',
    ((n('baseline_replicas') * n('baseline_gpus_per_replica') * n('interval_s')) / 3600) * n('embodied_g_per_gpu_hour'),
  );
  check('baseline_total_co2e_g', n('baseline_operational_co2e_g') + n('baseline_embodied_co2e_g'));
  check('savings_co2e_g', n('baseline_total_co2e_g') - n('total_co2e_g'));
  if (n('inferences') > 0) check('sci_g_per_1k_inferences', (n('total_co2e_g') / n('inferences')) * 1000);
  else if (r.sci_g_per_1k_inferences !== null) out.push('sci_g_per_1k_inferences must be null when inferences = 0');
  if (r.ci_fallback_used !== n('ci_fallback_level') > 0) out.push('ci_fallback_used disagrees with ci_fallback_level');
  return out;
}

interface FileRef {
  kind: StreamKind;
  day: string;
  rel: string;
  firstSeq: number;
}

export async function verifyAuditDir(dir: string, fs: AuditFs = nodeAuditFs): Promise<VerifyResult> {
  const problems: VerifyProblem[] = [];
  const rowsCount: Record<StreamKind, number> = { usage: 0, decision: 0 };
  const journalRows: Record<StreamKind, number> = { usage: 0, decision: 0 };
  const jf = journalPath(dir);
  let journal: ReturnType<typeof parseJournal> = { checkpoint: null, rows: [] };
  if (await fs.exists(jf)) {
    try {
      journal = parseJournal((await fs.readFile(jf)).toString('utf8'), jf);
    } catch (err) {
      problems.push({ kind: 'unreadable', file: 'journal/journal.jsonl', message: (err as Error).message });
    }
  }
  if (!(await fs.exists(dir))) throw new Error(`audit directory ${dir} does not exist`);

  // Manifests: every listed file must exist with the listed hash; every file must be listed.
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
  const onDisk: FileRef[] = [];
  for (const kind of STREAMS) {
    for (const dtName of await fs.readdir(path.join(dir, `kind=${kind}`))) {
      const day = parseDtDir(dtName);
      if (!day) continue;
      for (const name of await fs.readdir(path.join(dir, `kind=${kind}`, dtName))) {
        if (!name.endsWith('.parquet') || name.endsWith(TMP_SUFFIX)) continue;
        const rel = `kind=${kind}/${dtName}/${name}`;
        onDisk.push({ kind, day, rel, firstSeq: parsePartFileName(name)?.firstSeq ?? Number.MAX_SAFE_INTEGER });
      }
    }
  }
  const diskSet = new Set(onDisk.map((f) => f.rel));
  for (const [rel, e] of listed) {
    if (!diskSet.has(rel)) {
      problems.push({
        kind: 'missing_file',
        stream: e.kind,
        file: rel,
        message: `listed in the manifest (seq ${e.first_seq}..${e.last_seq}, ${e.rows} rows) but absent`,
      });
    }
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
    const sha = await sha256File(path.join(dir, f.rel));
    if (sha !== e.sha256) {
      problems.push({
        kind: 'file_hash',
        stream: f.kind,
        file: f.rel,
        message: `sha256 ${sha} differs from the manifest's ${e.sha256} (file edited or replaced)`,
      });
    }
  }

  // Retention anchors: where the kept part of each chain starts.
  const anchor: Record<StreamKind, { seq: number; hash: string }> = {
    usage: { seq: 0, hash: GENESIS_HASH },
    decision: { seq: 0, hash: GENESIS_HASH },
  };
  const rp = retentionPath(dir);
  if (await fs.exists(rp)) {
    for (const line of (await fs.readFile(rp)).toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      const a = JSON.parse(line) as { kind: StreamKind; through_seq: number; last_row_hash: string };
      if (STREAMS.includes(a.kind) && a.through_seq > anchor[a.kind].seq)
        anchor[a.kind] = { seq: a.through_seq, hash: a.last_row_hash };
    }
  }

  // The chain, stream by stream, file by file in sequence order.
  for (const kind of STREAMS) {
    const files = onDisk
      .filter((f) => f.kind === kind)
      .sort((a, b) => a.firstSeq - b.firstSeq || a.rel.localeCompare(b.rel));
    let prevSeq = anchor[kind].seq;
    let prevHash = anchor[kind].hash;
    const recentIds = new Map<string, number>(); // sliding window: replays happen close together
    const expectedMeta = fileMetadata(kind);
    for (const f of files) {
      let rows: Row[];
      let metadata: Record<string, string>;
      try {
        ({ rows, metadata } = await readAuditFile(path.join(dir, f.rel)));
      } catch (err) {
        problems.push({
          kind: 'unreadable',
          stream: kind,
          file: f.rel,
          message: `cannot be read as Parquet: ${(err as Error).message}`,
        });
        continue;
      }
      for (const [k, v] of Object.entries(expectedMeta)) {
        if (metadata[k] !== v)
          problems.push({
            kind: 'metadata',
            stream: kind,
            file: f.rel,
            message: `key-value metadata ${k}=${metadata[k]} (expected ${v})`,
          });
      }
      for (const r of rows) {
        rowsCount[kind]++;
        const seq = Number(r.stream_seq);
        const at = { stream: kind, file: f.rel, seq };
        if (rowHash(kind, r) !== r.row_hash)
          problems.push({ kind: 'edit', ...at, message: `row ${seq}: content does not match its row_hash (edited)` });
        const rowDay = dayOf(Number(r[timeColumnOf(kind)]));
        if (rowDay !== f.day)
          problems.push({
            kind: 'wrong_partition',
            ...at,
            message: `row ${seq} is dated ${rowDay} but stored under dt=${f.day}`,
          });
        const id = String(r.record_id);
        if (recentIds.has(id))
          problems.push({ kind: 'duplicate', ...at, message: `record_id ${id} already at seq ${recentIds.get(id)}` });
        recentIds.set(id, seq);
        if (recentIds.size > 200_000) recentIds.delete(recentIds.keys().next().value as string);
        if (seq <= prevSeq) {
          problems.push({ kind: 'duplicate', ...at, message: `seq ${seq} repeats or goes back (previous ${prevSeq})` });
          continue;
        }
        if (seq > prevSeq + 1) {
          problems.push({ kind: 'gap', ...at, message: `seq ${prevSeq + 1}..${seq - 1} missing before row ${seq}` });
        } else if (r.prev_hash !== prevHash) {
          problems.push({
            kind: 'chain',
            ...at,
            message: `row ${seq}: prev_hash does not match row ${prevSeq}'s row_hash`,
          });
        }
        if (kind === 'usage') {
          for (const m of derivedMismatches(r)) problems.push({ kind: 'derived', ...at, message: `row ${seq}: ${m}` });
        }
        prevSeq = seq;
        prevHash = String(r.row_hash);
      }
    }
    // The journal continues the chain: its checkpoint is the writer's own record of the last rotated row, so
    // removing the newest files (and their manifest entries) still shows as a gap.
    const cp = journal.checkpoint?.[kind];
    for (const { row } of journal.rows.filter((j) => j.kind === kind && j.row.stream_seq > prevSeq)) {
      journalRows[kind]++;
      if (row.stream_seq !== prevSeq + 1 || row.prev_hash !== prevHash) {
        problems.push({
          kind: 'gap',
          stream: kind,
          file: 'journal/journal.jsonl',
          seq: row.stream_seq,
          message: `journal row ${row.stream_seq} does not follow the last stored row ${prevSeq}`,
        });
      }
      prevSeq = row.stream_seq;
      prevHash = row.row_hash;
    }
    if (cp && cp.seq > prevSeq) {
      problems.push({
        kind: 'gap',
        stream: kind,
        seq: cp.seq,
        message: `the journal checkpoint is at seq ${cp.seq} but the stored rows end at ${prevSeq} (newest files missing)`,
      });
    } else if (cp && cp.seq === prevSeq && cp.hash !== prevHash && journalRows[kind] === 0) {
      problems.push({
        kind: 'chain',
        stream: kind,
        seq: cp.seq,
        message: `the journal checkpoint hash differs from stored row ${cp.seq}`,
      });
    }
  }
  return { ok: problems.length === 0, problems, files: onDisk.length, rows: rowsCount, journalRows };
}
