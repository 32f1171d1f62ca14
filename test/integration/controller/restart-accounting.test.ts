// A restart between an operator's first apply of a new InferenceService and its first status write, against a real
// kube-apiserver: the first operator applies the Deployment, every status write of it fails, and it is gone before
// the service's first accounting interval ends (no row, no status.emissions.until). The restarted operator must account the
// service from the first interval after that apply (reconciler/accounting-start.ts: the start travels on the
// Deployment), the trail must tile time (audit verify), and the restart must not rewrite the CarbonSource's
// status.readings the first operator wrote (kube/carbon-source-readings.ts: seeded from the watch cache).
import { expect } from 'chai';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAuditFile } from '../../../operator/audit/parquet-file.ts';
import { verifyAuditDir } from '../../../operator/audit/verify.ts';
import { objectPath, Resources } from '../../../operator/kube/kube-client.ts';
import type { RunningOperator } from '../../../operator/main.ts';
import { createNamespace, useControlPlane, waitFor } from '../../support/cluster.ts';
import {
  admin,
  applyObj,
  getIsvc,
  isvc,
  runOperator,
  setupCrds,
  traceSource,
  writeTrace,
} from '../../support/operator-fixtures.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */

/** Accounting interval of both operators (wall ms): short, so the outage spans whole intervals quickly. */
const A = 4_000;
const SOURCE = 'restart-source';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function usageRows(auditDir: string, ns: string): Promise<any[]> {
  const files = readdirSync(auditDir, { recursive: true, encoding: 'utf8' }).filter(
    (f) => f.includes('stream=usage') && f.endsWith('.parquet'),
  );
  const rows: any[] = [];
  for (const f of files) rows.push(...(await readAuditFile(join(auditDir, f))).rows);
  return rows.filter((r) => r.namespace === ns).sort((a, b) => a.interval_start - b.interval_start);
}

describe('restart before the first status write, against a real kube-apiserver', () => {
  const cluster = useControlPlane();
  let dir = '';
  let op: RunningOperator | undefined;

  before(async function () {
    this.timeout(60_000);
    await setupCrds(cluster().kc);
    await cluster().cp.createGpuNodes([{ name: 'restart-gpu-0', gpus: 8 }]);
    dir = mkdtempSync(join(tmpdir(), 'cs-restart-'));
    const trace = writeTrace(dir);
    await applyObj(cluster().kc, traceSource(SOURCE, trace.file, Date.now(), 10));
  });
  after(async () => {
    await op?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the restarted operator accounts from the first interval after the first apply and leaves the CarbonSource readings alone', async function () {
    this.timeout(120_000);
    const { kc } = cluster();
    const ns = await createNamespace(cluster().core, 'restart-acct');
    const auditDir = join(dir, 'audit');
    const statusWrite = (p: string) => p.includes('/inferenceservices/') && p.endsWith('/status');
    op = await runOperator(kc, {
      accountingIntervalMs: A,
      auditDir,
      onWrite: (_m, p) => {
        if (statusWrite(p)) throw new Error('the operator is killed before its first status write lands');
      },
    });
    const spec = { tier: 'premium', carbon: { region: 'TEST', sourceRef: SOURCE, pue: 1.2 } };
    // Another service reads the source first, so its readings are in the CarbonSource's status before the one under
    // test is created (the poller polls the pairs services read).
    const other = await createNamespace(cluster().core, 'restart-other');
    await applyObj(kc, isvc('warm', other, spec));
    const source = objectPath(Resources.carbonSource, SOURCE);
    await waitFor('the CarbonSource readings of the first operator', async () => {
      const r = (await admin(kc).get<any>(source)).status?.readings;
      return r?.length ? r : undefined;
    });
    await applyObj(kc, isvc('svc', ns, spec));
    await waitFor('the first apply of the Deployment', () =>
      admin(kc).getOrNull<any>(objectPath(Resources.deployment, 'svc', ns)),
    );
    const appliedBy = Date.now();
    // Gone at once: well before the end of the service's first accounting interval.
    await op.stop();
    op = undefined;
    expect(await usageRows(auditDir, ns), 'rows of the first operator').to.deep.equal([]);
    expect((await getIsvc(kc, ns, 'svc')).status?.emissions, 'no status was written').to.equal(undefined);
    // Down for three whole intervals.
    await sleep(3 * A);

    const writes: string[] = [];
    op = await runOperator(kc, { accountingIntervalMs: A, auditDir, onWrite: (m, p) => writes.push(`${m} ${p}`) });
    const restartedAt = Date.now();
    await waitFor('the restarted operator’s status', async () => (await getIsvc(kc, ns, 'svc')).status?.emissions);
    // Two boundaries after the restart: the accountant has run at least once after it.
    await sleep(Math.ceil(restartedAt / A) * A + 2 * A - Date.now());
    await op.stop();
    op = undefined;

    const rows = await usageRows(auditDir, ns);
    const starts = rows.map((r) => Number(r.interval_start));
    expect(starts.length, 'usage rows of the service').to.be.greaterThan(0);
    // From the first boundary after the first pass (at or before the one after the Deployment was seen), not from
    // the restart's.
    expect(starts[0], 'first interval accounted').to.be.at.most(Math.ceil(appliedBy / A) * A);
    expect(Math.ceil(restartedAt / A) * A - starts[0]!).to.be.at.least(3 * A);
    starts.forEach((s, i) => i === 0 || expect(s - starts[i - 1]!, `interval after ${starts[i - 1]}`).to.equal(A));
    expect(starts[starts.length - 1]! + A).to.be.at.least(Math.floor(restartedAt / A) * A);
    const v = await verifyAuditDir(auditDir);
    expect(v.problems, JSON.stringify(v.problems.slice(0, 3))).to.deep.equal([]);
    // The restarted operator found the source delivering what its status shows: no readings write.
    expect(writes.filter((w) => w.includes(`/carbonsources/${SOURCE}/status`))).to.deep.equal([]);
  });
});
