import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The browser tests wait for the page to show a result (expect.poll): give a loaded machine time.
    expect: { poll: { timeout: 15_000 } },
    // A real PostgreSQL 15 + pgvector server for the two-instance test (scripts/install-postgres.sh).
    globalSetup: ['test/postgres-global-setup.ts'],
  },
});
