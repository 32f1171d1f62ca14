// Holds the model variants' onnxruntime sessions and which one is active. A request acquires the active variant
// and releases it when its run is done; a switch loads and warms the new session first, then swaps one
// reference, so requests already holding the old session finish on it and none waits or fails. The old session
// is released only after its last holder (when unloadInactive is set).
import type * as ort from 'onnxruntime-node';
import type { VariantConfig } from './config.ts';
import type { ExecutionProviderDecision } from './execution-provider.ts';
import type { Logger } from './logger.ts';
import type { ServerMetrics } from './metrics.ts';
import { resolveModel } from './model-source.ts';
import { inputRefusal, oipDatatypeOf, ortTypeOf, outputRefusal, servedInput } from './oip-datatypes.ts';
import type { ModelSignature, TensorSpec } from './oip-tensor.ts';
import { WorkerSession } from './worker-session.ts';
import type { WireTensor } from './worker-session.ts';

export interface LoadedVariant {
  readonly name: string;
  readonly uri: string;
  /** The variant's session, on its own worker thread so session.run never blocks the event loop. */
  readonly session: WorkerSession;
  readonly signature: ModelSignature;
  readonly modelBytes: number;
  readonly device: 'cpu' | 'gpu';
  refs: number;
  retired: boolean;
}

export interface SwitchResult {
  from: string;
  to: string;
  changed: boolean;
  durationMs: number;
}

export interface VariantPoolOptions {
  variants: VariantConfig[];
  executionProvider: ExecutionProviderDecision;
  modelCacheDir: string;
  maxModelBytes: number;
  /** Where pvc:// variants are mounted (config.pvcMountRoot). */
  pvcMountRoot?: string;
  intraOpThreads: number;
  intraOpSpinning: boolean;
  instances: number;
  unloadInactive: boolean;
  metrics: ServerMetrics;
  logger: Logger;
  now: () => number;
}

/**
 * The model's inputs or outputs as OIP tensor specs, refusing at load, by name, any whose datatype this server does
 * not serve (oip-datatypes.ts): such a variant could be loaded but not warmed, or warmed but not answered.
 */
function specsOf(meta: readonly ort.InferenceSession.ValueMetadata[], what: 'input' | 'output'): TensorSpec[] {
  return meta.map((m) => {
    if (!m.isTensor) throw new Error(`${what} '${m.name}' is not a tensor; only tensor models can be served`);
    const datatype = oipDatatypeOf(m.type);
    if (!datatype) {
      throw new Error(`${what} '${m.name}': onnxruntime type ${m.type} has no Open Inference Protocol datatype`);
    }
    const refused =
      what === 'input' ? (servedInput(datatype) ? undefined : inputRefusal(datatype)) : outputRefusal(datatype);
    if (refused) throw new Error(`${what} '${m.name}': ${refused}`);
    return { name: m.name, datatype, shape: m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) };
  });
}

function sameSignature(a: ModelSignature, b: ModelSignature): boolean {
  const key = (s: ModelSignature) =>
    JSON.stringify([s.inputs, s.outputs.map((o) => ({ ...o, shape: o.shape.map(() => 0) }))]);
  return key(a) === key(b);
}

export class VariantPool {
  private readonly opts: VariantPoolOptions;
  private readonly configs: Map<string, VariantConfig>;
  private readonly loaded = new Map<string, LoadedVariant>();
  private current: LoadedVariant | undefined;
  private switching: Promise<unknown> = Promise.resolve();
  lastSwitch: (SwitchResult & { atMs: number }) | undefined;

  constructor(opts: VariantPoolOptions) {
    this.opts = opts;
    this.configs = new Map(opts.variants.map((v) => [v.name, v]));
  }

  get names(): string[] {
    return [...this.configs.keys()];
  }

  get active(): LoadedVariant {
    if (!this.current) throw new Error('no variant is loaded yet');
    return this.current;
  }

  get ready(): boolean {
    return this.current !== undefined;
  }

  /** Loads, warms and activates the first variant. */
  async start(initial: string): Promise<void> {
    const v = await this.load(initial);
    this.activate(v);
  }

  acquire(): LoadedVariant {
    const v = this.active;
    v.refs++;
    return v;
  }

  release(v: LoadedVariant): void {
    v.refs--;
    if (v.refs === 0 && v.retired) void this.unload(v);
  }

  /** Switches in place; concurrent calls are serialised. Throws (keeping the current variant) when loading fails. */
  switchTo(name: string): Promise<SwitchResult> {
    const run = this.switching.then(() => this.doSwitch(name));
    this.switching = run.catch(() => undefined);
    return run;
  }

