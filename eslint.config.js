// @ts-check
/**
 * Lint is the first line of defence for the workflow sandbox: workflow code is bundled by webpack
 * and replayed, so it must not reach Node built-ins, the activities or the image model (which do
 * I/O), or timers and process state that bypass Temporal. `bundleWorkflowCode` catches only some of
 * this, and only at worker start; these rules catch it in the editor. Everything else is left to
 * `tsc --strict`.
 */
const { builtinModules } = require('node:module');
const tseslint = require('typescript-eslint');

/**
 * Files that run inside the workflow sandbox: the workflows, and the Node-free modules they import
 * values from (the contract shared with activities and clients, and the pkg(5) model).
 */
const WORKFLOW_FILES = ['src/workflows/**/*.ts', 'src/contract/**/*.ts', 'src/model/**/*.ts'];

const SANDBOX = 'Workflow code runs in a deterministic sandbox: use activities for I/O';

module.exports = tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      '.temporal/',
      '.demo/',
      '.bench-cache/',
      '.agents/',
      'run/',
      'test/.generated/',
      '.scratch/',
    ],
  },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      ecmaVersion: 2022,
      sourceType: 'module',
      parserOptions: { projectService: true, tsconfigRootDir: __dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      // A promise nobody awaits loses its rejection (an unhandled rejection kills the worker) and its ordering.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['describe', 'it', 'test', 'before', 'after', 'beforeEach', 'afterEach'],
            },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': [
        'error',
        { checksVoidReturn: { arguments: false, attributes: false } },
      ],
    },
  },
  {
    files: WORKFLOW_FILES,
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: builtinModules
            .filter((m) => !m.startsWith('_'))
            .map((name) => ({ name, message: `'${name}' is a Node built-in. ${SANDBOX}.` })),
          patterns: [
            { group: ['node:*'], message: `Node built-ins are not available in workflows. ${SANDBOX}.` },
            {
              // Values from the activities or the image, stages, cache... would drag fs/crypto into the bundle; types are fine.
              // src/contract and src/model are Node-free (this same rule holds them to it).
              regex:
                '^\\.{1,2}/(.*/)?(activities|image|stages|cache|origins|repository|depot|worker|client|dev|pkg-cli|plugin)(/|$)',
              allowTypeImports: true,
              message: `Only \`import type\` from the activities and the Node-side folders is allowed in workflows, src/contract and src/model. ${SANDBOX} (proxyActivities).`,
            },
            {
              group: ['@temporalio/activity', '@temporalio/client', '@temporalio/worker', '@temporalio/testing'],
              allowTypeImports: true,
              message: 'Workflows may import only @temporalio/workflow and @temporalio/common.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        // Date and Math.random are fine: the SDK makes them deterministic inside the sandbox.
        { name: 'process', message: `No process state in workflows. ${SANDBOX}.` },
        {
          name: 'structuredClone',
          message: 'structuredClone is not in the workflow sandbox; copy with JSON or a spread.',
        },
        { name: 'setTimeout', message: 'Use sleep() or condition() with a timeout from @temporalio/workflow.' },
        { name: 'setInterval', message: 'Use a loop with sleep() from @temporalio/workflow.' },
        { name: 'setImmediate', message: 'Not in the workflow sandbox.' },
        { name: 'Buffer', message: 'Buffer is a Node built-in; use Uint8Array or strings.' },
        { name: 'require', message: 'Use import; workflows are bundled.' },
        { name: '__dirname', message: 'No file system in workflows.' },
        { name: '__filename', message: 'No file system in workflows.' },
        { name: 'WeakRef', message: 'Non-deterministic (GC); the SDK throws DeterminismViolationError.' },
        { name: 'FinalizationRegistry', message: 'Non-deterministic (GC); the SDK throws DeterminismViolationError.' },
      ],
    },
  },
);
