// The model server's configuration: a JSON file (YAML's JSON subset) validated into ServerConfig. Every error
// names the field so a bad ConfigMap is fixed from the log line alone.
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from './http-error.ts';
import { DEFAULT_PVC_MOUNT_ROOT, modelUriProblem } from './model-uri.ts';

export interface VariantConfig {
  /** Variant name: what the operator writes to the active-variant file, and the `model_version` served. */
  name: string;
  /** A URI of one of MODEL_URI_SCHEMES (model-uri.ts) naming the ONNX file; a bare path is relative to the config. */
  uri: string;
}

export interface BatchingConfig {
  enabled: boolean;
  /** Most rows (first tensor dimension) merged into one session.run. */
  maxBatchSize: number;
  /** Longest a request waits for others before its batch runs anyway. */
  maxQueueDelayMs: number;
}

export type ExecutionProviderChoice = 'auto' | 'cpu' | 'cuda';

export interface ServerConfig {
  /** The model name clients address: /v2/models/{modelName}. */
  modelName: string;
  host: string;
  port: number;
  variants: VariantConfig[];
  /** The variant served until the active-variant file or the admin endpoint says otherwise. */
  activeVariant: string;
  /** Watched file (a mounted ConfigMap key) holding the name of the variant to serve. */
  activeVariantFile?: string;
  activeVariantPollMs: number;
  /** File holding the admin bearer token; CARBONSCALE_ADMIN_TOKEN is read when unset. No token: admin disabled. */
  adminTokenFile?: string;
  bodyLimitBytes: number;
  /** Request headers, and then the body, must each arrive within this (a slow-loris client is cut off). */
  requestTimeoutMs: number;
  /** Deepest array/object nesting accepted in a JSON body (checked before parsing). */
  maxJsonDepth: number;
  maxConcurrency: number;
  batching: BatchingConfig;
  executionProvider: ExecutionProviderChoice;
  /** Where variants fetched over HTTP(S) are cached. */
  modelCacheDir: string;
  /** Largest ONNX file fetched over HTTP(S). */
  maxModelBytes: number;
  /** Where pvc://<claim>/<path> variants are mounted: <pvcMountRoot>/<claim>/<path>. */
  pvcMountRoot: string;
  /** Longest SIGTERM waits for in-flight requests. */
  drainTimeoutMs: number;
  /** Release a variant's session once it is no longer active and its last request has finished. */
  unloadInactive: boolean;
  /** onnxruntime intra-op threads (0: onnxruntime's default). */
  intraOpThreads: number;
  /**
   * Let onnxruntime's intra-op threads spin-wait between parallel sections (onnxruntime's own default). Off by
   * default here: spinning threads take the CPU that the event loop needs to parse and answer requests.
   */
  intraOpSpinning: boolean;
  /** Copies of the active variant's session, each on its own thread, run side by side (Triton's instance group). */
  instances: number;
}

export const DEFAULTS = {
  host: '0.0.0.0',
  port: 8080,
  activeVariantPollMs: 1000,
  bodyLimitBytes: 1024 * 1024,
  requestTimeoutMs: 30_000,
  // An OIP request nests 4 levels plus the tensor's rank when `data` is nested; 32 leaves room for rank 28.
  maxJsonDepth: 32,
  maxConcurrency: 256,
  batching: { enabled: false, maxBatchSize: 32, maxQueueDelayMs: 2 },
  executionProvider: 'auto' as ExecutionProviderChoice,
  modelCacheDir: '/tmp/carbonscale-models',
  maxModelBytes: 512 * 1024 * 1024,
  pvcMountRoot: DEFAULT_PVC_MOUNT_ROOT,
  drainTimeoutMs: 25_000,
  unloadInactive: false,
  intraOpThreads: 0,
  intraOpSpinning: false,
  instances: 1,
};

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(o: Obj, key: string, path: string, fallback?: string): string {
  const v = o[key];
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'string' || v.length === 0) throw new ConfigError(`${path}${key}: expected a non-empty string`);
  return v;
}

function optStr(o: Obj, key: string, path: string): string | undefined {
  return o[key] === undefined ? undefined : str(o, key, path);
}

