// `carbonscale profile` on the shipped variants (short runs): the output has the InferenceService variant form,
// its accuracy equals what the training script measured with Python onnxruntime on the same files, and the
// family differs in accuracy and size as designed.
import { expect } from 'chai';
import { after, before, describe, it } from 'mocha';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MODELS, ROOT } from './support.ts';

interface Report {
  variants: Record<string, { bytes: number; accuracy: number; sha256: string }>;
}

describe('carbonscale profile', function () {
  this.timeout(120_000);
  let dir: string;
  let out: string;
  let stderr = '';
  let code: number | null;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cs-profile-'));
    out = join(dir, 'profile.json');
    const child = spawn(
      process.execPath,
      [
        'operator/cli.ts',
        'profile',
        '--config',
        'model-server/digits.config.json',
        '--eval',
        join(MODELS, 'digits-eval.json'),
        '--slo-ms',
        '50',
        '--model-uri-base',
        'file:///models/',
        '--latency-ms',
        '300',
        '--sweep-ms',
        '300',
        '--max-concurrency',
        '4',
        '--out',
        out,
      ],
      { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    code = await new Promise((r) => child.on('exit', r));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes every variant in the InferenceService form, measured', () => {
    expect(code, stderr).to.equal(0);
    const profile = JSON.parse(readFileSync(out, 'utf8'));
    const report = JSON.parse(readFileSync(join(MODELS, 'train-report.json'), 'utf8')) as Report;
    expect(profile.variants.map((v: { name: string }) => v.name)).to.deep.equal([
      'digits-full',
      'digits-small',
      'digits-int8',
    ]);
    for (const v of profile.variants) {
      expect(Object.keys(v).sort()).to.include.members([
        'capacityRps',
        'gpusPerReplica',
        'latencyP95Ms',
        'model',
        'name',
        'profile',
        'quality',
      ]);
      expect(v.model).to.deep.equal({ uri: `file:///models/${v.name}.onnx`, sha256: report.variants[v.name]!.sha256 });
      expect(v.capacityRps).to.be.greaterThan(0);
      expect(v.latencyP95Ms).to.be.greaterThan(0).and.at.most(50);
      expect(v.profile.latencyP50Ms).to.be.greaterThan(0).and.at.most(v.latencyP95Ms);
      expect(v.profile.cpuSecondsPerInference).to.be.greaterThan(0);
      expect(v.profile.evalSetSize).to.equal(540);
      expect(new Date(v.profile.measuredAt).getTime()).to.be.closeTo(Date.now(), 300_000);
      // Independent cross-check: Python onnxruntime measured the same files on the same split.
      expect(v.profile.accuracy).to.be.closeTo(report.variants[v.name]!.accuracy, 1e-6);
      expect(v.quality).to.be.closeTo(v.profile.accuracy, 1e-4);
      expect(v.profile.modelBytes).to.equal(report.variants[v.name]!.bytes);
      if (v.profile.executionProvider === 'cpu') {
        expect(v.gpusPerReplica).to.equal(0);
        expect(v.profile.powerSource).to.equal('declared');
        expect(v).to.not.have.property('powerBusyWatts');
      }
    }
    const by = Object.fromEntries(profile.variants.map((v: { name: string }) => [v.name, v]));
    expect(by['digits-full'].quality).to.be.greaterThan(by['digits-small'].quality);
    expect(by['digits-int8'].profile.modelBytes).to.be.lessThan(by['digits-full'].profile.modelBytes / 3);
  });

  it('says that power was not measured on a host without power counters', () => {
    if (!stderr.includes('execution provider: cpu')) return;
    expect(stderr).to.match(/note: power: this host exposes no GPU power counter/);
  });

  it('bad arguments: exit 1 or 2 with a message naming the flag', async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number | null; err: string }>((resolve) => {
        const c = spawn(process.execPath, ['operator/cli.ts', 'profile', ...args], {
          cwd: ROOT,
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let err = '';
        c.stderr.on('data', (d: Buffer) => (err += d.toString()));
        c.on('exit', (code) => resolve({ code, err }));
      });
    const a = await run(['--config', 'model-server/digits.config.json', '--eval', 'nope.json', '--slo-ms', '5']);
    expect(a.code).to.equal(1);
    expect(a.err).to.match(/--eval nope\.json/);
    const b = await run(['--config', 'model-server/digits.config.json', '--eval', 'x', '--slo-ms=-3']);
    expect(b.err).to.match(/--slo-ms: expected a number > 0/);
  });
});
