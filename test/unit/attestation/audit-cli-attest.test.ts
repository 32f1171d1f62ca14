// The attestation and pricing commands as a user runs them: `node operator/cli.ts audit attest|verify|report`.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildTenantStatements } from '../../../operator/billing/statements-report.ts';
import { parsePricingPlan } from '../../../operator/billing/pricing-plan.ts';
import { copyDir, forgeRow } from './forge.ts';
import { newKey, writeKeyFiles, writeTrail, type Trail } from './trail-fixture.ts';
import { scanPartFiles } from '../../../operator/audit/part-files.ts';
import { nodeAuditFs } from '../../../operator/audit/audit-fs.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const PLAN = `name: standard-2026
currency: EUR
basis: per_1k_inferences
billingPeriod: month
prices: { premium: 0.62, eco: 0.55 }
ecoDiscount: { rule: proportional, basePercent: 5, perDegradedPercent: 0.5, capPercent: 30 }
`;

function cli(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'operator/cli.ts'), 'audit', ...args], {
    encoding: 'utf8',
    cwd: ROOT,
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

describe('audit attest / verify --attestations / report --pricing (CLI)', function () {
  this.timeout(180_000);
  let trail: Trail;
  let tmp: string;
  let keys: { priv: string; pub: string };
  let plan: string;
  before(async () => {
    trail = await writeTrail(2, 3, { rotateIntervalMs: 6 * 3_600_000 });
    tmp = await mkdtemp(path.join(os.tmpdir(), 'attest-cli-'));
    keys = await writeKeyFiles(tmp, newKey());
    plan = path.join(tmp, 'plan.yaml');
    await writeFile(plan, PLAN);
  });
  after(async () => {
    await rm(trail.dir, { recursive: true, force: true });
    await rm(tmp, { recursive: true, force: true });
  });

  it('attests days and the month, verifies, and fails after a forgery that audit verify alone misses', async () => {
    const a = cli('attest', trail.dir, '--key', keys.priv, '--period', 'day', '--period', 'month', '--pricing', plan);
    expect(a.code, a.out + a.err).to.equal(0);
    expect(a.out.match(/^WROTE\t/gm)).to.have.length(9);
    expect(a.out).to.match(/^OK: signed with keyid [0-9a-f]{64}$/m);
    const again = cli('attest', trail.dir, '--key', keys.priv);
    expect(again.out.match(/^EXISTS\t/gm)).to.have.length(6);

    const v = cli('verify', trail.dir, '--attestations', '--keyring', keys.pub);
    expect(v.code, v.out + v.err).to.equal(0);
    expect(v.out).to.match(/^OK: 9 attestations, 9 verified \(keyring: [0-9a-f]{16}\), 0 problems$/m);
    // Without --keyring: the copy in the trail, with a warning that it is not an independent anchor.
    const own = cli('verify', trail.dir, '--attestations');
    expect(own.code).to.equal(0);
    expect(own.err).to.include('WARNING: verifying against');

    const work = await copyDir(trail.dir);
    try {
      const f = (await scanPartFiles(nodeAuditFs, work)).parts.usage[1]!;
      await forgeRow(work, f.rel, 0, (r) => void (r.variant_is_full = !r.variant_is_full));
      expect(cli('verify', work).code, 'audit verify alone').to.equal(0);
      const bad = cli('verify', work, '--attestations', '--keyring', keys.pub);
      expect(bad.code).to.equal(1);
      expect(bad.out).to.match(/^SUBJECT_DIGEST\tattestations\/day\/2023-01-01\//m);
      expect(bad.out).to.match(/^FAILED: 9 attestations, \d+ verified/m);
      const json = JSON.parse(cli('verify', work, '--attestations', '--keyring', keys.pub, '--json').out);
      expect(json.ok).to.equal(true); // the file-level checks pass ...
      expect(json.attestations.ok).to.equal(false); // ... the attestations do not
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  it('prints, writes and embeds the tenant statements with the same numbers', async () => {
    const csv = path.join(tmp, 'r.csv');
    const scsv = path.join(tmp, 's.csv');
    const html = path.join(tmp, 'r.html');
    const r = cli('report', trail.dir, '--pricing', plan, '--csv', csv, '--statements-csv', scsv, '--html', html);
    expect(r.code, r.out + r.err).to.equal(0);
    expect(r.out).to.match(/^Tenant statements: plan standard-2026 \(sha256 [0-9a-f]{12}…\), per_1k_inferences/m);
    const st = await buildTenantStatements(trail.dir, parsePricingPlan(PLAN, 'plan'));
    const page = await readFile(html, 'utf8');
    expect(page).to.include('<section id="tenant-statements">');
    expect(page.indexOf('tenant-statements')).to.be.lessThan(page.lastIndexOf('</body>'));
    for (const t of st.statements) {
      const cell = new RegExp(
        `<tr data-tenant="${t.namespace}" data-period="${t.period.id}">.*?data-metric="net" data-value="([^"]*)"`,
      ).exec(page);
      expect(Number(cell?.[1]), t.namespace).to.equal(t.net);
    }
    const lines = (await readFile(scsv, 'utf8')).trim().split('\n');
    expect(lines).to.have.length(1 + st.statements.reduce((a, t) => a + t.lines.length + 1, 0));
  });

  it('rejects a bad plan, key or flag with exit 2 naming what is wrong', async () => {
    const badPlan = path.join(tmp, 'bad.yaml');
    await writeFile(badPlan, PLAN.replace('basis: per_1k_inferences', 'basis: per_token'));
    const p = cli('report', trail.dir, '--pricing', badPlan);
    expect(p.code).to.equal(2);
    expect(p.err).to.include(
      `pricing plan ${badPlan}: basis must be one of per_1k_inferences, per_gpu_hour (got "per_token")`,
    );
    const k = cli('attest', trail.dir, '--key', plan);
    expect(k.code).to.equal(2);
    expect(k.err).to.include(`${plan}: is not a PEM private key`);
    expect(cli('attest', trail.dir, '--key', keys.priv, '--period', 'week').err).to.include(
      '--period: expected day or month',
    );
    expect(cli('attest', trail.dir).code).to.equal(2);
  });
});
