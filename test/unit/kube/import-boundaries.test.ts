// The one-door and model-server boundaries are lint rules (eslint.config.js, ADR 0001): check that they fail a
// run-time import of @kubernetes/client-node outside operator/kube/ and an import of operator/ from model-server/,
// and that the same code passes where it is allowed (so a dropped block or a stale `files` glob is noticed).
// Runs ESLint's Node API on virtual file paths.
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
  return res!.messages.filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports').map((m) => m.message);
}

const valueImport = "import { CoreV1Api } from '@kubernetes/client-node';\nexport const api = CoreV1Api;\n";
const namespaceImport = "import * as k8s from '@kubernetes/client-node';\nexport const kc = new k8s.KubeConfig();\n";
const reExport = "export { KubernetesObjectApi } from '@kubernetes/client-node';\n";
const typeImport = "import type { KubeConfig } from '@kubernetes/client-node';\nexport type K = KubeConfig;\n";

describe('lint: only operator/kube/ talks to the apiserver', () => {
  for (const file of [
    'operator/main.ts',
    'operator/reconciler/probe.ts',
    'operator/carbon/probe.ts',
    'operator/wiring/probe.ts',
    'model-server/probe.ts',
    'bench/probe.ts',
    'scripts/probe.ts',
  ]) {
    for (const code of [valueImport, namespaceImport, reExport]) {
      it(`fails in ${file}: ${code.split('\n')[0]}`, async () => {
        const msgs = await restricted(code, file);
        expect(msgs).to.have.length(1);
        expect(msgs[0])
          .to.include("'@kubernetes/client-node' import is restricted")
          .and.include('Only operator/kube/ talks to the apiserver: use KubeClient');
      });
    }
  }

  it('allows a type-only import anywhere (it is erased before run time)', async () => {
    expect(await restricted(typeImport, 'operator/reconciler/probe.ts')).to.deep.equal([]);
  });

  for (const file of ['operator/kube/probe.ts', 'operator/local-cluster/probe.ts', 'test/integration/probe.test.ts']) {
    it(`allows the import in ${file}`, async () => {
      expect(await restricted(valueImport, file)).to.deep.equal([]);
    });
  }
});

describe('lint: model-server/ is independent of operator/', () => {
  for (const spec of ['../operator/constants.ts', '../../operator/kube/kube-client.ts', '../operator']) {
    it(`fails in model-server/: import from '${spec}'`, async () => {
      const msgs = await restricted(
        `import { x } from '${spec}';\nexport const y = x;\n`,
        'model-server/train/probe.ts',
      );
      expect(msgs).to.have.length(1);
      expect(msgs[0])
        .to.include(`'${spec}' import is restricted`)
        .and.include('model-server/ is independent of operator/');
    });
  }

  it('still refuses @kubernetes/client-node there (the model-server block keeps the one-door rule)', async () => {
    const msgs = await restricted(valueImport, 'model-server/probe.ts');
    expect(msgs[0]).to.include('Only operator/kube/ talks to the apiserver');
  });

  it('allows its own files and packages, and operator/ may import model-server/', async () => {
    expect(
      await restricted("import { x } from './config.ts';\nexport const y = x;\n", 'model-server/probe.ts'),
    ).to.deep.equal([]);
    expect(
      await restricted("import { x } from './operator-names.ts';\nexport const y = x;\n", 'model-server/probe.ts'),
    ).to.deep.equal([]);
    expect(
      await restricted("import { x } from '../model-server/config.ts';\nexport const y = x;\n", 'operator/probe.ts'),
    ).to.deep.equal([]);
  });
});
