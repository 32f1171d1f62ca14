// The admin route's bearer token: from the caller, config.adminTokenFile or CARBONSCALE_ADMIN_TOKEN; none means the
// admin route is disabled (the operator's pods have none: it switches variants through a mounted file). A token
// shorter than MIN_ADMIN_TOKEN_LENGTH is refused at start, naming where it came from: a guessable token on a
// route reachable through the pod's Service would be an unauthenticated switch in all but name.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { ServerConfig } from './config.ts';
import { ConfigError } from './http-error.ts';

export const MIN_ADMIN_TOKEN_LENGTH = 16;

function checked(token: string, from: string): string {
  if (token.length < MIN_ADMIN_TOKEN_LENGTH)
    throw new ConfigError(
      `${from}: the admin token has ${token.length} characters; at least ${MIN_ADMIN_TOKEN_LENGTH} are required`,
    );
  return token;
}

export async function resolveAdminToken(config: ServerConfig, given: string | undefined): Promise<string | undefined> {
  if (given) return checked(given, 'adminToken');
  if (config.adminTokenFile) {
    const t = (await readFile(config.adminTokenFile, 'utf8')).trim();
    if (!t) throw new ConfigError(`adminTokenFile ${config.adminTokenFile} is empty`);
    return checked(t, `adminTokenFile ${config.adminTokenFile}`);
  }
  const env = process.env['CARBONSCALE_ADMIN_TOKEN'];
  return env ? checked(env, 'CARBONSCALE_ADMIN_TOKEN') : undefined;
}

/** Constant-time comparison of `Authorization: Bearer <token>` with the expected token (hashed to equal lengths). */
export function tokenMatches(expected: string, header: string | undefined): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!m) return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(m[1]!.trim()).digest();
  return timingSafeEqual(a, b);
}
