import { defineConfig } from 'vitest/config';

// Projects: `unit` (pure logic beside the code, no Docker), `integration` (real Docker
// engine, real gRPC over loopback, real SQLite, a real browser; in test/ folders) and `ui` (the
// dashboard's component tests in jsdom). `make test` runs them all.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['proto/src/**/*.test.ts', 'master/src/**/*.test.ts', 'worker/src/**/*.test.ts', 'cli/src/**/*.test.ts'],
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
      {
        // the dashboard's component tests (jsdom); its browser e2e is test/ui-e2e.test.ts
        extends: './ui/vite.config.ts',
        test: {
          name: 'ui',
          root: '.',
          include: ['ui/src/**/*.test.tsx', 'ui/src/**/*.test.ts'],
          environment: 'jsdom',
          testTimeout: 20_000,
        },
      },
    ],
  },
});
