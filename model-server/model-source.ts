// Resolves a variant's URI to a local ONNX file: file:// and pvc:// are read in place (a mounted volume: pvc://claim/p
// is <pvcMountRoot>/claim/p, model-uri.ts); http(s):// is fetched once with a size limit into a cache folder,
// written under a temporary name and renamed, so a partial download is never mistaken for a model. The schemes are
// the one list in model-uri.ts, which the CRD's rule is built from.
import { createHash } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_PVC_MOUNT_ROOT, modelUriProblem, pvcPath } from './model-uri.ts';

export interface ModelSourceOptions {
  cacheDir: string;
  maxBytes: number;
  /** Where pvc://<claim>/… is mounted: <pvcMountRoot>/<claim> (default DEFAULT_PVC_MOUNT_ROOT). */
  pvcMountRoot?: string;
  fetch?: typeof fetch;
}

export interface ResolvedModel {
  path: string;
  bytes: number;
  /** True when this call downloaded the file (false: local or already cached). */
  downloaded: boolean;
}

async function localFile(uri: string, path: string): Promise<ResolvedModel> {
  let s;
  try {
    s = await stat(path);
  } catch (err) {
    throw new Error(`model ${uri}: cannot read (${(err as Error).message})`, { cause: err });
  }
  if (!s.isFile()) throw new Error(`model ${uri}: not a file`);
  return { path, bytes: s.size, downloaded: false };
}

export async function resolveModel(uri: string, opts: ModelSourceOptions): Promise<ResolvedModel> {
  const problem = modelUriProblem(uri);
  if (problem) throw new Error(`model ${uri}: ${problem}`);
  if (uri.startsWith('file://')) return localFile(uri, fileURLToPath(uri));
  if (uri.startsWith('pvc://')) return localFile(uri, pvcPath(uri, opts.pvcMountRoot ?? DEFAULT_PVC_MOUNT_ROOT));
  const key = createHash('sha256').update(uri).digest('hex').slice(0, 16);
  const name = basename(new URL(uri).pathname) || 'model.onnx';
  const path = join(opts.cacheDir, `${key}-${name}`);
  try {
    const s = await stat(path);
    // URIs are treated as immutable (version them in the path): a cached copy is reused.
    return { path, bytes: s.size, downloaded: false };
  } catch {
    // not cached yet
  }
  await mkdir(opts.cacheDir, { recursive: true });
  const res = await (opts.fetch ?? fetch)(uri);
  if (!res.ok) throw new Error(`model ${uri}: HTTP ${res.status} ${res.statusText}`);
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > opts.maxBytes) {
    await res.body?.cancel();
    throw new Error(`model ${uri}: ${declared} bytes exceeds maxModelBytes ${opts.maxBytes}`);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (res.body) {
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      total += chunk.byteLength;
      if (total > opts.maxBytes) {
        throw new Error(`model ${uri}: download exceeds maxModelBytes ${opts.maxBytes}`);
      }
      chunks.push(chunk);
    }
  }
  const tmp = `${path}.partial-${process.pid}`;
  try {
    await writeFile(tmp, Buffer.concat(chunks));
    await rename(tmp, path);
  } finally {
    await rm(tmp, { force: true });
  }
  return { path, bytes: total, downloaded: true };
}
