// The worker-thread side of WorkerSession: owns one onnxruntime session and runs requests one after another.
// onnxruntime-node's session.run is synchronous on the calling thread (it only defers the call with setImmediate),
// so running it on the event loop would stop HTTP parsing, JSON work and metrics for the whole run, and on a GPU
// for the whole kernel wait. Here it blocks only this thread; the main thread keeps accepting and decoding the
// next requests, which queue in this thread's message port.
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { WorkerInit, WorkerReply, WorkerRequest, WireTensor } from './worker-session.ts';

const port = parentPort;
if (!port) throw new Error('session-worker.ts must run in a worker thread');
const init = workerData as WorkerInit;

function metadata(meta: readonly ort.InferenceSession.ValueMetadata[]): ort.InferenceSession.ValueMetadata[] {
  // Plain objects: the binding's metadata may carry getters that structured clone would drop.
  return meta.map((m) =>
    m.isTensor
      ? { name: m.name, isTensor: true, type: m.type, shape: [...m.shape] }
      : { name: m.name, isTensor: false },
  );
}

// Transferring a buffer moves it without a copy; a buffer the binding does not let go of is copied instead.
function transferable(t: WireTensor): ArrayBuffer | undefined {
  const d = t.data;
  if (Array.isArray(d)) return undefined;
  const buf = d.buffer;
  if (!(buf instanceof ArrayBuffer) || d.byteOffset !== 0 || d.byteLength !== buf.byteLength) return undefined;
  return buf;
}

let session: ort.InferenceSession;
try {
  session = await ort.InferenceSession.create(init.path, init.options);
  port.postMessage({
    op: 'ready',
    inputMetadata: metadata(session.inputMetadata),
    outputMetadata: metadata(session.outputMetadata),
  } satisfies WorkerReply);
} catch (err) {
  port.postMessage({ op: 'failed', error: (err as Error).message } satisfies WorkerReply);
  port.close();
  process.exit(0);
}

port.on('message', (msg: WorkerRequest) => {
  if (msg.op === 'release') {
    void session.release().finally(() => {
      port.postMessage({ op: 'released' } satisfies WorkerReply);
      port.close();
    });
    return;
  }
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(msg.feeds)) {
    feeds[name] = new ort.Tensor(t.type as 'float32', t.data as Float32Array, t.dims);
  }
  const t0 = performance.now();
  session.run(feeds).then(
    (out) => {
      const computeMs = performance.now() - t0;
      const outputs: Record<string, WireTensor> = {};
      const transfer: ArrayBuffer[] = [];
      for (const [name, t] of Object.entries(out)) {
        const wire: WireTensor = { type: t.type, dims: [...t.dims], data: t.data as WireTensor['data'] };
        outputs[name] = wire;
        const buf = transferable(wire);
        if (buf && !transfer.includes(buf)) transfer.push(buf);
      }
      const reply: WorkerReply = { op: 'result', id: msg.id, outputs, computeMs };
      try {
        port.postMessage(reply, transfer);
      } catch {
        port.postMessage(reply);
      }
    },
    (err: unknown) =>
      port.postMessage({ op: 'error', id: msg.id, error: (err as Error).message } satisfies WorkerReply),
  );
});
