import { defineConfig } from 'tsup';

export default defineConfig({
  // `testing/index`: the fake Messages API, exported as `@mem/llm-anthropic/testing` for other packages' tests.
  entry: { index: 'src/index.ts', 'testing/index': 'src/testing/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
});
