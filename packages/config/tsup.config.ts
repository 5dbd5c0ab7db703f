import { defineConfig } from 'tsup';

// ESM only: a private package, imported by the private apps (server, CLI, MCP server).
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
});
