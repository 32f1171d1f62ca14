// A credential that cannot leak by accident: string conversion, JSON and util.inspect all print `[redacted]`,
// so a Secret that ends up in a log line, an Event, a status field or an error message shows nothing. Each Secret
// also registers its value with the redactor (redact.ts), so an upstream that echoes it back is redacted too.
import { REDACTED, registerSecretValue } from './redact.ts';

export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
    registerSecretValue(this, value);
  }

  /** The only way to read the value: call it where the value goes on the wire, nowhere else. */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Secret(${REDACTED})`;
  }
}

/** Resolved from a Kubernetes Secret (or the environment) by the controller; plain strings are wrapped at once. */
export interface Credentials {
  apiKey?: string | Secret;
  username?: string | Secret;
  password?: string | Secret;
}

export interface SecretCredentials {
  apiKey?: Secret;
  username?: Secret;
  password?: Secret;
}

export function wrapCredentials(c: Credentials | undefined): SecretCredentials {
  const wrap = (v: string | Secret | undefined) =>
    v === undefined || v === '' ? undefined : v instanceof Secret ? v : new Secret(v);
  const out: SecretCredentials = {};
  const apiKey = wrap(c?.apiKey);
  const username = wrap(c?.username);
  const password = wrap(c?.password);
  if (apiKey) out.apiKey = apiKey;
  if (username) out.username = username;
  if (password) out.password = password;
  return out;
}

/**
 * Credentials named by `credentialsFromEnv` (environment variable names), read from the given environment.
 * A named variable that is unset or empty is an error naming the variable (never its value).
 */
export function credentialsFromEnv(
  ref: { apiKey?: string; username?: string; password?: string },
  env: Record<string, string | undefined>,
): { credentials: SecretCredentials; errors: string[] } {
  const credentials: SecretCredentials = {};
  const errors: string[] = [];
  for (const k of ['apiKey', 'username', 'password'] as const) {
    const name = ref[k];
    if (name === undefined) continue;
    const v = env[name];
    if (v === undefined || v === '')
      errors.push(`spec.credentialsFromEnv.${k}: environment variable ${name} is not set`);
    else credentials[k] = new Secret(v);
  }
  return { credentials, errors };
}
