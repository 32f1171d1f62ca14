// No function in operator/ over 100 lines (issue 13): the lint rule (max-lines-per-function in eslint.config.js)
// enforces it and scripts/function-lengths.ts prints the longest. Check that the rule fails 101 lines and passes 100
// where it applies, that the script measures exactly as the rule does (on synthetic code and on real sources), and
// that the script fails on a function over the limit.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { functionLengths, measureTree } from '../../../scripts/function-lengths.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
// Type information is not needed for a line count: leave it out so these runs stay fast.
const eslint = new ESLint({ cwd: root, overrideConfig: tseslint.configs.disableTypeChecked });

/** A function of exactly `lines` physical lines; `filler` makes its body lines (code, blank or comments). */
function fn(lines: number, filler: (i: number) => string): string {
  const body = Array.from({ length: lines - 2 }, (_, i) => filler(i));
  return `export function long(): number {\n${body.join('\n')}\n}\n`;
}
const withReturn = (lines: number) =>
  fn(lines, (i) => (i === lines - 3 ? `  return ${i};` : i % 3 === 1 ? '' : `  // step ${i}`));

async function lengthProblems(text: string, file: string): Promise<string[]> {
  const [res] = await eslint.lintText(text, { filePath: `${root}${file}` });
  return res!.messages.filter((m) => m.ruleId === 'max-lines-per-function').map((m) => `${m.line}: ${m.message}`);
}

describe('lint: no function in operator/ over 100 lines', () => {
  it('fails a 101-line function in operator/ and passes a 100-line one', async () => {
    const over = await lengthProblems(withReturn(101), 'operator/reconciler/probe.ts');
    expect(over).to.deep.equal(["1: Function 'long' has too many lines (101). Maximum allowed is 100."]);
    expect(await lengthProblems(withReturn(100), 'operator/reconciler/probe.ts')).to.deep.equal([]);
  });

  it('counts blank and comment lines (skipBlankLines and skipComments off), as the script does', async () => {
    const text = withReturn(101);
    expect(text.split('\n').filter((l) => l.trim() === '' || l.trim().startsWith('//')).length).to.be.greaterThan(60);
    expect(await lengthProblems(text, 'operator/probe.ts')).to.have.length(1);
    expect(functionLengths('probe.ts', text)).to.deep.equal([{ name: 'long', file: 'probe.ts', line: 1, lines: 101 }]);
  });

  it('applies to operator/ only', async () => {
    for (const file of ['test/unit/probe.test.ts', 'bench/probe.ts', 'model-server/probe.ts'])
      expect(await lengthProblems(withReturn(140), file), file).to.deep.equal([]);
  });

  it('measures methods, arrows, nested and anonymous functions as ESLint does', async () => {
    const text = [
      'export class Svc {',
      '  constructor() {}',
      '  async run<T>(',
      '    x: T,',
      '  ): Promise<T> {',
      '    const inner = (y: number) => {',
      '      return y + 1;',
      '    };',
      '    [1, 2].map(function (z) {',
      '      return z;',
      '    });',
      '    return inner(1) ? x : x;',
      '  }',
      '  get size(): number {',
      '    return 1;',
      '  }',
      '}',
      `export const arrow = async (a: number): Promise<number> =>`,
      '  a +',
      '  1;',
    ].join('\n');
    const mine = functionLengths('operator/probe.ts', text).map((f) => `${f.line}: ${f.name} (${f.lines})`);
    expect(mine).to.deep.equal([
      '2: Svc.constructor (1)',
      '3: Svc.run (11)',
      '6: inner (3)',
      '9: (anonymous in Svc.run) (3)',
      '14: Svc.size (3)',
      '18: arrow (3)',
    ]);
    const viaEslint = await new ESLint({
      cwd: root,
      overrideConfig: [tseslint.configs.disableTypeChecked, { rules: { 'max-lines-per-function': ['error', 1] } }],
    }).lintText(text, { filePath: `${root}operator/probe.ts` });
    const eslintCounts = viaEslint[0]!.messages
      .filter((m) => m.ruleId === 'max-lines-per-function')
      .map((m) => `${m.line}: ${/\((\d+)\)/.exec(m.message)![1]}`);
    // The rule's smallest limit is 1, so it reports every function of 2 lines or more.
    const longer = functionLengths('operator/probe.ts', text).filter((f) => f.lines > 1);
    expect(eslintCounts).to.deep.equal(longer.map((f) => `${f.line}: ${f.lines}`));
  });

  it('the script measures the real sources exactly as the lint rule does', async function () {
    this.timeout(120_000);
    const folders = ['operator/reconciler', 'operator/kube', 'operator/decision', 'operator/wiring'];
    const zero = new ESLint({
      cwd: root,
      overrideConfig: [
        tseslint.configs.disableTypeChecked,
        {
          files: ['operator/**/*.ts'],
          rules: {
            'max-lines-per-function': ['error', { max: 1, skipBlankLines: false, skipComments: false, IIFEs: true }],
          },
        },
      ],
    });
    const results = await zero.lintFiles(folders);
    const eslintCounts = results
      .flatMap((r) =>
        r.messages
          .filter((m) => m.ruleId === 'max-lines-per-function')
          .map((m) => `${r.filePath.slice(root.length)}:${m.line} ${/\((\d+)\)/.exec(m.message)![1]}`),
      )
      .sort();
    const mine = measureTree(root, folders)
      .filter((f) => f.lines > 1) // the rule's smallest limit is 1
      .map((f) => `${f.file}:${f.line} ${f.lines}`)
      .sort();
    expect(mine.length).to.be.greaterThan(200);
    expect(mine).to.deep.equal(eslintCounts);
  });

  describe('scripts/function-lengths.ts', () => {
    let dir = '';
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'fn-lengths-'));
      mkdirSync(join(dir, 'src'));
      writeFileSync(join(dir, 'src', 'a.ts'), withReturn(101) + withReturn(5).replace('long', 'short'));
      writeFileSync(join(dir, 'src', 'b.ts'), withReturn(100).replace('long', 'hundred'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));
    const script = join(root, 'scripts', 'function-lengths.ts');

    it('prints the longest functions with file:line and exits 1 when one is over the limit', () => {
      const r = spawnSync(process.execPath, [script, '--top', '2', join(dir, 'src')], { encoding: 'utf8' });
      expect(r.status, r.stderr).to.equal(1);
      const lines = r.stdout.split('\n');
      expect(lines[1]).to.match(/^\s+101\s+\S*src\/a\.ts:1\s+long$/);
      expect(lines[2]).to.match(/^\s+100\s+\S*src\/b\.ts:1\s+hundred$/);
      expect(r.stdout).to.not.match(/^\s+5\s/m);
      expect(r.stdout).to.match(/1 function\(s\) over 100 lines/);
    });

    it('exits 0 with a summary when none is over the limit (--max)', () => {
      const r = spawnSync(process.execPath, [script, '--max', '101', join(dir, 'src')], { encoding: 'utf8' });
      expect(r.status, r.stdout + r.stderr).to.equal(0);
      expect(r.stdout).to.match(/3 functions in 2 files; none over 101 lines\./);
    });

    it('refuses a bad flag value, naming the flag', () => {
      const r = spawnSync(process.execPath, [script, '--top', 'ten', join(dir, 'src')], { encoding: 'utf8' });
      expect(r.status).to.not.equal(0);
      expect(r.stderr).to.include("--top: expected a whole number, got 'ten'");
    });
  });
});
