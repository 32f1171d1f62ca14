// The one redactor of the provider layer. Every credential the process holds is a `Secret` (secret.ts), and every
// `Secret` registers its value here while it is alive; every CarbonProviderError message passes through `redact()`
// when it is constructed (provider-error.ts), so an upstream that echoes a key, a password, a bearer token or a
// Basic header in an error body, an HTML page or a Location header cannot carry it into an error, a log line, a
// condition, an Event or the audit journal. One place, not one call site per message.
//
// A value is searched for in the forms it travels in: as it is, URL-encoded (query strings, form bodies), JSON-
// escaped (echoed JSON), and base64 (standard and URL-safe alphabets, with or without padding) at each of the three
// byte alignments it can have inside a longer base64 text — which is how `Basic base64(user:password)` hides a
// password. Values shorter than MIN_SECRET_LENGTH are not searched for: they would match ordinary words and they
// protect nothing.

export const REDACTED = '[redacted]';
export const MIN_SECRET_LENGTH = 4;

// Live values with a reference count: two Secrets may hold one value; a value goes when its last holder is
// collected (a WattTime token is replaced every 25 minutes, so the set would otherwise grow for ever).
const live = new Map<string, number>();
const cleanup = new FinalizationRegistry<string>((value) => forget(value));
let patternCache: { key: number; re: RegExp | undefined } | undefined;
let version = 0;

function forget(value: string): void {
  const n = live.get(value) ?? 0;
  if (n <= 1) live.delete(value);
  else live.set(value, n - 1);
  version++;
}

/** Called by the Secret constructor: `holder` keeps the value registered until it is garbage-collected. */
export function registerSecretValue(holder: object, value: string): void {
  if (value.length < MIN_SECRET_LENGTH) return;
  live.set(value, (live.get(value) ?? 0) + 1);
  cleanup.register(holder, value);
  version++;
}

/** The base64 characters that depend only on `bytes` when they start at byte offset 0, 1 or 2 of a longer text. */
function base64Cores(bytes: Buffer): string[] {
  const out: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const enc = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    const first = Math.ceil((8 * offset) / 6);
    const last = Math.floor((8 * (offset + bytes.length)) / 6) - 1;
    const core = enc.slice(first, last + 1);
    if (core.length >= MIN_SECRET_LENGTH) out.push(core, core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return out;
}

/** Every form a secret value is searched for in (see the header). */
export function secretForms(value: string): string[] {
  if (value.length < MIN_SECRET_LENGTH) return [];
  const bytes = Buffer.from(value, 'utf8');
  const b64 = bytes.toString('base64');
  const forms = [
    value,
    encodeURIComponent(value),
    encodeURIComponent(value).replace(/%20/g, '+'),
    JSON.stringify(value).slice(1, -1),
    b64,
    b64.replace(/=+$/, ''),
    bytes.toString('base64url'),
    ...base64Cores(bytes),
  ];
  return [...new Set(forms)].filter((f) => f.length >= MIN_SECRET_LENGTH);
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function pattern(): RegExp | undefined {
  if (patternCache?.key === version) return patternCache.re;
  const forms = [...new Set([...live.keys()].flatMap(secretForms))].sort((a, b) => b.length - a.length);
  const re = forms.length === 0 ? undefined : new RegExp(forms.map(escapeRe).join('|'), 'g');
  patternCache = { key: version, re };
  return re;
}

/** Replaces every form of every live secret value, and any Authorization header value, by `[redacted]`. */
export function redact(text: string): string {
  const re = pattern();
  let out = re ? text.replace(re, REDACTED) : text;
  // An echoed request header carries a credential even when its value is not one we hold (an expired token).
  out = out.replace(
    /\b(authorization|auth-token|x-api-key)(["']?\s*[:=]\s*["']?)(basic|bearer)?\s*[^\s"',;}]+/gi,
    (_m, h, sep, scheme) => `${h}${sep}${scheme ? `${scheme} ` : ''}${REDACTED}`,
  );
  return out;
}
