// startAttestor: the one call the controller makes. The injected clock decides what is due; the key comes
// through keyProvider (the Secret read lives in operator/kube/), the keyring goes out through publishKeyring.
import { expect } from 'chai';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { startAttestor, COMPLETE_MARKER } from '../../../operator/attestation/attestor.ts';
import type { Keyring, SigningKey } from '../../../operator/attestation/keys.ts';
import { parsePeriodId, type Period } from '../../../operator/attestation/period.ts';
import { verifyAttestations } from '../../../operator/attestation/verify-attestations.ts';
import { newKey, writeTrail, type Trail } from './trail-fixture.ts';

const DAY1 = parsePeriodId('day', '2023-01-01') as Period;
const HOUR = 3_600_000;

describe('attestation: startAttestor', function () {
  this.timeout(120_000);
  let trail: Trail;
  before(async () => {
    trail = await writeTrail(2, 2, { rotateIntervalMs: 6 * HOUR });
  });
  after(async () => {
    await rm(trail.dir, { recursive: true, force: true });
  });

  it('attests what is due by the injected clock, publishes the keyring, and picks up a rotated key', async () => {
    let now = DAY1.endMs + HOUR; // inside the 2 h grace: nothing due yet
    let key: SigningKey = newKey();
    const published: { ring: Keyring; current: string }[] = [];
    const attestor = startAttestor({
      dir: trail.dir,
      now: () => now,
      keyProvider: async () => key,
      periods: ['day', 'month'],
      operatorVersion: 'test',
      tickMs: 0,
      sloOf: (uid) => (uid.endsWith('1') ? 150 : undefined),
      publishKeyring: async (ring, current) => void published.push({ ring, current: current.keyid }),
    });
    expect(await attestor.tick()).to.deep.equal([]);
    expect(published.map((p) => p.current)).to.deep.equal([key.keyid]);

    now = DAY1.endMs + 2 * HOUR;
    const first = await attestor.tick();
    expect(first.map((r) => `${r.period.kind}/${r.period.id}:${r.written.length}`)).to.deep.equal(['day/2023-01-01:2']);
    expect(await readdir(path.join(trail.dir, 'attestations/day/2023-01-01'))).to.include(COMPLETE_MARKER);
    // Day 2 ends at the trail's end; month January has not ended.
    now = DAY1.endMs + 86_400_000 + 2 * HOUR;
    const old = key;
    key = newKey(); // the Secret was rotated
    const second = await attestor.tick();
    expect(second.map((r) => r.period.id)).to.deep.equal(['2023-01-02']);
    expect(published).to.have.length(2);
    expect(published[1]!.ring.keys.map((k) => k.keyid)).to.deep.equal([old.keyid, key.keyid]);
    // Day 1 is done (its marker) and is not read again; nothing new is due.
    expect(await attestor.tick()).to.deep.equal([]);
    const v = await verifyAttestations(trail.dir, published[1]!.ring);
    expect(v.problems).to.deep.equal([]);
    expect(v.envelopes).to.equal(4);
    const env = JSON.parse(
      await readFile(
        path.join(trail.dir, 'attestations/day/2023-01-02/ns-1/svc-1_00000000-0000-4000-8000-000000000001.dsse.json'),
        'utf8',
      ),
    );
    expect(env.signatures[0].keyid).to.equal(key.keyid);
    const predicate = JSON.parse(Buffer.from(env.payload, 'base64').toString()).predicate;
    expect(predicate.quality.slo_latency_p95_ms).to.equal(150);
    expect(attestor.health()).to.include({ lastError: null, envelopesWritten: 4 });
    await attestor.stop();
  });

  it('reports a key it cannot load without crashing, and keeps going when the key comes back', async () => {
    const dir = trail.dir;
    let fail = true;
    const key = newKey();
    const attestor = startAttestor({
      dir,
      now: () => Date.UTC(2023, 1, 1, 5),
      keyProvider: async () => {
        if (fail) throw new Error('Secret ops/carbonscale-attestation-key key ed25519.pem: is missing');
        return key;
      },
      periods: ['month'],
      operatorVersion: 'test',
      tickMs: 0,
    });
    expect(await attestor.tick()).to.deep.equal([]);
    expect(attestor.health().lastError).to.equal('Secret ops/carbonscale-attestation-key key ed25519.pem: is missing');
    fail = false;
    const r = await attestor.tick();
    expect(r.map((x) => `${x.period.id}:${x.written.length}`)).to.deep.equal(['2023-01:2']);
    expect(attestor.health().lastError).to.equal(null);
    await attestor.stop();
  });

  it('refuses a day whose rows are still in the journal and retries later', async () => {
    // A weekly rotation with files cut every 10 rows: 20 rows of the day in Parquet, 4 still in the journal.
    const open = await writeTrail(1, 1, {
      intervalMs: HOUR,
      leaveOpen: true,
      rotateIntervalMs: 7 * 86_400_000,
      sinkOptions: { maxRowsPerFile: 10 },
    });
    try {
      let now = open.endMs + 3 * HOUR;
      const attestor = startAttestor({
        dir: open.dir,
        now: () => now,
        keyProvider: async () => newKey(),
        periods: ['day'],
        operatorVersion: 'test',
        tickMs: 0,
        retryMs: HOUR,
      });
      const r = await attestor.tick();
      expect(r[0]?.refused[0]).to.match(/^\d+ rows of 2023-01-01 are still in journal\//);
      expect(attestor.health().refused['day/2023-01-01']).to.match(/still in journal/);
      await open.sink?.close();
      expect(await attestor.tick(), 'not before retryMs').to.deep.equal([]);
      now += HOUR;
      const again = await attestor.tick();
      expect(again[0]?.written).to.have.length(1);
      await attestor.stop();
    } finally {
      await rm(open.dir, { recursive: true, force: true });
    }
  });
});