function int(o: Obj, key: string, path: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = o[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ConfigError(`${path}${key}: expected an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  }
  return v;
}

function bool(o: Obj, key: string, path: string, fallback: boolean): boolean {
  const v = o[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new ConfigError(`${path}${key}: expected true or false`);
  return v;
}

/** Normalises a variant location to a URI; bare paths are taken relative to `baseDir` (the config's folder). */
export function toModelUri(location: string, baseDir: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) {
    const problem = modelUriProblem(location);
    if (problem) throw new ConfigError(problem);
    return location;
  }
  return pathToFileURL(isAbsolute(location) ? location : resolve(baseDir, location)).href;
}

export function parseServerConfig(raw: unknown, baseDir: string): ServerConfig {
  if (!isObj(raw)) throw new ConfigError('config: expected a JSON object');
  const variantsRaw = raw['variants'];
  if (!Array.isArray(variantsRaw) || variantsRaw.length === 0) {
    throw new ConfigError('variants: expected a non-empty list of { name, uri }');
  }
  const variants: VariantConfig[] = variantsRaw.map((v: unknown, i) => {
    const p = `variants[${i}].`;
    if (!isObj(v)) throw new ConfigError(`variants[${i}]: expected an object { name, uri }`);
    const name = str(v, 'name', p);
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(name)) {
      throw new ConfigError(`${p}name: ${JSON.stringify(name)} must be 1-63 letters, digits, '.', '_' or '-'`);
    }
    try {
      return { name, uri: toModelUri(str(v, 'uri', p), baseDir) };
    } catch (err) {
      throw err instanceof ConfigError && !err.message.startsWith(p) ? new ConfigError(`${p}uri: ${err.message}`) : err;
    }
  });
  const names = new Set<string>();
  for (const v of variants) {
    if (names.has(v.name)) throw new ConfigError(`variants: duplicate variant name ${JSON.stringify(v.name)}`);
    names.add(v.name);
  }
  const activeVariant = str(raw, 'activeVariant', '', variants[0]!.name);
  if (!names.has(activeVariant)) {
    throw new ConfigError(`activeVariant: ${JSON.stringify(activeVariant)} is not one of ${[...names].join(', ')}`);
  }
  const b = raw['batching'] ?? {};
  if (!isObj(b)) throw new ConfigError('batching: expected an object { enabled, maxBatchSize, maxQueueDelayMs }');
  const ep = raw['executionProvider'] ?? DEFAULTS.executionProvider;
  if (ep !== 'auto' && ep !== 'cpu' && ep !== 'cuda') {
    throw new ConfigError(`executionProvider: expected "auto", "cpu" or "cuda", got ${JSON.stringify(ep)}`);
  }
  const activeVariantFile = optStr(raw, 'activeVariantFile', '');
  const adminTokenFile = optStr(raw, 'adminTokenFile', '');
  return {
    modelName: str(raw, 'modelName', ''),
    host: str(raw, 'host', '', DEFAULTS.host),
    port: int(raw, 'port', '', DEFAULTS.port, 0, 65535),
    variants,
    activeVariant,
    ...(activeVariantFile ? { activeVariantFile: resolve(baseDir, activeVariantFile) } : {}),
    activeVariantPollMs: int(raw, 'activeVariantPollMs', '', DEFAULTS.activeVariantPollMs, 10),
    ...(adminTokenFile ? { adminTokenFile: resolve(baseDir, adminTokenFile) } : {}),
    bodyLimitBytes: int(raw, 'bodyLimitBytes', '', DEFAULTS.bodyLimitBytes, 64),
    requestTimeoutMs: int(raw, 'requestTimeoutMs', '', DEFAULTS.requestTimeoutMs, 100, 3_600_000),
    maxJsonDepth: int(raw, 'maxJsonDepth', '', DEFAULTS.maxJsonDepth, 4, 1024),
    maxConcurrency: int(raw, 'maxConcurrency', '', DEFAULTS.maxConcurrency, 1),
    batching: {
      enabled: bool(b, 'enabled', 'batching.', DEFAULTS.batching.enabled),
      maxBatchSize: int(b, 'maxBatchSize', 'batching.', DEFAULTS.batching.maxBatchSize, 1, 65536),
      maxQueueDelayMs: int(b, 'maxQueueDelayMs', 'batching.', DEFAULTS.batching.maxQueueDelayMs, 0, 60_000),
    },
    executionProvider: ep,
    modelCacheDir: resolve(baseDir, str(raw, 'modelCacheDir', '', DEFAULTS.modelCacheDir)),
    maxModelBytes: int(raw, 'maxModelBytes', '', DEFAULTS.maxModelBytes, 1),
    pvcMountRoot: resolve(baseDir, str(raw, 'pvcMountRoot', '', DEFAULTS.pvcMountRoot)),
    drainTimeoutMs: int(raw, 'drainTimeoutMs', '', DEFAULTS.drainTimeoutMs, 0),
    unloadInactive: bool(raw, 'unloadInactive', '', DEFAULTS.unloadInactive),
    intraOpThreads: int(raw, 'intraOpThreads', '', DEFAULTS.intraOpThreads, 0, 1024),
    intraOpSpinning: bool(raw, 'intraOpSpinning', '', DEFAULTS.intraOpSpinning),
    instances: int(raw, 'instances', '', DEFAULTS.instances, 1, 64),
  };
}

export async function loadServerConfigFile(path: string): Promise<ServerConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`--config ${path}: cannot read (${(err as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`--config ${path}: not valid JSON (${(err as Error).message})`);
  }
  return parseServerConfig(raw, dirname(resolve(path)));
}
