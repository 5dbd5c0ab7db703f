import { defineConfig } from 'tsup';

// ESM only (a private app): the library entry, the config module the CLI and the MCP server share,
// and the executable.
export default defineConfig({
  entry: ['src/index.ts', 'src/config.ts', 'src/main.ts'],
  format: ['esm'],
  dts: { entry: ['src/index.ts', 'src/config.ts'] },
  sourcemap: true,
  clean: true,
});
