// Model-server throughput against bare onnxruntime-node session.run on the same model, in the same run:
//   bare session.run, batch 1 (single stream: the Node binding runs one call at a time on the event loop)
//   bare session.run, batch B (what dynamic batching can reach at most)
//   `carbonscale serve` process over HTTP, batch-1 requests, batching off
//   `carbonscale serve` process over HTTP, batch-1 requests, dynamic batching (max B rows, D ms delay)
//   a trivial node:http server that only parses the same JSON body (the HTTP ceiling on this machine)
// Prints inferences/s and the ratio to bare batch 1 (target for the server at batch 1: >= 0.9).
//   node bench/model-server-throughput.ts [--variant digits-full] [--seconds 5] [--concurrency 32]
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

if (process.argv[2] === '--echo-server') {
  // The HTTP ceiling: read the body, JSON.parse it, answer a small JSON; no model, no metrics.
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"outputs":[]}');
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
    variant: { type: 'string', default: 'digits-full' },
    seconds: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '32' },
    batch: { type: 'string', default: '32' },
    'delay-ms': { type: 'string', default: '2' },
  },
});
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const maxBatch = Number(values.batch);
const model = join(ROOT, 'model-server', 'models', `${values.variant}.onnx`);
const evalSet = JSON.parse(readFileSync(join(ROOT, 'model-server', 'models', 'digits-eval.json'), 'utf8')) as {
  features: number[][];
};

async function bare(batch: number): Promise<number> {
  const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all' });
  const tensors = evalSet.features.slice(0, 64).map((_, i) => {
    const data = new Float32Array(batch * 64);
    for (let r = 0; r < batch; r++) data.set(evalSet.features[(i + r) % evalSet.features.length]!, r * 64);
    return new ort.Tensor('float32', data, [batch, 64]);
  });
  for (let i = 0; i < 100; i++) await session.run({ input: tensors[i % tensors.length]! });
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
      variants: [{ name: values.variant, uri: model }],
      maxConcurrency: 1024,
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
  const url = await new Promise<string>((resolve) => {
    let buf = '';
    child.stdout.on('data', (c: Buffer) => {
      buf += c.toString();
      const m = /\{"listening":"([^"]+)"/.exec(buf);
      if (m) resolve(m[1]!);
    });
  });
  const bodies = evalSet.features.map((row) =>
    Buffer.from(JSON.stringify({ inputs: [{ name: 'input', shape: [1, 64], datatype: 'FP32', data: row }] })),
  );
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
    `model ${values.variant}, ${seconds} s per case, HTTP concurrency ${concurrency}, batching max ${maxBatch} rows / ` +
      `${values['delay-ms']} ms, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), Node ${process.version}, onnxruntime-node CPU`,
  );
  const b1 = await bare(1);
  const bB = await bare(maxBatch);
  const s1 = await served(false, dir);
  const sB = await served(true, dir);
  const echo = await served('echo', dir);
  const rows: [string, number, string][] = [
    ['bare session.run, batch 1', b1, ''],
    [`bare session.run, batch ${maxBatch}`, bB, ''],
    ['server, batch-1 requests, no batching', s1.rate, `p95 ${s1.p95.toFixed(2)} ms, ${s1.failures} failed`],
    ['server, batch-1 requests, dynamic batching', sB.rate, `p95 ${sB.p95.toFixed(2)} ms, ${sB.failures} failed`],
    ['HTTP ceiling: node:http + JSON.parse, no model', echo.rate, `p95 ${echo.p95.toFixed(2)} ms`],
  ];
  console.log(`${'case'.padEnd(44)} ${'inferences/s'.padStart(12)} ${'vs bare b1'.padStart(10)}  notes`);
  for (const [name, rate, note] of rows) {
    console.log(`${name.padEnd(44)} ${rate.toFixed(0).padStart(12)} ${(rate / b1).toFixed(3).padStart(10)}  ${note}`);
  }
  console.log(`server with dynamic batching vs bare batch ${maxBatch}: ${(sB.rate / bB).toFixed(3)}`);
  console.log(
    `server vs the HTTP ceiling: ${(s1.rate / echo.rate).toFixed(3)} without batching, ` +
      `${(sB.rate / echo.rate).toFixed(3)} with dynamic batching`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
