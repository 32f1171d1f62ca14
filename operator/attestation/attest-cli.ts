// The attestation parts of the audit CLI (operator/audit/audit-cli.ts dispatches here):
//   carbonscale audit attest DIR --key KEY.pem [--period day|month]... [--from DAY] [--to DAY] [--pricing PLAN]
//                                [--slo UID=MS]... [--force] [--allow-unverified] [--json]
//   carbonscale audit verify DIR --attestations [--keyring KEYRING.json|KEY.pub.pem|DIR]
// Exit codes as the rest of `audit`: 0 ok, 1 problems or refused periods, 2 bad usage.
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { checkInputDir, checkInputFile, readFlagFileAsync } from '../cli-paths.ts';
import { verifyAuditDir, type VerifyResult } from '../audit/verify.ts';
import { parsePricingPlan, PricingPlanError, type PricingPlan } from '../billing/pricing-plan.ts';
import { attestPeriod, type AttestResult } from './attest.ts';
import {
  addToKeyring,
  emptyKeyring,
  KeyError,
  parseKeyring,
  publicKeyFromPem,
  signingKeyFromPem,
  type Keyring,
} from './keys.ts';
import { keyringPath } from './layout.ts';
import { isPeriodKind, periodsCovering, type PeriodKind } from './period.ts';
import { verifyAttestations, type AttestationVerifyResult } from './verify-attestations.ts';
import { scanPartFiles } from '../audit/part-files.ts';
import { nodeAuditFs } from '../audit/audit-fs.ts';
import { STREAMS } from '../audit/schema.ts';

export class AttestUsageError extends Error {}

/** Problems of `audit verify` that make a trail unfit to sign; time gaps are facts about a service, not damage. */
const INTEGRITY = new Set([
  'edit',
  'chain',
  'gap',
  'duplicate',
  'missing_file',
  'unlisted_file',
  'file_hash',
  'wrong_partition',
  'unreadable',
  'metadata',
  'derived',
]);

export async function loadPricingPlan(file: string): Promise<PricingPlan> {
  return parsePricingPlan(await readFlagFileAsync('--pricing', file), file);
}

function parseSlo(values: string[] | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const v of values ?? []) {
    const m = /^([^=]+)=(\d+(?:\.\d+)?)$/.exec(v);
    if (!m) throw new AttestUsageError(`--slo: expected UID=MILLISECONDS (got ${v})`);
    out.set(m[1] as string, Number(m[2]));
  }
  return out;
}

function dayArg(v: string | undefined, flag: string): string | undefined {
  if (v !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(v))
    throw new AttestUsageError(`${flag}: expected YYYY-MM-DD (got ${v})`);
  return v;
}

function printAttest(r: AttestResult, nowMs: number): boolean {
  const id = `${r.period.kind} ${r.period.id}`;
  if (r.refused.length > 0) {
    const notEnded = nowMs < r.period.endMs;
    for (const why of r.refused) console.log(`${notEnded ? 'SKIP' : 'REFUSED'}\t${id}\t${why}`);
    return notEnded;
  }
  for (const w of r.written) console.log(`WROTE\t${w}`);
  for (const e of r.existing) console.log(`EXISTS\t${e}\t(kept; --force rewrites)`);
  return true;
}

export async function attestCommand(args: string[], nowMs: number = Date.now()): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      key: { type: 'string' },
      period: { type: 'string', multiple: true },
      from: { type: 'string' },
      to: { type: 'string' },
      pricing: { type: 'string' },
      slo: { type: 'string', multiple: true },
      force: { type: 'boolean' },
      'allow-unverified': { type: 'boolean' },
      'operator-version': { type: 'string' },
    },
    allowPositionals: true,
  });
  const dir = positionals[0];
  if (!dir || positionals.length > 1) throw new AttestUsageError('audit attest needs exactly one DIR');
  if (!values.key) throw new AttestUsageError('audit attest needs --key KEY.pem (an Ed25519 PKCS#8 private key)');
  const kinds = (values.period ?? ['day']).map((k) => {
    if (!isPeriodKind(k)) throw new AttestUsageError(`--period: expected day or month (got ${k})`);
    return k;
  });
  const from = dayArg(values.from, '--from');
  const to = dayArg(values.to, '--to');
  // The paths first (one line naming the flag, cli-paths.ts), before the trail is read.
  checkInputDir('DIR', dir);
  checkInputFile('--key', values.key);
  if (values.pricing) checkInputFile('--pricing', values.pricing);
  const key = signingKeyFromPem(await readFlagFileAsync('--key', values.key), values.key);
  const plan = values.pricing ? await loadPricingPlan(values.pricing) : null;
  const slo = parseSlo(values.slo);
  if (!(await refuseUnverified(dir, values['allow-unverified'] === true))) return 1;
  const scan = await scanPartFiles(nodeAuditFs, dir);
  const days = [...new Set(STREAMS.flatMap((k) => scan.parts[k].map((p) => p.day)))]
    .filter((d) => (from === undefined || d >= from) && (to === undefined || d <= to))
    .sort();
  let ok = true;
  for (const kind of kinds as PeriodKind[])
    for (const period of periodsCovering(kind, days)) {
      const r = await attestPeriod(dir, period, {
        key,
        nowMs,
        operatorVersion: values['operator-version'] ?? 'cli',
        plan,
        sloOf: (uid) => slo.get(uid),
        force: values.force === true,
      });
      ok = printAttest(r, nowMs) && ok;
    }
  console.log(`${ok ? 'OK' : 'FAILED'}: signed with keyid ${key.keyid}`);
  return ok ? 0 : 1;
}

