import { Neo4jGraphStore } from '@mem/graph-neo4j';
import { startNeo4jServer, type Neo4jTestServer } from '@mem/test-servers/neo4j';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { profile, recordFigure } from './support/figures';
import { graphIsolation } from './support/graph-isolation';

// Scope isolation of Neo4jGraphStore on a real server: the same check as isolation.test.ts gives
// graph-sqlite, through both entity-search paths (exact, and the vector index with scope over-fetch).
// A JVM start costs tens of seconds, so it runs under `pnpm test:stress` only; graph-neo4j's own
// suite covers Neo4j in `npm test`. Memgraph has no server here (its Cypher is unit-tested in its package).

const stress = profile() === 'stress';
let server: Neo4jTestServer | undefined;
let startError = '';

beforeAll(async () => {
  if (!stress) return;
  try {
    server = await startNeo4jServer();
  } catch (error) {
    if (process.env.CI === 'true') throw error;
    startError = (error as Error).message.split('\n')[0]!;
  }
}, 300_000);
afterAll(async () => {
  await server?.stop();
});

describe('scope isolation of Neo4jGraphStore (real server)', () => {
  for (const [name, exactSearchLimit] of [
    ['exact search', undefined],
    ['vector index search', 0],
  ] as const) {
    it(`${name}: identical entities and relations in random scopes`, async (context) => {
      if (!stress) context.skip('runs under pnpm test:stress (starting Neo4j takes tens of seconds)');
      if (!server) context.skip(`no Neo4j server: ${startError}`);
      const store = new Neo4jGraphStore({
        uri: server!.uri,
        username: server!.username,
        password: server!.password,
        namespace: `hardening${exactSearchLimit ?? 'x'}${Date.now().toString(36)}`,
        maxTransactionRetryTimeMs: 5_000,
        ...(exactSearchLimit === undefined ? {} : { exactSearchLimit }),
      });
      try {
        const seed = Date.now() % 1_000_000;
        const { queries, violations } = await graphIsolation(`neo4j (${name})`, store, 1_000, seed);
        recordFigure({
          category: 'isolation (graph store reads and deletes)',
          backend: `graph-neo4j, ${name} (real server)`,
          cases: queries,
          violations: violations.length,
        });
        expect(violations.slice(0, 10)).toEqual([]);
      } finally {
        await store.dropSchema();
        await store.close();
      }
    });
  }
});
