// Mainstream lint for TypeScript run by Node's type stripping: typescript-eslint's recommended set.
import js from '@eslint/js';
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

/** Only operator/kube/ talks to the apiserver (see the boundary block at the end). */
const ONE_DOOR = {
  name: '@kubernetes/client-node',
  allowTypeImports: true,
  message:
    'Only operator/kube/ talks to the apiserver: use KubeClient, Reflector, applyManifests or loadKubeConfig from operator/kube/ (type-only imports are allowed).',
};

export default tseslint.config(
  { ignores: ['node_modules/', 'coverage/', 'out/', '**/*.cjs', '.venv/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: 'readonly', process: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  // ---- Boundary: operator/decision/ is the pure policy (ADR 0101). It imports only its own files: no node:*
  // built-ins, no carbon/, kube/, audit/, reconciler/, simulator/, demand/ (or any folder or package outside it), no
  // dynamic import, and no clock, randomness or I/O globals, so that the operator and the simulator run the very same
  // deterministic engine. test/unit/decision/import-boundary.test.ts checks that this block fails such code.
  {
    files: ['operator/decision/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: builtinModules.map((name) => ({ name, message: 'operator/decision/ is pure: no Node built-ins.' })),
          patterns: [
            {
              regex: '^(?!\\./)',
              message:
                'operator/decision/ is pure: import only its own files (./x.ts), never node:*, carbon/, kube/, audit/, reconciler/, simulator/, demand/ or packages.',
            },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: 'ImportExpression', message: 'operator/decision/ is pure: no dynamic import().' },
        {
          selector: "CallExpression[callee.name='require']",
          message: 'operator/decision/ is pure: no require().',
        },
      ],
      'no-restricted-globals': [
        'error',
        ...['process', 'fetch', 'setTimeout', 'setInterval', 'setImmediate', 'performance', 'crypto'].map((name) => ({
          name,
          message: 'operator/decision/ is pure: no I/O, timers or clock; the caller passes `now` and the data.',
        })),
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'operator/decision/ is pure: the caller passes `now`.' },
        { object: 'Math', property: 'random', message: 'operator/decision/ is deterministic: no randomness.' },
      ],
    },
  },
  // ---- Boundary: the one door to the apiserver (ADR 0001). Only operator/kube/ imports @kubernetes/client-node at
  // run time (type-only imports, e.g. `import type { KubeConfig }`, are allowed: they vanish before run time), so every
  // request goes through KubeClient's pool, rate limit and request counts. operator/local-cluster/ is the exception:
  // it boots the test/embedded control plane as its administrator (nodes, tokens), before any operator runs.
  // model-server/ is independent of operator/ (it ships in its own image): it imports nothing from operator/.
  // test/unit/kube/import-boundaries.test.ts checks that these blocks fail such code.
  {
    files: ['operator/**/*.ts', 'model-server/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    ignores: ['operator/kube/**', 'operator/local-cluster/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { paths: [ONE_DOOR] }],
    },
  },
  {
    files: ['model-server/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [ONE_DOOR],
          patterns: [
            {
              regex: '(^|/)operator(/|$)',
              message: 'model-server/ is independent of operator/ (its own image): import nothing from operator/.',
            },
          ],
        },
      ],
    },
  },
);
