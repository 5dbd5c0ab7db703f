import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { MemError, ProviderRequestError, cosineSimilarity, normalize, type Scope } from '@mem/core/adapter';
import neo4j from 'neo4j-driver';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { Neo4jGraphStore } from './neo4j-graph-store';
import type { Neo4jGraphStoreOptions } from './neo4j-graph-store-options';

const server = {
  uri: inject('neo4jUri'),
  username: inject('neo4jUsername'),
  password: inject('neo4jPassword'),
  database: inject('neo4jDatabase') || undefined,
};
const skip = inject('neo4jSkip');

const stores: Neo4jGraphStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) {
    await store.dropSchema().catch(() => undefined);
    await store.close();
  }
});

function newStore(options: Neo4jGraphStoreOptions = {}): Neo4jGraphStore {
  const store = new Neo4jGraphStore({
    ...server,
    namespace: `t_${randomBytes(5).toString('hex')}`,
    maxTransactionRetryTimeMs: 5_000,
    ...options,
  });
  stores.push(store);
  return store;
}

/** Deterministic pseudo-random unit vectors. */
function vectors(count: number, dimensions: number, seed: number, bias: number[] = []): number[][] {
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32 - 0.5;
  };
  return Array.from({ length: count }, () => normalize(Array.from({ length: dimensions }, (_, index) => next() + (bias[index] ?? 0))));
}

const DIMENSIONS = 16;
const AXIS = Array.from({ length: DIMENSIONS }, (_, index) => (index === 0 ? 1 : 0));

