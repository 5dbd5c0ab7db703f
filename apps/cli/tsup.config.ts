import { defineConfig } from 'tsup';

// The `mem` executable (ESM, a private app).
export default defineConfig({
  entry: ['src/bin.ts'],
  format: ['esm'],
  sourcemap: true,
  clean: true,
});
