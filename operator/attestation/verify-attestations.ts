// `carbonscale audit verify DIR --attestations`: checks every envelope under DIR/attestations/: its Ed25519
// signature against a keyring (by keyid), the statement's shape, every subject's SHA-256 against the file on
// disk, that no file of the period is left out, and every field of the predicate against a recomputation from
// the rows (totals, quality, billing lines, chain head of each day). Exact: the recomputation sums in the same
// order with the same formulas, so any change to a row, a file or a number shows.
import path from 'node:path';
import { nodeAuditFs, type AuditFs } from '../audit/audit-fs.ts';
import { scanPartFiles } from '../audit/part-files.ts';
import { STREAMS } from '../audit/schema.ts';
import { pricingPlanDigest, validatePricingPlan, type PricingPlan } from '../billing/pricing-plan.ts';
import { billingLines } from '../billing/tenant-statement.ts';
import { checkSignatures, IN_TOTO_PAYLOAD_TYPE, parseEnvelope, payloadOf, type DsseEnvelope } from './dsse.ts';
import { keyLookup, type Keyring } from './keys.ts';
import { ATTESTATIONS_DIR, ENVELOPE_SUFFIX, envelopeRel, parseEnvelopeRel } from './layout.ts';
import { parsePeriodId, PERIOD_KINDS, periodsCovering, type Period } from './period.ts';
import type { Unchecked } from '../decision/unchecked.ts';
import {
  buildPredicate,
  declaredOf,
  PREDICATE_TYPE,
  STATEMENT_TYPE,
  type Statement,
  type Subject,
} from './predicate.ts';
import { readPeriodTrail, type PeriodTrail } from './trail.ts';

export type AttestationProblemKind =
  | 'envelope'
  | 'signature'
  | 'unknown_key'
  | 'statement'
  | 'misplaced'
  | 'subject_missing'
  | 'subject_digest'
  | 'unattested_file'
  | 'predicate'
  | 'chain_head'
  | 'missing_attestation';

export interface AttestationProblem {
  kind: AttestationProblemKind;
  /** The envelope, relative to the audit directory. */
  envelope: string;
  message: string;
}

export interface AttestationVerifyResult {
  ok: boolean;
  envelopes: number;
  /** Envelopes with a valid signature whose every check passed. */
  verified: number;
  problems: AttestationProblem[];
}

async function listEnvelopes(fs: AuditFs, dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await fs.readdir(path.join(dir, rel))).sort()) {
      const child = `${rel}/${name}`;
      if (name.endsWith(ENVELOPE_SUFFIX)) out.push(child);
      else if (!name.includes('.')) await walk(child);
    }
  };
  for (const kind of ['day', 'month']) await walk(`${ATTESTATIONS_DIR}/${kind}`);
  return out;
}

/** Lists the leaves where two JSON values differ, as `path: attested X, rows give Y`. */
export function jsonDiff(attested: unknown, recomputed: unknown, at = 'predicate', out: string[] = []): string[] {
  if (out.length >= 20) return out;
  const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object';
  if (isObj(attested) && isObj(recomputed) && Array.isArray(attested) === Array.isArray(recomputed)) {
    const keys = new Set([...Object.keys(attested), ...Object.keys(recomputed)]);
    for (const k of keys)
      jsonDiff(attested[k], recomputed[k], Array.isArray(attested) ? `${at}[${k}]` : `${at}.${k}`, out);
  } else if (JSON.stringify(attested) !== JSON.stringify(recomputed)) {
    out.push(`${at}: attested ${JSON.stringify(attested)}, the rows give ${JSON.stringify(recomputed)}`);
  }
  return out;
}

interface Ctx {
  dir: string;
  fs: AuditFs;
  keyOf: ReturnType<typeof keyLookup>;
  trails: Map<string, Promise<PeriodTrail>>;
  problems: AttestationProblem[];
}

