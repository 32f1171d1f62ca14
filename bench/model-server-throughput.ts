// Model-server throughput against bare onnxruntime-node session.run on the same model, in the same run, for the
// shipped digits model and for compute-bound synthetic models (bench/synthetic-mlp.ts) whose run time is closer
// to real inference. Per model:
//   bare session.run, batch 1: a loop awaiting one run after another, the best of onnxruntime's default options,
//     one intra-op thread and the server's settings (whichever is fastest here is the bar: "bare/s", "ratio");
//     and bare with exactly the server's onnxruntime settings ("same/s", "same": the like-for-like ratio)
//   bare session.run, batch B: what dynamic batching can reach at most
//   `carbonscale serve` process over HTTP, batch-1 requests, batching off
//   `carbonscale serve` process over HTTP, batch-1 requests, dynamic batching (max B rows, D ms delay)
// plus, once, a trivial node:http server that only parses the same JSON body (the HTTP ceiling on this machine).
// The load generator (model-server/load-generator.ts) runs in this process, on the same CPUs as the server.
// Prints inferences/s and each server case's ratio to bare batch 1 (target at batch 1: >= 0.9).
// Columns: bare ms = best bare batch-1 run time; b32/s = bare batch 32 rows/s; p95 = server latency, no batching /
// batching.
//   node bench/model-server-throughput.ts [--models digits-full,mlp-1024x4,mlp-2048x3,mlp-4096x3]
//        [--seconds 4] [--concurrency 32] [--batch 32] [--delay-ms 2] [--intra-op-threads 0] [--intra-op-spinning]
//        [--instances 1]
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { percentile, runLoad } from '../model-server/load-generator.ts';
import { macsPerRow, writeSyntheticMlp } from './synthetic-mlp.ts';

if (process.argv[2] === '--echo-server') {
  // The HTTP ceiling: read the body, JSON.parse it, answer a small JSON; no model, no metrics.
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const text = '{"outputs":[]}';
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': text.length });
      res.end(text);
    });
  });
  server.listen(0, '127.0.0.1', () => {
    const port = (server.address() as AddressInfo).port;
    console.log(JSON.stringify({ listening: `http://127.0.0.1:${port}`, port }));
  });
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
  await new Promise(() => undefined);
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    models: { type: 'string', default: 'digits-full,mlp-1024x4,mlp-2048x3,mlp-4096x3' },
    seconds: { type: 'string', default: '4' },
    concurrency: { type: 'string', default: '32' },
    batch: { type: 'string', default: '32' },
    'delay-ms': { type: 'string', default: '2' },
    'intra-op-threads': { type: 'string', default: '0' },
    'intra-op-spinning': { type: 'boolean', default: false },
    instances: { type: 'string', default: '1' },
  },
});
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const maxBatch = Number(values.batch);
const intraOpThreads = Number(values['intra-op-threads']);
const evalSet = JSON.parse(readFileSync(join(ROOT, 'model-server', 'models', 'digits-eval.json'), 'utf8')) as {
  features: number[][];
};
const bodies = evalSet.features.map((row) =>
  Buffer.from(JSON.stringify({ inputs: [{ name: 'input', shape: [1, 64], datatype: 'FP32', data: row }] })),
);

interface BenchModel {
  name: string;
  path: string;
  macs: number;
}

async function prepare(name: string, dir: string): Promise<BenchModel> {
  const syn = /^mlp-(\d+)x(\d+)$/.exec(name);
  if (syn) {
    const spec = { hidden: Number(syn[1]), layers: Number(syn[2]), seed: 20231 };
    const path = join(dir, `${name}.onnx`);
    await writeSyntheticMlp(path, spec);
    return { name: `${name} (synthetic)`, path, macs: macsPerRow(spec) };
  }
  if (name !== 'digits-full' && name !== 'digits-small' && name !== 'digits-int8') {
    throw new Error(`--models: '${name}' is neither a shipped digits variant nor mlp-<hidden>x<layers>`);
  }
  const macs = name === 'digits-small' ? 64 * 12 + 12 * 10 : 64 * 512 + 512 * 256 + 256 * 10;
  return { name, path: join(ROOT, 'model-server', 'models', `${name}.onnx`), macs };
}

async function bare(model: string, batch: number, options: ort.InferenceSession.SessionOptions): Promise<number> {
  const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all', ...options });
  const tensors = evalSet.features.slice(0, 64).map((_, i) => {
    const data = new Float32Array(batch * 64);
    for (let r = 0; r < batch; r++) data.set(evalSet.features[(i + r) % evalSet.features.length]!, r * 64);
    return new ort.Tensor('float32', data, [batch, 64]);
  });
  const warm = performance.now();
  for (let i = 0; i < 100 && performance.now() - warm < 1000; i++) await session.run({ input: tensors[i % 64]! });
  let rows = 0;
  const t0 = performance.now();
  for (let i = 0; performance.now() - t0 < seconds * 1000; i++) {
    await session.run({ input: tensors[i % tensors.length]! });
    rows += batch;
  }
  const rate = rows / ((performance.now() - t0) / 1000);
  await session.release();
  return rate;
}

