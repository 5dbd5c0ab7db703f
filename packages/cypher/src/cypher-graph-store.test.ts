import { MemError, ProviderRequestError } from '@mem/core/adapter';
import neo4j from 'neo4j-driver';
import { describe, expect, it } from 'vitest';
import type { CypherDialect, CypherErrorContext, CypherSchemaNames } from './cypher-dialect';
import { CypherGraphStore } from './cypher-graph-store';
import type { ResolvedCypherOptions } from './cypher-options';
import { RecordingDriver, type Answer } from './testing/recording-driver';

// What the shared store does with the hooks of its dialect, on a recording driver (no database is
// modelled). The store's queries run on a real engine in @mem/graph-neo4j's suites (and, for
// Memgraph's plain-Cypher parts, in @mem/graph-memgraph's); the engines' own statements are pinned
// in their packages.

class ConflictError extends Error {}

/** A dialect whose similarity unit is (1 + cosine) / 2 (like Neo4j's), recording what it is asked. */
function testDialect(overrides: Partial<CypherDialect> = {}) {
  const errors: { operation: string; context: CypherErrorContext }[] = [];
  const dialect: CypherDialect = {
    provider: 'testdb',
    engine: 'TestDB',
    storeClass: 'TestGraphStore',
    userAgent: 'mem-test',
    uriExample: 'bolt://localhost:7687',
    maxDimensions: { limit: 64, why: 'the largest TestDB takes' },
    schemaNames: (namespace): CypherSchemaNames => ({
      entityLabel: `${namespace}_Entity`,
      relationType: `${namespace}_RELATION`,
      vectorIndex: `${namespace}_entity_embedding`,
    }),
    readVectorDimensions: async (session) => {
      const { records } = await session.run('READ DIMENSIONS');
      return records[0]?.get('dimensions') as number | undefined;
    },
    createSchema: async (session, _names, dimensions) => {
      await session.run(`CREATE SCHEMA ${dimensions}`);
    },
    dropSchema: async (session) => {
      await session.run('DROP SCHEMA');
    },
    exactSimilarity: ['WITH e, test.similarity(e.embedding, $vector, $extra) AS similarity'],
    exactSimilarityParams: () => ({ extra: 1 }),
    indexSearch: { call: ['CALL test.index($index, $candidates, $vector) YIELD node AS e, score'], score: 'score', similarity: 'score' },
    toCosine: (similarity) => similarity * 2 - 1,
    fromCosine: (cosine) => (1 + cosine) / 2,
    relationMergeGuard: ['SET source.guard = true'],
    isUniqueConflict: (error) => error instanceof ConflictError,
    toError: (error, operation, context) => {
      errors.push({ operation, context });
      return MemError.is(error)
        ? error
        : new ProviderRequestError({ provider: 'testdb', operation, message: 'mapped by the dialect', cause: error, retryable: false });
    },
    describeServer: (uri) => `described ${new URL(uri).host}`,
    ...overrides,
  };
  return { dialect, errors };
}

const options = (extra: Partial<ResolvedCypherOptions> = {}): ResolvedCypherOptions => ({
  connection: { kind: 'uri', uri: 'bolt://user:secret@127.0.0.1:1', username: 'u', password: 'secret' },
  database: undefined,
  namespace: 'g',
  exactSearchLimit: 10,
  maxTransactionRetryTimeMs: 0,
  connectionTimeoutMs: 1_000,
  ...extra,
});

/** A store on a recording driver whose schema has 4 dimensions. */
function storeWith(answer: (query: string, params: Record<string, unknown>) => Answer = () => [], dialect = testDialect().dialect) {
  const driver = new RecordingDriver((query, params) => (query === 'READ DIMENSIONS' ? [{ dimensions: 4 }] : answer(query, params)));
  const store = new CypherGraphStore(dialect, options({ connection: { kind: 'driver', driver: driver.asDriver() } }));
  return { driver, store };
}

const scope = { userId: 'u1' };

