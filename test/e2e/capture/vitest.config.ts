import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { include: ['test/e2e/capture/*.capture.ts'], testTimeout: 300_000, hookTimeout: 120_000, pool: 'forks', fileParallelism: false },
});
