// Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no I/O libraries,
// and only *types* from activities. This config makes those mistakes lint errors.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/results/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'readonly', require: 'readonly', __dirname: 'readonly', process: 'readonly' } },
  },
  {
    languageOptions: { parserOptions: { ecmaVersion: 2022, sourceType: 'module' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({ name, message: 'Workflows and domain logic must not use Node built-ins: do I/O in an activity.' })),
            { name: 'dockerode', message: 'Docker is I/O: use it from activities/adapters.' },
            { name: 'mysql2', message: 'Database access is I/O: use it from activities/adapters.' },
            { name: 'mysql2/promise', message: 'Database access is I/O: use it from activities/adapters.' },
          ],
          patterns: [
            { group: ['**/adapters', '**/adapters/*', '**/activities', '**/activities/**', '**/workers/*', '**/client/*', '**/cli/*', 'dockerode', 'mysql2', 'mysql2/*'], message: 'Workflows import activity types only (import type), and no adapters.', allowTypeImports: true },
          ],
        },
      ],
    },
  },
  {
    files: ['domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Domain logic is pure: no Node built-ins.' })),
          patterns: [{ group: ['@temporalio/*', 'dockerode', 'mysql2', 'mysql2/*', '**/adapters/*', '**/activities', '**/activities/**', '**/workflows', '**/workflows/*', '**/workers/*', '**/client/*', '**/cli/*', '**/config/*'], message: 'Domain logic has no Temporal, Docker or database imports.' }],
        },
      ],
    },
  },
  // Imports point one way (test/unit/layering.test.ts checks every edge and that there are no loops):
  // cli/bench -> client/workers -> workflows -> activity types; activities -> adapters -> domain.
  ...[
    { files: ['adapters/**/*.ts'], banned: ['activities', 'workflows', 'workers', 'client', 'cli'] },
    { files: ['activities/**/*.ts'], banned: ['workflows', 'workers', 'client', 'cli'] },
    { files: ['config/**/*.ts'], banned: ['adapters', 'activities', 'workflows', 'workers', 'client', 'cli'] },
    { files: ['client/**/*.ts'], banned: ['activities', 'adapters', 'workers', 'cli'] },
    { files: ['workers/**/*.ts'], banned: ['cli'] },
    { files: ['cli/**/*.ts', 'bench/**/*.ts'], banned: ['activities'] },
  ].map(({ files, banned }) => ({
    files,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              // Relative paths only: package names such as @temporalio/client are not layers.
              group: banned.flatMap((layer) => ['../', '../../', '../../../'].flatMap((up) => [`${up}${layer}`, `${up}${layer}/**`])),
              message: `Imports point one way (cli/bench -> client/workers -> workflows -> activity types; activities -> adapters -> domain): this folder may not import ${banned.join(', ')}.`,
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  })),
);
