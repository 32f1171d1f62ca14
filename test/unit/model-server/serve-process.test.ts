// `carbonscale serve` as a real process: one log line naming the execution provider and why, and SIGTERM drains
// the requests in flight before the process exits 0.
import { expect } from 'chai';
import { after, before, describe, it } from 'mocha';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MODELS, VARIANTS, inferBody, post } from './support.ts';
import { spawnServe } from './support-process.ts';
import type { ServeProcess } from './support-process.ts';

describe('carbonscale serve (process)', () => {
  let dir: string;
  let config: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cs-serve-'));
    config = join(dir, 'config.json');
    await writeFile(
      config,
      JSON.stringify({
        modelName: 'digits',
        host: '127.0.0.1',
        port: 0,
        variants: VARIANTS.map((name) => ({ name, uri: join(MODELS, `${name}.onnx`) })),
        // A long queue delay holds requests in flight while SIGTERM arrives.
        batching: { enabled: true, maxBatchSize: 1000, maxQueueDelayMs: 400 },
      }),
    );
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  let proc: ServeProcess | undefined;
  after(() => {
    if (proc && proc.child.exitCode === null) proc.child.kill('SIGKILL');
  });

  it('logs the execution provider once with its reason, then drains in-flight requests on SIGTERM', async () => {
    proc = await spawnServe(config);
    const epLines = proc
      .logs()
      .split('\n')
      .filter((l) => l.includes('execution provider:'));
    expect(epLines).to.have.length(1);
    const ep = JSON.parse(epLines[0]!);
    expect(ep.executionProvider).to.be.oneOf(['cpu', 'cuda']);
    expect(ep.reason).to.be.a('string').and.not.equal('');

    const url = `${proc.url}/v2/models/digits/infer`;
    const pending = Array.from({ length: 20 }, () => post(url, inferBody([new Array(64).fill(3)])));
    await new Promise((r) => setTimeout(r, 100)); // requests are queued (400 ms batching delay)
    proc.child.kill('SIGTERM');
    const results = await Promise.all(pending);
    expect(results.map((r) => r.status)).to.deep.equal(new Array(20).fill(200));
    expect(await proc.exited).to.equal(0);
    expect(proc.logs()).to.include('signal received: draining');
    // Nothing listens any more.
    let refused = false;
    try {
      await fetch(`${proc.url}/v2/health/live`);
    } catch {
      refused = true;
    }
    expect(refused).to.equal(true);
  });

  it('exits 2 with a message naming the field for a bad config', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ modelName: 'digits', variants: [{ name: 'x', uri: 'ftp://host/x.onnx' }] }));
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, ['operator/cli.ts', 'serve', '--config', bad], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code).to.equal(2);
    expect(out).to.include(
      'variants[0].uri: unsupported model URI scheme ftp:// (the model server reads file://, http://, https://, pvc://)',
    );
  });
});
