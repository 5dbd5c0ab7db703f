import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Starts a real PostgreSQL 15 + pgvector server (Debian packages, scripts/install-postgres.sh) once per run.
    globalSetup: ['test/global-setup.ts'],
  },
});
