// The typed lint of eslint.config.js (issue 13): check that each rule fails the code it is meant to catch, in each
// folder it is meant to cover, and passes the correct form — so a dropped rule, a stale `files` glob or a lost
// parser option is noticed. Runs ESLint's Node API on virtual files, as the boundary tests do.
//
// A virtual file is on no disk, so tsconfig.json's project does not list it; the one override below lets the
// project service type it in a default project with tsconfig.json's compiler options (strict, as the real files).
// Everything else — rules, severities, file globs — is the repository's config as `eslint .` runs it.
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const PROBE = 'lint-probe.ts';
const FOLDERS = [
  'operator',
  'operator/decision',
  'operator/reconciler',
  'model-server',
  'bench',
  'test/unit',
  'scripts',
];
const eslint = new ESLint({
  cwd: root,
  overrideConfig: {
    files: FOLDERS.map((f) => `${f}/${PROBE}`),
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: FOLDERS.map((f) => `${f}/${PROBE}`), defaultProject: 'tsconfig.json' },
      },
    },
  },
});

/** `rule: message` of every problem ESLint reports (a parse error has no rule and shows as `parse: …`). */
async function problems(code: string, folder: string): Promise<string[]> {
  const [res] = await eslint.lintText(code, { filePath: `${root}${folder}/${PROBE}` });
  return res!.messages.map((m) => `${m.ruleId?.replace('@typescript-eslint/', '') ?? 'parse'}: ${m.message}`);
}

async function rulesHit(code: string, folder: string): Promise<string[]> {
  return [...new Set((await problems(code, folder)).map((p) => p.split(':')[0]!))].sort();
}

const asyncFn = 'async function fetchIt(): Promise<number> {\n  return 1;\n}\n';

