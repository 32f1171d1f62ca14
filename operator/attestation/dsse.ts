// DSSE envelopes (github.com/secure-systems-lab/dsse, protocol.md and envelope.md) signed with Ed25519.
// The signature covers PAE(payloadType, payload), never the JSON around it, so any verifier that implements
// the protocol (cosign, securesystemslib) checks the same bytes we sign.
import { sign, verify, type KeyObject } from 'node:crypto';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export interface DsseSignature {
  keyid: string;
  /** Base64 (standard alphabet, padded) of the raw 64-byte Ed25519 signature. */
  sig: string;
}

export interface DsseEnvelope {
  payloadType: string;
  /** Base64 (standard alphabet, padded) of the payload bytes. */
  payload: string;
  signatures: DsseSignature[];
}

/** Pre-Authentication Encoding: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths in ASCII decimal bytes. */
export function pae(payloadType: string, body: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${body.length} `), body]);
}

/** Signs `body` with an Ed25519 private key; Ed25519 is deterministic, so the same body gives the same envelope. */
export function signEnvelope(payloadType: string, body: Buffer, keyid: string, privateKey: KeyObject): DsseEnvelope {
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('DSSE signing key must be an Ed25519 private key');
  const sig = sign(null, pae(payloadType, body), privateKey);
  return { payloadType, payload: body.toString('base64'), signatures: [{ keyid, sig: sig.toString('base64') }] };
}

export class EnvelopeFormatError extends Error {
  readonly field: string;
  constructor(field: string, problem: string) {
    super(`DSSE envelope: ${field} ${problem}`);
    this.name = 'EnvelopeFormatError';
    this.field = field;
  }
}

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

function base64Field(v: unknown, field: string): Buffer {
  if (typeof v !== 'string' || v.length % 4 !== 0 || !BASE64_RE.test(v))
    throw new EnvelopeFormatError(field, 'must be standard padded base64');
  return Buffer.from(v, 'base64');
}

/** Parses and shape-checks an envelope (the JSON text of a `.dsse.json` file); errors name the field. */
export function parseEnvelope(text: string): DsseEnvelope {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new EnvelopeFormatError('(document)', `is not JSON: ${(err as Error).message}`);
  }
  const o = raw as Record<string, unknown> | null;
  if (!o || typeof o !== 'object' || Array.isArray(o)) throw new EnvelopeFormatError('(document)', 'must be an object');
  if (typeof o.payloadType !== 'string' || o.payloadType === '')
    throw new EnvelopeFormatError('payloadType', 'must be a non-empty string');
  base64Field(o.payload, 'payload');
  if (!Array.isArray(o.signatures) || o.signatures.length === 0)
    throw new EnvelopeFormatError('signatures', 'must be a non-empty array');
  o.signatures.forEach((s: unknown, i) => {
    const sig = s as Record<string, unknown> | null;
    if (!sig || typeof sig !== 'object') throw new EnvelopeFormatError(`signatures[${i}]`, 'must be an object');
    if (typeof sig.keyid !== 'string') throw new EnvelopeFormatError(`signatures[${i}].keyid`, 'must be a string');
    base64Field(sig.sig, `signatures[${i}].sig`);
  });
  return o as unknown as DsseEnvelope;
}

export function payloadOf(env: DsseEnvelope): Buffer {
  return Buffer.from(env.payload, 'base64');
}

export interface SignatureCheck {
  keyid: string;
  /** valid: verified by the keyring's key of that id; invalid: that key rejects it; unknown_key: no such key. */
  outcome: 'valid' | 'invalid' | 'unknown_key';
}

/** Checks every signature against the public key of its keyid (`keyOf` returns null for an unknown id). */
export function checkSignatures(env: DsseEnvelope, keyOf: (keyid: string) => KeyObject | null): SignatureCheck[] {
  const message = pae(env.payloadType, payloadOf(env));
  return env.signatures.map((s) => {
    const key = keyOf(s.keyid);
    if (!key) return { keyid: s.keyid, outcome: 'unknown_key' as const };
    let ok = false;
    try {
      ok = verify(null, message, key, Buffer.from(s.sig, 'base64'));
    } catch {
      ok = false; // a malformed signature (wrong length) is simply not valid
    }
    return { keyid: s.keyid, outcome: ok ? ('valid' as const) : ('invalid' as const) };
  });
}
