// The soak: one command that runs the scale scenario and the fault scenarios against the operator as a black box
// (its CLI, its /metrics, the apiserver's audit log, /proc), prints one table (scenario, what was measured, the
// figure, the goal, pass/fail, the load average) and writes it as JSON and Markdown.
//   node bench/soak/soak.ts                              # 2,000 services, 50 namespaces, 3 regions, every scenario
//   node bench/soak/soak.ts --services 150 --namespaces 10 --quiet-seconds 30 --scenarios scale,apiserver-outage
// Needs KUBEBUILDER_ASSETS (the full control plane) and, for disk-full, root. Results go to --out (default
// test-artifacts/soak/soak-<time>.{json,md}). Exit code 0 when every row with a goal passed, 1 otherwise.
// --operator-cli PATH runs another build of the operator (e.g. `git archive HEAD` unpacked beside node_modules),
// so a soak can measure a commit while the working tree is being edited.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ApiserverAudit } from './apiserver-audit.ts';
import { applyWorld, planWorld, SOAK_REPLICAS } from './fixtures.ts';
import { Results, textTable, writeResults } from './results.ts';
import { SCENARIOS } from './scenarios/index.ts';
import type { SoakContext, SoakOptions } from './scenarios/context.ts';
import { startSoakCluster } from './soak-cluster.ts';
import { WorldView } from './world-view.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

function int(name: string, v: string | undefined, dflt: number, min = 1): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name}: expected an integer >= ${min}, got ${v}`);
  return n;
}

export function parseSoakArgs(argv: string[]): SoakOptions & { scenarios: string[]; out: string; keep: boolean } {
  const s = { type: 'string' } as const;
  const { values: v } = parseArgs({
    args: argv,
    options: {
      services: s,
      namespaces: s,
      regions: s,
      'quiet-seconds': s,
      'step-window-seconds': s,
      'timeout-seconds': s,
      scenarios: s,
      out: s,
      'operator-cli': s,
      keep: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const names = v.scenarios ? v.scenarios.split(',').map((x) => x.trim()) : SCENARIOS.map((x) => x.name);
  for (const n of names)
    if (!SCENARIOS.some((x) => x.name === n))
      throw new Error(`--scenarios: unknown scenario ${n} (known: ${SCENARIOS.map((x) => x.name).join(', ')})`);
  const services = int('services', v.services, 2000);
  return {
    services,
    namespaces: int('namespaces', v.namespaces, Math.min(50, services)),
    regions: int('regions', v.regions, 3),
    quietSeconds: int('quiet-seconds', v['quiet-seconds'], 120),
    stepWindowSeconds: int('step-window-seconds', v['step-window-seconds'], 60),
    timeoutMs: int('timeout-seconds', v['timeout-seconds'], Math.max(180, Math.ceil(services / 5))) * 1000,
    scenarios: names,
    out: v.out ?? path.join(ROOT, 'test-artifacts', 'soak', `soak-${new Date().toISOString().replace(/[:.]/g, '-')}`),
    keep: v.keep,
    work: '',
    ...(v['operator-cli'] ? { operatorCli: path.resolve(v['operator-cli']) } : {}),
  };
}

/** Sets up the environment and the world, runs the named scenarios in order; always tears down. */
export async function runSoak(
  o: SoakOptions & { scenarios: string[] },
  log = (m: string) => console.error(m),
  afterScenario: (r: Results) => void = () => {},
): Promise<Results> {
  const results = new Results();
  const env = await startSoakCluster({
    work: o.work,
    // Each service plans up to SOAK_REPLICAS.max one-GPU pods (80 rps needs 2 of the full variant): size for that,
    // or the pods that find no GPU keep the world from ever being quiet.
    pods: o.services * SOAK_REPLICAS.max,
    ...(o.operatorCli ? { operatorCli: o.operatorCli } : {}),
  });
  try {
    const world = planWorld(
      { services: o.services, namespaces: o.namespaces, regions: o.regions, intervalSeconds: 60, minDwellSeconds: 120 },
      o.work,
    );
    log(
      `applying ${world.services.length} InferenceServices in ${world.namespaces.length} namespaces, ${world.regions.length} regions`,
    );
    await applyWorld(env.client, world, Date.now());
    const view = new WorldView(env, world);
    await view.start();
    const ctx: SoakContext = { env, world, view, audit: new ApiserverAudit(env.cp), results, opts: o, log };
    try {
      for (const name of o.scenarios) {
        const sc = SCENARIOS.find((x) => x.name === name)!;
        log(`--- scenario ${name} (load ${loadavg()[0]!.toFixed(2)})`);
        const started = Date.now();
        try {
          await sc.run(ctx);
        } catch (e) {
          results.add(
            name,
            'scenario ran to its end',
            'error',
            'no error',
            false,
            'invariant',
            (e as Error).stack ?? String(e),
          );
          log(`scenario ${name} failed: ${(e as Error).message}`);
        }
        const secs = ((Date.now() - started) / 1000).toFixed(0);
        results.add(name, 'wall time of the scenario', `${secs} s`, '—', null, 'timing');
        afterScenario(results);
      }
    } finally {
      await view.stop();
    }
  } finally {
    await env.stop();
  }
  return results;
}

async function main(argv: string[]): Promise<number> {
  const o = parseSoakArgs(argv);
  o.work = mkdtempSync(path.join(tmpdir(), 'carbonscale-soak-'));
  const started = new Date();
  const meta = {
    command: `node bench/soak/soak.ts ${argv.join(' ')}`.trim(),
    started: started.toISOString(),
    machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
    loadAtStart: loadavg().map((x) => Number(x.toFixed(2))),
    services: o.services,
    namespaces: o.namespaces,
    regions: o.regions,
    operator: o.operatorCli ?? 'operator/cli.ts of this checkout',
  };
  console.error(`soak: ${meta.command} (load ${meta.loadAtStart.join(' ')}); work dir ${o.work}`);
  let results: Results;
  mkdirSync(path.dirname(o.out), { recursive: true });
  // A harness bug must not end a long run: say so and go on (the scenario's own rows tell what it measured).
  process.on('unhandledRejection', (e) => console.error('soak: unhandled rejection (continuing):', e));
  const checkpoint = (r: Results) => writeResults(o.out, r.rows, { ...meta, partial: true });
  try {
    results = await runSoak(o, undefined, checkpoint);
  } finally {
    if (!o.keep) rmSync(o.work, { recursive: true, force: true });
  }
  mkdirSync(path.dirname(o.out), { recursive: true });
  writeResults(o.out, results.rows, {
    ...meta,
    minutes: Number(((Date.now() - started.getTime()) / 60_000).toFixed(1)),
    loadAtEnd: loadavg().map((x) => Number(x.toFixed(2))),
  });
  console.log(textTable(results.rows));
  console.log(
    `\n${results.rows.filter((x) => x.pass === true).length} passed, ${results.failed.length} failed; results in ${o.out}.{json,md}`,
  );
  return results.failed.length ? 1 : 0;
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (c) => (process.exitCode = c),
    (e: unknown) => {
      console.error(e instanceof Error ? e.message : String(e));
      process.exitCode = 2;
    },
  );
}
