import { defineConfig } from 'vitest/config';

// `pnpm test:stress`: the long runs (10,000+ fuzz cases, 100+ crash trials, 1,000+ isolation queries per store).
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    globalSetup: ['test/global-setup-stress.ts'],
    testTimeout: 1_800_000,
    hookTimeout: 120_000,
  },
});