async function served(
  model: string,
  batching: boolean | 'echo',
  dir: string,
): Promise<{ rate: number; p95: number; failures: number }> {
  const config = join(dir, `serve-${batching}.json`);
  await writeFile(
    config,
    JSON.stringify({
      modelName: 'digits',
      host: '127.0.0.1',
      port: 0,
      executionProvider: 'cpu',
      variants: [{ name: 'bench', uri: model }],
      maxConcurrency: 1024,
      intraOpThreads,
      intraOpSpinning: values['intra-op-spinning'],
      instances: Number(values.instances),
      batching: { enabled: batching === true, maxBatchSize: maxBatch, maxQueueDelayMs: Number(values['delay-ms']) },
    }),
  );
  const args =
    batching === 'echo'
      ? [fileURLToPath(import.meta.url), '--echo-server']
      : [join(ROOT, 'operator', 'cli.ts'), 'serve', '--config', config];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  const exited = new Promise((r) => child.on('exit', r));
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.once('exit', (code) => reject(new Error(`server exited (${code}) before listening`)));
    child.stdout.on('data', (c: Buffer) => {
      buf += c.toString();
      const m = /\{"listening":"([^"]+)"/.exec(buf);
      if (m) resolve(m[1]!);
    });
  });
  const target = `${url}/v2/models/digits/infer`;
  await runLoad({ url: target, bodies, concurrency, durationMs: 1000 });
  const r = await runLoad({ url: target, bodies, concurrency, durationMs: seconds * 1000 });
  child.kill('SIGTERM');
  await exited;
  return { rate: r.requests / (r.elapsedMs / 1000), p95: percentile(r.latenciesMs, 95), failures: r.failures };
}

const dir = await mkdtemp(join(tmpdir(), 'cs-bench-'));
try {
  console.log(
    `${seconds} s per case, HTTP concurrency ${concurrency}, batching max ${maxBatch} rows / ${values['delay-ms']} ms, ` +
      `server intraOpThreads ${intraOpThreads || 'default'} spinning ${values['intra-op-spinning'] ? 'on' : 'off'} instances ${values.instances}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ` +
      `Node ${process.version}, onnxruntime-node ${ort.env.versions.common} CPU`,
  );
  const echo = await served('', 'echo', dir);
  console.log(
    `HTTP ceiling (node:http + JSON.parse, no model): ${echo.rate.toFixed(0)} requests/s, p95 ${echo.p95.toFixed(2)} ms`,
  );
  console.log('');
  const head =
    `${'model'.padEnd(26)} ${'MMAC/row'.padStart(8)} ${'bare ms'.padStart(7)} ${'bare/s'.padStart(7)} ` +
    `${'same/s'.padStart(7)} ${`b${maxBatch}/s`.padStart(8)} ${'server/s'.padStart(8)} ${'ratio'.padStart(5)} ` +
    `${'same'.padStart(5)} ${'batched/s'.padStart(9)} ${'ratio'.padStart(5)}  notes`;
  console.log(head);
  const summary: string[] = [];
  // The server's onnxruntime settings, for the like-for-like bare run.
  const serverOptions: ort.InferenceSession.SessionOptions = {
    ...(intraOpThreads > 0 ? { intraOpNumThreads: intraOpThreads } : {}),
    extra: { session: { intra_op: { allow_spinning: values['intra-op-spinning'] ? '1' : '0' } } },
  };
  for (const name of values.models.split(',')) {
    const m = await prepare(name.trim(), dir);
    const same = await bare(m.path, 1, serverOptions);
    const b1 = Math.max(same, await bare(m.path, 1, {}), await bare(m.path, 1, { intraOpNumThreads: 1 }));
    const bB = await bare(m.path, maxBatch, {});
    const s1 = await served(m.path, false, dir);
    const sB = await served(m.path, true, dir);
    const f = (x: number, w: number, d = 0) => x.toFixed(d).padStart(w);
    console.log(
      `${m.name.padEnd(26)} ${f(m.macs / 1e6, 8, 2)} ${f(1000 / b1, 7, 3)} ${f(b1, 7)} ${f(same, 7)} ${f(bB, 8)} ` +
        `${f(s1.rate, 8)} ${f(s1.rate / b1, 5, 2)} ${f(s1.rate / same, 5, 2)} ${f(sB.rate, 9)} ${f(sB.rate / b1, 5, 2)}  ` +
        `p95 ${s1.p95.toFixed(1)}/${sB.p95.toFixed(1)} ms, ${s1.failures + sB.failures} failed`,
    );
    summary.push(
      `${m.name}: server at batch 1 = ${(s1.rate / b1).toFixed(2)} of the best bare batch 1 ` +
        `(${s1.rate / b1 >= 0.9 ? 'meets' : 'misses'} 0.9), ${(s1.rate / same).toFixed(2)} of bare with the server's ` +
        `onnxruntime settings; with dynamic batching ${(sB.rate / b1).toFixed(2)} of the best bare batch 1, ` +
        `${(sB.rate / bB).toFixed(2)} of bare batch ${maxBatch}`,
    );
  }
  console.log('');
  for (const s of summary) console.log(s);
} finally {
  await rm(dir, { recursive: true, force: true });
}
