import { defineConfig } from 'tsup';

export default defineConfig({
  // `testing/index`: the recording driver, exported as `@mem/cypher/testing` for dialects' unit tests.
  entry: { index: 'src/index.ts', 'testing/index': 'src/testing/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
});
