import type { TestProject } from 'vitest/node';
import { startNeo4jServer, waitForBolt, type Neo4jTestServer } from './neo4j-server';

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

let server: Neo4jTestServer | undefined;

/**
 * Finds or starts the Neo4j server for this package's tests: `NEO4J_URI` (with `NEO4J_USERNAME`,
 * `NEO4J_PASSWORD`, `NEO4J_DATABASE`) when set; otherwise a real Neo4j 5.26 Community built from
 * Maven Central artifacts (`server/`, cached in `server/target`) on a free port, stopped on
 * teardown. Like `serverEnv`, a server that cannot be had fails the run under `CI=true` and skips
 * (visibly, with the reason) elsewhere.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const configured = process.env.NEO4J_URI;
  if (configured) {
    const username = process.env.NEO4J_USERNAME || 'neo4j';
    const password = process.env.NEO4J_PASSWORD ?? '';
    await waitForBolt(configured, username, password, 10_000);
    provide(project, { uri: configured, username, password, database: process.env.NEO4J_DATABASE ?? '', skip: '' });
    return async () => {};
  }
  try {
    server = await startNeo4jServer();
    provide(project, { uri: server.uri, username: server.username, password: server.password, database: '', skip: '' });
  } catch (error) {
    if (process.env.CI === 'true') throw error;
    provide(project, {
      uri: '',
      username: '',
      password: '',
      database: '',
      skip: `no Neo4j server: set NEO4J_URI or fix the local one (${(error as Error).message.split('\n')[0]})`,
    });
  }
  return async () => {
    await server?.stop();
    server = undefined;
  };
}

function provide(project: TestProject, values: { uri: string; username: string; password: string; database: string; skip: string }): void {
  project.provide('neo4jUri', values.uri);
  project.provide('neo4jUsername', values.username);
  project.provide('neo4jPassword', values.password);
  project.provide('neo4jDatabase', values.database);
  project.provide('neo4jSkip', values.skip);
}
