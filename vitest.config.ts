import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Load tests share 2 cores: run files one after another so their timings do not fight.
    fileParallelism: false,
  },
});
