// Ed25519 signing keys and the keyring of public keys that verifies attestations. The private key comes from a
// Kubernetes Secret (read by the controller through operator/kube/ and handed here as the Secret's data) or a
// PEM file (the CLI). A key id is the lowercase hex SHA-256 of the public key's SubjectPublicKeyInfo DER, so
// anyone can recompute it: `openssl pkey -pubin -in key.pub.pem -outform DER | sha256sum`. Old public keys stay
// in the keyring after a rotation, so envelopes signed before it keep verifying (verification picks by keyid).
// Key material never appears in an error message.
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';

export interface SigningKey {
  keyid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicKeyPem: string;
}

export interface KeyringEntry {
  keyid: string;
  algorithm: 'ed25519';
  public_key_pem: string;
  /** When this keyring first saw the key (ISO 8601 UTC); informational. */
  added_at: string;
}

export interface Keyring {
  apiVersion: typeof KEYRING_API_VERSION;
  keys: KeyringEntry[];
}

export const KEYRING_API_VERSION = 'carbonscale.dev/attestation-keyring/v1';
/** The Secret data key holding the PKCS#8 PEM private key (docs/audit.md, "Signing keys"). */
export const SECRET_KEY_FIELD = 'ed25519.pem';

export class KeyError extends Error {
  readonly source: string;
  constructor(source: string, problem: string) {
    super(`${source}: ${problem}`);
    this.name = 'KeyError';
    this.source = source;
  }
}

export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

function publicPem(publicKey: KeyObject): string {
  return String(publicKey.export({ type: 'spki', format: 'pem' }));
}

/** A signing key from a PKCS#8 PEM Ed25519 private key; `source` names where it came from in errors. */
export function signingKeyFromPem(pem: string | Buffer, source: string): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    // The parser's message may quote the input: say what was expected instead.
    throw new KeyError(source, 'is not a PEM private key (expected PKCS#8 "BEGIN PRIVATE KEY", Ed25519)');
  }
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new KeyError(source, `is a ${privateKey.asymmetricKeyType ?? 'unknown'} key; attestations need Ed25519`);
  const publicKey = createPublicKey(privateKey);
  return { keyid: keyIdOf(publicKey), privateKey, publicKey, publicKeyPem: publicPem(publicKey) };
}

/**
 * The signing key from a Secret's `data` (base64 values, as the API returns them) or `stringData`.
 * `secretRef` (namespace/name) is only used in messages.
 */
export function signingKeyFromSecret(
  secret: { data?: Record<string, string>; stringData?: Record<string, string> },
  secretRef: string,
  field: string = SECRET_KEY_FIELD,
): SigningKey {
  const source = `Secret ${secretRef} key ${field}`;
  const b64 = secret.data?.[field];
  const plain = secret.stringData?.[field];
  if (b64 === undefined && plain === undefined) throw new KeyError(source, 'is missing');
  const pem = plain ?? Buffer.from(b64 as string, 'base64');
  return signingKeyFromPem(pem, source);
}

/** A public key from PEM (SPKI "BEGIN PUBLIC KEY"; a private key is accepted and its public half used). */
export function publicKeyFromPem(pem: string | Buffer, source: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch {
    throw new KeyError(source, 'is not a PEM public key (expected "BEGIN PUBLIC KEY", Ed25519)');
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new KeyError(source, `is a ${key.asymmetricKeyType ?? 'unknown'} key; attestations use Ed25519`);
  return key;
}

export function emptyKeyring(): Keyring {
  return { apiVersion: KEYRING_API_VERSION, keys: [] };
}

/** Adds a public key unless its keyid is already there (never removes one: old envelopes must keep verifying). */
export function addToKeyring(ring: Keyring, publicKey: KeyObject, nowMs: number): { ring: Keyring; added: boolean } {
  const keyid = keyIdOf(publicKey);
  if (ring.keys.some((k) => k.keyid === keyid)) return { ring, added: false };
  const entry: KeyringEntry = {
    keyid,
    algorithm: 'ed25519',
    public_key_pem: publicPem(publicKey),
    added_at: new Date(nowMs).toISOString(),
  };
  return { ring: { apiVersion: KEYRING_API_VERSION, keys: [...ring.keys, entry] }, added: true };
}

/** Parses a keyring JSON document; every entry's keyid must match its key (a mislabelled key is an error). */
export function parseKeyring(text: string, source: string): Keyring {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new KeyError(source, `is not JSON: ${(err as Error).message}`);
  }
  const o = raw as { apiVersion?: unknown; keys?: unknown } | null;
  if (!o || o.apiVersion !== KEYRING_API_VERSION)
    throw new KeyError(source, `apiVersion must be ${KEYRING_API_VERSION}`);
  if (!Array.isArray(o.keys)) throw new KeyError(source, 'keys must be an array');
  const keys = o.keys.map((k: unknown, i: number): KeyringEntry => {
    const e = k as Partial<KeyringEntry> | null;
    const where = `${source} keys[${i}]`;
    if (typeof e?.public_key_pem !== 'string') throw new KeyError(where, 'public_key_pem must be a string');
    const id = keyIdOf(publicKeyFromPem(e.public_key_pem, `${where}.public_key_pem`));
    if (e.keyid !== id) throw new KeyError(`${where}.keyid`, `is ${String(e.keyid)} but the key's id is ${id}`);
    return {
      keyid: id,
      algorithm: 'ed25519',
      public_key_pem: e.public_key_pem,
      added_at: String(e.added_at ?? ''),
    };
  });
  return { apiVersion: KEYRING_API_VERSION, keys };
}

export function serializeKeyring(ring: Keyring): string {
  return JSON.stringify(ring, null, 1) + '\n';
}

/** Looks keys up by keyid, for checkSignatures. */
export function keyLookup(ring: Keyring): (keyid: string) => KeyObject | null {
  const byId = new Map(ring.keys.map((k) => [k.keyid, createPublicKey(k.public_key_pem)]));
  return (keyid) => byId.get(keyid) ?? null;
}

/** The data of the ConfigMap the operator publishes: the keyring, and the current key as PEM with its id. */
export function publicKeyConfigMapData(ring: Keyring, current: SigningKey): Record<string, string> {
  return {
    'keyring.json': serializeKeyring(ring),
    'current-keyid': current.keyid,
    'current.pub.pem': current.publicKeyPem,
  };
}

/** Every key of both rings (by keyid, `a`'s entries first): used to merge a published ConfigMap's keyring. */
export function mergeKeyrings(a: Keyring, b: Keyring): Keyring {
  const seen = new Set(a.keys.map((k) => k.keyid));
  return { apiVersion: KEYRING_API_VERSION, keys: [...a.keys, ...b.keys.filter((k) => !seen.has(k.keyid))] };
}
