// Every command README.md shows works: each is run here (the cheap ones: --help, a simulation), by `.ci/run`, or
// by a named test that runs it (the file is checked to hold the words that run it). A command added to the README
// without saying where it is run fails here, and so does an entry left here after its command left the README.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { readmeCommands, ROOT } from './readme-commands.ts';

type Where =
  | { run: 'here'; stdout: RegExp }
  | { run: 'ci' }
  /** Run by `file`, which holds each of `words` (how that test spells the command). */
  | { run: 'test'; file: string; words: string[] };

const DEMO_TEST = 'test/e2e/readme-demo.test.ts';
/** The demo section's commands: the e2e test reads them from the README and runs them as written. */
const demo = (): Where => ({ run: 'test', file: DEMO_TEST, words: ['readmeCommands(', "'What you will see in the demo'"] });
const CHART_TEST = 'test/e2e/install/chart-install.test.ts';
const chart = (...words: string[]): Where => ({ run: 'test', file: CHART_TEST, words });

const WHERE: Record<string, Where> = {
  './scripts/run.sh': demo(),
  './scripts/test.sh': { run: 'ci' },
  'export KUBECONFIG=~/.cache/carbonscale/embedded/kubeconfig': demo(),
  'kubectl get cisvc -w': demo(),
  'kubectl get cisvc -o wide': demo(),
  'kubectl describe cisvc digits-eco': demo(),
  'source scripts/env.sh': { run: 'here', stdout: /^v2[4-9]\./ },
  'node operator/cli.ts audit verify ~/.cache/carbonscale/embedded/audit': demo(),
  'node operator/cli.ts audit report ~/.cache/carbonscale/embedded/audit --html report.html': demo(),
  'helm install carbonscale charts/carbonscale -n carbonscale-system --create-namespace --wait': chart(
    "'install', RELEASE, CHART, '-n', NS, '--create-namespace', '--wait'",
    "RELEASE = 'carbonscale'",
    "NS = 'carbonscale-system'",
  ),
  'kubectl apply -f examples/carbon-source-default.yaml': chart("'apply', '-f', join(ROOT, 'examples', 'carbon-source-default.yaml')"),
  // The test makes the namespace through the API client: the same object as `kubectl create namespace`.
  'kubectl create namespace digits': chart("for (const ns of ['digits', 'trial']) await core.createNamespace("),
  'kubectl apply -n digits -f examples/premium.yaml -f examples/eco.yaml': chart(
    "'apply', '-n', 'digits', '-f', join(ROOT, 'examples', 'premium.yaml')",
    "'apply', '-n', 'digits', '-f', join(ROOT, 'examples', 'eco.yaml')",
  ),
  'kubectl get cisvc -n digits': chart("sh(kubectl, ['get', o.kind.toLowerCase(), o.metadata.name, ...ns])"),
  'kubectl apply --server-side -f deploy/install.yaml': chart("'apply', '--server-side'", "'deploy', 'install.yaml'"),
  'kubectl apply -f examples/carbon-sources/electricity-maps.yaml': chart(
    "readdirSync(join(ROOT, 'examples', 'carbon-sources'))",
    "sh(kubectl, ['apply', '-f', join(ROOT, 'examples', 'carbon-sources', f)])",
  ),
  'node operator/cli.ts help': { run: 'here', stdout: /^usage: carbonscale <command>[\s\S]*\n {2}simulate / },
  'node operator/cli.ts serve --help': { run: 'here', stdout: /^usage: carbonscale serve --config FILE/ },
  'node operator/cli.ts profile --help': { run: 'here', stdout: /^usage: carbonscale profile --config FILE/ },
  'node operator/cli.ts simulate --trace data/carbon/GB_2023_hourly.csv --tier eco': {
    run: 'here',
    stdout: /eco service, GB_2023_hourly\.csv \(\d+ steps of 60 min\)/,
  },
  'node operator/cli.ts audit --help': { run: 'here', stdout: /carbonscale audit verify DIR[\s\S]*audit attest DIR/ },
};

/** A README command as a user runs it: bash in the repository root, after the set-up the README names. */
function runHere(command: string): { code: number | null; stdout: string; stderr: string } {
  // `source scripts/env.sh` is checked by what it promises: the shell's node is then Node 24.
  const line = command === 'source scripts/env.sh' ? `${command} && node --version` : command;
  const r = spawnSync('bash', ['-c', line], {
    cwd: ROOT,
    env: { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}` },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('README.md: every command it shows is run', function () {
  this.timeout(300_000);
  const commands = readmeCommands();

  it('finds the README’s commands in every section that shows some', () => {
    const sections = new Set(commands.map((c) => c.section));
    for (const s of ['Two commands', 'What you will see in the demo', 'Quickstart on a real cluster', 'Other commands'])
      expect([...sections], s).to.include(s);
  });

  it('each command says where it is run, and nothing is listed that the README no longer shows', () => {
    const shown = commands.map((c) => c.command);
    const unlisted = commands.filter((c) => !(c.command in WHERE)).map((c) => `README.md:${c.line}: ${c.command}`);
    expect(unlisted, 'add each to WHERE with the test (or .ci/run) that runs it').to.deep.equal([]);
    expect(Object.keys(WHERE).filter((c) => !shown.includes(c))).to.deep.equal([]);
  });

  it('.ci/run runs exactly the README’s test command', () => {
    const ci = readFileSync(path.join(ROOT, '.ci/run'), 'utf8').split('\n');
    const steps = ci.filter((l) => l.trim() && !l.startsWith('#') && !/^(set|cd) /.test(l));
    const ciCommands = Object.entries(WHERE).filter(([, w]) => w.run === 'ci');
    expect(steps).to.deep.equal(ciCommands.map(([c]) => c));
  });

  it('each command run by a test: the test exists and holds the words that run it', () => {
    for (const [command, w] of Object.entries(WHERE)) {
      if (w.run !== 'test') continue;
      const file = path.join(ROOT, w.file);
      expect(existsSync(file), `${command}: ${w.file}`).to.equal(true);
      const text = readFileSync(file, 'utf8');
      for (const word of w.words) expect(text, `${command}: ${w.file} runs it`).to.contain(word);
    }
  });

  it('the cheap ones, run here as written: exit 0 and the output they promise', () => {
    for (const [command, w] of Object.entries(WHERE)) {
      if (w.run !== 'here') continue;
      const r = runHere(command);
      expect(r.code, `${command}\n${r.stderr}`).to.equal(0);
      expect(r.stdout, command).to.match(w.stdout);
    }
  });
});
