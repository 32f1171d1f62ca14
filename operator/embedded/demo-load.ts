// The demo's generated load: each InferenceService annotated with a demand trace and a peak rate gets requests
// at the trace's rate for the operator's clock (on the 60× replay, a trace hour per wall minute), scaled so the
// trace's busiest hour is the peak, and spread over the service's local model servers (local-pods.ts). The
// generator runs on a worker thread (load-worker.ts); this side reads the annotations, the clock and the
// endpoints once a second and passes the measured rate and p95 latency on.
import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Clock } from '../clock.ts';
import { hourlyCountsToRps } from '../demand/trace-demand-source.ts';
import { Reflector } from '../kube/reflector.ts';
import { Resources, type KubeClient, type KubeObject } from '../kube/kube-client.ts';
import type { LoadLine } from '../live-view/live-state.ts';
import { SHIPPED_MODELS } from './local-pods.ts';
import type { FromWorker, LoadTarget, ToWorker } from './load-worker.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const HOUR_MS = 3_600_000;
export const LOAD_TRACE_ANNOTATION = 'demo.carbonscale.dev/load-trace';
export const LOAD_PEAK_ANNOTATION = 'demo.carbonscale.dev/load-peak-rps';
/** Keeps the demo's CPU sane on two cores: no service is driven harder than this, whatever it asks. */
export const MAX_DEMO_RPS = 1000;

export interface LoadSpec {
  traceFile: string;
  peakRps: number;
  /** The trace's hourly rates scaled to 0..1 of its busiest hour. */
  shape: number[];
}

/** The load an InferenceService asks for in its annotations; undefined without; an Error naming the field. */
export function loadSpecOf(isvc: KubeObject): LoadSpec | undefined | Error {
  const a = isvc.metadata?.annotations ?? {};
  const file = a[LOAD_TRACE_ANNOTATION];
  const peak = a[LOAD_PEAK_ANNOTATION];
  if (file === undefined && peak === undefined) return undefined;
  const where = `${isvc.metadata?.namespace}/${isvc.metadata?.name}`;
  if (!file) return new Error(`${where}: annotation ${LOAD_TRACE_ANNOTATION} is required with ${LOAD_PEAK_ANNOTATION}`);
  const peakRps = Number(peak);
  if (!Number.isFinite(peakRps) || peakRps <= 0 || peakRps > MAX_DEMO_RPS)
    return new Error(
      `${where}: annotation ${LOAD_PEAK_ANNOTATION}: expected a number in (0, ${MAX_DEMO_RPS}] requests/s, got ${peak ?? '(none)'}`,
    );
  try {
    return { traceFile: file, peakRps, shape: traceShape(file) };
  } catch (e) {
    return new Error(`${where}: annotation ${LOAD_TRACE_ANNOTATION}: ${(e as Error).message}`);
  }
}

/** An hourly demand trace (data/demand/*_hourly.csv, last column) as shares of its busiest hour. */
export function traceShape(file: string): number[] {
  const path = isAbsolute(file) ? file : resolve(ROOT, file);
  const text = readFileSync(path, 'utf8');
  const header = text
    .slice(0, text.indexOf('\n'))
    .split(',')
    .map((h) => h.trim());
  const series = hourlyCountsToRps(text, header[header.length - 1]!, { file });
  const peak = Math.max(...series);
  if (!(peak > 0)) throw new Error(`${file}: every hour is 0`);
  return series.map((v) => v / peak);
}

/**
 * The rate at clock time `t`: hour h of the trace is the UTC hour floor(t / 1 h) mod its length (as the operator's
 * trace demand source anchors it), linear between hour midpoints so the load ramps instead of jumping.
 */
export function rateAt(spec: Pick<LoadSpec, 'shape' | 'peakRps'>, t: number): number {
  const n = spec.shape.length;
  const x = t / HOUR_MS - 0.5;
  const h = Math.floor(x);
  const f = x - h;
  const at = (i: number) => spec.shape[((i % n) + n) % n]!;
  return spec.peakRps * (at(h) * (1 - f) + at(h + 1) * f);
}

