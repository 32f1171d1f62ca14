// The sessions live on worker threads: results equal onnxruntime on the calling thread, several instances answer
// concurrent runs correctly, the event loop keeps turning while a run is in progress, and failures are errors
// with onnxruntime's message, not crashes.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import * as ort from 'onnxruntime-node';
import { macsPerRow, writeSyntheticMlp } from '../../../bench/synthetic-mlp.ts';
import { WorkerSession } from '../../../model-server/worker-session.ts';
import { MODELS } from './support.ts';

const FULL = join(MODELS, 'digits-full.onnx');

function rows(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n * 64 }, (_, i) => ((i * 7 + seed * 13) % 17) as number);
}

describe('model server: sessions on worker threads', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cs-worker-session-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('metadata and outputs equal onnxruntime on this thread, for two instances under concurrent runs', async () => {
    const direct = await ort.InferenceSession.create(FULL);
    const session = await WorkerSession.create(FULL, {}, 2);
    try {
      expect(session.inputNames).to.deep.equal(direct.inputNames);
      expect(session.outputNames).to.deep.equal(direct.outputNames);
      const inputs = Array.from({ length: 24 }, (_, i) => rows(1 + (i % 3), i));
      const served = await Promise.all(
        inputs.map((d) => session.runTimed({ input: { type: 'float32', data: d, dims: [d.length / 64, 64] } })),
      );
      for (const [i, d] of inputs.entries()) {
        const want = await direct.run({ input: new ort.Tensor('float32', d, [d.length / 64, 64]) });
        const got = served[i]!;
        expect(got.computeMs).to.be.greaterThan(0);
        expect([...got.outputs['label']!.dims]).to.deep.equal([...want['label']!.dims]);
        expect(Array.from(got.outputs['label']!.data as BigInt64Array)).to.deep.equal(
          Array.from(want['label']!.data as BigInt64Array),
        );
        expect(Array.from(got.outputs['probabilities']!.data as Float32Array)).to.deep.equal(
          Array.from(want['probabilities']!.data as Float32Array),
        );
        expect(got.outputs['probabilities']!.size).to.equal((d.length / 64) * 10);
      }
    } finally {
      await session.release();
      await direct.release();
    }
  });

  it('the event loop keeps turning while a run is in progress', async () => {
    // A model that runs for milliseconds: on the calling thread, session.run would hold the event loop for all of
    // that, so an immediate queued after the call would only fire after the result.
    const path = join(dir, 'heavy.onnx');
    await writeSyntheticMlp(path, { hidden: 2048, layers: 3, seed: 1 });
    const session = await WorkerSession.create(path, { intraOpNumThreads: 1 });
    try {
      const order: string[] = [];
      const run = session.run({ input: { type: 'float32', data: rows(1, 1), dims: [1, 64] } }).then(() => {
        order.push('run');
      });
      await new Promise<void>((r) =>
        setImmediate(() => {
          order.push('immediate');
          r();
        }),
      );
      await run;
      expect(order).to.deep.equal(['immediate', 'run']);
    } finally {
      await session.release();
    }
  });

  it('a run onnxruntime rejects is an error naming the problem; the session keeps serving', async () => {
    const session = await WorkerSession.create(FULL, {});
    try {
      let err: Error | undefined;
      await session.run({ input: { type: 'float32', data: new Float32Array(63), dims: [1, 63] } }).catch((e) => {
        err = e as Error;
      });
      expect(err?.message).to.match(/input/i);
      const ok = await session.run({ input: { type: 'float32', data: rows(1, 2), dims: [1, 64] } });
      expect(ok['label']!.dims).to.deep.equal([1]);
    } finally {
      await session.release();
    }
    let after: Error | undefined;
    await session.run({ input: { type: 'float32', data: rows(1, 2), dims: [1, 64] } }).catch((e) => {
      after = e as Error;
    });
    expect(after?.message).to.match(/released/);
  });

  it("a file that is not a model fails creation with onnxruntime's message", async () => {
    const path = join(dir, 'not-a-model.onnx');
    await writeFile(path, 'not a protobuf');
    let err: Error | undefined;
    await WorkerSession.create(path, {}, 2).catch((e) => {
      err = e as Error;
    });
    expect(err?.message).to.match(/protobuf|parse|load/i);
  });

  it('the synthetic bench model is a valid ONNX MLP: softmax rows sum to 1, label is their argmax', async () => {
    const spec = { hidden: 96, layers: 2, seed: 7 };
    expect(macsPerRow(spec)).to.equal(64 * 96 + 96 * 96 + 96 * 10);
    const path = join(dir, 'mlp.onnx');
    await writeSyntheticMlp(path, spec);
    const s = await ort.InferenceSession.create(path);
    try {
      expect(s.inputNames).to.deep.equal(['input']);
      expect([...s.outputNames].sort()).to.deep.equal(['label', 'probabilities']);
      const out = await s.run({ input: new ort.Tensor('float32', rows(5, 3), [5, 64]) });
      const p = out['probabilities']!.data as Float32Array;
      const labels = Array.from(out['label']!.data as BigInt64Array, Number);
      for (let r = 0; r < 5; r++) {
        const row = Array.from(p.subarray(r * 10, r * 10 + 10));
        expect(row.reduce((a, b) => a + b, 0)).to.be.closeTo(1, 1e-5);
        expect(labels[r]).to.equal(row.indexOf(Math.max(...row)));
      }
    } finally {
      await s.release();
    }
  });
});
