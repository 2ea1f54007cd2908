import { defineConfig } from 'vitest/config';

// Projects: `unit` is fast and hermetic; `sim` runs the reduced statistics simulation;
// `integration` starts real servers on 127.0.0.1 and uses PostgreSQL when DIMMER_TEST_DATABASE_URL is set.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'tests/**/*.test.ts'],
          exclude: ['**/*.pg.test.ts', '**/*.e2e.test.ts', '**/*.sim.test.ts'],
          // Many unit suites start an in-process server; on a busy 2-core machine 5 s is not enough.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'sim',
          include: ['packages/*/**/*.sim.test.ts'],
          testTimeout: 300_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['packages/*/**/*.pg.test.ts', 'packages/*/**/*.e2e.test.ts', 'tests/**/*.e2e.test.ts'],
          // Real servers, builds and installs: generous on a busy 2-core machine, still bounded.
          testTimeout: 180_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