describe('CypherGraphStore with a dialect', () => {
  it('names its provider, engine and namespace from the dialect', () => {
    const { store } = storeWith();
    expect([store.provider, store.namespace, store.names.entityLabel]).toEqual(['testdb', 'g', 'g_Entity']);
  });

  it('splices the dialect lines into the shared queries: the relation guard before the relation MERGE', async () => {
    const { driver, store } = storeWith();
    await store.upsertRelations({ scope, relations: [{ source: 'a', relation: 'knows', target: 'b', validFrom: new Date(0) }] });
    const query = driver.sent.find((sent) => sent.mode === 'write')!.query.split('\n');
    expect(query.indexOf('SET source.guard = true')).toBe(query.findIndex((line) => line.startsWith('MERGE (source)-[r:g_RELATION')) - 1);
    const { driver: plain, store: unguarded } = storeWith(() => [], testDialect({ relationMergeGuard: undefined }).dialect);
    await unguarded.upsertRelations({ scope, relations: [{ source: 'a', relation: 'knows', target: 'b', validFrom: new Date(0) }] });
    expect(plain.sent.find((sent) => sent.mode === 'write')!.query).not.toContain('guard');
  });

  it('exact search: the threshold goes in the dialect unit, scores come back as cosines, clamped to [-1, 1]', async () => {
    const { driver, store } = storeWith((query) => {
      if (query.includes('AS searchable')) return [{ searchable: neo4j.int(2) }];
      if (query.includes('test.similarity')) {
        return [
          { name: 'a', type: 't', userId: 'u1', agentId: null, runId: null, similarity: 1.0000001 },
          { name: 'b', type: 't', userId: 'u1', agentId: null, runId: null, similarity: 0.75 },
        ];
      }
      return [];
    });
    const matches = await store.searchEntities({ scope, vector: [1, 0, 0, 0], topK: 2, threshold: 0.5 });
    expect(matches.map((match) => [match.entity.name, match.score])).toEqual([
      ['a', 1],
      ['b', 0.5],
    ]);
    const search = driver.sent.find((sent) => sent.query.includes('test.similarity'))!;
    expect(search.query).toContain(
      'WITH e, test.similarity(e.embedding, $vector, $extra) AS similarity\nWHERE similarity IS NOT NULL AND similarity >= $threshold',
    );
    expect(search.params).toMatchObject({ threshold: 0.75, extra: 1, vector: [1, 0, 0, 0], scope_user_id: 'u1' });
  });

  it('index search: the dialect call, its score for the lowest, over-fetching until topK are in scope', async () => {
    const candidates: number[] = [];
    const { driver, store } = storeWith((query, params) => {
      if (query.includes('AS searchable')) return [{ searchable: neo4j.int(11) }];
      if (query.includes('AS entities')) return [{ entities: neo4j.int(1_000) }];
      if (query.includes('test.index')) {
        candidates.push((params['candidates'] as { toNumber(): number }).toNumber());
        const hit = (name: string, similarity: number) => ({ name, type: 't', userId: 'u1', agentId: null, runId: null, similarity });
        return [
          {
            fetched: params['candidates'],
            lowest: 0.6,
            matches: candidates.length === 1 ? [hit('b', 0.8)] : [hit('b', 0.8), hit('a', 0.9)],
          },
        ];
      }
      return [];
    });
    const matches = await store.searchEntities({ scope, vector: [1, 0, 0, 0], topK: 2 });
    expect(matches.map((match) => match.entity.name)).toEqual(['a', 'b']);
    expect(candidates).toEqual([100, 400]);
    expect(driver.sent.find((sent) => sent.query.includes('test.index'))!.query).toBe(
      [
        'CALL test.index($index, $candidates, $vector) YIELD node AS e, score',
        'WITH count(*) AS fetched, min(score) AS lowest,',
        '  collect(CASE WHEN e.user_id = $scope_user_id THEN {name: e.name, type: e.type, userId: e.user_id, agentId: e.agent_id, runId: e.run_id, similarity: score} END) AS matches',
        'RETURN fetched, lowest, matches',
      ].join('\n'),
    );
  });

  it('a zero query vector is similar to nothing: no search is sent', async () => {
    const { driver, store } = storeWith();
    expect(await store.searchEntities({ scope, vector: [0, 0, 0, 0], topK: 5 })).toEqual([]);
    expect(driver.sent.map((sent) => sent.query)).toEqual(['READ DIMENSIONS']);
  });

  it('runs a write again when the dialect calls its failure a lost unique-key race, at most 5 times; other failures at once', async () => {
    let failures = 0;
    const { driver, store } = storeWith((query) =>
      query.startsWith('UNWIND $entities') && failures++ < 2 ? new ConflictError('race') : [],
    );
    await store.upsertEntities({ scope, entities: [{ name: 'a', type: 't', embedding: [1, 0, 0, 0] }] });
    expect(driver.sent.filter((sent) => sent.mode === 'write')).toHaveLength(3);

    const { driver: always, store: losing } = storeWith((query) => (query.startsWith('UNWIND $entities') ? new ConflictError('race') : []));
    await expect(losing.upsertEntities({ scope, entities: [{ name: 'a', type: 't', embedding: [1, 0, 0, 0] }] })).rejects.toThrow(
      'mapped by the dialect',
    );
    expect(always.sent.filter((sent) => sent.mode === 'write')).toHaveLength(5);

    const { driver: once, store: failing } = storeWith((query) => (query.startsWith('UNWIND $entities') ? new Error('other') : []));
    await expect(failing.upsertEntities({ scope, entities: [{ name: 'a', type: 't', embedding: [1, 0, 0, 0] }] })).rejects.toThrow(
      'mapped by the dialect',
    );
    expect(once.sent.filter((sent) => sent.mode === 'write')).toHaveLength(1);
    expect(once.openSessions).toBe(0);
  });

  it('maps failures through the dialect with the operation and a server description without credentials', async () => {
    const { dialect, errors } = testDialect();
    const store = new CypherGraphStore(dialect, options());
    await expect(store.neighbors({ scope, entities: ['a'], limit: 1 })).rejects.toThrow('mapped by the dialect');
    expect(errors).toEqual([{ operation: 'neighbors', context: { server: 'described 127.0.0.1:1', database: undefined } }]);
    await store.close();
    await expect(store.reset()).rejects.toThrow('the store is closed. Create a new TestGraphStore.');
  });

  it("checks dimensions against the dialect's limit before sending anything", async () => {
    const { driver, store } = storeWith();
    await expect(store.ensureSchema({ dimensions: 65 })).rejects.toThrow(/from 1 to 64 \(the largest TestDB takes\)/);
    expect(driver.sent).toEqual([]);
    await store.ensureSchema({ dimensions: 4 });
    expect(driver.sent.map((sent) => sent.query)).toEqual(['READ DIMENSIONS', 'CREATE SCHEMA 4', 'READ DIMENSIONS']);
    await expect(store.ensureSchema({ dimensions: 8 })).rejects.toMatchObject({ code: 'DIMENSION_MISMATCH' });
  });
});
