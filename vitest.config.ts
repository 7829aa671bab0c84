import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // 2-core machines: two test files at a time keeps real-process tests from starving each other.
    maxWorkers: 2,
  },
});
