import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Every sandbox of every test records its exchanges; all of our client's are validated against
    // Pachca's OpenAPI spec after the run (test/conformance/global-setup.ts).
    globalSetup: ['test/conformance/global-setup.ts'],
    setupFiles: ['test/conformance/label-setup.ts'],
    // Integration tests start real servers (sandbox, PostgreSQL, Prometheus) and child processes; two cores only.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    reporters: ['default', ['json', { outputFile: 'test-artifacts/vitest.json' }]],
  },
});
