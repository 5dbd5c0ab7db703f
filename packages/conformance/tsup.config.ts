import { defineConfig } from 'tsup';

export default defineConfig({
  // The writer process of describeMultiProcessWrites is its own file, forked by path.
  entry: ['src/index.ts', 'src/multi-process-child.ts'],
  shims: true,
  external: ['vitest'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
});
