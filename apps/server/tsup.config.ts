import { defineConfig } from 'tsup';

// ESM only (a private app): the library entry, the executable, and the search worker (read-pool.ts
// starts dist/read-worker.js beside the bundle).
export default defineConfig({
  entry: ['src/index.ts', 'src/main.ts', 'src/read-worker.ts'],
  format: ['esm'],
  dts: { entry: ['src/index.ts'] },
  sourcemap: true,
  clean: true,
});
