import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 60_000,
    // A real PostgreSQL 15 + pgvector server for the `postgres` provider (scripts/install-postgres.sh).
    globalSetup: ['test/global-setup.ts'],
  },
});
