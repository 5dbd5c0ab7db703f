import { MemError } from '@mem/core';
import neo4j from 'neo4j-driver';
import { describe, expect, it } from 'vitest';
import { RecordingDriver, type Answer } from '@mem/cypher/testing';
import { MemgraphGraphStore } from './memgraph-graph-store';

// What the store sends to Memgraph for every operation: the Cypher text and its parameters,
// recorded by a driver stand-in that answers from a script (no database is modelled). The live
// suite (memgraph-graph-store.live.test.ts) runs the same store against a real Memgraph.

const vectorIndexRow = (dimension: number) => ({
  index_name: 'g_entity_embedding',
  label: 'g_Entity',
  property: 'embedding',
  dimension: neo4j.int(dimension),
  capacity: neo4j.int(1024),
  metric: 'cos',
  size: neo4j.int(0),
  scalar_kind: 'f32',
});

/** A store on a recording driver whose schema already has an 8-dimension vector index. */
function storeWith(answer: (query: string, params: Record<string, unknown>) => Answer = () => []) {
  const driver = new RecordingDriver((query, params) => (query === 'SHOW VECTOR INDEX INFO' ? [vectorIndexRow(8)] : answer(query, params)));
  const store = new MemgraphGraphStore({ driver: driver.asDriver(), namespace: 'g', env: {} });
  return { driver, store };
}

const axis = (index: number) => Array.from({ length: 8 }, (_, position) => (position === index ? 1 : 0));