describe('lint: typed rules (typescript-eslint with type information)', function () {
  // The first file loads tsconfig.json's project into the project service (tens of seconds on a busy 2-core
  // machine); the rest reuse it.
  this.timeout(180_000);
  before(async () => {
    await problems('export const warm = 1;\n', 'operator');
  });

  for (const folder of ['operator', 'model-server', 'bench', 'test/unit', 'scripts']) {
    it(`fails a floating promise in ${folder}/`, async () => {
      const code = `${asyncFn}export function run(): void {\n  fetchIt();\n}\n`;
      const found = await problems(code, folder);
      expect(found.join('\n')).to.match(/^no-floating-promises: Promises must be awaited/m);
      const [res] = await eslint.lintText(code, { filePath: `${root}${folder}/${PROBE}` });
      expect(res!.messages.find((m) => m.ruleId?.endsWith('no-floating-promises'))?.line).to.equal(5);
    });
  }

  it('fails a promise chain left floating (then without catch) and a floating promise in a method', async () => {
    const chain = `${asyncFn}export function run(): void {\n  fetchIt().then((n) => n + 1);\n}\n`;
    expect(await rulesHit(chain, 'operator')).to.deep.equal(['no-floating-promises']);
    const method = `${asyncFn}export class A {\n  start(): void {\n    fetchIt();\n  }\n}\n`;
    expect(await rulesHit(method, 'operator/reconciler')).to.deep.equal(['no-floating-promises']);
  });

  it('passes awaited, caught and deliberately voided promises', async () => {
    const code =
      `${asyncFn}export async function a(): Promise<number> {\n  return await fetchIt();\n}\n` +
      'export function b(): void {\n  fetchIt().catch(() => undefined);\n}\n' +
      'export function c(): void {\n  // fire and forget: the result is logged by fetchIt itself\n  void fetchIt();\n}\n';
    expect(await problems(code, 'operator')).to.deep.equal([]);
  });

  it('fails a promise where a condition or a void callback is expected (no-misused-promises)', async () => {
    // (A promise is always truthy, so no-unnecessary-condition reports the same line too.)
    const cond = `${asyncFn}export function run(): number {\n  return fetchIt() ? 1 : 0;\n}\n`;
    expect(await rulesHit(cond, 'operator')).to.include('no-misused-promises');
    const listener =
      `${asyncFn}export function run(on: (f: () => void) => void): void {\n` +
      '  on(async () => {\n    await fetchIt();\n  });\n}\n';
    expect(await rulesHit(listener, 'model-server')).to.deep.equal(['no-misused-promises']);
  });

  it('fails awaiting a value that is not a promise (await-thenable)', async () => {
    const code = 'export async function run(n: number): Promise<number> {\n  return await n;\n}\n';
    expect(await rulesHit(code, 'bench')).to.deep.equal(['await-thenable']);
  });

  describe('switch-exhaustiveness-check', () => {
    const union = "type Kind = 'a' | 'b' | 'c';\n";
    it('fails a switch over a union that misses a member', async () => {
      const code = `${union}export function f(k: Kind): number {\n  switch (k) {\n    case 'a':\n      return 1;\n    case 'b':\n      return 2;\n  }\n  return 0;\n}\n`;
      const found = await problems(code, 'operator');
      expect(found).to.have.length(1);
      expect(found[0]).to.match(/^switch-exhaustiveness-check: .*"c"/);
    });
    it('fails it even with a default: a default does not handle the members it swallows', async () => {
      const code = `${union}export function f(k: Kind): number {\n  switch (k) {\n    case 'a':\n      return 1;\n    default:\n      return 0;\n  }\n}\n`;
      expect((await problems(code, 'test/unit')).join('\n')).to.match(/switch-exhaustiveness-check: .*"b" \| "c"/);
    });
    it('passes a switch that names every member (a default for values outside the type is allowed)', async () => {
      const code = `${union}export function f(k: Kind): number {\n  switch (k) {\n    case 'a':\n    case 'b':\n      return 1;\n    case 'c':\n      return 2;\n    default:\n      throw new Error(String(k));\n  }\n}\n`;
      expect(await problems(code, 'operator')).to.deep.equal([]);
    });
  });

  describe('no-unnecessary-condition', () => {
    const lying =
      'interface Doc {\n  name: string;\n}\nexport function name(d: Doc): string {\n' +
      "  if (!d.name) throw new Error('name: missing');\n  return d.name ?? 'x';\n}\n";
    for (const folder of ['operator', 'operator/decision', 'model-server', 'bench']) {
      it(`fails a check the types say never fires in ${folder}/`, async () => {
        const found = await problems(lying, folder);
        expect(found).to.deep.equal([
          'no-unnecessary-condition: Unnecessary conditional, expected left-hand side of `??` operator to be possibly null or undefined.',
        ]);
      });
    }
    it('fails an optional chain on a value that cannot be nullish', async () => {
      const code = 'export function n(d: { a: { b: number } }): number {\n  return d.a?.b;\n}\n';
      expect(await rulesHit(code, 'operator')).to.deep.equal(['no-unnecessary-condition']);
    });
    it('passes the same checks on a document typed as what it is before validation', async () => {
      const code =
        'export function name(d: { name?: unknown }): string {\n' +
        "  if (typeof d.name !== 'string' || !d.name) throw new Error('name: must be a string');\n  return d.name;\n}\n";
      expect(await problems(code, 'operator')).to.deep.equal([]);
    });
    it('is off in test/ (before() hooks assign what after() tears down with ?.)', async () => {
      const code = 'let server: { close(): void };\nexport function teardown(): void {\n  server?.close();\n}\n';
      expect(await problems(code, 'test/unit')).to.deep.equal([]);
      expect(await rulesHit(code, 'operator')).to.deep.equal(['no-unnecessary-condition']);
    });
  });

  it('reports each typed rule and the function length as an error, so the lint gate fails on a new finding', async () => {
    const long = `export function long(): number {\n${'  // a line\n'.repeat(100)}  return 1;\n}\n`;
    const code =
      `${asyncFn}export function run(k: 'a' | 'b', n: number): number {\n  fetchIt();\n` +
      "  if (fetchIt()) n++;\n  const x = n ?? 0;\n  switch (k) {\n    case 'a':\n      return x;\n  }\n  return x;\n}\n" +
      `export async function w(): Promise<number> {\n  return await 1;\n}\n${long}`;
    const [res] = await eslint.lintText(code, { filePath: `${root}operator/${PROBE}` });
    const rules = res!.messages.map((m) => m.ruleId?.replace('@typescript-eslint/', '') ?? 'parse');
    expect(rules).to.include.members([
      'no-floating-promises',
      'no-misused-promises',
      'await-thenable',
      'switch-exhaustiveness-check',
      'no-unnecessary-condition',
      'max-lines-per-function',
    ]);
    for (const m of res!.messages) expect(m.severity, `${m.ruleId} is an error`).to.equal(2);
    expect(res!.warningCount).to.equal(0);
  });

  it('keeps the decision boundary: an import of node:fs from operator/decision/ fails, with the typed parser on', async () => {
    const code = "import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n";
    const found = await problems(code, 'operator/decision');
    expect(found).to.have.length(1);
    expect(found[0]).to.match(/^no-restricted-imports: 'node:fs' import is restricted.*operator\/decision\/ is pure/);
    expect(await problems(code, 'operator')).to.deep.equal([]);
  });
});