describe.skipIf(skip !== '')(`Neo4jGraphStore on a real Neo4j${skip ? ` (skipped: ${skip})` : ''}`, { timeout: 120_000 }, () => {
  it('ensureSchema creates a cosine vector index of the given dimensions, the key constraint and the scope indexes', async () => {
    const store = newStore();
    await store.ensureSchema({ dimensions: DIMENSIONS });
    const driver = neo4j.driver(server.uri, neo4j.auth.basic(server.username, server.password));
    try {
      const { records } = await driver.executeQuery(
        'SHOW INDEXES YIELD name, type, state, labelsOrTypes, properties, options WHERE name STARTS WITH $prefix RETURN *',
        {
          prefix: `${store.namespace}_`,
        },
        { database: server.database },
      );
      const byName = new Map(records.map((record) => [record.get('name') as string, record.toObject()]));
      const vector = byName.get(store.names.vectorIndex);
      expect(vector).toMatchObject({
        type: 'VECTOR',
        state: 'ONLINE',
        labelsOrTypes: [store.names.entityLabel],
        properties: ['embedding'],
      });
      const config = (vector!.options as { indexConfig: Record<string, unknown> }).indexConfig;
      expect([neo4j.integer.toNumber(config['vector.dimensions'] as never), config['vector.similarity_function']]).toEqual([
        DIMENSIONS,
        'COSINE',
      ]);
      for (const property of ['name', 'user_id', 'agent_id', 'run_id', 'key']) {
        expect(
          [...byName.values()].some((index) => (index.properties as string[]).includes(property)),
          property,
        ).toBe(true);
      }
    } finally {
      await driver.close();
    }
  });

  it('finds the exact top matches of a small scope in a big graph, through the exact path and through the vector index', async () => {
    // 1,500 entities of another user lie closer to the query than any of the small scope's 120, so
    // the index's first global candidates are all out of scope: the search must fetch further.
    const exact = newStore({ exactSearchLimit: 2_000 });
    await exact.ensureSchema({ dimensions: DIMENSIONS });
    const indexed = new Neo4jGraphStore({ ...server, namespace: exact.namespace, exactSearchLimit: 50 });
    try {
      const big: Scope = { userId: 'big' };
      const small: Scope = { userId: 'small', agentId: 'a' };
      const crowd = vectors(1_500, DIMENSIONS, 1, [3]);
      const mine = vectors(120, DIMENSIONS, 2);
      for (let start = 0; start < crowd.length; start += 500) {
        await exact.upsertEntities({
          scope: big,
          entities: crowd
            .slice(start, start + 500)
            .map((embedding, index) => ({ name: `crowd ${start + index}`, type: 'thing', embedding })),
        });
      }
      await exact.upsertEntities({
        scope: small,
        entities: mine.map((embedding, index) => ({ name: `mine ${index}`, type: 'thing', embedding })),
      });
      const expected = mine
        .map((embedding, index) => ({ name: `mine ${index}`, score: cosineSimilarity(AXIS, embedding) }))
        .sort((a, b) => b.score - a.score);

      for (const store of [exact, indexed]) {
        const top = await store.searchEntities({ scope: { userId: 'small' }, vector: AXIS, topK: 5 });
        expect(top.map((match) => match.entity.name)).toEqual(expected.slice(0, 5).map((match) => match.name));
        top.forEach((match, index) => expect(match.score).toBeCloseTo(expected[index]!.score, 4));
        expect(top.every((match) => match.entity.scope.userId === 'small' && match.entity.scope.agentId === 'a')).toBe(true);
        const threshold = expected[7]!.score - 1e-6;
        const above = await store.searchEntities({ scope: small, vector: AXIS, topK: 100, threshold });
        expect(above.map((match) => match.entity.name)).toEqual(expected.slice(0, 8).map((match) => match.name));
      }
      const crowdTop = await indexed.searchEntities({ scope: big, vector: AXIS, topK: 3 });
      expect(crowdTop.every((match) => match.entity.name.startsWith('crowd'))).toBe(true);
      expect(crowdTop).toHaveLength(3);
    } finally {
      await indexed.close();
    }
  });

  it('rejects wrong credentials with a 401 that names NEO4J_USERNAME / NEO4J_PASSWORD and never the password', async () => {
    const store = new Neo4jGraphStore({ uri: server.uri, username: server.username, password: 'not-the-password-4711', env: {} });
    try {
      const error = await store.neighbors({ scope: { userId: 'u' }, entities: ['alice'], limit: 5 }).catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(ProviderRequestError);
      expect([(error as ProviderRequestError).status, (error as ProviderRequestError).retryable]).toEqual([401, false]);
      expect((error as Error).message).toMatch(/Check NEO4J_USERNAME and NEO4J_PASSWORD/);
      expect((error as Error).message).not.toContain('4711');
    } finally {
      await store.close();
    }
  });

  it('reports an unreachable server as a retryable failure naming NEO4J_URI', async () => {
    const port = await closedPort();
    const store = new Neo4jGraphStore({
      uri: `bolt://127.0.0.1:${port}`,
      password: 'x',
      maxTransactionRetryTimeMs: 0,
      connectionTimeoutMs: 2_000,
      env: {},
    });
    try {
      const error = await store.neighbors({ scope: { userId: 'u' }, entities: ['alice'], limit: 5 }).catch((thrown: unknown) => thrown);
      expect(MemError.is(error, 'PROVIDER_REQUEST_FAILED')).toBe(true);
      expect((error as ProviderRequestError).retryable).toBe(true);
      expect((error as Error).message).toMatch(new RegExp(`bolt://127\\.0\\.0\\.1:${port}.*NEO4J_URI`));
    } finally {
      await store.close();
    }
  });

  it('names NEO4J_DATABASE when the database does not exist', async () => {
    const store = new Neo4jGraphStore({ ...server, database: 'nodatabasehere', env: {} });
    try {
      const error = await store.neighbors({ scope: { userId: 'u' }, entities: ['alice'], limit: 5 }).catch((thrown: unknown) => thrown);
      expect((error as Error).message).toMatch(/database "nodatabasehere" does not exist.*NEO4J_DATABASE/);
    } finally {
      await store.close();
    }
  });

  it('an aborted signal rejects with ABORTED and writes nothing', async () => {
    const store = newStore();
    await store.ensureSchema({ dimensions: DIMENSIONS });
    const controller = new AbortController();
    controller.abort();
    const error = await store
      .upsertEntities({ scope: { userId: 'u' }, entities: [{ name: 'alice', type: 'person', embedding: AXIS }], signal: controller.signal })
      .catch((thrown: unknown) => thrown);
    expect(MemError.is(error, 'ABORTED')).toBe(true);
    expect(await store.searchEntities({ scope: { userId: 'u' }, vector: AXIS, topK: 5 })).toEqual([]);
  });

  it('uses a driver it is given and leaves it open on close()', async () => {
    const driver = neo4j.driver(server.uri, neo4j.auth.basic(server.username, server.password));
    try {
      const store = newStore({ driver });
      await store.ensureSchema({ dimensions: DIMENSIONS });
      await store.upsertRelations({
        scope: { userId: 'u' },
        relations: [{ source: 'alice', relation: 'knows', target: 'bob', validFrom: new Date(0) }],
      });
      await store.close();
      await store.close();
      const { records } = await driver.executeQuery('RETURN 1 AS one', {}, { database: server.database });
      expect(records[0]?.get('one').toNumber()).toBe(1);
      const error = await store.neighbors({ scope: { userId: 'u' }, entities: ['alice'], limit: 5 }).catch((thrown: unknown) => thrown);
      expect((error as Error).message).toMatch(/the store is closed/);
      stores.pop();
      const cleanup = new Neo4jGraphStore({ driver, namespace: store.namespace });
      await cleanup.dropSchema();
    } finally {
      await driver.close();
    }
  });

  it('calls before ensureSchema fail with CONFLICT saying to call it', async () => {
    const store = newStore();
    const error = await store
      .upsertEntities({ scope: { userId: 'u' }, entities: [{ name: 'alice', type: 'person', embedding: AXIS }] })
      .catch((thrown: unknown) => thrown);
    expect(MemError.is(error, 'CONFLICT')).toBe(true);
    expect((error as Error).message).toMatch(/ensureSchema/);
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const listener = createServer();
    listener.once('error', reject);
    listener.listen(0, '127.0.0.1', () => {
      const address = listener.address();
      listener.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
