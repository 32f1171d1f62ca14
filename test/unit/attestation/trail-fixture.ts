// A real audit trail for the attestation and billing tests: rows written through the real ParquetAuditSink
// (computeUsageRecord via the shared usage fixtures: GB 2023 intensities, Electricity Maps, ODbL), hourly
// rotation on an injected clock, and Ed25519 keys made with node:crypto.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import winston from 'winston';
import { ParquetAuditSink } from '../../../operator/audit/parquet-sink.ts';
import type { UsageRecord } from '../../../operator/audit/usage.ts';
import { signingKeyFromPem, type SigningKey } from '../../../operator/attestation/keys.ts';
import { decisionRecord, usageRecord } from '../../fixtures/audit/usage-fixtures.ts';

const silent = winston.createLogger({ silent: true });
export const DAY_MS = 86_400_000;

export interface Trail {
  dir: string;
  records: UsageRecord[];
  /** The clock after the last write (just after the trail's last interval). */
  endMs: number;
}

export interface TrailOptions {
  intervalMs?: number;
  /** Sink rotation (default hourly); a longer one makes fewer files. */
  rotateIntervalMs?: number;
  dir?: string;
  /** More ParquetAuditSink options (e.g. maxRowsPerFile). */
  sinkOptions?: Record<string, unknown>;
  /** Leave the sink open after writing (rows of the last hour stay in the journal); closes it by default. */
  leaveOpen?: boolean;
}

/** Writes `days` days of `services` services, a decision every 6 hours per service, then closes the sink. */
export async function writeTrail(
  days: number,
  services: number,
  o: TrailOptions = {},
): Promise<Trail & { sink?: ParquetAuditSink }> {
  const intervalMs = o.intervalMs ?? 30 * 60_000;
  const d = o.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'attest-trail-')));
  let now = 0;
  const sink = await ParquetAuditSink.open(d, {
    now: () => now,
    tickMs: 0,
    logger: silent,
    clusterId: 'test-cluster',
    ...(o.rotateIntervalMs ? { rotateIntervalMs: o.rotateIntervalMs } : {}),
    ...o.sinkOptions,
  });
  const records: UsageRecord[] = [];
  const n = (days * DAY_MS) / intervalMs;
  for (let i = 0; i < n; i++) {
    const recs = Array.from({ length: services }, (_, s) => usageRecord(s, i, intervalMs));
    now = (recs[0] as UsageRecord).interval_end + 1000;
    await Promise.all(recs.map((r) => sink.writeUsage(r)));
    if ((i * intervalMs) % (6 * 3_600_000) === 0)
      for (let s = 0; s < services; s++) await sink.writeDecision(decisionRecord(s, i, intervalMs));
    records.push(...recs);
  }
  if (o.leaveOpen) return { dir: d, records, endMs: now, sink };
  await sink.close();
  return { dir: d, records, endMs: now };
}

export function newKey(): SigningKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  return signingKeyFromPem(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 'test key');
}

export async function writeKeyFiles(
  dir: string,
  key: SigningKey,
  name = 'key',
): Promise<{ priv: string; pub: string }> {
  const priv = path.join(dir, `${name}.pem`);
  const pub = path.join(dir, `${name}.pub.pem`);
  await writeFile(priv, key.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
  await writeFile(pub, key.publicKeyPem);
  return { priv, pub };
}
