// Attestations over a real trail (rows through the real ParquetAuditSink), checked by our verifier against
// tampering: a forged row with the whole chain and manifests recomputed (which `audit verify` alone cannot see),
// a replaced file, an edited total, a changed signature, removed and renamed files, a deleted envelope.
import { expect } from 'chai';
import { copyFile, readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { attestPeriod } from '../../../operator/attestation/attest.ts';
import { IN_TOTO_PAYLOAD_TYPE, signEnvelope, type DsseEnvelope } from '../../../operator/attestation/dsse.ts';
import { addToKeyring, emptyKeyring, type Keyring, type SigningKey } from '../../../operator/attestation/keys.ts';
import { envelopeRel } from '../../../operator/attestation/layout.ts';
import { parsePeriodId, type Period } from '../../../operator/attestation/period.ts';
import { PREDICATE_TYPE, type Statement } from '../../../operator/attestation/predicate.ts';
import {
  verifyAttestations,
  type AttestationProblemKind,
  type AttestationVerifyResult,
} from '../../../operator/attestation/verify-attestations.ts';
import { readAuditFile } from '../../../operator/audit/parquet-file.ts';
import { scanPartFiles } from '../../../operator/audit/part-files.ts';
import { nodeAuditFs } from '../../../operator/audit/audit-fs.ts';
import type { UsageRecord } from '../../../operator/audit/usage.ts';
import { verifyAuditDir } from '../../../operator/audit/verify.ts';
import { copyDir, editStatement, flipSignature, forgeRow } from './forge.ts';
import { newKey, writeTrail, type Trail } from './trail-fixture.ts';

const DAY1 = parsePeriodId('day', '2023-01-01') as Period;
const DAY2 = parsePeriodId('day', '2023-01-02') as Period;
const JAN = parsePeriodId('month', '2023-01') as Period;
const AFTER_JAN = JAN.endMs + 3 * 3_600_000;

const ring = (...keys: SigningKey[]): Keyring =>
  keys.reduce((r, k) => addToKeyring(r, k.publicKey, 0).ring, emptyKeyring());
const kinds = (r: AttestationVerifyResult): Set<AttestationProblemKind> => new Set(r.problems.map((p) => p.kind));

async function statementOf(file: string): Promise<Statement> {
  const env = JSON.parse(await readFile(file, 'utf8')) as DsseEnvelope;
  return JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8')) as Statement;
}

describe('attestations: attest and verify a real trail', function () {
  this.timeout(180_000);
  let trail: Trail;
  let clean: string;
  let work: string;
  const key = newKey();
  const svc0 = { ns: 'ns-0', name: 'svc-0', uid: '00000000-0000-4000-8000-000000000000' };
  const env0 = (p: Period): string => envelopeRel(p.kind, p.id, svc0.ns, svc0.name, svc0.uid);

  before(async () => {
    trail = await writeTrail(2, 3, { rotateIntervalMs: 6 * 3_600_000 });
    clean = trail.dir;
    for (const p of [DAY1, DAY2, JAN]) {
      const r = await attestPeriod(clean, p, { key, nowMs: AFTER_JAN, operatorVersion: 'test' });
      expect(r.refused, p.id).to.deep.equal([]);
      expect(r.written, p.id).to.have.length(3);
    }
  });
  after(async () => {
    await rm(clean, { recursive: true, force: true });
  });
  beforeEach(async () => {
    work = await copyDir(clean);
  });
  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('writes one statement per service and period whose numbers are the sums of the rows written', async () => {
    const r = await verifyAttestations(work, ring(key));
    expect(r.problems).to.deep.equal([]);
    expect(r).to.include({ ok: true, envelopes: 9, verified: 9 });
    for (const p of [DAY1, DAY2, JAN]) {
      const s = await statementOf(path.join(work, env0(p)));
      expect(s.predicateType).to.equal(PREDICATE_TYPE);
      const files = await scanPartFiles(nodeAuditFs, work);
      const days = p.kind === 'day' ? [p.id] : ['2023-01-01', '2023-01-02'];
      const expected = [...files.parts.usage, ...files.parts.decision]
        .filter((f) => days.includes(f.day))
        .map((f) => f.rel)
        .sort();
      expect(s.subject.map((x) => x.name)).to.deep.equal(expected);
      const mine = trail.records.filter(
        (x: UsageRecord) => x.uid === svc0.uid && x.interval_start >= p.startMs && x.interval_start < p.endMs,
      );
      const sum = (f: (x: UsageRecord) => number): number => mine.reduce((a, x) => a + f(x), 0);
      const t = s.predicate.totals as Record<string, number>;
      expect(t.intervals).to.equal(mine.length);
      expect(t.requests).to.equal(sum((x) => x.requests));
      expect(t.inferences).to.equal(sum((x) => x.inferences));
      for (const [col, get] of [
        ['energy_facility_kwh', (x: UsageRecord) => x.energy_facility_kwh],
        ['total_co2e_g', (x: UsageRecord) => x.total_co2e_g as number],
        ['baseline_total_co2e_g', (x: UsageRecord) => x.baseline_total_co2e_g as number],
      ] as const)
        expect(t[col]).to.be.closeTo(sum(get), 1e-9 * sum(get));
      expect(t.energy_measured_share).to.equal(0); // nothing is metered in this trail
      expect((s.predicate.methodology as { intensity_basis: string }).intensity_basis).to.equal('location-based');
      expect((s.predicate.functional_unit as { unit: string }).unit).to.equal('inference');
    }
    // The chain head of day 1 is the last usage row of day 1.
    const day1 = (await scanPartFiles(nodeAuditFs, work)).parts.usage.filter((f) => f.day === '2023-01-01');
    const lastFile = day1[day1.length - 1]!;
    const rows = (await readAuditFile(lastFile.abs)).rows;
    const last = rows[rows.length - 1]!;
    const s1 = await statementOf(path.join(work, env0(DAY1)));
    const head = (s1.predicate.chain as { days: { usage: { last_seq: number; last_row_hash: string } }[] }).days[0]!;
    expect(head.usage).to.include({ last_seq: last.stream_seq, last_row_hash: last.row_hash });
  });

  it('catches a forged row whose chain, manifests and journal were recomputed (audit verify alone does not)', async () => {
    const day1 = (await scanPartFiles(nodeAuditFs, work)).parts.usage.filter((f) => f.day === '2023-01-01');
    await forgeRow(work, day1[1]!.rel, 0, (r) => {
      r.requests = Number(r.requests) + 1000;
    });
    const audit = await verifyAuditDir(work);
    expect(audit.problems, 'the forgery defeats the file-level checks').to.deep.equal([]);
    const r = await verifyAttestations(work, ring(key));
    expect(r.ok).to.equal(false);
    expect([...kinds(r)]).to.include.members(['subject_digest', 'chain_head', 'predicate']);
    expect(r.problems.some((p) => p.message.includes(day1[1]!.rel) && p.kind === 'subject_digest')).to.equal(true);
  });

  it('catches a replaced file', async () => {
    const usage = (await scanPartFiles(nodeAuditFs, work)).parts.usage.filter((f) => f.day === '2023-01-01');
    await copyFile(usage[0]!.abs, usage[1]!.abs);
    const r = await verifyAttestations(work, ring(key));
    expect(r.problems.filter((p) => p.kind === 'subject_digest').map((p) => p.message.split(':')[0])).to.include(
      usage[1]!.rel,
    );
  });

  it('catches a total changed in the predicate and re-encoded (signature), or re-signed by another key (unknown key)', async () => {
    const file = path.join(work, env0(DAY1));
    await editStatement(file, (s) => {
      const totals = (s.predicate as Record<string, unknown>).totals as Record<string, number>;
      totals.total_co2e_g = (totals.total_co2e_g as number) * 0.5;
    });
    let r = await verifyAttestations(work, ring(key));
    expect(r.problems).to.deep.include({
      kind: 'signature',
      envelope: env0(DAY1),
      message: `signature by keyid ${key.keyid} does not verify`,
    });
    const mallory = newKey();
    const env = JSON.parse(await readFile(file, 'utf8')) as DsseEnvelope;
    const resigned = signEnvelope(
      IN_TOTO_PAYLOAD_TYPE,
      Buffer.from(env.payload, 'base64'),
      mallory.keyid,
      mallory.privateKey,
    );
    await writeFile(file, JSON.stringify(resigned));
    r = await verifyAttestations(work, ring(key));
    expect(r.problems.map((p) => p.kind)).to.include('unknown_key');
    // Even with the attacker's key trusted, the number does not match the rows.
    r = await verifyAttestations(work, ring(key, mallory));
    expect(
      r.problems.some((p) => p.kind === 'predicate' && p.message.startsWith('predicate.totals.total_co2e_g')),
    ).to.equal(true);
  });

  it('catches a changed signature', async () => {
    await flipSignature(path.join(work, env0(DAY2)));
    const r = await verifyAttestations(work, ring(key));
    expect(r.problems.map((p) => `${p.kind} ${p.envelope}`)).to.deep.equal([`signature ${env0(DAY2)}`]);
  });

  it('catches a removed and a renamed file', async () => {
    const files = (await scanPartFiles(nodeAuditFs, work)).parts.usage.filter((f) => f.day === '2023-01-02');
    await unlink(files[0]!.abs);
    await rename(files[1]!.abs, files[1]!.abs.replace('part-', 'old-part-'));
    const r = await verifyAttestations(work, ring(key));
    const missing = r.problems.filter((p) => p.kind === 'subject_missing').map((p) => p.message.split(':')[0]);
    expect(missing).to.include.members([files[0]!.rel, files[1]!.rel]);
    expect(kinds(r).has('predicate')).to.equal(true);
  });

  it('catches a deleted envelope between attested periods, and a file added to an attested day', async () => {
    await unlink(path.join(work, env0(DAY1)));
    const usage = (await scanPartFiles(nodeAuditFs, work)).parts.usage.filter((f) => f.day === '2023-01-02');
    const extra = usage[0]!.abs.replace(/part-(\d{12})-(\d{12})/, 'part-999999999990-999999999999');
    await copyFile(usage[0]!.abs, extra);
    const r = await verifyAttestations(work, ring(key));
    expect(r.problems).to.deep.include({
      kind: 'missing_attestation',
      envelope: env0(DAY1),
      message: `service ns-0/svc-0 (uid ${svc0.uid}) has rows in day 2023-01-01 but no attestation`,
    });
    expect(r.problems.some((p) => p.kind === 'unattested_file' && p.message.includes('part-999999999990'))).to.equal(
      true,
    );
  });

  it('keeps verifying envelopes signed before a key rotation, by keyid', async () => {
    const next = newKey();
    const r2 = await attestPeriod(work, DAY2, { key: next, nowMs: AFTER_JAN, operatorVersion: 'test', force: true });
    expect(r2.written).to.have.length(3);
    expect((await verifyAttestations(work, ring(key, next))).problems).to.deep.equal([]);
    const onlyNew = await verifyAttestations(work, ring(next));
    expect(new Set(onlyNew.problems.map((p) => p.kind))).to.deep.equal(new Set(['unknown_key']));
    expect(onlyNew.problems.every((p) => !p.envelope.includes('2023-01-02'))).to.equal(true);
    const stored = JSON.parse(await readFile(path.join(work, 'attestations/keyring.json'), 'utf8')) as Keyring;
    expect(stored.keys.map((k) => k.keyid)).to.deep.equal([key.keyid, next.keyid]);
  });

  it('refuses a period that has not ended, and keeps an existing envelope unless forced', async () => {
    const early = await attestPeriod(work, JAN, { key, nowMs: JAN.endMs - 1, operatorVersion: 'test', force: true });
    expect(early.written).to.deep.equal([]);
    expect(early.refused[0]).to.match(/^period month 2023-01 has not ended/);
    const again = await attestPeriod(work, DAY1, { key, nowMs: AFTER_JAN, operatorVersion: 'test' });
    expect(again.written).to.deep.equal([]);
    expect(again.existing).to.have.length(3);
    expect((await readdir(path.join(work, 'attestations/day/2023-01-01/ns-0'))).length).to.equal(1);
  });
});
