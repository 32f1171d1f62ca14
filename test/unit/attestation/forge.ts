// What a careful attacker with write access to the audit directory does: change a row, recompute its row_hash
// and every later row_hash of the stream, rewrite those files, their manifest entries and the journal checkpoint,
// so that `audit verify` finds nothing. Only an attestation made before the forgery can catch it.
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { nodeAuditFs } from '../../../operator/audit/audit-fs.ts';
import { journalPath, manifestPath } from '../../../operator/audit/layout.ts';
import type { DayManifest } from '../../../operator/audit/manifest.ts';
import { readAuditFile, sha256File, writeParquetAtomically } from '../../../operator/audit/parquet-file.ts';
import { scanPartFiles } from '../../../operator/audit/part-files.ts';
import { rowHash, versionOfRow, type Row, type StreamKind } from '../../../operator/audit/schema.ts';
import type { DsseEnvelope } from '../../../operator/attestation/dsse.ts';

export async function copyDir(src: string, prefix = 'attest-work-'): Promise<string> {
  const dst = await mkdtemp(path.join(os.tmpdir(), prefix));
  await cp(src, dst, { recursive: true });
  return dst;
}

/** Changes row `index` of `rel` with `mutate`, then re-chains the rest of the stream and rewrites manifests and journal. */
export async function forgeRow(dir: string, rel: string, index: number, mutate: (r: Row) => void): Promise<void> {
  const scan = await scanPartFiles(nodeAuditFs, dir);
  const kind = (rel.includes('stream=usage') ? 'usage' : 'decision') as StreamKind;
  const files = scan.parts[kind];
  const start = files.findIndex((f) => f.rel === rel);
  if (start < 0) throw new Error(`no file ${rel}`);
  let prev: string | null = null;
  let last = { seq: 0, hash: '' };
  for (const f of files.slice(start)) {
    const { rows } = await readAuditFile(f.abs);
    rows.sort((a, b) => Number(a.stream_seq) - Number(b.stream_seq));
    rows.forEach((r, i) => {
      if (f.rel === rel && i < index) return;
      if (f.rel === rel && i === index) mutate(r);
      if (prev !== null) r.prev_hash = prev;
      r.row_hash = rowHash(kind, r);
      prev = String(r.row_hash);
    });
    await writeParquetAtomically(nodeAuditFs, kind, versionOfRow(rows[0] as Row), rows, `${f.abs}.tmp`, f.abs);
    const lastRow = rows[rows.length - 1] as Row;
    last = { seq: Number(lastRow.stream_seq), hash: String(lastRow.row_hash) };
    const mfile = manifestPath(dir, f.day);
    const m = JSON.parse(await readFile(mfile, 'utf8')) as DayManifest;
    const e = m.files.find((x) => x.path === f.rel);
    if (e) {
      e.sha256 = await sha256File(f.abs);
      e.bytes = (await readFile(f.abs)).length;
      e.first_prev_hash = String((rows[0] as Row).prev_hash);
      e.last_row_hash = last.hash;
    }
    await writeFile(mfile, JSON.stringify(m, null, 1) + '\n');
  }
  const jfile = journalPath(dir);
  const lines = (await readFile(jfile, 'utf8').catch(() => '')).split('\n');
  if (!lines[0]) return;
  const head = JSON.parse(lines[0] as string) as { checkpoint?: Record<StreamKind, { seq: number; hash: string }> };
  if (head.checkpoint && head.checkpoint[kind].seq === last.seq) {
    head.checkpoint[kind].hash = last.hash;
    lines[0] = JSON.stringify(head);
    await writeFile(jfile, lines.join('\n'));
  }
}

/** Rewrites an envelope's statement (payload re-encoded) and keeps the old signature. */
export async function editStatement(file: string, edit: (s: Record<string, unknown>) => void): Promise<void> {
  const env = JSON.parse(await readFile(file, 'utf8')) as DsseEnvelope;
  const s = JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8')) as Record<string, unknown>;
  edit(s);
  env.payload = Buffer.from(JSON.stringify(s)).toString('base64');
  await writeFile(file, JSON.stringify(env) + '\n');
}

/** Flips one bit of the first signature. */
export async function flipSignature(file: string): Promise<void> {
  const env = JSON.parse(await readFile(file, 'utf8')) as DsseEnvelope;
  const sig = Buffer.from((env.signatures[0] as { sig: string }).sig, 'base64');
  sig[0] = (sig[0] as number) ^ 0x01;
  (env.signatures[0] as { sig: string }).sig = sig.toString('base64');
  await writeFile(file, JSON.stringify(env) + '\n');
}
