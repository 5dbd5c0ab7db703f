import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Starts a Chroma server from the chromadb npm CLI (or uses CHROMA_URL) once per run.
    globalSetup: ['test/global-setup.ts'],
  },
});