/** Request bodies for the shipped digits models: the held-out eval rows, one per request. */
export function digitsBodies(limit = 200): string[] {
  const evalSet = JSON.parse(readFileSync(join(SHIPPED_MODELS, 'digits-eval.json'), 'utf8')) as {
    input: string;
    features: number[][];
  };
  return evalSet.features
    .slice(0, limit)
    .map((row) =>
      JSON.stringify({ inputs: [{ name: evalSet.input, shape: [1, row.length], datatype: 'FP32', data: row }] }),
    );
}

export interface DemoLoadOptions {
  client: KubeClient;
  clock: Clock;
  endpoints: (namespace: string, name: string) => string[];
  onStats: (serviceKey: string, load: LoadLine) => void;
  log: (level: 'info' | 'warn', msg: string) => void;
}

export class DemoLoad {
  private readonly o: DemoLoadOptions;
  private readonly isvcs: Reflector<KubeObject>;
  private readonly specs = new Map<string, { annotations: string; spec: LoadSpec | undefined }>();
  private worker?: Worker;
  private timer?: ReturnType<typeof setInterval>;
  private bodiesSent = false;

  constructor(o: DemoLoadOptions) {
    this.o = o;
    this.isvcs = new Reflector<KubeObject>(o.client, Resources.inferenceService, {
      log: (level, msg) => o.log(level, `demo load: ${msg}`),
    });
  }

  start(): void {
    this.isvcs.start();
    const worker = new Worker(new URL('./load-worker.ts', import.meta.url));
    worker.unref();
    worker.on('message', (m: FromWorker) => {
      if (m.type !== 'stats') return;
      for (const s of m.stats)
        this.o.onStats(s.service, {
          requestsPerSecond: s.seconds > 0 ? s.requests / s.seconds : 0,
          p95Ms: s.p95Ms,
          failed: s.failed,
        });
    });
    worker.on('error', (e) => this.o.log('warn', `demo load generator stopped: ${e.message}`));
    this.worker = worker;
    this.timer = setInterval(() => this.push(), 1000);
    this.timer.unref();
  }

  /** The targets for now, from the annotations, the clock and the ready servers. */
  targets(): LoadTarget[] {
    const now = this.o.clock.now();
    const out: LoadTarget[] = [];
    for (const isvc of this.isvcs.list()) {
      const ns = isvc.metadata!.namespace!;
      const name = isvc.metadata!.name!;
      const spec = this.specFor(isvc);
      if (!spec) continue;
      out.push({
        service: `${ns}/${name}`,
        model: name,
        rps: rateAt(spec, now),
        endpoints: this.o.endpoints(ns, name),
      });
    }
    return out;
  }

  private specFor(isvc: KubeObject): LoadSpec | undefined {
    const key = `${isvc.metadata?.namespace}/${isvc.metadata?.name}`;
    const annotations = JSON.stringify(isvc.metadata?.annotations ?? {});
    const cached = this.specs.get(key);
    if (cached && cached.annotations === annotations) return cached.spec;
    const s = loadSpecOf(isvc);
    if (s instanceof Error) this.o.log('warn', s.message);
    const spec = s instanceof Error ? undefined : s;
    this.specs.set(key, { annotations, spec });
    return spec;
  }

  private push(): void {
    const msg: ToWorker = {
      type: 'targets',
      targets: this.targets(),
      ...(this.bodiesSent ? {} : { bodies: digitsBodies() }),
    };
    this.bodiesSent = true;
    this.worker?.postMessage(msg);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    const w = this.worker;
    this.worker = undefined;
    if (w) {
      const stopped = new Promise<void>((r) => {
        w.once('message', () => r());
        w.once('exit', () => r());
        setTimeout(r, 2000).unref();
      });
      w.postMessage({ type: 'stop' } satisfies ToWorker);
      await stopped;
      await w.terminate();
    }
    await this.isvcs.stop();
  }
}
