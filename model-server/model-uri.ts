// The one list of model URI schemes the model server reads, and how each maps to a local file. The operator builds
// the InferenceService CRD's CEL rule and its run-time check from this list (operator/ may import model-server/,
// never the reverse), so the API cannot accept a URI the server would refuse at start.
//   file:///abs/path        a file on a mounted volume, read in place
//   http(s)://host/path     fetched once into the model cache (size-limited), then read like a file
//   pvc://<claim>/<path>    a file inside a PersistentVolumeClaim the operator mounts read-only at
//                           <pvcMountRoot>/<claim> (render.ts), read in place
// The patterns are RE2 and JavaScript at once: the API server evaluates them in CEL, the server in JS.
import { isAbsolute, join, relative, sep } from 'node:path';

export interface ModelUriScheme {
  scheme: string;
  /** Anchored pattern a URI of this scheme must match (RE2-compatible). */
  pattern: string;
  /** The form, for error messages and docs. */
  form: string;
}

/** A PVC claim name: a DNS-1123 subdomain, as Kubernetes requires (at most 253 characters). */
const CLAIM = '[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?';

export const MODEL_URI_SCHEMES: readonly ModelUriScheme[] = [
  { scheme: 'file', pattern: '^file:///[^/]', form: 'file:///<absolute path on a mounted volume>' },
  { scheme: 'http', pattern: '^http://[^/?#]+/', form: 'http://<host>/<path>' },
  { scheme: 'https', pattern: '^https://[^/?#]+/', form: 'https://<host>/<path>' },
  { scheme: 'pvc', pattern: `^pvc://${CLAIM}/[^/]`, form: 'pvc://<claim>/<path inside the claim>' },
];

/** Where the operator mounts each claim a variant names (`<root>/<claim>`), unless the server config says otherwise. */
export const DEFAULT_PVC_MOUNT_ROOT = '/mnt/carbonscale/pvc';

/** `file://, http://, https://, pvc://` for messages. */
export const MODEL_URI_SCHEME_LIST = MODEL_URI_SCHEMES.map((s) => `${s.scheme}://`).join(', ');

/** One anchored pattern that accepts exactly the URIs some scheme accepts (for CEL `matches`). */
export const MODEL_URI_PATTERN = `^(${MODEL_URI_SCHEMES.map((s) => s.pattern.slice(1)).join('|')})`;

const SCHEME_OF = /^([a-z][a-z0-9+.-]*):\/\//i;

/** Why `uri` is not one the server reads (words without the URI itself), or undefined when it is. */
export function modelUriProblem(uri: string): string | undefined {
  const m = SCHEME_OF.exec(uri);
  if (!m) return `no URI scheme (the model server reads ${MODEL_URI_SCHEME_LIST})`;
  const s = MODEL_URI_SCHEMES.find((x) => x.scheme === m[1]);
  if (!s) return `unsupported model URI scheme ${m[1]}:// (the model server reads ${MODEL_URI_SCHEME_LIST})`;
  if (!new RegExp(s.pattern).test(uri)) return `not of the form ${s.form}`;
  return undefined;
}

/** The claim a pvc:// URI names, or undefined for another scheme. */
export function pvcClaimOf(uri: string): string | undefined {
  const m = new RegExp(`^pvc://(${CLAIM})/`).exec(uri);
  return m ? m[1] : undefined;
}

/**
 * The local path of a pvc:// URI under `root`. Each path segment is percent-decoded on its own; a segment that is
 * empty, `.` or `..`, or that decodes to one holding `/` or NUL, is refused, so a URI can never name a file outside
 * its claim's mount.
 */
export function pvcPath(uri: string, root: string): string {
  const claim = pvcClaimOf(uri);
  if (claim === undefined || modelUriProblem(uri) !== undefined)
    throw new Error(`model ${uri}: not of the form pvc://<claim>/<path inside the claim>`);
  const rest = uri.slice(`pvc://${claim}/`.length).split(/[?#]/)[0]!;
  const segments = rest.split('/').map((raw) => {
    let s: string;
    try {
      s = decodeURIComponent(raw);
    } catch {
      throw new Error(`model ${uri}: malformed percent-encoding in '${raw}'`);
    }
    if (s === '' || s === '.' || s === '..' || s.includes('/') || s.includes('\0'))
      throw new Error(`model ${uri}: path segment '${raw}' is not allowed (no empty, '.' or '..' segments)`);
    return s;
  });
  const base = join(root, claim);
  const path = join(base, ...segments);
  const rel = relative(base, path);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel) || rel.split(sep).includes('..'))
    throw new Error(`model ${uri}: resolves outside the claim's mount ${base}`);
  return path;
}
