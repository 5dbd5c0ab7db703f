import { describeGraphStore } from '@mem/conformance';
import { CypherGraphStore, cypherNumber, type CypherDialect } from '@mem/cypher';
import { inject } from 'vitest';
import { memgraphDialect, type MemgraphSchemaNames } from './memgraph-dialect';

// No Memgraph runs on the project's machines, but most of MemgraphGraphStore is plain Cypher: the
// shared store of @mem/cypher (every data query, batching, scope filtering, sessions, the unique-key
// retry) and the parts of the Memgraph dialect that are not schema or vector-index statements (the
// exact cosine computed with reduce(), the endpoint guard of upsertRelations, cosine as the score
// unit). This runs the whole conformance suite with exactly those parts against the real Neo4j 5.26
// of test/global-setup.ts. Only the statements Neo4j does not speak are swapped for Neo4j's: the
// schema (indexes, key constraint, vector index), and no vector-index search (every search is exact).
// Those Memgraph statements are pinned in memgraph-graph-store.test.ts and run by the live suite.
const server = { uri: inject('neo4jUri'), username: inject('neo4jUsername'), password: inject('neo4jPassword') };
const database = inject('neo4jDatabase') || undefined;
const skip = inject('neo4jSkip') || undefined;

function onNeo4j(): CypherDialect<MemgraphSchemaNames> {
  const memgraph = memgraphDialect(1_024);
  const statements = (names: MemgraphSchemaNames) => ({
    create: [
      `CREATE CONSTRAINT ${names.entityLabel}_key IF NOT EXISTS FOR (e:${names.entityLabel}) REQUIRE e.key IS UNIQUE`,
      ...['name', 'user_id', 'agent_id', 'run_id'].map(
        (property) => `CREATE INDEX ${names.entityLabel}_${property} IF NOT EXISTS FOR (e:${names.entityLabel}) ON (e.${property})`,
      ),
    ],
    drop: [
      `DROP INDEX ${names.vectorIndex} IF EXISTS`,
      ...['name', 'user_id', 'agent_id', 'run_id'].map((property) => `DROP INDEX ${names.entityLabel}_${property} IF EXISTS`),
      `DROP CONSTRAINT ${names.entityLabel}_key IF EXISTS`,
    ],
  });
  return {
    ...memgraph,
    async readVectorDimensions(session, names) {
      const result = await session.run('SHOW VECTOR INDEXES YIELD name, options WHERE name = $name RETURN options', {
        name: names.vectorIndex,
      });
      const options = result.records[0]?.get('options') as { indexConfig: Record<string, unknown> } | undefined;
      return options === undefined ? undefined : cypherNumber(options.indexConfig['vector.dimensions'], 'vector.dimensions', 'neo4j');
    },
    async createSchema(session, names, dimensions) {
      for (const query of statements(names).create) await session.run(query);
      await session.run(
        `CREATE VECTOR INDEX ${names.vectorIndex} IF NOT EXISTS FOR (e:${names.entityLabel}) ON (e.embedding) OPTIONS { indexConfig: { \`vector.dimensions\`: ${dimensions}, \`vector.similarity_function\`: 'cosine' } }`,
      );
      await session.run('CALL db.awaitIndexes(300)');
    },
    async dropSchema(session, names) {
      for (const query of statements(names).drop) await session.run(query);
    },
  };
}

describeGraphStore(
  "MemgraphGraphStore's plain Cypher on a real Neo4j 5.26 (schema statements swapped, exact search only)",
  async ({ namespace }) => {
    const subject = new CypherGraphStore(onNeo4j(), {
      connection: { kind: 'uri', ...server },
      database,
      namespace,
      // Every search exact: the vector-index search is Memgraph's own procedure.
      exactSearchLimit: 1_000_000,
      maxTransactionRetryTimeMs: 5_000,
      connectionTimeoutMs: 30_000,
    });
    return {
      subject,
      dispose: async () => {
        try {
          await subject.dropSchema();
        } finally {
          await subject.close();
        }
      },
    };
  },
  { skip, timeoutMs: 60_000 },
);
