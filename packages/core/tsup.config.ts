import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', adapter: 'src/adapter.ts', 'testing/index': 'src/testing/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  // One copy of every class across the entries in CommonJS too, so instanceof works whichever door
  // (`@mem/core`, `@mem/core/adapter`, `@mem/core/testing`) created an error or store.
  splitting: true,
});
