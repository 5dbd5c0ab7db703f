import { defineConfig } from 'tsup';

// ESM only: a private package for tests and benchmarks. `dist/` sits beside `neo4j-server/`, which
// the Neo4j launcher finds relative to its own file.
export default defineConfig({
  entry: ['src/chroma-server.ts', 'src/neo4j-server.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
});
