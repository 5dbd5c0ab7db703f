import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Builds (once, cached by @mem/test-servers) and starts a real Neo4j 5.26, or uses NEO4J_URI.
    globalSetup: ['test/global-setup.ts'],
    // Cold JVM start on a busy 2-core machine.
    hookTimeout: 240_000,
  },
});
