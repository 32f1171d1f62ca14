// Dynamic batching: concurrent requests are merged into fewer session.run calls (visible in the batch-size
// histogram), each client still gets exactly its own rows back, and the queue time is recorded.
import { expect } from 'chai';
import { describe, it } from 'mocha';
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
