// The purity boundary of operator/decision/ is a lint rule (eslint.config.js, ADR 0101): check that it really fails
// outward imports and impure globals there, and that the same code is allowed elsewhere (so the test would notice
// the block being dropped or its `files` glob going stale). Runs ESLint's Node API on virtual file paths.
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';

const root = fileURLToPath(new URL('../../../', import.meta.url));
// The boundary rules need no type information (the typed rules have their own test, test/unit/lint/): without it
// virtual files lint and the run stays fast.
const eslint = new ESLint({ cwd: root, overrideConfig: tseslint.configs.disableTypeChecked });

async function restricted(code: string, filePath: string): Promise<string[]> {
  const [res] = await eslint.lintText(code, { filePath: `${root}${filePath}` });
  return res!.messages.filter((m) => m.ruleId?.startsWith('no-restricted-')).map((m) => `${m.ruleId}: ${m.message}`);
}

describe('lint: operator/decision/ imports nothing outside itself', () => {
  const outward = [
    "import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n",
    "import { readFileSync } from 'fs';\nexport const f = readFileSync;\n",
    "import type { CarbonTrace } from '../carbon/trace-file.ts';\nexport type T = CarbonTrace;\n",
    "import { Reflector } from '../kube/reflector.ts';\nexport const r = Reflector;\n",
    "import type { UsageRecord } from '../audit/records.ts';\nexport type U = UsageRecord;\n",
    "import { Reconciler } from '../reconciler/reconciler.ts';\nexport const r = Reconciler;\n",
    "import { runOracle } from '../simulator/oracle.ts';\nexport const o = runOracle;\n",
    "import type { DemandSource } from '../demand/types.ts';\nexport type D = DemandSource;\n",
    "import fc from 'fast-check';\nexport const a = fc;\n",
    "export const m = () => import('./decide.ts');\n",
    'export const t = () => Date.now();\n',
    'export const r = () => Math.random();\n',
    'export const e = () => process.env.HOME;\n',
  ];
  for (const code of outward) {
    const first = code.split('\n')[0]!;
    it(`fails in operator/decision/: ${first}`, async () => {
      const msgs = await restricted(code, 'operator/decision/probe.ts');
      expect(msgs, first).to.have.length.greaterThan(0);
      expect(msgs.join('\n')).to.match(/operator\/decision\/ is (pure|deterministic)/);
    });
  }

  it('allows imports of its own files', async () => {
    const code =
      "import { decide } from './decide.ts';\nimport type { Decision } from './types.ts';\n" +
      'export const d: (typeof decide) | Decision | undefined = undefined;\n';
    expect(await restricted(code, 'operator/decision/probe.ts')).to.deep.equal([]);
  });

  it('does not apply outside operator/decision/ (the simulator may read files and traces)', async () => {
    const code =
      "import { readFileSync } from 'node:fs';\nimport type { CarbonTrace } from '../carbon/trace-file.ts';\n" +
      'export const f = (t: CarbonTrace) => readFileSync(String(t)) && Date.now();\n';
    expect(await restricted(code, 'operator/simulator/probe.ts')).to.deep.equal([]);
  });

  it('the real operator/decision/ sources pass it', async () => {
    const results = await eslint.lintFiles(['operator/decision/']);
    const bad = results.flatMap((r) =>
      r.messages
        .filter((m) => m.ruleId?.startsWith('no-restricted-'))
        .map((m) => `${r.filePath}:${m.line} ${m.message}`),
    );
    expect(bad).to.deep.equal([]);
  });
});