async function refuseUnverified(dir: string, allow: boolean): Promise<boolean> {
  const v: VerifyResult = await verifyAuditDir(dir);
  const bad = v.problems.filter((p) => INTEGRITY.has(p.kind));
  if (bad.length === 0) return true;
  for (const p of bad.slice(0, 20))
    console.error(`${p.kind.toUpperCase()}\t${p.stream ?? '-'}\t${p.file ?? '-'}\t${p.message}`);
  if (allow) {
    console.error(`WARNING: attesting a trail with ${bad.length} integrity problems (--allow-unverified)`);
    return true;
  }
  console.error(
    `audit attest: refusing to sign a trail that does not verify (${bad.length} problems; see audit verify ${dir})`,
  );
  return false;
}

/**
 * The keyring to verify with: a keyring JSON, one PEM public key, or a directory of `*.pem` public keys. Without
 * one, the copy in DIR/attestations/keyring.json, which whoever can rewrite the trail can rewrite too (warned).
 */
export async function loadKeyring(arg: string | undefined, dir: string): Promise<{ ring: Keyring; warning?: string }> {
  if (arg === undefined) {
    const file = keyringPath(dir);
    const text = await readFile(file, 'utf8').catch(() => {
      throw new AttestUsageError(
        `no --keyring given and no ${file}: pass the published keyring (ConfigMap keyring.json)`,
      );
    });
    return {
      ring: parseKeyring(text, file),
      warning: `WARNING: verifying against ${file}, a copy kept in the trail itself; pass --keyring with the published keyring for an independent check`,
    };
  }
  const st = await stat(arg).catch(() => null);
  if (!st) throw new AttestUsageError(`--keyring ${arg}: no such file or directory`);
  const files = st.isDirectory()
    ? (await readdir(arg))
        .filter((f) => f.endsWith('.pem'))
        .sort()
        .map((f) => path.join(arg, f))
    : [arg];
  if (files.length === 1 && (files[0] as string).endsWith('.json'))
    return { ring: parseKeyring(await readFile(arg, 'utf8'), arg) };
  let ring = emptyKeyring();
  for (const f of files) ring = addToKeyring(ring, publicKeyFromPem(await readFile(f), f), 0).ring;
  if (ring.keys.length === 0) throw new KeyError(arg, 'holds no .pem public key');
  return { ring };
}

export type AttestationCheck = AttestationVerifyResult & { keyids: string[] };

/**
 * Runs the attestation checks for `audit verify --attestations` (warnings to stderr). No envelope at all is a
 * failure: whoever asks to check attestations must not be told OK when they were deleted.
 */
export async function verifyAttestationsPart(dir: string, keyringArg: string | undefined): Promise<AttestationCheck> {
  const { ring, warning } = await loadKeyring(keyringArg, dir);
  if (warning) console.error(warning);
  const r = await verifyAttestations(dir, ring);
  return { ...r, ok: r.ok && r.envelopes > 0, keyids: ring.keys.map((k) => k.keyid) };
}

/** Prints the attestation problems and a summary line (after `audit verify`'s own lines). */
export function printAttestations(r: AttestationCheck): void {
  for (const p of r.problems) console.log(`${p.kind.toUpperCase()}\t${p.envelope}\t${p.message}`);
  if (r.envelopes === 0)
    console.log('NO_ATTESTATIONS\tattestations/\tnone found (run `carbonscale audit attest` first)');
  const ids = r.keyids.map((k) => k.slice(0, 16)).join(', ');
  console.log(
    `${r.ok ? 'OK' : 'FAILED'}: ${r.envelopes} attestations, ${r.verified} verified (keyring: ${ids}), ${r.problems.length} problems`,
  );
}

/** Options `audit verify` adds for attestations. */
export const VERIFY_ATTESTATION_OPTIONS = {
  attestations: { type: 'boolean' },
  keyring: { type: 'string' },
} as const;

export const ATTEST_USAGE = `  carbonscale audit verify DIR --attestations [--keyring KEYRING.json|KEY.pub.pem|DIR]
  carbonscale audit attest DIR --key KEY.pem [--period day|month]... [--from DAY] [--to DAY] [--pricing PLAN.yaml]
                               [--slo UID=MS]... [--force] [--allow-unverified]
  carbonscale audit report DIR ... --pricing PLAN.yaml [--statements-csv FILE]   (tenant statements)`;

/** Bad input to the attestation and pricing options: exit 2 with the message, as other usage errors. */
export function isAttestInputError(err: unknown): boolean {
  return err instanceof AttestUsageError || err instanceof KeyError || err instanceof PricingPlanError;
}
