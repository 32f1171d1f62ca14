// Runs decoded requests on the active variant, directly or through dynamic batching: requests queue until
// maxBatchSize rows are waiting or the oldest has waited maxQueueDelayMs, then run as one session.run whose
// outputs are split back by rows. The variant is acquired when a batch starts, so a batch never mixes variants.
import type { BatchingConfig } from './config.ts';
import { HttpError } from './http-error.ts';
import type { ServerMetrics } from './metrics.ts';
import { ortTypeOf } from './oip-datatypes.ts';
import type { NumericArray, OipDatatype } from './oip-datatypes.ts';
import { encodeOutput } from './oip-tensor.ts';
import type { DecodedRequest, OipOutputTensor } from './oip-tensor.ts';
import type { LoadedVariant, VariantPool } from './variant-pool.ts';
import type { RunTensor, TimedRun, WireTensor } from './worker-session.ts';

export interface InferenceOutcome {
  variant: string;
  outputs: OipOutputTensor[];
  queueMs: number;
  batchRows: number;
}

interface Pending {
  req: DecodedRequest;
  key: string;
  enqueuedAt: number;
  resolve: (o: InferenceOutcome) => void;
  reject: (e: unknown) => void;
}

export interface InferenceRunnerOptions {
  pool: VariantPool;
  metrics: ServerMetrics;
  batching: BatchingConfig;
  /**
   * Batches run at once (the variant's session instances). A batch is cut only when one can start, so while the
   * sessions are busy requests keep joining the waiting batch instead of queueing as many small ones.
   */
  concurrentBatches?: number;
  /** Monotonic milliseconds (performance.now by default) for queue and compute durations. */
  clock?: () => number;
}

type RunResult = Record<string, RunTensor>;

export class InferenceRunner {
  private readonly pool: VariantPool;
  private readonly metrics: ServerMetrics;
  private readonly batching: BatchingConfig;
  private readonly clock: () => number;
  private readonly concurrentBatches: number;
  private queue: Pending[] = [];
  private queuedRows = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(opts: InferenceRunnerOptions) {
    this.pool = opts.pool;
    this.metrics = opts.metrics;
    this.batching = opts.batching;
    this.clock = opts.clock ?? (() => performance.now());
    this.concurrentBatches = Math.max(1, opts.concurrentBatches ?? 1);
  }

  run(req: DecodedRequest): Promise<InferenceOutcome> {
    if (!this.batching.enabled) return this.runDirect(req);
    return new Promise((resolve, reject) => {
      const key = req.inputs.map((t) => `${t.name}:${t.shape.slice(1).join('x')}`).join('|');
      this.queue.push({ req, key, enqueuedAt: this.clock(), resolve, reject });
      this.queuedRows += req.rows;
      this.schedule();
    });
  }

