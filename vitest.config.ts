import { defineConfig } from 'vitest/config';

// Workspace packages resolve each other from source through the custom
// `@tickwork/source` export condition, so tests need no build step.
const conditions = ['@tickwork/source', 'node', 'import', 'module', 'default'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@tickwork/source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'examples/*/src/**/*.test.ts', 'bench/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    // The registry test checks that dropped components are collected.
    execArgv: ['--expose-gc'],
    // The JSON report is what .ci/run counts from; the console keeps the default view.
    reporters: ['default', ['json', { outputFile: '.vitest-report.json' }]],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