function statementOf(env: DsseEnvelope, rel: string, ctx: Ctx): Statement | null {
  const bad = (message: string): null => {
    ctx.problems.push({ kind: 'statement', envelope: rel, message });
    return null;
  };
  if (env.payloadType !== IN_TOTO_PAYLOAD_TYPE)
    return bad(`payloadType is ${env.payloadType}, not ${IN_TOTO_PAYLOAD_TYPE}`);
  let s: Unchecked<Statement> | null;
  try {
    s = JSON.parse(payloadOf(env).toString('utf8')) as Unchecked<Statement> | null;
  } catch {
    return bad('payload is not JSON');
  }
  if (s?._type !== STATEMENT_TYPE) return bad(`_type is ${String(s?._type)}, not ${STATEMENT_TYPE}`);
  if (s.predicateType !== PREDICATE_TYPE)
    return bad(`predicateType is ${String(s.predicateType)}, not ${PREDICATE_TYPE}`);
  if (!Array.isArray(s.subject) || !s.predicate || typeof s.predicate !== 'object')
    return bad('no subject list or predicate');
  // The top level is checked; each subject is checked where it is compared (checkSubjects).
  return s as Statement;
}

function checkSignature(env: DsseEnvelope, rel: string, ctx: Ctx): boolean {
  const checks = checkSignatures(env, ctx.keyOf);
  if (checks.some((c) => c.outcome === 'valid')) return true;
  for (const c of checks)
    ctx.problems.push(
      c.outcome === 'unknown_key'
        ? { kind: 'unknown_key', envelope: rel, message: `keyid ${c.keyid} is not in the keyring` }
        : { kind: 'signature', envelope: rel, message: `signature by keyid ${c.keyid} does not verify` },
    );
  return false;
}

function checkSubjects(s: Statement, trail: PeriodTrail, rel: string, ctx: Ctx): void {
  const onDisk = new Map(trail.files.map((f) => [f.rel, f.sha256]));
  const named = new Set<string>();
  for (const sub of s.subject) {
    named.add(sub.name);
    const actual = onDisk.get(sub.name);
    // A subject is as its envelope had it: its digest may be missing (statementOf checks only the list).
    const attested = (sub as Unchecked<Subject>).digest?.sha256;
    if (actual === undefined)
      ctx.problems.push({
        kind: 'subject_missing',
        envelope: rel,
        message: `${sub.name}: attested file is not on disk`,
      });
    else if (actual !== attested)
      ctx.problems.push({
        kind: 'subject_digest',
        envelope: rel,
        message: `${sub.name}: sha256 is ${actual}, attested ${String(attested)}`,
      });
  }
  for (const f of trail.files)
    if (!named.has(f.rel))
      ctx.problems.push({
        kind: 'unattested_file',
        envelope: rel,
        message: `${f.rel}: in the period but not attested`,
      });
}

function checkPredicate(s: Statement, period: Period, uid: string, trail: PeriodTrail, rel: string, ctx: Ctx): void {
  const declared = declaredOf(s.predicate);
  let plan: PricingPlan | null = null;
  if (declared.plan !== null) {
    try {
      plan = validatePricingPlan(declared.plan, `${rel} predicate.billing.plan`);
    } catch (err) {
      ctx.problems.push({ kind: 'predicate', envelope: rel, message: (err as Error).message });
      return;
    }
    if (pricingPlanDigest(plan) !== declared.plan_sha256)
      ctx.problems.push({
        kind: 'predicate',
        envelope: rel,
        message: 'predicate.billing.plan_sha256 does not match the plan',
      });
  }
  const totals = trail.services.find((t) => t.uid === uid);
  if (!totals) {
    ctx.problems.push({
      kind: 'predicate',
      envelope: rel,
      message: `no usage rows of service uid ${uid} in ${period.id}`,
    });
    return;
  }
  const recomputed = buildPredicate({
    ...declared,
    plan,
    period,
    totals,
    heads: trail.heads,
    lines: plan ? billingLines(plan, totals) : null,
  });
  for (const d of jsonDiff(s.predicate, JSON.parse(JSON.stringify(recomputed))))
    ctx.problems.push({
      kind: d.startsWith('predicate.chain') ? 'chain_head' : 'predicate',
      envelope: rel,
      message: d,
    });
}

