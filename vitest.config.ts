import { defineConfig } from 'vitest/config';

// Two projects: `unit` (pure logic beside the code, no Docker) and `integration` (real Docker
// engine, real gRPC over loopback, real SQLite; in test/ folders). `make test` runs both.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['proto/src/**/*.test.ts', 'master/src/**/*.test.ts', 'worker/src/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts', 'worker/test/**/*.test.ts', 'master/test/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Integration suites share one Docker engine on a 2-core machine: run files one at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
