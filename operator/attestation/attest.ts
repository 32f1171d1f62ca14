// Writes the attestations of one period: for each service with usage rows in it, an in-toto Statement v1 whose
// subjects are every Parquet file of the period's days (both streams) and whose predicate carries the service's
// totals, billing lines and the chain head of each day, in a DSSE envelope signed with Ed25519.
// A period is attested only once it is complete: it has ended, no row of it is still in the journal, every file
// reads and matches its day manifest. Envelopes are written atomically (temp, fsync, rename, fsync dir).
import path from 'node:path';
import { nodeAuditFs, type AuditFs } from '../audit/audit-fs.ts';
import { readManifest } from '../audit/manifest.ts';
import { pricingPlanDigest, type PricingPlan } from '../billing/pricing-plan.ts';
import { billingLines } from '../billing/tenant-statement.ts';
import { IN_TOTO_PAYLOAD_TYPE, signEnvelope } from './dsse.ts';
import { addToKeyring, emptyKeyring, parseKeyring, serializeKeyring, type Keyring, type SigningKey } from './keys.ts';
import { envelopeRel, keyringPath } from './layout.ts';
import type { Period } from './period.ts';
import { buildPredicate, buildStatement } from './predicate.ts';
import { readPeriodTrail, type PeriodTrail } from './trail.ts';

export interface AttestOptions {
  key: SigningKey;
  nowMs: number;
  operatorVersion: string;
  plan?: PricingPlan | null;
  /** The declared latency SLO of a service (by uid), when known. */
  sloOf?: (uid: string) => number | undefined;
  /** Rewrite envelopes that already exist (default: keep them). */
  force?: boolean;
  fs?: AuditFs;
}

export interface AttestResult {
  period: Period;
  written: string[];
  /** Envelopes already there (not rewritten). */
  existing: string[];
  /** Why the period was not attested (incomplete or inconsistent); empty when it was. */
  refused: string[];
}

/** Reasons a period cannot be attested yet (or at all): an attestation must only sign a complete, intact period. */
async function refusals(dir: string, trail: PeriodTrail, nowMs: number, fs: AuditFs): Promise<string[]> {
  const out: string[] = [];
  const p = trail.period;
  if (nowMs < p.endMs) out.push(`period ${p.kind} ${p.id} has not ended (ends ${new Date(p.endMs).toISOString()})`);
  if (trail.pendingRows > 0)
    out.push(
      `${trail.pendingRows} rows of ${p.id} are still in journal/ (not yet in Parquet): attest after the next rotation`,
    );
  for (const u of trail.unreadable) out.push(`${u.rel}: unreadable (${u.message})`);
  const manifests = new Map<string, Map<string, string>>();
  for (const f of trail.files) {
    let m = manifests.get(f.day);
    if (!m) {
      const man = await readManifest(fs, dir, f.day);
      manifests.set(f.day, (m = new Map((man?.files ?? []).map((e) => [e.path, e.sha256]))));
    }
    const listed = m.get(f.rel);
    if (listed === undefined) out.push(`${f.rel}: not in its day manifest`);
    else if (listed !== f.sha256) out.push(`${f.rel}: sha256 ${f.sha256} differs from its manifest (${listed})`);
  }
  return out;
}

async function writeAtomically(fs: AuditFs, file: string, text: string): Promise<void> {
  await fs.mkdirp(path.dirname(file));
  await fs.writeFileDurable(`${file}.tmp`, text);
  await fs.rename(`${file}.tmp`, file);
  await fs.fsyncDir(path.dirname(file));
}

/** Adds the signing key's public half to DIR/attestations/keyring.json (a convenience copy, never trusted). */
export async function recordPublicKey(
  dir: string,
  key: SigningKey,
  nowMs: number,
  fs: AuditFs = nodeAuditFs,
): Promise<Keyring> {
  const file = keyringPath(dir);
  const current = (await fs.exists(file))
    ? parseKeyring((await fs.readFile(file)).toString('utf8'), file)
    : emptyKeyring();
  const { ring, added } = addToKeyring(current, key.publicKey, nowMs);
  if (added) await writeAtomically(fs, file, serializeKeyring(ring));
  return ring;
}

/** Attests every service of `period` (see the file header). */
export async function attestPeriod(dir: string, period: Period, o: AttestOptions): Promise<AttestResult> {
  const fs = o.fs ?? nodeAuditFs;
  const result: AttestResult = { period, written: [], existing: [], refused: [] };
  const trail = await readPeriodTrail(dir, period, fs);
  result.refused = await refusals(dir, trail, o.nowMs, fs);
  if (result.refused.length > 0) return result;
  const plan = o.plan ?? null;
  const subjects = trail.files.map((f) => ({ name: f.rel, digest: { sha256: f.sha256 } }));
  for (const t of trail.services) {
    const rel = envelopeRel(period.kind, period.id, t.namespace, t.name, t.uid);
    const file = path.join(dir, rel);
    if (!o.force && (await fs.exists(file))) {
      result.existing.push(rel);
      continue;
    }
    const predicate = buildPredicate({
      period,
      totals: t,
      heads: trail.heads,
      lines: plan ? billingLines(plan, t) : null,
      issued_at: new Date(o.nowMs).toISOString(),
      issuer: { tool: 'carbonscale', version: o.operatorVersion },
      slo_latency_p95_ms: o.sloOf?.(t.uid) ?? null,
      plan,
      plan_sha256: plan ? pricingPlanDigest(plan) : null,
    });
    const body = Buffer.from(JSON.stringify(buildStatement(subjects, predicate)), 'utf8');
    const env = signEnvelope(IN_TOTO_PAYLOAD_TYPE, body, o.key.keyid, o.key.privateKey);
    await writeAtomically(fs, file, JSON.stringify(env) + '\n');
    result.written.push(rel);
  }
  if (result.written.length > 0) await recordPublicKey(dir, o.key, o.nowMs, fs);
  return result;
}
