import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // The consumer test packs, installs into two fresh apps and type-checks them: minutes, not seconds.
    testTimeout: 600_000,
    hookTimeout: 600_000,
  },
});
