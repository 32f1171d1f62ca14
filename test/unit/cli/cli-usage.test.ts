// The CLI as a user meets it, run as subprocesses: `--help` works for every command and subcommand (usage on
// stdout, exit 0), an unknown command or flag prints the usage on stderr and exits 2, and a kubeconfig that is not
// there is said in words (which one, what to do) before anything starts.
import { expect } from 'chai';
import { cli } from './run-cli.ts';

const COMMANDS = ['operator', 'serve', 'profile', 'simulate', 'audit', 'audit verify', 'audit report', 'audit attest'];

describe('CLI usage: help, unknown commands and flags', function () {
  this.timeout(120_000);

  it('prints each command’s usage on stdout for --help and exits 0', async () => {
    const runs = await Promise.all(COMMANDS.map((c) => cli([...c.split(' '), '--help'])));
    runs.forEach((r, i) => {
      expect(r.code, `${COMMANDS[i]} --help: ${r.stderr}`).to.equal(0);
      expect(r.stderr, `${COMMANDS[i]} --help`).to.equal('');
      expect(r.stdout, `${COMMANDS[i]} --help`).to.match(
        new RegExp(`usage:[\\s\\S]*carbonscale ${COMMANDS[i]!.split(' ')[0]}`),
      );
    });
    for (const args of [['--help'], ['help'], ['-h']]) {
      const r = await cli(args);
      expect(r.code).to.equal(0);
      for (const c of ['operator', 'serve', 'profile', 'simulate', 'audit']) expect(r.stdout).to.contain(`  ${c} `);
    }
    const h = await cli(['help', 'simulate']);
    expect([h.code, h.stdout]).to.deep.equal([0, (await cli(['simulate', '--help'])).stdout]);
  });

  it('an unknown flag of any command: the message names it, then the usage, on stderr; exit 2', async () => {
    const runs = await Promise.all(COMMANDS.map((c) => cli([...c.split(' '), '--no-such-flag'])));
    runs.forEach((r, i) => {
      const c = COMMANDS[i]!;
      expect(r.code, `${c} --no-such-flag`).to.equal(2);
      // One line first: which command, which flag, in the same words for every command.
      const [first, blank, ...rest] = r.stderr.split('\n');
      expect(first, c).to.match(new RegExp(`^carbonscale ${c}: unknown flag --no-such-flag$`));
      expect(blank, c).to.equal('');
      expect(rest.join('\n'), c).to.match(new RegExp(`^usage:[\\s\\S]*carbonscale ${c.split(' ')[0]}`));
      expect(r.stdout, c).to.equal('');
    });
  });

  it('an unknown command or subcommand, or none: the usage on stderr, exit 2', async () => {
    const cases = [['frobnicate'], [], ['audit', 'frobnicate'], ['audit']];
    const runs = await Promise.all(cases.map((args) => cli(args)));
    runs.forEach((r, i) => {
      const args = cases[i]!;
      expect(r.code, args.join(' ')).to.equal(2);
      expect(r.stderr, args.join(' ')).to.match(/usage:/);
      if (args.includes('frobnicate')) expect(r.stderr).to.contain('unknown').and.contain('"frobnicate"');
    });
  });

  it('a bad flag value names the flag and the value', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['operator', '--duration', '5x'], /--duration: expected a duration such as 90s, 5m or 1h30m, got 5x/],
      [['operator', '--log-format', 'xml'], /--log-format: expected json, text, live, got xml/],
      [['operator', '--leader-elect', 'yes'], /--leader-elect: expected true or false, got yes/],
      [['operator', '--duration', '1m', '--exit-after-seconds', '5'], /give one/],
      [
        ['serve', '--config', 'model-server/digits.config.json', '--port', '99999'],
        /^carbonscale serve: --port: expected an integer in \[0, 65535\], got 99999$/,
      ],
      [['serve', '--config', '/no/such.json'], /^carbonscale serve: --config \/no\/such\.json: cannot read/],
      [['audit', 'report', '/no/such/dir', '--from', 'yesterday'], /^carbonscale audit report: --from: .*yesterday$/],
      [
        ['simulate', '--trace', 'data/carbon/GB_2023_hourly.csv', '--budget', '2'],
        /^carbonscale simulate: --budget: must be within/,
      ],
    ];
    const runs = await Promise.all(cases.map(([args]) => cli(args)));
    runs.forEach((r, i) => {
      expect(r.code, cases[i]![0].join(' ')).to.equal(2);
      expect(r.stderr.split('\n')[0]).to.match(cases[i]![1]);
    });
  });

  it('a kubeconfig that is not there: one sentence naming it (flag or $KUBECONFIG) and what to do; exit 1', async () => {
    const [viaFlag, viaEnv] = await Promise.all([
      cli(['operator', '--kubeconfig', '/no/such/kubeconfig']),
      cli(['operator'], { KUBECONFIG: '/no/such/file' }),
    ]);
    expect(viaFlag.code).to.equal(1);
    expect(viaFlag.stderr.trim()).to.equal(
      'carbonscale operator: --kubeconfig /no/such/kubeconfig: no such file. Give the path of a kubeconfig file, or ' +
        'unset KUBECONFIG and drop --kubeconfig to start the embedded local cluster.',
    );
    expect(viaEnv.code).to.equal(1);
    expect(viaEnv.stderr).to.match(/^carbonscale operator: KUBECONFIG=\/no\/such\/file: no such file\./);
    expect(viaEnv.stderr.split('\n').filter(Boolean)).to.have.length(1);
  });
});
