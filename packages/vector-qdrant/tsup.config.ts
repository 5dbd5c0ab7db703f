import { defineConfig } from 'tsup';

export default defineConfig({
  // `testing/index`: the emulator, exported as `./testing` for other packages' tests.
  entry: { index: 'src/index.ts', 'testing/index': 'src/testing/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  // The emulator finds the repository's spec files from `import.meta.url`, also in the CommonJS build.
  shims: true,
});