  /** Resolves when the queue is empty and no batch is running (used by graceful shutdown). */
  async idle(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.dispatch();
    }
    if (this.queue.length === 0 && this.running === 0) return;
    await new Promise<void>((r) => this.idleWaiters.push(r));
  }

  private schedule(): void {
    if (this.queue.length === 0) return;
    if (this.queuedRows >= this.batching.maxBatchSize || this.batching.maxQueueDelayMs === 0) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      // Let other requests that arrived in this tick join before the batch is cut.
      setImmediate(() => this.dispatch());
      return;
    }
    if (!this.timer) {
      const waited = this.clock() - this.queue[0]!.enqueuedAt;
      this.timer = setTimeout(
        () => {
          this.timer = undefined;
          this.dispatch();
        },
        Math.max(0, this.batching.maxQueueDelayMs - waited),
      );
    }
  }

  private dispatch(): void {
    // All sessions busy: the batch keeps growing; the running batch's completion calls schedule() again.
    if (this.queue.length === 0 || this.running >= this.concurrentBatches) return;
    const key = this.queue[0]!.key;
    const batch: Pending[] = [];
    const rest: Pending[] = [];
    let rows = 0;
    for (const p of this.queue) {
      if (p.key === key && (batch.length === 0 || rows + p.req.rows <= this.batching.maxBatchSize)) {
        batch.push(p);
        rows += p.req.rows;
      } else {
        rest.push(p);
      }
    }
    this.queue = rest;
    this.queuedRows -= rows;
    this.running++;
    void this.runBatch(batch, rows).finally(() => {
      this.running--;
      this.schedule();
      if (this.queue.length === 0 && this.running === 0) {
        for (const w of this.idleWaiters.splice(0)) w();
      }
    });
    if (this.queue.length > 0) this.schedule();
  }

  private async runBatch(batch: Pending[], rows: number): Promise<void> {
    const started = this.clock();
    const v = this.pool.acquire();
    try {
      for (const p of batch) this.metrics.queueDuration.observe({ variant: v.name }, (started - p.enqueuedAt) / 1000);
      const first = batch[0]!.req;
      const feeds: Record<string, WireTensor> = {};
      for (const t of first.inputs) {
        const parts = batch.map((p) => p.req.inputs.find((x) => x.name === t.name)!.data);
        feeds[t.name] = tensor(t.datatype, concat(parts), [rows, ...t.shape.slice(1)]);
      }
      const out = await this.timedRun(v, feeds, rows);
      let offset = 0;
      for (const p of batch) {
        p.resolve({
          variant: v.name,
          outputs: sliceOutputs(out, p.req.outputs, offset, p.req.rows, rows),
          queueMs: started - p.enqueuedAt,
          batchRows: rows,
        });
        offset += p.req.rows;
      }
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      this.pool.release(v);
    }
  }

  private async runDirect(req: DecodedRequest): Promise<InferenceOutcome> {
    const v = this.pool.acquire();
    try {
      const feeds: Record<string, WireTensor> = {};
      for (const t of req.inputs) feeds[t.name] = tensor(t.datatype, t.data, t.shape);
      const out = await this.timedRun(v, feeds, req.rows);
      return {
        variant: v.name,
        outputs: sliceOutputs(out, req.outputs, 0, req.rows, req.rows),
        queueMs: 0,
        batchRows: req.rows,
      };
    } finally {
      this.pool.release(v);
    }
  }

  private async timedRun(v: LoadedVariant, feeds: Record<string, WireTensor>, rows: number): Promise<RunResult> {
    let run: TimedRun;
    try {
      run = await v.session.runTimed(feeds);
    } catch (err) {
      throw new HttpError(500, 'runtime_error', `variant ${v.name}: onnxruntime failed: ${(err as Error).message}`);
    }
    this.metrics.computeSeconds.inc({ variant: v.name, device: v.device }, run.computeMs / 1000);
    this.metrics.batchSize.observe({ variant: v.name }, rows);
    return run.outputs;
  }
}

function tensor(datatype: OipDatatype, data: NumericArray, dims: number[]): WireTensor {
  return { type: ortTypeOf(datatype), data, dims };
}

function concat(parts: NumericArray[]): NumericArray {
  if (parts.length === 1) return parts[0]!;
  const total = parts.reduce((a, p) => a + p.length, 0);
  const Ctor = parts[0]!.constructor as new (n: number) => NumericArray;
  const out = new Ctor(total);
  let o = 0;
  for (const p of parts) {
    (out as Float32Array).set(p as Float32Array, o);
    o += p.length;
  }
  return out;
}

/** Rows [offset, offset+n) of every requested output; outputs must be batch-major (first dimension = rows). */
function sliceOutputs(out: RunResult, wanted: string[], offset: number, n: number, total: number): OipOutputTensor[] {
  const names = wanted.length > 0 ? wanted : Object.keys(out);
  return names.map((name) => {
    const t = out[name]!;
    if (offset === 0 && n === total) return encodeOutput(name, t.type, t.dims, t.data as ArrayLike<number>);
    if (t.dims[0] !== total) {
      throw new HttpError(500, 'runtime_error', `output '${name}' is not batch-major; disable batching for this model`);
    }
    const per = t.size / total;
    const data = (t.data as Float32Array).subarray(offset * per, (offset + n) * per);
    return encodeOutput(name, t.type, [n, ...t.dims.slice(1)], data);
  });
}
