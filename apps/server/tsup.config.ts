import { defineConfig } from 'tsup';

// ESM only (a private app): the library entry and the executable.
export default defineConfig({
  entry: ['src/index.ts', 'src/main.ts'],
  format: ['esm'],
  dts: { entry: ['src/index.ts'] },
  sourcemap: true,
  clean: true,
});