async function verifyOne(rel: string, ctx: Ctx): Promise<boolean> {
  const before = ctx.problems.length;
  let env: DsseEnvelope;
  try {
    env = parseEnvelope((await ctx.fs.readFile(path.join(ctx.dir, rel))).toString('utf8'));
  } catch (err) {
    ctx.problems.push({ kind: 'envelope', envelope: rel, message: (err as Error).message });
    return false;
  }
  if (!checkSignature(env, rel, ctx)) return false;
  const s = statementOf(env, rel, ctx);
  if (!s) return false;
  const where = parseEnvelopeRel(rel);
  const pp = s.predicate.period as { kind?: string; id?: string } | undefined;
  const svc = s.predicate.service as { uid?: string; namespace?: string; name?: string } | undefined;
  const period = where ? parsePeriodId(where.kind, where.periodId) : null;
  if (!where || !period || pp?.kind !== where.kind || pp.id !== where.periodId || svc?.uid !== where.uid) {
    ctx.problems.push({
      kind: 'misplaced',
      envelope: rel,
      message: 'the envelope path does not match its period and service',
    });
    return false;
  }
  const key = `${period.kind}/${period.id}`;
  if (!ctx.trails.has(key)) ctx.trails.set(key, readPeriodTrail(ctx.dir, period, ctx.fs));
  const trail = await (ctx.trails.get(key) as Promise<PeriodTrail>);
  checkSubjects(s, trail, rel, ctx);
  checkPredicate(s, period, where.uid, trail, rel, ctx);
  return ctx.problems.length === before;
}

/**
 * Envelopes that should be there and are not: a service with rows in an attested period but no envelope, and
 * a period between the first and the last attested one (same kind) whose files have no envelope at all. The
 * newest periods' envelopes removed together cannot be told from not yet attested (as the chain's tail).
 */
async function checkCompleteness(envelopes: readonly string[], ctx: Ctx): Promise<void> {
  const attested = new Map<string, Set<string>>();
  for (const rel of envelopes) {
    const w = parseEnvelopeRel(rel);
    if (!w) continue;
    const key = `${w.kind}/${w.periodId}`;
    if (!attested.has(key)) attested.set(key, new Set());
    (attested.get(key) as Set<string>).add(w.uid);
  }
  const scan = await scanPartFiles(ctx.fs, ctx.dir);
  const days = [...new Set(STREAMS.flatMap((k) => scan.parts[k].map((p) => p.day)))];
  for (const kind of PERIOD_KINDS) {
    const ids = [...attested.keys()]
      .filter((k) => k.startsWith(`${kind}/`))
      .map((k) => k.slice(kind.length + 1))
      .sort();
    const first = ids[0];
    const last = ids[ids.length - 1];
    if (first === undefined || last === undefined) continue;
    for (const p of periodsCovering(kind, days)) {
      if (p.id < first || p.id > last) continue;
      const key = `${kind}/${p.id}`;
      const uids = attested.get(key);
      if (!uids) {
        ctx.problems.push({
          kind: 'missing_attestation',
          envelope: `${ATTESTATIONS_DIR}/${key}`,
          message: `${kind} ${p.id} has audit files but no attestation, between attested periods ${first} and ${last}`,
        });
        continue;
      }
      if (!ctx.trails.has(key)) ctx.trails.set(key, readPeriodTrail(ctx.dir, p, ctx.fs));
      const trail = await (ctx.trails.get(key) as Promise<PeriodTrail>);
      for (const t of trail.services)
        if (!uids.has(t.uid))
          ctx.problems.push({
            kind: 'missing_attestation',
            envelope: envelopeRel(kind, p.id, t.namespace, t.name, t.uid),
            message: `service ${t.namespace}/${t.name} (uid ${t.uid}) has rows in ${kind} ${p.id} but no attestation`,
          });
    }
  }
}

export async function verifyAttestations(
  dir: string,
  keyring: Keyring,
  fs: AuditFs = nodeAuditFs,
): Promise<AttestationVerifyResult> {
  const ctx: Ctx = { dir, fs, keyOf: keyLookup(keyring), trails: new Map(), problems: [] };
  const envelopes = await listEnvelopes(fs, dir);
  let verified = 0;
  for (const rel of envelopes) if (await verifyOne(rel, ctx)) verified++;
  await checkCompleteness(envelopes, ctx);
  return { ok: ctx.problems.length === 0, envelopes: envelopes.length, verified, problems: ctx.problems };
}
