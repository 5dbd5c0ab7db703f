// The real Neo4j 5.26 that memgraph-dialect.neo4j.test.ts runs the store's plain Cypher on (no
// Memgraph can run here): `NEO4J_URI` when set, otherwise started by `@mem/test-servers/neo4j` (one
// server shared with the other packages' setups of the same run). Under `CI=true` a server that
// cannot be had fails the run; elsewhere those tests skip with the reason.
export { setupNeo4j as default } from '@mem/test-servers/neo4j';
