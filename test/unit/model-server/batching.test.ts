// Dynamic batching: concurrent requests are merged into fewer session.run calls (visible in the batch-size
// histogram), each client still gets exactly its own rows back, and the queue time is recorded.
import { expect } from 'chai';
import { describe, it } from 'mocha';
import { InferenceRunner } from '../../../model-server/inference-runner.ts';
import { createServerMetrics } from '../../../model-server/metrics.ts';
import type { DecodedRequest } from '../../../model-server/oip-tensor.ts';
import type { VariantPool } from '../../../model-server/variant-pool.ts';
import type { TimedRun, WireTensor } from '../../../model-server/worker-session.ts';
import { inferBody, loadEvalSet, metricValue, post, startTestServer, json } from './support.ts';

describe('model server: dynamic batching', () => {
  it('merges concurrent requests and splits the outputs back per request', async () => {
    const evalSet = loadEvalSet();
    const plain = await startTestServer();
    const batched = await startTestServer({ batching: { enabled: true, maxBatchSize: 16, maxQueueDelayMs: 20 } });
    try {
      const n = 40;
      // Mixed request sizes: 1 to 3 rows each.
      const reqs = Array.from({ length: n }, (_, i) => evalSet.features.slice(i * 3, i * 3 + 1 + (i % 3)));
      const run = (url: string) =>
        Promise.all(reqs.map((rows) => post(`${url}/v2/models/digits/infer`, inferBody(rows)).then((r) => json(r))));
      const [a, b] = await Promise.all([run(plain.url), run(batched.url)]);
      for (let i = 0; i < n; i++) {
        expect(b[i].outputs[0].shape, `request ${i}`).to.deep.equal([reqs[i]!.length]);
        expect(b[i].outputs[0].data, `request ${i} labels`).to.deep.equal(a[i].outputs[0].data);
        const pa = a[i].outputs[1].data as number[];
        (b[i].outputs[1].data as number[]).forEach((p, j) => expect(p).to.be.closeTo(pa[j]!, 1e-5));
      }
      const rows = reqs.reduce((s, r) => s + r.length, 0);
      const runsPlain = await metricValue(plain.url, 'carbonscale_model_batch_size_count');
      const runsBatched = await metricValue(batched.url, 'carbonscale_model_batch_size_count');
      const rowsBatched = await metricValue(batched.url, 'carbonscale_model_batch_size_sum');
      console.log(`      ${n} requests, ${rows} rows: ${runsPlain} runs unbatched, ${runsBatched} runs batched`);
      expect(runsPlain).to.equal(n); // one run per request (the warm-up is not counted)
      expect(rowsBatched).to.equal(rows);
      expect(runsBatched).to.be.lessThan(n);
      expect(runsBatched).to.be.at.least(Math.ceil(rows / 16));
      expect(await metricValue(batched.url, 'carbonscale_model_queue_duration_seconds_count')).to.equal(n);
      expect(await metricValue(batched.url, 'carbonscale_model_inferences_total')).to.equal(rows);
    } finally {
      await Promise.all([plain.shutdown(), batched.shutdown()]);
    }
  });
});

describe('model server: dynamic batching waits for a free session', () => {
  // A pool whose one session answers only when the test says so: which batches are cut is then exact.
  function gatedPool() {
    const calls: { rows: number; finish: () => void }[] = [];
    const variant = {
      name: 'v',
      device: 'cpu' as const,
      session: {
        runTimed(feeds: Record<string, WireTensor>): Promise<TimedRun> {
          const t = feeds['input']!;
          const rows = t.dims[0]!;
          return new Promise((resolve) => {
            calls.push({
              rows,
              finish: () =>
                resolve({
                  outputs: { label: { type: 'int64', dims: [rows], data: new BigInt64Array(rows), size: rows } },
                  computeMs: 1,
                }),
            });
          });
        },
      },
    };
    const pool = { acquire: () => variant, release: () => undefined } as unknown as VariantPool;
    return { pool, calls };
  }
  const request = (): DecodedRequest => ({
    inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 64], data: new Float32Array(64) }],
    outputs: [],
    rows: 1,
  });
  const tick = () => new Promise((r) => setTimeout(r, 5));

  it('requests that arrive while the session is busy join one batch, cut when it frees', async () => {
    const { pool, calls } = gatedPool();
    const runner = new InferenceRunner({
      pool,
      metrics: createServerMetrics('digits'),
      batching: { enabled: true, maxBatchSize: 32, maxQueueDelayMs: 0 },
      concurrentBatches: 1,
    });
    const first = runner.run(request());
    await tick();
    expect(calls.map((c) => c.rows)).to.deep.equal([1]);
    const waiting = Array.from({ length: 10 }, () => runner.run(request()));
    await tick();
    expect(
      calls.map((c) => c.rows),
      'nothing cut while the session is busy',
    ).to.deep.equal([1]);
    calls[0]!.finish();
    await first;
    await tick();
    expect(
      calls.map((c) => c.rows),
      'the ten waited into one batch',
    ).to.deep.equal([1, 10]);
    calls[1]!.finish();
    const outcomes = await Promise.all(waiting);
    expect(outcomes.map((o) => o.batchRows)).to.deep.equal(new Array(10).fill(10));
    await runner.idle();
  });

  it('with two instances, two batches run at once', async () => {
    const { pool, calls } = gatedPool();
    const runner = new InferenceRunner({
      pool,
      metrics: createServerMetrics('digits'),
      batching: { enabled: true, maxBatchSize: 4, maxQueueDelayMs: 0 },
      concurrentBatches: 2,
    });
    const all = Array.from({ length: 12 }, () => runner.run(request()));
    await tick();
    expect(calls.map((c) => c.rows)).to.deep.equal([4, 4]);
    calls[0]!.finish();
    calls[1]!.finish();
    await tick();
    expect(calls.map((c) => c.rows)).to.deep.equal([4, 4, 4]);
    calls[2]!.finish();
    await Promise.all(all);
    await runner.idle();
  });
});
