import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // A real Neo4j 5.26 (or NEO4J_URI) for the plain-Cypher parts of the store; see test/global-setup.ts.
    globalSetup: ['test/global-setup.ts'],
    // Cold JVM start on a busy 2-core machine.
    hookTimeout: 240_000,
  },
});
