// cli-paths.ts: every way a path flag can name something unusable is one PathFlagError whose message is the line a
// user reads, `FLAG PATH: what is wrong`, with the flag and the path in it; nothing is created on the way.
import { expect } from 'chai';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  checkInputDir,
  checkInputFile,
  checkOutputFile,
  PathFlagError,
  readFlagFile,
  readFlagFileAsync,
  writeFlagFile,
  writeFlagFileAsync,
} from '../../../operator/cli-paths.ts';

/** The message of the PathFlagError `f` throws (fails the test when it throws nothing or something else). */
function messageOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e, String(e)).to.be.instanceOf(PathFlagError);
    return (e as Error).message;
  }
  throw new Error('expected a PathFlagError, nothing was thrown');
}

async function messageOfAsync(f: () => Promise<unknown>): Promise<string> {
  try {
    await f();
  } catch (e) {
    expect(e, String(e)).to.be.instanceOf(PathFlagError);
    return (e as Error).message;
  }
  throw new Error('expected a PathFlagError, nothing was thrown');
}

describe('cli-paths: a path flag that names nothing usable is one line naming the flag and the path', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'cli-paths-'));
    file = path.join(dir, 'trace.csv');
    writeFileSync(file, 'a,b\n');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a file to read: missing, a directory, under a file; a readable one passes and reads', async () => {
    const missing = path.join(dir, 'no-such.csv');
    expect(messageOf(() => checkInputFile('--trace', missing))).to.equal(`--trace ${missing}: no such file`);
    expect(messageOf(() => checkInputFile('--trace', dir))).to.equal(`--trace ${dir}: a directory, not a file`);
    const under = path.join(file, 'x.csv');
    expect(messageOf(() => checkInputFile('--trace', under))).to.equal(
      `--trace ${under}: a part of the path is not a directory`,
    );
    expect(messageOf(() => readFlagFile('--demand', missing))).to.equal(`--demand ${missing}: no such file`);
    expect(messageOf(() => readFlagFile('--demand', dir))).to.equal(`--demand ${dir}: a directory, not a file`);
    expect(await messageOfAsync(() => readFlagFileAsync('--pricing', missing))).to.equal(
      `--pricing ${missing}: no such file`,
    );
    checkInputFile('--trace', file);
    expect(readFlagFile('--trace', file)).to.equal('a,b\n');
    expect(await readFlagFileAsync('--trace', file)).to.equal('a,b\n');
  });

  it('a directory to read: missing, or a file', () => {
    const missing = path.join(dir, 'no-such-dir');
    expect(messageOf(() => checkInputDir('DIR', missing))).to.equal(`DIR ${missing}: no such directory`);
    expect(messageOf(() => checkInputDir('DIR', file))).to.equal(`DIR ${file}: not a directory`);
    checkInputDir('DIR', dir);
  });

  it('a file to write: its directory missing or a file, or itself a directory; nothing is created', async () => {
    const noDir = path.join(dir, 'no-such-dir');
    const out = path.join(noDir, 'report.csv');
    expect(messageOf(() => checkOutputFile('--csv', out))).to.equal(`--csv ${out}: ${noDir}: no such directory`);
    expect(messageOf(() => writeFlagFile('--plot', out, 'x'))).to.equal(`--plot ${out}: ${noDir}: no such directory`);
    expect(await messageOfAsync(() => writeFlagFileAsync('--html', out, 'x'))).to.equal(
      `--html ${out}: ${noDir}: no such directory`,
    );
    expect(existsSync(noDir)).to.equal(false);
    const underFile = path.join(file, 'report.csv');
    expect(messageOf(() => checkOutputFile('--csv', underFile))).to.equal(
      `--csv ${underFile}: ${file} is not a directory`,
    );
    expect(messageOf(() => checkOutputFile('--csv', dir))).to.equal(`--csv ${dir}: a directory, not a file`);
    const fresh = path.join(dir, 'fresh.csv');
    checkOutputFile('--csv', fresh); // not there yet, in a writable directory
    checkOutputFile('--csv', file); // there: overwritten
    expect(existsSync(fresh)).to.equal(false);
    writeFlagFile('--csv', fresh, 'x,y\n');
    expect(readFileSync(fresh, 'utf8')).to.equal('x,y\n');
  });

  it('a path it may not read or write: permission denied (not testable as root, who may do both)', function () {
    if (process.getuid?.() === 0) this.skip();
    const locked = path.join(dir, 'locked');
    writeFileSync(locked, 'secret-free');
    chmodSync(locked, 0o000);
    expect(messageOf(() => checkInputFile('--key', locked))).to.equal(`--key ${locked}: permission denied`);
    expect(messageOf(() => readFlagFile('--key', locked))).to.equal(`--key ${locked}: permission denied`);
    chmodSync(dir, 0o500);
    try {
      const out = path.join(dir, 'out.csv');
      expect(messageOf(() => checkOutputFile('--csv', out))).to.equal(`--csv ${out}: ${dir}: permission denied`);
    } finally {
      chmodSync(dir, 0o700);
    }
  });
});
