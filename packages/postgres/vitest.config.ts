import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // A real PostgreSQL 15 + pgvector server for the lock and migration tests (scripts/install-postgres.sh).
    globalSetup: ['test/global-setup.ts'],
  },
});
