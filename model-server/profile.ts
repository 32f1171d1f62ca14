// `carbonscale profile`: measures each variant so the InferenceService's variant profiles come from measurement.
// Accuracy comes from onnxruntime on the labelled evaluation set. Latency, capacity and CPU time come from a real
// `carbonscale serve` process serving that one variant (a replica), driven over HTTP: p50/p95 at one request
// (batch 1) at a time, then a concurrency sweep whose best throughput with p95 within the SLO is capacityRps, and
// the server process's CPU seconds per inference at that point. GPU power comes from nvidia-smi where there is one.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import type { BatchingConfig, VariantConfig } from './config.ts';
import type { ExecutionProviderDecision } from './execution-provider.ts';
import { resolveModel } from './model-source.ts';
import { percentile, runLoad } from './load-generator.ts';
import type { PowerMeter } from './power-meter.ts';

export interface EvalSet {
  /** Name of the model input the features feed. */
  input: string;
  features: number[][];
  labels: number[];
}

export interface DeclaredPower {
  powerBusyWatts: number;
  powerIdleWatts: number;
}

/** One variant in the form InferenceService.spec.variants[] accepts. */
export interface VariantProfile {
  name: string;
  /** sha256: hex digest of the ONNX file that was measured (recorded in the audit trail). */
  model: { uri: string; sha256: string };
  quality: number;
  capacityRps: number;
  latencyP95Ms: number;
  gpusPerReplica: number;
  powerBusyWatts?: number;
  powerIdleWatts?: number;
  profile: {
    measuredAt: string;
    host: string;
    executionProvider: 'cpu' | 'cuda';
    modelBytes: number;
    latencyP50Ms: number;
    cpuSecondsPerInference: number;
    powerSource: 'declared' | 'nvml';
    evalSetSize: number;
    accuracy: number;
  };
}

export interface ProfileOptions {
  variants: VariantConfig[];
  evalSet: EvalSet;
  /** The latency SLO (p95, ms) that capacityRps is measured at. */
  latencySloMs: number;
  executionProvider: ExecutionProviderDecision;
  /** Time spent measuring batch-1 latency (one request at a time), ms. */
  latencyMs?: number;
  /** Time spent at each concurrency level in the throughput sweep, ms. */
  sweepMsPerLevel?: number;
  /** Highest concurrency in the sweep (levels 1, 2, 4, ... up to this). */
  maxConcurrency?: number;
  /** The server's batching settings while profiling (as it will be deployed). */
  batching?: BatchingConfig;
  /** Name of the output holding the predicted class (INT64), compared with the labels. */
  labelOutput?: string;
  /** The URI written into the profile (default: the URI the variant was loaded from). */
  modelUri?: (v: VariantConfig) => string;
  declaredPower?: Record<string, DeclaredPower>;
  power?: PowerMeter;
  modelCacheDir?: string;
  /** Where pvc:// variants are mounted (the server config's pvcMountRoot). */
  pvcMountRoot?: string;
  now?: () => number;
  host?: string;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
}

export interface ProfileResult {
  variants: VariantProfile[];
  notes: string[];
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function featureTensor(evalSet: EvalSet, start: number, n: number): ort.Tensor {
  const width = evalSet.features[0]!.length;
  const data = new Float32Array(n * width);
  for (let r = 0; r < n; r++) data.set(evalSet.features[(start + r) % evalSet.features.length]!, r * width);
  return new ort.Tensor('float32', data, [n, width]);
}

export function validateEvalSet(raw: unknown): EvalSet {
  const o = raw as Partial<EvalSet> | null;
  if (!o || typeof o !== 'object') throw new Error('evaluation set: expected an object { input, features, labels }');
  if (typeof o.input !== 'string') throw new Error('evaluation set: input: expected the model input name');
  if (!Array.isArray(o.features) || o.features.length === 0) throw new Error('evaluation set: features: expected rows');
  if (!Array.isArray(o.labels) || o.labels.length !== o.features.length) {
    throw new Error('evaluation set: labels: expected one label per feature row');
  }
  const width = Array.isArray(o.features[0]) ? o.features[0].length : -1;
  o.features.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== width || !row.every((v) => typeof v === 'number')) {
      throw new Error(`evaluation set: features[${i}]: expected ${width} numbers`);
    }
  });
  return o as EvalSet;
}

