import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  checkSignatures,
  EnvelopeFormatError,
  IN_TOTO_PAYLOAD_TYPE,
  pae,
  parseEnvelope,
  signEnvelope,
} from '../../../operator/attestation/dsse.ts';
import {
  addToKeyring,
  emptyKeyring,
  KeyError,
  keyIdOf,
  keyLookup,
  mergeKeyrings,
  parseKeyring,
  publicKeyConfigMapData,
  serializeKeyring,
  signingKeyFromPem,
  signingKeyFromSecret,
} from '../../../operator/attestation/keys.ts';
import { newKey } from './trail-fixture.ts';

describe('attestation: DSSE envelopes and Ed25519 keys', () => {
  it('encodes PAE exactly as the DSSE protocol example (protocol.md)', () => {
    // "DSSEv1 29 http://example.com/HelloWorld 11 hello world" is the spec's own example.
    expect(pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString()).to.equal(
      'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
    );
    // Lengths are byte lengths, not character counts.
    expect(pae('t', Buffer.from('é', 'utf8')).toString('utf8')).to.equal('DSSEv1 1 t 2 é');
  });

  it('signs deterministically and verifies by keyid; any change to the payload or signature fails', () => {
    const key = newKey();
    const body = Buffer.from('{"_type":"x"}');
    const env = signEnvelope(IN_TOTO_PAYLOAD_TYPE, body, key.keyid, key.privateKey);
    expect(signEnvelope(IN_TOTO_PAYLOAD_TYPE, body, key.keyid, key.privateKey)).to.deep.equal(env);
    const ring = addToKeyring(emptyKeyring(), key.publicKey, 0).ring;
    expect(checkSignatures(env, keyLookup(ring))).to.deep.equal([{ keyid: key.keyid, outcome: 'valid' }]);
    const otherPayload = { ...env, payload: Buffer.from('{"_type":"y"}').toString('base64') };
    expect(checkSignatures(otherPayload, keyLookup(ring))[0]?.outcome).to.equal('invalid');
    const sig = Buffer.from(env.signatures[0]!.sig, 'base64');
    sig[10] = (sig[10] as number) ^ 1;
    const otherSig = { ...env, signatures: [{ keyid: key.keyid, sig: sig.toString('base64') }] };
    expect(checkSignatures(otherSig, keyLookup(ring))[0]?.outcome).to.equal('invalid');
    const shortSig = { ...env, signatures: [{ keyid: key.keyid, sig: 'AAAA' }] };
    expect(checkSignatures(shortSig, keyLookup(ring))[0]?.outcome).to.equal('invalid');
    expect(checkSignatures(env, keyLookup(emptyKeyring()))[0]?.outcome).to.equal('unknown_key');
    // The payload type is signed too.
    expect(checkSignatures({ ...env, payloadType: 'text/plain' }, keyLookup(ring))[0]?.outcome).to.equal('invalid');
  });

  it('rejects malformed envelopes naming the field', () => {
    const bad: [string, string][] = [
      ['not json', '(document)'],
      ['[]', '(document)'],
      ['{"payload":"","signatures":[]}', 'payloadType'],
      ['{"payloadType":"t","payload":"a$==","signatures":[{"keyid":"k","sig":""}]}', 'payload'],
      ['{"payloadType":"t","payload":"","signatures":[]}', 'signatures'],
      ['{"payloadType":"t","payload":"","signatures":[{"sig":""}]}', 'signatures[0].keyid'],
      ['{"payloadType":"t","payload":"","signatures":[{"keyid":"k","sig":"abc"}]}', 'signatures[0].sig'],
    ];
    for (const [text, field] of bad) {
      try {
        parseEnvelope(text);
        expect.fail(`accepted ${text}`);
      } catch (err) {
        expect(err, text).to.be.instanceOf(EnvelopeFormatError);
        expect((err as EnvelopeFormatError).field, text).to.equal(field);
      }
    }
  });

  it('key ids are the SHA-256 of the SPKI DER, as openssl computes it', async () => {
    const key = newKey();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'keyid-'));
    try {
      const pub = path.join(dir, 'k.pub.pem');
      await writeFile(pub, key.publicKeyPem);
      const der = execFileSync('openssl', ['pkey', '-pubin', '-in', pub, '-outform', 'DER']);
      const expected = execFileSync('sha256sum', { input: der }).toString().split(' ')[0];
      expect(key.keyid).to.equal(expected).and.to.equal(keyIdOf(key.publicKey));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reads the private key from a Secret (base64 data or stringData) and never quotes key material in errors', () => {
    const key = newKey();
    const pem = key.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const fromData = signingKeyFromSecret({ data: { 'ed25519.pem': Buffer.from(pem).toString('base64') } }, 'ops/att');
    expect(fromData.keyid).to.equal(key.keyid);
    expect(signingKeyFromSecret({ stringData: { 'ed25519.pem': pem } }, 'ops/att').keyid).to.equal(key.keyid);
    expect(() => signingKeyFromSecret({ data: {} }, 'ops/att')).to.throw(
      KeyError,
      'Secret ops/att key ed25519.pem: is missing',
    );
    const garbage = 'SECRET-MATERIAL-THAT-MUST-NOT-LEAK';
    try {
      signingKeyFromSecret({ stringData: { 'ed25519.pem': garbage } }, 'ops/att');
      expect.fail('accepted garbage');
    } catch (err) {
      expect((err as Error).message)
        .to.include('Secret ops/att key ed25519.pem')
        .and.not.include(garbage);
    }
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    expect(() => signingKeyFromPem(rsa, 'rsa.pem')).to.throw(
      KeyError,
      'rsa.pem: is a rsa key; attestations need Ed25519',
    );
  });

  it('keeps old keys after a rotation, rejects a mislabelled keyring entry, and publishes the current key', () => {
    const a = newKey();
    const b = newKey();
    let ring = addToKeyring(emptyKeyring(), a.publicKey, Date.UTC(2026, 0, 1)).ring;
    const again = addToKeyring(ring, a.publicKey, Date.UTC(2026, 5, 1));
    expect(again.added).to.equal(false);
    ring = addToKeyring(ring, b.publicKey, Date.UTC(2026, 5, 1)).ring;
    expect(ring.keys.map((k) => k.keyid)).to.deep.equal([a.keyid, b.keyid]);
    const parsed = parseKeyring(serializeKeyring(ring), 'ring.json');
    expect(parsed).to.deep.equal(ring);
    const envA = signEnvelope(IN_TOTO_PAYLOAD_TYPE, Buffer.from('x'), a.keyid, a.privateKey);
    expect(checkSignatures(envA, keyLookup(parsed))[0]?.outcome).to.equal('valid');
    const forged = JSON.parse(serializeKeyring(ring));
    forged.keys[0].keyid = b.keyid;
    expect(() => parseKeyring(JSON.stringify(forged), 'ring.json')).to.throw(
      KeyError,
      `ring.json keys[0].keyid: is ${b.keyid}`,
    );
    expect(
      mergeKeyrings(addToKeyring(emptyKeyring(), b.publicKey, 0).ring, ring).keys.map((k) => k.keyid),
    ).to.deep.equal([b.keyid, a.keyid]);
    const cm = publicKeyConfigMapData(ring, b);
    expect(cm['current-keyid']).to.equal(b.keyid);
    expect(cm['current.pub.pem']).to.equal(b.publicKeyPem);
    expect(Object.values(cm).join('')).to.not.include('PRIVATE KEY');
  });
});
