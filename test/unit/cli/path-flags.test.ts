// The real CLI, run as a subprocess, given a path flag that names nothing usable: every command says it in one line
// on stderr, `carbonscale COMMAND: FLAG PATH: what is wrong`, exits 2 (a usage error), prints no stack trace and
// writes nothing. And `audit report` writes a file only where a flag names one: no CSV lands in the directory it
// runs in unless --csv asks for it.
import { expect } from 'chai';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import winston from 'winston';
import { ParquetAuditSink } from '../../../operator/audit/parquet-sink.ts';
import { usageRecord } from '../../fixtures/audit/usage-fixtures.ts';
import { cli, ROOT } from './run-cli.ts';

const TRACE = path.join(ROOT, 'data/carbon/GB_2023_hourly.csv');

describe('CLI path flags: a path that is not there is one line naming the flag and the path, exit 2', function () {
  this.timeout(120_000);
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'path-flags-'));
    writeFileSync(path.join(tmp, 'a-file'), '');
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('simulate, audit verify/report/attest and operator: the one line, no usage, no stack trace', async () => {
    const aFile = path.join(tmp, 'a-file');
    const cases: Array<[string[], string]> = [
      [['simulate', '--trace', '/no/such.csv'], 'carbonscale simulate: --trace /no/such.csv: no such file'],
      [['simulate', '--trace', tmp], `carbonscale simulate: --trace ${tmp}: a directory, not a file`],
      [
        ['simulate', '--trace', TRACE, '--demand', '/no/demand.csv'],
        'carbonscale simulate: --demand /no/demand.csv: no such file',
      ],
      [
        ['simulate', '--trace', TRACE, '--variants', '/no/v.json'],
        'carbonscale simulate: --variants /no/v.json: no such file',
      ],
      [
        ['simulate', '--trace', TRACE, '--plot', '/no/dir/p.svg'],
        'carbonscale simulate: --plot /no/dir/p.svg: /no/dir: no such directory',
      ],
      [['audit', 'verify', '/no/such/dir'], 'carbonscale audit verify: DIR /no/such/dir: no such directory'],
      [['audit', 'verify', aFile], `carbonscale audit verify: DIR ${aFile}: not a directory`],
      [['audit', 'report', '/no/such/dir'], 'carbonscale audit report: DIR /no/such/dir: no such directory'],
      [
        ['audit', 'report', tmp, '--csv', '/no/dir/x.csv'],
        'carbonscale audit report: --csv /no/dir/x.csv: /no/dir: no such directory',
      ],
      [['audit', 'report', tmp, '--html', tmp], `carbonscale audit report: --html ${tmp}: a directory, not a file`],
      [
        ['audit', 'report', tmp, '--pricing', '/no/plan.yaml'],
        'carbonscale audit report: --pricing /no/plan.yaml: no such file',
      ],
      [['audit', 'attest', tmp, '--key', '/no/key.pem'], 'carbonscale audit attest: --key /no/key.pem: no such file'],
      [['operator', '--clock-trace', '/no/such'], 'carbonscale operator: --clock-trace /no/such: no such file'],
    ];
    const runs = await Promise.all(cases.map(([args]) => cli(args, {}, tmp)));
    runs.forEach((r, i) => {
      const [args, line] = cases[i]!;
      const what = args.join(' ');
      expect(r.code, `${what}: ${r.stderr}`).to.equal(2);
      expect(r.stderr, what).to.equal(`${line}\n`);
      expect(r.stderr, what).to.not.match(/^\s+at /m);
      expect(r.stdout, what).to.equal('');
    });
    // Run in tmp: nothing written there, nor where a flag pointed.
    expect(readdirSync(tmp)).to.deep.equal(['a-file']);
  });

  it('audit report writes no CSV unless --csv names one, and writes it there when it does', async () => {
    const trail = path.join(tmp, 'report-trail');
    const cwd = mkdtempSync(path.join(tmp, 'cwd-'));
    const sink = await ParquetAuditSink.open(trail, {
      now: () => 0,
      tickMs: 0,
      logger: winston.createLogger({ silent: true }),
    });
    for (let i = 0; i < 3; i++) await sink.writeUsage(usageRecord(0, i, 600_000));
    await sink.close();
    const bare = await cli(['audit', 'report', trail], {}, cwd);
    expect(bare.code, bare.stderr).to.equal(0);
    expect(bare.stdout).to.contain('ns-0').and.not.contain('CSV written');
    expect(readdirSync(cwd)).to.deep.equal([]);
    const csv = path.join(cwd, 'out.csv');
    const asked = await cli(['audit', 'report', trail, '--csv', csv], {}, cwd);
    expect(asked.code, asked.stderr).to.equal(0);
    expect(asked.stdout).to.contain(`CSV written to ${csv}`);
    expect(existsSync(csv)).to.equal(true);
    expect(readdirSync(cwd)).to.deep.equal(['out.csv']);
  });
});