describe('MemgraphGraphStore: the Cypher it sends', () => {
  it('ensureSchema on an empty server creates the label index, property indexes, key constraint and cosine vector index', async () => {
    let created = false;
    const driver = new RecordingDriver((query) => {
      if (query.startsWith('CREATE VECTOR INDEX')) created = true;
      if (query === 'SHOW VECTOR INDEX INFO') return created ? [vectorIndexRow(8)] : [];
      return [];
    });
    const store = new MemgraphGraphStore({ driver: driver.asDriver(), namespace: 'g', vectorIndexCapacity: 4096, env: {} });
    await store.ensureSchema({ dimensions: 8 });
    expect(driver.plain().map((sent) => `${sent.mode}: ${sent.query}`)).toMatchInlineSnapshot(`
      [
        "run: SHOW VECTOR INDEX INFO",
        "run: SHOW INDEX INFO",
        "run: CREATE INDEX ON :g_Entity",
        "run: CREATE INDEX ON :g_Entity(key)",
        "run: CREATE INDEX ON :g_Entity(name)",
        "run: CREATE INDEX ON :g_Entity(user_id)",
        "run: CREATE INDEX ON :g_Entity(agent_id)",
        "run: CREATE INDEX ON :g_Entity(run_id)",
        "run: SHOW CONSTRAINT INFO",
        "run: CREATE CONSTRAINT ON (e:g_Entity) ASSERT e.key IS UNIQUE",
        "run: CREATE VECTOR INDEX g_entity_embedding ON :g_Entity(embedding) WITH CONFIG {"dimension": 8, "capacity": 4096, "metric": "cos"}",
        "run: SHOW VECTOR INDEX INFO",
      ]
    `);
    expect(driver.openSessions).toBe(0);
  });

  it('ensureSchema creates nothing that exists, and throws DIMENSION_MISMATCH for other dimensions before any change', async () => {
    const driver = new RecordingDriver((query) => {
      if (query === 'SHOW VECTOR INDEX INFO') return [vectorIndexRow(8)];
      if (query === 'SHOW INDEX INFO') {
        return [null, 'key', 'name', 'user_id', 'agent_id', 'run_id'].map((property) => ({
          'index type': property === null ? 'label' : 'label+property',
          label: 'g_Entity',
          property,
          count: neo4j.int(0),
        }));
      }
      if (query === 'SHOW CONSTRAINT INFO') return [{ 'constraint type': 'unique', label: 'g_Entity', properties: ['key'] }];
      return [];
    });
    const store = new MemgraphGraphStore({ driver: driver.asDriver(), namespace: 'g', env: {} });
    await store.ensureSchema({ dimensions: 8 });
    expect(driver.sent.map((sent) => sent.query)).toEqual([
      'SHOW VECTOR INDEX INFO',
      'SHOW INDEX INFO',
      'SHOW CONSTRAINT INFO',
      'SHOW VECTOR INDEX INFO',
    ]);
    driver.sent.length = 0;
    await expect(store.ensureSchema({ dimensions: 16 })).rejects.toMatchObject({ code: 'DIMENSION_MISMATCH' });
    expect(driver.sent.map((sent) => sent.query)).toEqual(['SHOW VECTOR INDEX INFO']);
  });

  it('upsertEntities: one MERGE on the unique key per entity, the last of a repeated name winning, scope as parameters', async () => {
    const { driver, store } = storeWith();
    await store.upsertEntities({
      scope: { userId: 'u1', runId: 'r1' },
      entities: [
        { name: 'alice', type: 'first', embedding: axis(0) },
        { name: 'acme', type: 'company', embedding: axis(1) },
        { name: 'alice', type: 'person', embedding: axis(2) },
      ],
    });
    expect(driver.plain()).toMatchInlineSnapshot(`
      [
        {
          "mode": "run",
          "params": {},
          "query": "SHOW VECTOR INDEX INFO",
        },
        {
          "mode": "write",
          "params": {
            "entities": [
              {
                "embedding": [
                  0,
                  1,
                  0,
                  0,
                  0,
                  0,
                  0,
                  0,
                ],
                "key": "["[\\"u1\\",null,\\"r1\\"]","acme"]",
                "name": "acme",
                "type": "company",
              },
              {
                "embedding": [
                  0,
                  0,
                  1,
                  0,
                  0,
                  0,
                  0,
                  0,
                ],
                "key": "["[\\"u1\\",null,\\"r1\\"]","alice"]",
                "name": "alice",
                "type": "person",
              },
            ],
            "write": {
              "agentId": null,
              "runId": "r1",
              "scopeKey": "["u1",null,"r1"]",
              "userId": "u1",
            },
          },
          "query": "UNWIND $entities AS entity
      MERGE (e:g_Entity {key: entity.key})
      ON CREATE SET e.name = entity.name, e.scope_key = $write.scopeKey, e.user_id = $write.userId, e.agent_id = $write.agentId, e.run_id = $write.runId
      SET e.type = entity.type, e.embedding = entity.embedding",
        },
      ]
    `);
  });

  it('upsertRelations: MERGE of the endpoints and of the open relation, the first of a repeated key kept; names never in the text', async () => {
    const { driver, store } = storeWith();
    const tricky = "'; MATCH (n) DETACH DELETE n //";
    await store.upsertRelations({
      scope: { agentId: 'a1' },
      relations: [
        { source: 'alice', relation: 'works_at', target: 'acme', validFrom: new Date(Date.UTC(2024, 0, 2)) },
        { source: 'alice', relation: 'works_at', target: 'acme', validFrom: new Date(Date.UTC(2025, 0, 2)) },
        { source: tricky, relation: 'rel `x`', target: 'zoë 🍣', validFrom: new Date(-1) },
      ],
    });
    expect(driver.plain()).toMatchInlineSnapshot(`
      [
        {
          "mode": "run",
          "params": {},
          "query": "SHOW VECTOR INDEX INFO",
        },
        {
          "mode": "write",
          "params": {
            "relations": [
              {
                "relation": "works_at",
                "source": "alice",
                "sourceKey": "["[null,\\"a1\\",null]","alice"]",
                "target": "acme",
                "targetKey": "["[null,\\"a1\\",null]","acme"]",
                "validFrom": "int(1704153600000)",
              },
              {
                "relation": "rel \`x\`",
                "source": "'; MATCH (n) DETACH DELETE n //",
                "sourceKey": "["[null,\\"a1\\",null]","'; MATCH (n) DETACH DELETE n //"]",
                "target": "zoë 🍣",
                "targetKey": "["[null,\\"a1\\",null]","zoë 🍣"]",
                "validFrom": "int(-1)",
              },
            ],
            "write": {
              "agentId": "a1",
              "runId": null,
              "scopeKey": "[null,"a1",null]",
              "userId": null,
            },
          },
          "query": "UNWIND $relations AS relation
      MERGE (source:g_Entity {key: relation.sourceKey})
      ON CREATE SET source.name = relation.source, source.type = 'entity', source.scope_key = $write.scopeKey, source.user_id = $write.userId, source.agent_id = $write.agentId, source.run_id = $write.runId
      MERGE (target:g_Entity {key: relation.targetKey})
      ON CREATE SET target.name = relation.target, target.type = 'entity', target.scope_key = $write.scopeKey, target.user_id = $write.userId, target.agent_id = $write.agentId, target.run_id = $write.runId
      SET source.revision = coalesce(source.revision, 0) + 1, target.revision = coalesce(target.revision, 0) + 1
      MERGE (source)-[r:g_RELATION {name: relation.relation, open: true}]->(target)
      ON CREATE SET r.valid_from = relation.validFrom",
        },
      ]
    `);
    expect(driver.sent.some((sent) => sent.query.includes('DETACH DELETE n //') || sent.query.includes('zoë'))).toBe(false);
  });

  it('invalidateRelations: closes matching open relations in scope, keys deduplicated, validTo never before validFrom', async () => {
    const { driver, store } = storeWith((query) => (query.startsWith('UNWIND $keys') ? [{ invalidated: neo4j.int(1) }] : []));
    const key = { source: 'alice', relation: 'works_at', target: 'acme' };
    const result = await store.invalidateRelations({
      scope: { userId: 'u1', agentId: 'a1' },
      relations: [key, key],
      validTo: new Date(Date.UTC(2024, 5, 30)),
    });
    expect(result).toEqual({ invalidated: 1 });
    expect(driver.plain()).toMatchInlineSnapshot(`
      [
        {
          "mode": "write",
          "params": {
            "keys": [
              {
                "relation": "works_at",
                "source": "alice",
                "target": "acme",
              },
            ],
            "scope_agent_id": "a1",
            "scope_user_id": "u1",
            "validTo": "int(1719705600000)",
          },
          "query": "UNWIND $keys AS key
      MATCH (source:g_Entity {name: key.source})-[r:g_RELATION {name: key.relation, open: true}]->(target:g_Entity {name: key.target})
      WHERE source.user_id = $scope_user_id AND source.agent_id = $scope_agent_id
      SET r.open = false, r.valid_to = CASE WHEN $validTo < r.valid_from THEN r.valid_from ELSE $validTo END
      RETURN count(r) AS invalidated",
        },
      ]
    `);
  });

  it('neighbors: one hop in both directions, open only unless includeInvalid, newest first, reading rows back', async () => {
    const row = {
      source: 'alice',
      relation: 'works_at',
      target: 'acme',
      validFrom: neo4j.int(Date.UTC(2024, 0, 2)),
      validTo: null,
      userId: 'u1',
      agentId: null,
      runId: null,
    };
    const { driver, store } = storeWith((query) => (query.includes('startNode') ? [row] : []));
    const open = await store.neighbors({ scope: { userId: 'u1' }, entities: ['alice', 'acme', 'alice'], limit: 10 });
    expect(open).toEqual([
      {
        source: 'alice',
        relation: 'works_at',
        target: 'acme',
        scope: { userId: 'u1' },
        validFrom: new Date(Date.UTC(2024, 0, 2)),
        validTo: null,
      },
    ]);
    await store.neighbors({ scope: { runId: 'r1' }, entities: ['alice'], limit: 3, includeInvalid: true });
    expect(driver.plain()).toMatchInlineSnapshot(`
      [
        {
          "mode": "read",
          "params": {
            "limit": "int(10)",
            "names": [
              "alice",
              "acme",
            ],
            "scope_user_id": "u1",
          },
          "query": "MATCH (e:g_Entity)
      WHERE e.name IN $names AND e.user_id = $scope_user_id
      MATCH (e)-[r:g_RELATION]-()
      WHERE r.open
      WITH DISTINCT r
      WITH r, startNode(r) AS source, endNode(r) AS target
      RETURN source.name AS source, r.name AS relation, target.name AS target, r.valid_from AS validFrom, r.valid_to AS validTo,
        source.user_id AS userId, source.agent_id AS agentId, source.run_id AS runId
      ORDER BY validFrom DESC, source, relation, target
      LIMIT $limit",
        },
        {
          "mode": "read",
          "params": {
            "limit": "int(3)",
            "names": [
              "alice",
            ],
            "scope_run_id": "r1",
          },
          "query": "MATCH (e:g_Entity)
      WHERE e.name IN $names AND e.run_id = $scope_run_id
      MATCH (e)-[r:g_RELATION]-()
      WITH DISTINCT r
      WITH r, startNode(r) AS source, endNode(r) AS target
      RETURN source.name AS source, r.name AS relation, target.name AS target, r.valid_from AS validFrom, r.valid_to AS validTo,
        source.user_id AS userId, source.agent_id AS agentId, source.run_id AS runId
      ORDER BY validFrom DESC, source, relation, target
      LIMIT $limit",
        },
      ]
    `);
  });

  it('searchEntities: a small scope is searched exactly in Cypher, with the cosine as score', async () => {
    const { driver, store } = storeWith((query) => {
      if (query.includes('AS searchable')) return [{ searchable: neo4j.int(3) }];
      if (query.includes('reduce(dot'))
        return [{ name: 'alice', type: 'person', userId: 'u1', agentId: null, runId: null, similarity: 0.5 }];
      return [];
    });
    const matches = await store.searchEntities({
      scope: { userId: 'u1' },
      vector: axis(0).map((value) => value * 2),
      topK: 5,
      threshold: 0.25,
    });
    expect(matches).toEqual([{ entity: { name: 'alice', type: 'person', scope: { userId: 'u1' } }, score: 0.5 }]);
    expect(driver.plain()).toMatchInlineSnapshot(`
      [
        {
          "mode": "run",
          "params": {},
          "query": "SHOW VECTOR INDEX INFO",
        },
        {
          "mode": "read",
          "params": {
            "cap": "int(1001)",
            "scope_user_id": "u1",
          },
          "query": "MATCH (e:g_Entity)
      WHERE e.user_id = $scope_user_id AND e.embedding IS NOT NULL
      WITH e LIMIT $cap
      RETURN count(e) AS searchable",
        },
        {
          "mode": "read",
          "params": {
            "norm": 2,
            "scope_user_id": "u1",
            "threshold": 0.25,
            "topK": "int(5)",
            "vector": [
              2,
              0,
              0,
              0,
              0,
              0,
              0,
              0,
            ],
          },
          "query": "MATCH (e:g_Entity)
      WHERE e.user_id = $scope_user_id AND e.embedding IS NOT NULL
      WITH e, e.embedding AS embedding
      WITH e, reduce(dot = 0.0, i IN range(0, size($vector) - 1) | dot + embedding[i] * $vector[i]) AS dot, reduce(squares = 0.0, x IN embedding | squares + x * x) AS squares
      WITH e, CASE WHEN squares = 0 THEN null ELSE dot / (sqrt(squares) * $norm) END AS similarity
      WHERE similarity IS NOT NULL AND similarity >= $threshold
      RETURN e.name AS name, e.type AS type, e.user_id AS userId, e.agent_id AS agentId, e.run_id AS runId, similarity
      ORDER BY similarity DESC, name
      LIMIT $topK",
        },
      ]
    `);
  });

  it('searchEntities: a large scope goes through vector_search.search, fetching 4x more candidates until topK are in scope', async () => {
    const hit = (name: string, similarity: number) => ({ name, type: 'person', userId: 'u1', agentId: null, runId: null, similarity });
    const { driver, store } = storeWith((query, params) => {
      if (query.includes('AS searchable')) return [{ searchable: neo4j.int(1001) }];
      if (query.includes('AS entities')) return [{ entities: neo4j.int(5000) }];
      if (query.startsWith('CALL vector_search.search')) {
        const candidates = (params.candidates as { toNumber(): number }).toNumber();
        return [
          {
            fetched: neo4j.int(candidates),
            lowest: 0.1,
            matches: candidates < 400 ? [hit('b', 0.8)] : [hit('b', 0.8), hit('a', 0.9), hit('c', 0.2)],
          },
        ];
      }
      return [];
    });
    const matches = await store.searchEntities({ scope: { userId: 'u1' }, vector: axis(0), topK: 2 });
    expect(matches.map((match) => [match.entity.name, match.score])).toEqual([
      ['a', 0.9],
      ['b', 0.8],
    ]);
    expect(driver.plain()).toMatchInlineSnapshot(`
      [
        {
          "mode": "run",
          "params": {},
          "query": "SHOW VECTOR INDEX INFO",
        },
        {
          "mode": "read",
          "params": {
            "cap": "int(1001)",
            "scope_user_id": "u1",
          },
          "query": "MATCH (e:g_Entity)
      WHERE e.user_id = $scope_user_id AND e.embedding IS NOT NULL
      WITH e LIMIT $cap
      RETURN count(e) AS searchable",
        },
        {
          "mode": "read",
          "params": {},
          "query": "MATCH (e:g_Entity) RETURN count(e) AS entities",
        },
        {
          "mode": "read",
          "params": {
            "candidates": "int(100)",
            "index": "g_entity_embedding",
            "scope_user_id": "u1",
            "vector": [
              1,
              0,
              0,
              0,
              0,
              0,
              0,
              0,
            ],
          },
          "query": "CALL vector_search.search($index, $candidates, $vector) YIELD node, similarity
      WITH node AS e, similarity
      WITH count(*) AS fetched, min(similarity) AS lowest,
        collect(CASE WHEN e.user_id = $scope_user_id THEN {name: e.name, type: e.type, userId: e.user_id, agentId: e.agent_id, runId: e.run_id, similarity: similarity} END) AS matches
      RETURN fetched, lowest, matches",
        },
        {
          "mode": "read",
          "params": {
            "candidates": "int(400)",
            "index": "g_entity_embedding",
            "scope_user_id": "u1",
            "vector": [
              1,
              0,
              0,
              0,
              0,
              0,
              0,
              0,
            ],
          },
          "query": "CALL vector_search.search($index, $candidates, $vector) YIELD node, similarity
      WITH node AS e, similarity
      WITH count(*) AS fetched, min(similarity) AS lowest,
        collect(CASE WHEN e.user_id = $scope_user_id THEN {name: e.name, type: e.type, userId: e.user_id, agentId: e.agent_id, runId: e.run_id, similarity: similarity} END) AS matches
      RETURN fetched, lowest, matches",
        },
      ]
    `);
  });

  it('deleteAll, reset and dropSchema delete in batches and drop only what exists', async () => {
    const driver = new RecordingDriver((query) => {
      if (query === 'SHOW VECTOR INDEX INFO') return [vectorIndexRow(8)];
      if (query === 'SHOW INDEX INFO')
        return [
          { 'index type': 'label+property', label: 'g_Entity', property: 'name', count: neo4j.int(0) },
          { 'index type': 'label+property', label: 'other_Entity', property: 'key', count: neo4j.int(0) },
        ];
      if (query === 'SHOW CONSTRAINT INFO') return [];
      if (query.includes('DETACH DELETE')) return [{ deleted: neo4j.int(0) }];
      return [];
    });
    const store = new MemgraphGraphStore({ driver: driver.asDriver(), namespace: 'g', env: {} });
    await store.deleteAll({ scope: { userId: 'u1', agentId: 'a1' } });
    await store.reset();
    await store.dropSchema();
    expect(driver.plain()).toMatchInlineSnapshot(`
      [
        {
          "mode": "write",
          "params": {
            "batch": "int(5000)",
            "scope_agent_id": "a1",
            "scope_user_id": "u1",
          },
          "query": "MATCH (e:g_Entity)
      WHERE e.user_id = $scope_user_id AND e.agent_id = $scope_agent_id
      WITH e LIMIT $batch
      DETACH DELETE e
      RETURN count(*) AS deleted",
        },
        {
          "mode": "write",
          "params": {
            "batch": "int(5000)",
          },
          "query": "MATCH (e:g_Entity)
      WHERE true
      WITH e LIMIT $batch
      DETACH DELETE e
      RETURN count(*) AS deleted",
        },
        {
          "mode": "write",
          "params": {
            "batch": "int(5000)",
          },
          "query": "MATCH (e:g_Entity)
      WHERE true
      WITH e LIMIT $batch
      DETACH DELETE e
      RETURN count(*) AS deleted",
        },
        {
          "mode": "run",
          "params": {},
          "query": "SHOW VECTOR INDEX INFO",
        },
        {
          "mode": "run",
          "params": {},
          "query": "DROP VECTOR INDEX g_entity_embedding",
        },
        {
          "mode": "run",
          "params": {},
          "query": "SHOW CONSTRAINT INFO",
        },
        {
          "mode": "run",
          "params": {},
          "query": "SHOW INDEX INFO",
        },
        {
          "mode": "run",
          "params": {},
          "query": "DROP INDEX ON :g_Entity(name)",
        },
      ]
    `);
  });

  it('retries a write that lost the race for a new unique key, and closes every session, also after failures', async () => {
    let attempts = 0;
    const { driver, store } = storeWith((query) => {
      if (!query.startsWith('UNWIND $entities')) return [];
      attempts++;
      return attempts === 1
        ? Object.assign(new Error('Unable to commit due to unique constraint violation on :g_Entity(key).'), {
            code: 'Memgraph.ClientError.MemgraphError.MemgraphError',
          })
        : [];
    });
    await store.upsertEntities({ scope: { userId: 'u1' }, entities: [{ name: 'alice', type: 'person', embedding: axis(0) }] });
    expect(attempts).toBe(2);
    const failing = storeWith(() =>
      Object.assign(new Error("Property value 'secret memory' is wrong"), { code: 'Memgraph.ClientError.MemgraphError.MemgraphError' }),
    );
    const error = await failing.store
      .neighbors({ scope: { userId: 'u1' }, entities: ['alice'], limit: 1 })
      .catch((thrown: unknown) => thrown);
    expect(MemError.is(error, 'PROVIDER_REQUEST_FAILED')).toBe(true);
    expect((error as Error).message).not.toContain('secret');
    expect([driver.openSessions, failing.driver.openSessions]).toEqual([0, 0]);
  });

  it('validates before sending anything', async () => {
    const { driver, store } = storeWith();
    await expect(
      store.upsertEntities({ scope: { userId: 'u1' }, entities: [{ name: 'a', type: 't', embedding: [1, 2] }] }),
    ).rejects.toMatchObject({ code: 'DIMENSION_MISMATCH' });
    await expect(store.upsertRelations({ scope: {} as never, relations: [] })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(store.neighbors({ scope: { userId: 'u1' }, entities: ['\uD800'], limit: 1 })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(store.searchEntities({ scope: { userId: 'u1' }, vector: axis(0).map(() => Number.NaN), topK: 1 })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    expect(driver.sent.filter((sent) => sent.query !== 'SHOW VECTOR INDEX INFO')).toEqual([]);
  });

  it('uses the configured database for every session and leaves a given driver open', async () => {
    const driver = new RecordingDriver(() => [{ deleted: neo4j.int(0) }]);
    const store = new MemgraphGraphStore({ driver: driver.asDriver(), database: 'tenant1', env: {} });
    await store.reset();
    await store.close();
    expect(driver.sessionDatabases).toEqual(['tenant1']);
    await expect(store.reset()).rejects.toThrow(/the store is closed/);
  });
});
