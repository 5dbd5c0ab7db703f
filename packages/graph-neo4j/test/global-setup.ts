import { findOrStartNeo4j } from '@mem/test-servers/neo4j';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Bolt URI of the Neo4j server the tests use; `''` when none could be had (laptop only). */
    neo4jUri: string;
    neo4jUsername: string;
    neo4jPassword: string;
    /** Database name; `''` for the server's default database. */
    neo4jDatabase: string;
    /** Why there is no server, shown as the skip reason; `''` when there is one. */
    neo4jSkip: string;
  }
}

/**
 * Finds or starts the Neo4j server for this package's tests (`@mem/test-servers/neo4j`):
 * `NEO4J_URI` (with `NEO4J_USERNAME`, `NEO4J_PASSWORD`, `NEO4J_DATABASE`) when set; otherwise a real
 * Neo4j 5.26 Community built from Maven Central artifacts on a free port, stopped on teardown. Like
 * `serverEnv`, a server that cannot be had fails the run under `CI=true` and skips (visibly, with
 * the reason) elsewhere.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await findOrStartNeo4j();
  project.provide('neo4jUri', server.uri);
  project.provide('neo4jUsername', server.username);
  project.provide('neo4jPassword', server.password);
  project.provide('neo4jDatabase', server.database);
  project.provide('neo4jSkip', server.skip);
  return () => server.stop();
}
