// An onnxruntime session that lives in worker threads (session-worker.ts), with the part of ort.InferenceSession
// the server uses: metadata, run and release. Each loaded variant has its own workers, so loading the next variant
// during a switch never stalls requests on the current one, and the event loop never waits for session.run.
// Inputs are copied to the worker (small next to JSON decoding); outputs come back transferred.
import { Worker } from 'node:worker_threads';
import type * as ort from 'onnxruntime-node';

/** A tensor as it crosses threads: what ort.Tensor holds, as plain data. */
export interface WireTensor {
  type: ort.Tensor.Type;
  dims: readonly number[];
  data: ort.Tensor.DataType;
}

export interface WorkerInit {
  path: string;
  options: ort.InferenceSession.SessionOptions;
}

export type WorkerRequest = { op: 'run'; id: number; feeds: Record<string, WireTensor> } | { op: 'release' };

export type WorkerReply =
  | {
      op: 'ready';
      inputMetadata: ort.InferenceSession.ValueMetadata[];
      outputMetadata: ort.InferenceSession.ValueMetadata[];
    }
  | { op: 'failed'; error: string }
  | { op: 'result'; id: number; outputs: Record<string, WireTensor>; computeMs: number }
  | { op: 'error'; id: number; error: string }
  | { op: 'released' };

/** An output tensor: ort.Tensor's fields the server reads. */
export interface RunTensor extends WireTensor {
  size: number;
}

export interface TimedRun {
  outputs: Record<string, RunTensor>;
  /** Milliseconds inside session.run on the worker thread (excludes queueing and thread hand-off). */
  computeMs: number;
}

const WORKER_URL = new URL('./session-worker.ts', import.meta.url);

/** One worker thread with one session; requests queue in its message port. */
class SessionWorker {
  readonly inputMetadata: readonly ort.InferenceSession.ValueMetadata[];
  readonly outputMetadata: readonly ort.InferenceSession.ValueMetadata[];
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (r: TimedRun) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private dead: Error | undefined;
  private released: Promise<void> | undefined;

  private constructor(worker: Worker, ready: Extract<WorkerReply, { op: 'ready' }>) {
    this.worker = worker;
    this.inputMetadata = ready.inputMetadata;
    this.outputMetadata = ready.outputMetadata;
    worker.on('message', (m: WorkerReply) => this.onReply(m));
    worker.on('error', (err) => this.fail(new Error(`inference worker failed: ${err.message}`)));
    worker.on('exit', (code) => this.fail(new Error(`inference worker exited (code ${code})`)));
  }

  /** Starts a worker and creates the session in it; rejects with onnxruntime's message when that fails. */
  static create(path: string, options: ort.InferenceSession.SessionOptions): Promise<SessionWorker> {
    const worker = new Worker(WORKER_URL, { workerData: { path, options } satisfies WorkerInit });
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(new Error(`inference worker failed to start: ${err.message}`));
      worker.once('error', onError);
      worker.once('message', (m: WorkerReply) => {
        worker.off('error', onError);
        if (m.op === 'ready') {
          resolve(new SessionWorker(worker, m));
        } else {
          void worker.terminate();
          reject(new Error(m.op === 'failed' ? m.error : `inference worker sent '${m.op}' before 'ready'`));
        }
      });
    });
  }

  /** Runs sent and not yet answered. */
  get queued(): number {
    return this.pending.size;
  }

  runTimed(feeds: Record<string, WireTensor>): Promise<TimedRun> {
    if (this.dead) return Promise.reject(this.dead);
    if (this.released) return Promise.reject(new Error('session released'));
    const wire: Record<string, WireTensor> = {};
    // ort.Tensor keeps its data behind getters, which structured clone would not see: copy the fields out.
    for (const [name, t] of Object.entries(feeds)) wire[name] = { type: t.type, dims: [...t.dims], data: t.data };
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ op: 'run', id, feeds: wire } satisfies WorkerRequest);
    });
  }

  /** Releases the session after the runs already sent, then stops the worker. Idempotent. */
  release(): Promise<void> {
    this.released ??= (async () => {
      if (!this.dead) {
        const done = new Promise<void>((resolve) => {
          const onMessage = (m: WorkerReply) => {
            if (m.op === 'released') resolve();
          };
          this.worker.on('message', onMessage);
          this.worker.once('exit', () => resolve());
        });
        this.worker.postMessage({ op: 'release' } satisfies WorkerRequest);
        await done;
      }
      await this.worker.terminate();
    })();
    return this.released;
  }

  private onReply(m: WorkerReply): void {
    if (m.op !== 'result' && m.op !== 'error') return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.op === 'error') {
      p.reject(new Error(m.error));
      return;
    }
    const outputs: Record<string, RunTensor> = {};
    for (const [name, t] of Object.entries(m.outputs)) {
      outputs[name] = { ...t, size: t.dims.reduce((a, b) => a * b, 1) };
    }
    p.resolve({ outputs, computeMs: m.computeMs });
  }

  private fail(err: Error): void {
    if (this.released && !this.dead && this.pending.size === 0) return;
    this.dead ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}

/**
 * A variant's session: `instances` worker threads, each with its own copy of the session (Triton's instance
 * group). A run goes to the instance with the fewest runs queued. Several instances with one intra-op thread each
 * can beat one instance with many threads at small batches, where onnxruntime's parallel sections are short.
 */
export class WorkerSession {
  readonly inputMetadata: readonly ort.InferenceSession.ValueMetadata[];
  readonly outputMetadata: readonly ort.InferenceSession.ValueMetadata[];
  private readonly instances: SessionWorker[];

  private constructor(instances: SessionWorker[]) {
    this.instances = instances;
    this.inputMetadata = instances[0]!.inputMetadata;
    this.outputMetadata = instances[0]!.outputMetadata;
  }

  /** Starts the workers and creates a session in each; rejects with onnxruntime's message when one fails. */
  static async create(
    path: string,
    options: ort.InferenceSession.SessionOptions,
    instances = 1,
  ): Promise<WorkerSession> {
    const started = await Promise.allSettled(
      Array.from({ length: Math.max(1, instances) }, () => SessionWorker.create(path, options)),
    );
    const ok = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) {
      await Promise.all(ok.map((w) => w.release()));
      throw failed.reason;
    }
    return new WorkerSession(ok);
  }

  get inputNames(): string[] {
    return this.inputMetadata.map((m) => m.name);
  }

  get outputNames(): string[] {
    return this.outputMetadata.map((m) => m.name);
  }

  /** Runs on the least busy instance; feeds may be ort.Tensor objects or plain WireTensors. */
  runTimed(feeds: Record<string, WireTensor>): Promise<TimedRun> {
    let best = this.instances[0]!;
    for (const w of this.instances) if (w.queued < best.queued) best = w;
    return best.runTimed(feeds);
  }

  async run(feeds: Record<string, WireTensor>): Promise<Record<string, RunTensor>> {
    return (await this.runTimed(feeds)).outputs;
  }

  /** Releases every instance after the runs already sent. Idempotent. */
  async release(): Promise<void> {
    await Promise.all(this.instances.map((w) => w.release()));
  }
}
