// Certificates for a throwaway local control plane, made with the openssl CLI (Node has no X.509 issuing API).
// The CA signs client certificates: the admin (O=system:masters) and any restricted user a test mints.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export interface Pki {
  dir: string;
  caCert: string;
  caKey: string;
  saKey: string;
}

export function createPki(dir: string): Pki {
  const caKey = join(dir, 'ca.key');
  const caCert = join(dir, 'ca.crt');
  const saKey = join(dir, 'sa.key');
  openssl(['genrsa', '-out', caKey, '2048'], dir);
  openssl(
    [
      'req',
      '-x509',
      '-new',
      '-nodes',
      '-key',
      caKey,
      '-subj',
      '/CN=carbonscale-local-ca',
      '-days',
      '2',
      '-out',
      caCert,
    ],
    dir,
  );
  openssl(['genrsa', '-out', saKey, '2048'], dir);
  return { dir, caCert, caKey, saKey };
}

/** Issues a client certificate; Kubernetes reads CN as the user name and each O as a group. */
export function issueClientCert(pki: Pki, name: string, groups: string[]): { cert: string; key: string } {
  const safe = name.replace(/[^a-zA-Z0-9_.-]/g, '_');
  const key = join(pki.dir, `${safe}.key`);
  const csr = join(pki.dir, `${safe}.csr`);
  const cert = join(pki.dir, `${safe}.crt`);
  const subj = `/CN=${name}` + groups.map((g) => `/O=${g}`).join('');
  openssl(['genrsa', '-out', key, '2048'], pki.dir);
  openssl(['req', '-new', '-key', key, '-subj', subj, '-out', csr], pki.dir);
  openssl(
    ['x509', '-req', '-in', csr, '-CA', pki.caCert, '-CAkey', pki.caKey, '-CAcreateserial', '-days', '2', '-out', cert],
    pki.dir,
  );
  return { cert, key };
}
