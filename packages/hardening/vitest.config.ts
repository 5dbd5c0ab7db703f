import { defineConfig } from 'vitest/config';

// The fast profile: a few hundred generated cases per property, ~10 crash trials; part of `npm test`.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    globalSetup: ['test/global-setup-fast.ts'],
    testTimeout: 60_000,
    // Hooks start emulators that compile their provider's OpenAPI spec: seconds on a busy machine.
    hookTimeout: 60_000,
  },
});
