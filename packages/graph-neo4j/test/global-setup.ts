// Finds or starts the Neo4j server for this package's tests (`@mem/test-servers/neo4j`): `NEO4J_URI`
// (with `NEO4J_USERNAME`, `NEO4J_PASSWORD`, `NEO4J_DATABASE`) when set; otherwise a real Neo4j 5.26
// Community built from Maven Central artifacts on a free port, stopped on teardown. Like `serverEnv`,
// a server that cannot be had fails the run under `CI=true` and skips (visibly, with the reason)
// elsewhere. Tests read it with `inject('neo4jUri')` and the other `neo4j*` keys.
export { setupNeo4j as default } from '@mem/test-servers/neo4j';
