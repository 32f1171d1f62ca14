// `carbonscale profile --config FILE --eval FILE --slo-ms N [--out FILE]`: measures every variant named in the
// server config and writes { "variants": [...] } in the form InferenceService.spec.variants accepts.
import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { usageErrorLine } from './cli-errors.ts';
import { loadServerConfigFile } from './config.ts';
import { chooseExecutionProvider, systemProbe } from './execution-provider.ts';
import { findNvidiaSmi, nvidiaSmiPowerMeter } from './power-meter.ts';
import { profileVariants, validateEvalSet } from './profile.ts';
import type { DeclaredPower } from './profile.ts';

const USAGE = `usage: carbonscale profile --config FILE --eval FILE --slo-ms N [options]

  --config FILE          model server config naming the variants (as for carbonscale serve)
  --eval FILE            labelled evaluation set: { "input": NAME, "features": [[...]], "labels": [...] }
  --slo-ms N             p95 latency SLO (ms) at which capacityRps is measured
  --out FILE             write the profile JSON here (default: stdout)
  --model-uri-base URI   write model.uri as URI + file name (e.g. file:///models/)
  --declared-power FILE  JSON { "variants": [{ name, powerBusyWatts, powerIdleWatts }] } used where no power
                         counter exists
  --latency-ms N          time measuring batch-1 latency, one request at a time (default 3000)
  --sweep-ms N           time per concurrency level in the throughput sweep (default 2000)
  --max-concurrency N    highest concurrency in the sweep (default 64)
  --label-output NAME    output holding the predicted class (default label)`;

function posInt(v: string | undefined, flag: string, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag}: expected a positive integer, got ${v}`);
  return n;
}

export async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' },
        eval: { type: 'string' },
        'slo-ms': { type: 'string' },
        out: { type: 'string' },
        'model-uri-base': { type: 'string' },
        'declared-power': { type: 'string' },
        'latency-ms': { type: 'string' },
        'sweep-ms': { type: 'string' },
        'max-concurrency': { type: 'string' },
        'label-output': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    console.error(`${usageErrorLine('profile', err)}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  try {
    if (!values.config || !values.eval || !values['slo-ms'])
      throw new Error('--config, --eval and --slo-ms are required');
    const slo = Number(values['slo-ms']);
    if (!(slo > 0)) throw new Error(`--slo-ms: expected a number > 0, got ${values['slo-ms']}`);
    const config = await loadServerConfigFile(values.config);
    let evalRaw: unknown;
    try {
      evalRaw = JSON.parse(await readFile(values.eval, 'utf8'));
    } catch (err) {
      throw new Error(`--eval ${values.eval}: ${(err as Error).message}`);
    }
    const evalSet = validateEvalSet(evalRaw);
    let declaredPower: Record<string, DeclaredPower> | undefined;
    if (values['declared-power']) {
      const raw = JSON.parse(await readFile(values['declared-power'], 'utf8')) as unknown;
      const list = (Array.isArray(raw) ? raw : (raw as { variants?: unknown[] }).variants) ?? [];
      declaredPower = {};
      for (const [i, v] of (list as Record<string, unknown>[]).entries()) {
        const { name, powerBusyWatts, powerIdleWatts } = v;
        if (typeof name !== 'string' || typeof powerBusyWatts !== 'number' || typeof powerIdleWatts !== 'number') {
          throw new Error(`--declared-power variants[${i}]: expected { name, powerBusyWatts, powerIdleWatts }`);
        }
        declaredPower[name] = { powerBusyWatts, powerIdleWatts };
      }
    }
    const ep = chooseExecutionProvider(config.executionProvider, systemProbe());
    console.error(`execution provider: ${ep.provider} (${ep.reason})`);
    const smi = ep.provider === 'cuda' ? findNvidiaSmi() : undefined;
    const base = values['model-uri-base'];
    const result = await profileVariants({
      variants: config.variants,
      evalSet,
      latencySloMs: slo,
      executionProvider: ep,
      latencyMs: posInt(values['latency-ms'], '--latency-ms', 3000),
      sweepMsPerLevel: posInt(values['sweep-ms'], '--sweep-ms', 2000),
      maxConcurrency: posInt(values['max-concurrency'], '--max-concurrency', 64),
      batching: config.batching,
      ...(values['label-output'] ? { labelOutput: values['label-output'] } : {}),
      ...(base ? { modelUri: (v) => base + basename(new URL(v.uri).pathname) } : {}),
      ...(declaredPower ? { declaredPower } : {}),
      ...(smi ? { power: nvidiaSmiPowerMeter(smi) } : {}),
      modelCacheDir: config.modelCacheDir,
      pvcMountRoot: config.pvcMountRoot,
      log: (l) => console.error(l),
    });
    for (const n of result.notes) console.error(`note: ${n}`);
    const text = JSON.stringify({ variants: result.variants }, null, 2) + '\n';
    if (values.out) await writeFile(values.out, text);
    else process.stdout.write(text);
    return 0;
  } catch (err) {
    console.error(`profile: ${(err as Error).message}`);
    return 1;
  }
}
