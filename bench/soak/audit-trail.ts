// The operator's audit trail as an auditor sees it: record ids in the final Parquet files and in the journal (as
// recovery reads it), and `carbonscale audit verify DIR` run as a user runs it (exit code and its summary line).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { nodeAuditFs } from '../../operator/audit/audit-fs.ts';
import { parseJournal } from '../../operator/audit/journal.ts';
import { journalPath } from '../../operator/audit/layout.ts';
import { readAuditFile } from '../../operator/audit/parquet-file.ts';
import { scanPartFiles } from '../../operator/audit/part-files.ts';
import { STREAMS, type StreamKind } from '../../operator/audit/schema.ts';

const CLI = path.resolve(import.meta.dirname, '../../operator/cli.ts');

export type Trail = Record<StreamKind, Set<string>>;

/** Every record id the trail holds, per stream: final files and journal together (what a recovery keeps). */
export async function readTrail(dir: string): Promise<Trail> {
  const t: Trail = { usage: new Set(), decision: new Set() };
  const { parts } = await scanPartFiles(nodeAuditFs, dir).catch(() => ({ parts: { usage: [], decision: [] } }));
  for (const kind of STREAMS)
    for (const p of parts[kind]) for (const r of (await readAuditFile(p.abs)).rows) t[kind].add(String(r.record_id));
  let text = '';
  try {
    text = readFileSync(journalPath(dir), 'utf8');
  } catch {
    return t;
  }
  for (const { kind, row } of parseJournal(text, 'journal').rows) t[kind].add(row.record_id);
  return t;
}

/** Ids in `before` that `after` no longer holds, per stream. */
export function lost(before: Trail, after: Trail): string[] {
  const out: string[] = [];
  for (const k of STREAMS) for (const id of before[k]) if (!after[k].has(id)) out.push(`${k}:${id}`);
  return out;
}

export interface VerifyOutcome {
  ok: boolean;
  summary: string;
  output: string;
}

/** `carbonscale audit verify DIR`: its exit code, its summary line and the first problems it prints. */
export function auditVerify(dir: string): VerifyOutcome {
  const r = spawnSync(process.execPath, [CLI, 'audit', 'verify', dir], { encoding: 'utf8', timeout: 300_000 });
  const output = `${r.stdout}${r.stderr}`;
  const summary =
    output.split('\n').find((l) => /^(OK|FAIL|PROBLEMS|[A-Z]+):/.test(l)) ??
    output.split('\n').filter(Boolean).at(-1) ??
    '';
  return { ok: r.status === 0, summary: summary.slice(0, 300), output: output.slice(0, 3000) };
}