const CLI = fileURLToPath(new URL('../operator/cli.ts', import.meta.url));

interface ServeChild {
  url: string;
  stop: () => Promise<void>;
}

async function startServeProcess(configPath: string): Promise<ServeChild> {
  const child = spawn(process.execPath, [CLI, 'serve', '--config', configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  let out = '';
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`serve did not start within 30 s: ${out}`)), 30_000);
    child.stdout.on('data', (c: Buffer) => {
      buf += c.toString();
      const m = /\{"listening":"([^"]+)"/.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then(() => reject(new Error(`serve exited before listening: ${out}${buf}`)));
  });
  return {
    url,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function serverCounters(url: string): Promise<{ cpuSeconds: number; inferences: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const sum = (name: string) =>
    text
      .split('\n')
      .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
      .reduce((a, l) => a + Number(l.split(' ').pop()), 0);
  return { cpuSeconds: sum('process_cpu_seconds_total'), inferences: sum('carbonscale_model_inferences_total') };
}

export async function profileVariants(opts: ProfileOptions): Promise<ProfileResult> {
  const log = opts.log ?? (() => undefined);
  const now = opts.now ?? Date.now;
  const latencyMs = opts.latencyMs ?? 3000;
  const sweepMs = opts.sweepMsPerLevel ?? 2000;
  const maxConcurrency = opts.maxConcurrency ?? 64;
  const labelOutput = opts.labelOutput ?? 'label';
  const ep = opts.executionProvider.provider;
  const notes: string[] = [];
  if (!opts.power) {
    notes.push(
      'power: this host exposes no GPU power counter (no nvidia-smi/NVML); powerBusyWatts/powerIdleWatts are ' +
        (opts.declaredPower
          ? 'copied from the declared values'
          : 'left out: keep the values declared in the InferenceService'),
    );
  }
  const bodies = opts.evalSet.features.map((row) =>
    Buffer.from(
      JSON.stringify({ inputs: [{ name: opts.evalSet.input, shape: [1, row.length], datatype: 'FP32', data: row }] }),
    ),
  );
  const dir = await mkdtemp(join(tmpdir(), 'carbonscale-profile-'));
  const out: VariantProfile[] = [];
  try {
    for (const v of opts.variants) {
      const file = await resolveModel(v.uri, {
        cacheDir: opts.modelCacheDir ?? '/tmp/carbonscale-models',
        maxBytes: Number.MAX_SAFE_INTEGER,
        ...(opts.pvcMountRoot !== undefined ? { pvcMountRoot: opts.pvcMountRoot } : {}),
      });

      // Accuracy over the whole evaluation set, straight from onnxruntime.
      const session = await ort.InferenceSession.create(file.path, {
        executionProviders: ep === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
      });
      let correct = 0;
      const size = opts.evalSet.labels.length;
      try {
        for (let start = 0; start < size; start += 64) {
          const n = Math.min(64, size - start);
          const res = await session.run({ [opts.evalSet.input]: featureTensor(opts.evalSet, start, n) });
          const labels = res[labelOutput];
          if (!labels) throw new Error(`variant ${v.name}: no output named '${labelOutput}' (use --label-output)`);
          for (let i = 0; i < n; i++) if (Number(labels.data[i]) === opts.evalSet.labels[start + i]) correct++;
        }
      } finally {
        await session.release();
      }
      const accuracy = correct / size;

      // A real server process for this variant alone.
      const configPath = join(dir, `${v.name}.json`);
      await writeFile(
        configPath,
        JSON.stringify({
          modelName: 'profile',
          host: '127.0.0.1',
          port: 0,
          variants: [{ name: v.name, uri: `file://${file.path}` }],
          executionProvider: ep,
          maxConcurrency: Math.max(256, maxConcurrency * 2),
          ...(opts.batching ? { batching: opts.batching } : {}),
        }),
      );
      const server = await startServeProcess(configPath);
      try {
        const url = `${server.url}/v2/models/profile/infer`;
        await runLoad({ url, bodies, concurrency: 1, durationMs: 300 }); // warm-up
        const single = await runLoad({ url, bodies, concurrency: 1, durationMs: latencyMs });
        if (single.failures > 0) throw new Error(`variant ${v.name}: ${single.failures} requests failed`);

        let capacityRps = 0;
        let cpuSecondsPerInference = NaN;
        let busyWatts: number[] = [];
        const idleWatts: number[] = [];
        if (opts.power) for (let i = 0; i < 3; i++) idleWatts.push(await opts.power.sampleWatts());
        for (let c = 1; c <= maxConcurrency; c *= 2) {
          const before = await serverCounters(server.url);
          const watts: Promise<number>[] = [];
          const sampler = opts.power ? setInterval(() => watts.push(opts.power!.sampleWatts()), 250) : undefined;
          const r = await runLoad({ url, bodies, concurrency: c, durationMs: sweepMs });
          if (sampler) clearInterval(sampler);
          const after = await serverCounters(server.url);
          const rps = r.requests / (r.elapsedMs / 1000);
          const p95 = percentile(r.latenciesMs, 95);
          log(`${v.name}: concurrency ${c}: ${rps.toFixed(0)} req/s, p95 ${p95.toFixed(2)} ms, ${r.failures} failed`);
          if (r.failures === 0 && p95 <= opts.latencySloMs && rps > capacityRps) {
            capacityRps = rps;
            cpuSecondsPerInference = (after.cpuSeconds - before.cpuSeconds) / (after.inferences - before.inferences);
            if (opts.power) busyWatts = await Promise.all(watts);
          }
          if (p95 > opts.latencySloMs) break;
        }
        if (capacityRps === 0) {
          notes.push(
            `${v.name}: one request at a time already misses the ${opts.latencySloMs} ms SLO; capacityRps is 0`,
          );
        }
        const mean = (xs: number[]) => xs.reduce((a, c) => a + c, 0) / xs.length;
        const declared = opts.declaredPower?.[v.name];
        const measuredPower = opts.power !== undefined && busyWatts.length > 0 && idleWatts.length > 0;
        const power: Partial<DeclaredPower> = measuredPower
          ? { powerBusyWatts: round(mean(busyWatts), 1), powerIdleWatts: round(mean(idleWatts), 1) }
          : declared
            ? { powerBusyWatts: declared.powerBusyWatts, powerIdleWatts: declared.powerIdleWatts }
            : {};
        const profile: VariantProfile = {
          name: v.name,
          model: {
            uri: opts.modelUri ? opts.modelUri(v) : v.uri,
            sha256: createHash('sha256')
              .update(await readFile(file.path))
              .digest('hex'),
          },
          quality: round(accuracy, 4),
          capacityRps: round(capacityRps, 1),
          latencyP95Ms: round(percentile(single.latenciesMs, 95), 3),
          gpusPerReplica: ep === 'cuda' ? 1 : 0,
          ...power,
          profile: {
            measuredAt: new Date(now()).toISOString(),
            host: opts.host ?? hostname(),
            executionProvider: ep,
            modelBytes: file.bytes,
            latencyP50Ms: round(percentile(single.latenciesMs, 50), 3),
            cpuSecondsPerInference: Number.isFinite(cpuSecondsPerInference)
              ? Number(cpuSecondsPerInference.toPrecision(4))
              : 0,
            powerSource: measuredPower ? 'nvml' : 'declared',
            evalSetSize: size,
            accuracy: round(accuracy, 6),
          },
        };
        log(
          `${v.name}: accuracy ${(accuracy * 100).toFixed(2)} %, p50 ${profile.profile.latencyP50Ms} ms, ` +
            `p95 ${profile.latencyP95Ms} ms, capacity ${profile.capacityRps} req/s`,
        );
        out.push(profile);
      } finally {
        await server.stop();
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return { variants: out, notes };
}
