// The real operator against a real kube-apiserver, on a clock replaying a trace at 3,600× (a day in 24 s), writes
// an attestation per service and UTC day: the key read from a Secret (missing at first: said in the log, picked up
// without a restart once it exists), the public keyring published in a ConfigMap, an AttestationWritten Event per
// service, and `carbonscale audit verify --attestations` (a separate process, with the public key from outside
// the trail) accepts every envelope. The private key appears in no log line, Event, status or ConfigMap.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import winston from 'winston';
import { keyIdOf } from '../../../operator/attestation/keys.ts';
import { replayClock } from '../../../operator/clock.ts';
import { objectPath, Resources } from '../../../operator/kube/kube-client.ts';
import type { RunningOperator } from '../../../operator/main.ts';
import { createNamespace, useControlPlane, waitFor } from '../../support/cluster.ts';
import {
  admin,
  applyObj,
  getIsvc,
  isvc,
  listEvents,
  runOperator,
  setupCrds,
  traceSource,
  writeTrace,
} from '../../support/operator-fixtures.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */

const ROOT = resolve(import.meta.dirname, '../../..');
const HOUR = 3_600_000;

/** A logger at debug level that keeps every line (JSON) the operator writes. */
function capturingLogger(): { logger: winston.Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  const logger = winston.createLogger({
    level: 'debug',
    format: winston.format.json(),
    transports: [new winston.transports.Stream({ stream })],
  });
  return { logger, lines };
}

describe('the operator attests each service and UTC day of its audit trail', function () {
  this.timeout(180_000);
  const cluster = useControlPlane();
  let dir = '';
  let op: RunningOperator | undefined;

  before(async () => {
    await setupCrds(cluster().kc);
    await cluster().cp.createGpuNodes([{ name: 'gpu-0', gpus: 16 }]);
    dir = mkdtempSync(join(tmpdir(), 'cs-attest-op-'));
  });
  after(async () => {
    await op?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('signs day 2023-01-01 for both services; verify --attestations with the published key accepts it', async () => {
    const { kc, core } = cluster();
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const pub = publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const trace = writeTrace(dir, 30, 96);
    const start = trace.startMs + 18 * HOUR; // 2023-01-01 18:00 UTC
    await applyObj(kc, traceSource('test-source', trace.file, start, 18));
    const ns = await createNamespace(core, 'attest');
    const policy = { intervalSeconds: 300, minDwellSeconds: 0 };
    await applyObj(kc, isvc('prem', ns, { tier: 'premium', policy }));
    await applyObj(kc, isvc('eco', ns, { policy }));
    const audit = join(dir, 'audit');
    const log = capturingLogger();
    op = await runOperator(kc, {
      logger: log.logger,
      clock: replayClock(start, 3600),
      auditDir: audit,
      accountingIntervalMs: 300_000,
      attestation: {
        keySecret: 'attestation-key',
        keySecretKey: 'ed25519.pem',
        publicKeysConfigMap: 'carbonscale-attestation-keys',
        periods: ['day'],
      },
    });
    // The day ends (plus the grace) before the Secret exists: the attestor says so and keeps running.
    const missing = await waitFor('the log to say the key is unavailable', async () =>
      log.lines.map((l) => JSON.parse(l)).find((l: any) => l.reason === 'AttestationKeyUnavailable'),
    );
    expect(missing.error).to.match(/Secret default\/attestation-key .*does not exist/);
    await admin(kc).create(`/api/v1/namespaces/default/secrets`, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'attestation-key' },
      data: { 'ed25519.pem': Buffer.from(pem).toString('base64') },
    });
    const day = join(audit, 'attestations', 'day', '2023-01-01');
    await waitFor('the day 2023-01-01 attested (complete.json)', async () => existsSync(join(day, 'complete.json')), {
      timeoutMs: 120_000,
      show: async () => (existsSync(audit) ? readdirSync(audit) : 'no audit dir'),
    });
    await op.stop();
    op = undefined;

    const uids = await Promise.all(['prem', 'eco'].map(async (n) => (await getIsvc(kc, ns, n)).metadata.uid));
    const envelopes = readdirSync(join(day, ns)).sort();
    expect(envelopes).to.deep.equal([`eco_${uids[1]}.dsse.json`, `prem_${uids[0]}.dsse.json`].sort());

    const cm = await admin(kc).get<any>(objectPath(Resources.configMap, 'carbonscale-attestation-keys', 'default'));
    expect(cm.data['current-keyid']).to.equal(keyIdOf(publicKey));
    expect(cm.data['current.pub.pem'].trim()).to.equal(pub.trim());

    const events = (await listEvents(kc, ns)).filter((e: any) => e.reason === 'AttestationWritten');
    expect(events.map((e: any) => e.regarding?.name ?? e.involvedObject?.name).sort()).to.deep.equal(['eco', 'prem']);

    // The private key (its PEM body, or the Secret's base64 of it) is nowhere the operator writes words.
    const body = pem
      .split('\n')
      .filter((l) => l && !l.startsWith('-----'))
      .join('');
    const said = [
      log.lines.join('\n'),
      JSON.stringify(await listEvents(kc, ns)),
      JSON.stringify(await Promise.all(['prem', 'eco'].map(async (n) => (await getIsvc(kc, ns, n)).status))),
      JSON.stringify(cm.data),
    ].join('\n');
    expect(log.lines.length, 'log lines captured').to.be.above(0);
    for (const secret of [body, Buffer.from(pem).toString('base64')]) expect(said).to.not.include(secret);

    const keyFile = join(dir, 'published.pub.pem');
    writeFileSync(keyFile, cm.data['current.pub.pem']);
    const v = spawnSync(
      process.execPath,
      [join(ROOT, 'operator/cli.ts'), 'audit', 'verify', audit, '--attestations', '--keyring', keyFile, '--json'],
      { encoding: 'utf8' },
    );
    expect(v.status, v.stdout.slice(-3000) + v.stderr.slice(-2000)).to.equal(0);
    const out = JSON.parse(v.stdout);
    expect(out.attestations.problems).to.deep.equal([]);
    expect(out.attestations.envelopes).to.be.at.least(2);
  });
});
