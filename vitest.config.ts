import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    pool: 'forks',
    // Generous: the suite runs on shared 2-core machines under heavy load. Tests wait for conditions with
    // their own deadlines; this only bounds a test that hangs.
    testTimeout: 600_000,
    hookTimeout: 300_000,
    // 2-core machines: two test files at a time keeps real-process tests from starving each other.
    maxWorkers: 2,
  },
});
