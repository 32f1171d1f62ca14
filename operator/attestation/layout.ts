// Where attestations live in an audit directory (docs/audit.md, "Attestations"):
//   attestations/day/2023-01-01/<namespace>/<name>_<uid>.dsse.json     one DSSE envelope per service and period
//   attestations/month/2023-01/<namespace>/<name>_<uid>.dsse.json
//   attestations/keyring.json                                          public keys seen by the attestor (a copy;
//                                                                      verify against a keyring you got elsewhere)
import path from 'node:path';
import type { PeriodKind } from './period.ts';

export const ATTESTATIONS_DIR = 'attestations';
export const ENVELOPE_SUFFIX = '.dsse.json';

export function envelopeRel(kind: PeriodKind, periodId: string, namespace: string, name: string, uid: string): string {
  return `${ATTESTATIONS_DIR}/${kind}/${periodId}/${namespace}/${name}_${uid}${ENVELOPE_SUFFIX}`;
}

export function keyringPath(dir: string): string {
  return path.join(dir, ATTESTATIONS_DIR, 'keyring.json');
}

const ENVELOPE_RE = /^attestations\/(day|month)\/([0-9-]+)\/([^/]+)\/([^/]+)_([^/_]+)\.dsse\.json$/;

/** Parses an envelope's relative path; null when it is not one. */
export function parseEnvelopeRel(
  rel: string,
): { kind: PeriodKind; periodId: string; namespace: string; name: string; uid: string } | null {
  const m = ENVELOPE_RE.exec(rel);
  if (!m) return null;
  return {
    kind: m[1] as PeriodKind,
    periodId: m[2] as string,
    namespace: m[3] as string,
    name: m[4] as string,
    uid: m[5] as string,
  };
}