  private async doSwitch(name: string): Promise<SwitchResult> {
    const from = this.current?.name ?? '';
    if (!this.configs.has(name)) {
      throw new Error(`unknown variant ${JSON.stringify(name)} (configured: ${this.names.join(', ')})`);
    }
    if (from === name) return { from, to: name, changed: false, durationMs: 0 };
    const t0 = this.opts.now();
    let next: LoadedVariant;
    try {
      next = await this.load(name);
      if (this.current && !sameSignature(this.current.signature, next.signature)) {
        throw new Error(`variant ${name} has different inputs/outputs than ${from}; variants must be interchangeable`);
      }
    } catch (err) {
      this.opts.metrics.switches.inc({ from, to: name, result: 'failed' });
      throw err;
    }
    const old = this.current;
    this.activate(next);
    const durationMs = this.opts.now() - t0;
    this.opts.metrics.switchDuration.observe({ from, to: name }, durationMs / 1000);
    this.opts.metrics.switches.inc({ from, to: name, result: 'ok' });
    this.lastSwitch = { from, to: name, changed: true, durationMs, atMs: this.opts.now() };
    this.opts.logger.info('variant switched', { from, to: name, switchMs: durationMs });
    if (old && this.opts.unloadInactive) {
      old.retired = true;
      if (old.refs === 0) await this.unload(old);
    }
    return { from, to: name, changed: true, durationMs };
  }

  private activate(v: LoadedVariant): void {
    v.retired = false;
    this.current = v;
    for (const n of this.names) this.opts.metrics.activeVariant.set({ variant: n }, n === v.name ? 1 : 0);
  }

  private async load(name: string): Promise<LoadedVariant> {
    const have = this.loaded.get(name);
    if (have) return have;
    const cfg = this.configs.get(name);
    if (!cfg) throw new Error(`unknown variant ${JSON.stringify(name)}`);
    const file = await resolveModel(cfg.uri, {
      cacheDir: this.opts.modelCacheDir,
      maxBytes: this.opts.maxModelBytes,
      ...(this.opts.pvcMountRoot !== undefined ? { pvcMountRoot: this.opts.pvcMountRoot } : {}),
    });
    const ep = this.opts.executionProvider.provider;
    const session = await WorkerSession.create(
      file.path,
      {
        executionProviders: ep === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
        graphOptimizationLevel: 'all',
        ...(this.opts.intraOpThreads > 0 ? { intraOpNumThreads: this.opts.intraOpThreads } : {}),
        // Session config entry session.intra_op.allow_spinning (onnxruntime_session_options_config_keys.h).
        extra: { session: { intra_op: { allow_spinning: this.opts.intraOpSpinning ? '1' : '0' } } },
      },
      this.opts.instances,
    );
    let v: LoadedVariant;
    try {
      const signature = {
        inputs: specsOf(session.inputMetadata, 'input'),
        outputs: specsOf(session.outputMetadata, 'output'),
      };
      const device = ep === 'cuda' ? 'gpu' : 'cpu';
      v = { name, uri: cfg.uri, session, signature, modelBytes: file.bytes, device, refs: 0, retired: false };
      await warmUp(v);
    } catch (err) {
      // A variant that cannot be served keeps no workers; the error names the variant and what is wrong with it.
      await session.release();
      throw new Error(`variant ${name}: ${(err as Error).message}`, { cause: err });
    }
    this.loaded.set(name, v);
    this.opts.logger.info('variant loaded', { variant: name, uri: cfg.uri, bytes: file.bytes, device: v.device });
    return v;
  }

  private async unload(v: LoadedVariant): Promise<void> {
    if (this.loaded.get(v.name) !== v || this.current === v) return;
    this.loaded.delete(v.name);
    await v.session.release();
    this.opts.logger.info('variant unloaded', { variant: v.name });
  }

  async close(): Promise<void> {
    for (const v of this.loaded.values()) await v.session.release();
    this.loaded.clear();
    this.current = undefined;
  }
}

/**
 * One run with zeros at batch 1, so the first real request does not pay for lazy initialisation. The zeros are
 * made by the same table the request decoder uses, so every input a request may carry can be warmed.
 */
export async function warmUp(v: Pick<LoadedVariant, 'session' | 'signature'>): Promise<void> {
  const feeds: Record<string, WireTensor> = {};
  for (const s of v.signature.inputs) {
    const served = servedInput(s.datatype);
    if (!served) throw new Error(`cannot warm up input '${s.name}': ${inputRefusal(s.datatype)}`);
    const dims = s.shape.map((d) => (d < 0 ? 1 : d));
    feeds[s.name] = { type: ortTypeOf(s.datatype), data: served.array(dims.reduce((a, b) => a * b, 1)), dims };
  }
  await v.session.run(feeds);
}
