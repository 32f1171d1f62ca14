// Reads what an attestation covers from an audit directory: the Parquet files of a period's days (both streams)
// with their SHA-256, the per-service and per-tenant totals of the usage rows, the chain head of each day, and
// whether rows of the period are still pending in the journal (then the period is not complete yet).
// Uses the audit sink's own layout and readers (operator/audit/), one file at a time.
import { nodeAuditFs, type AuditFs } from '../audit/audit-fs.ts';
import { parseJournal } from '../audit/journal.ts';
import { journalPath } from '../audit/layout.ts';
import { readAuditFile, sha256File } from '../audit/parquet-file.ts';
import { scanPartFiles, type PartFile } from '../audit/part-files.ts';
import { STREAMS, timeColumnOf, type Row, type StreamKind } from '../audit/schema.ts';
import { daysOf, type Period } from './period.ts';
import { PeriodTotalsCollector, type ServiceTotals } from './period-totals.ts';

export interface TrailFile {
  kind: StreamKind;
  day: string;
  /** Relative to the audit directory, forward slashes: the subject name. */
  rel: string;
  abs: string;
  sha256: string;
}

export interface StreamHead {
  /** stream_seq of the day's last row of the stream. */
  last_seq: number;
  last_row_hash: string;
  rows: number;
}

export interface DayHead {
  day: string;
  /** null: the stream has no row on that day. */
  usage: StreamHead | null;
  decision: StreamHead | null;
}

export interface PeriodTrail {
  period: Period;
  files: TrailFile[];
  services: ServiceTotals[];
  tenants: ServiceTotals[];
  heads: DayHead[];
  /** Files that could not be read as audit Parquet (their rows are not in the totals). */
  unreadable: { rel: string; message: string }[];
  /** Rows of the period's days still in the journal (not yet in a final file). */
  pendingRows: number;
}

/** The final files of the period's days, sorted by path (the subject order). */
export async function periodFiles(dir: string, period: Period, fs: AuditFs = nodeAuditFs): Promise<PartFile[]> {
  const days = new Set(daysOf(period));
  const scan = await scanPartFiles(fs, dir);
  return STREAMS.flatMap((k) => scan.parts[k])
    .filter((p) => days.has(p.day))
    .sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

async function pendingRowsOf(dir: string, period: Period, fs: AuditFs): Promise<number> {
  const file = journalPath(dir);
  if (!(await fs.exists(file))) return 0;
  const { rows } = parseJournal((await fs.readFile(file)).toString('utf8'), file);
  return rows.filter((r) => {
    const t = Number((r.row as unknown as Row)[timeColumnOf(r.kind)]);
    return t >= period.startMs && t < period.endMs;
  }).length;
}

function track(heads: Map<string, DayHead>, kind: StreamKind, day: string, rows: readonly Row[]): void {
  const h = heads.get(day) ?? { day, usage: null, decision: null };
  heads.set(day, h);
  for (const r of rows) {
    const seq = Number(r.stream_seq);
    const cur = h[kind];
    if (!cur) h[kind] = { last_seq: seq, last_row_hash: String(r.row_hash), rows: 1 };
    else {
      cur.rows++;
      if (seq > cur.last_seq) {
        cur.last_seq = seq;
        cur.last_row_hash = String(r.row_hash);
      }
    }
  }
}

/** Reads the period: files in path order for the subjects; usage rows summed in stream_seq order. */
export async function readPeriodTrail(dir: string, period: Period, fs: AuditFs = nodeAuditFs): Promise<PeriodTrail> {
  const parts = await periodFiles(dir, period, fs);
  const services = new PeriodTotalsCollector(period.startMs, period.endMs, 'service');
  const tenants = new PeriodTotalsCollector(period.startMs, period.endMs, 'tenant');
  const heads = new Map<string, DayHead>();
  const unreadable: PeriodTrail['unreadable'] = [];
  const files: TrailFile[] = [];
  for (const p of parts)
    files.push({ kind: p.kind, day: p.day, rel: p.rel, abs: p.abs, sha256: await sha256File(p.abs) });
  // Sums follow the stream order (first seq), not the path order, so they do not depend on file names.
  const bySeq = [...parts].sort((a, b) => a.firstSeq - b.firstSeq);
  for (const p of bySeq) {
    let rows: Row[];
    try {
      rows = (await readAuditFile(p.abs)).rows;
    } catch (err) {
      unreadable.push({ rel: p.rel, message: (err as Error).message });
      continue;
    }
    rows.sort((a, b) => Number(a.stream_seq) - Number(b.stream_seq));
    track(heads, p.kind, p.day, rows);
    if (p.kind !== 'usage') continue;
    for (const r of rows) {
      services.add(r);
      tenants.add(r);
    }
  }
  return {
    period,
    files,
    services: services.totals(),
    tenants: tenants.totals(),
    heads: [...heads.values()].sort((a, b) => a.day.localeCompare(b.day)),
    unreadable,
    pendingRows: await pendingRowsOf(dir, period, fs),
  };
}
