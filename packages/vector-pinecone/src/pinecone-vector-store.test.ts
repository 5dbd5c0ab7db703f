import { runVectorStoreCase, vectorStoreCases } from '@mem/conformance';
import { MemError, type ProviderRequestError, compareIds, cosineSimilarity, type MemoryRecord, type Scope } from '@mem/core/adapter';
import { X_PINECONE_API_VERSION } from '@pinecone-database/pinecone/dist/pinecone-generated-ts-fetch/db_data';
import { afterEach, describe, expect, it } from 'vitest';
import { PineconeVectorStore } from './pinecone-vector-store';
import type { PineconeVectorStoreOptions } from './pinecone-vector-store-options';
import { PINECONE_API_VERSION, PineconeEmulator, type PineconeEmulatorOptions } from './testing/pinecone-emulator';

const emulators: PineconeEmulator[] = [];
afterEach(async () => {
  await Promise.all(emulators.splice(0).map((emulator) => emulator.close()));
});

async function startEmulator(options: PineconeEmulatorOptions = {}): Promise<PineconeEmulator> {
  const emulator = await PineconeEmulator.start(options);
  emulators.push(emulator);
  return emulator;
}

function storeFor(emulator: PineconeEmulator, options: Partial<PineconeVectorStoreOptions> = {}): PineconeVectorStore {
  return new PineconeVectorStore({
    apiKey: 'test-key',
    index: 'memories',
    controllerHostUrl: emulator.controllerHostUrl,
    retryDelayMs: 0,
    ...options,
  });
}

const AT = new Date(Date.UTC(2024, 4, 17, 9, 30, 15, 123));

function record(id: string, vector: number[], scope: Scope = { userId: 'u1' }, metadata: MemoryRecord['metadata'] = {}): MemoryRecord {
  return { id, vector, text: `memory ${id}`, hash: `hash-${id}`, scope, metadata, createdAt: AT, updatedAt: AT, occurredAt: AT };
}

async function errorOf(action: () => Promise<unknown>): Promise<MemError> {
  try {
    await action();
  } catch (error) {
    if (MemError.is(error)) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

async function collect(records: AsyncIterable<MemoryRecord>): Promise<string[]> {
  const ids: string[] = [];
  for await (const found of records) ids.push(found.id);
  return ids;
}

const paths = (emulator: PineconeEmulator) => emulator.requests.map((request) => `${request.method} ${request.path} ${request.status}`);

describe('requests', () => {
  it('sends the X-Pinecone-Api-Version of the pinned SDK, the version whose spec the emulator validates against', async (context) => {
    expect(PINECONE_API_VERSION).toBe(X_PINECONE_API_VERSION);
    const emulator = await startEmulator();
    // Without the spec files the emulator warned and validates nothing (under CI=true it refused to start).
    if (!emulator.spec) context.skip('the Pinecone spec is missing (../shared/specs/pinecone): nothing to validate against');
    expect(emulator.spec?.version).toBe(PINECONE_API_VERSION);
    const store = storeFor(emulator, { createIndex: { cloud: 'aws', region: 'us-east-1' } });
    await store.ensureCollection({ dimensions: 3 });
    await store.upsert({ records: [record('a', [1, 0, 0])] });
    await store.get({ scope: { userId: 'u1' }, ids: ['a'] });
    expect(emulator.requests.length).toBeGreaterThan(3);
    expect(new Set(emulator.requests.map((request) => request.apiVersion))).toEqual(new Set([PINECONE_API_VERSION]));
  });

  it('writes and queries in the documented shapes: one namespace, mem fields as _mem_ metadata, the scope in every filter', async () => {
    const emulator = await startEmulator();
    await emulator.createIndex({ name: 'memories', dimension: 3 });
    const store = storeFor(emulator, { namespace: 'tenant-1' });
    await store.upsert({ records: [record('m1', [0.5, 0, 1], { userId: 'u1', agentId: 'a1' }, { category: 'food', tags: ['diet'] })] });
    await store.query({
      scope: { userId: 'u1', agentId: 'a1' },
      vector: [1, 0, 0],
      topK: 5,
      filter: { op: 'in', field: 'category', values: ['food', 'drink'] },
    });
    const [upsert, query] = emulator.requests.filter((request) => request.plane === 'data');
    expect(upsert).toMatchObject({ method: 'POST', path: '/vectors/upsert' });
    expect(upsert!.body).toMatchInlineSnapshot(`
      {
        "namespace": "tenant-1",
        "vectors": [
          {
            "id": "m1",
            "metadata": {
              "_mem_agentId": "a1",
              "_mem_createdAt": 1715938215123,
              "_mem_hash": "hash-m1",
              "_mem_occurredAt": 1715938215123,
              "_mem_text": "memory m1",
              "_mem_updatedAt": 1715938215123,
              "_mem_userId": "u1",
              "category": "food",
              "tags": [
                "diet",
              ],
            },
            "values": [
              0.5,
              0,
              1,
            ],
          },
        ],
      }
    `);
    expect(query).toMatchObject({ method: 'POST', path: '/query' });
    expect(query!.body).toMatchInlineSnapshot(`
      {
        "filter": {
          "$and": [
            {
              "$and": [
                {
                  "_mem_userId": {
                    "$eq": "u1",
                  },
                },
                {
                  "_mem_agentId": {
                    "$eq": "a1",
                  },
                },
              ],
            },
            {
              "category": {
                "$in": [
                  "food",
                  "drink",
                ],
              },
            },
          ],
        },
        "includeMetadata": true,
        "includeValues": true,
        "namespace": "tenant-1",
        "topK": 5,
        "vector": [
          1,
          0,
          0,
        ],
      }
    `);
  });

  it('lists with fetch_by_metadata, then fetches the sorted ids: in UTF-16 order even where Pinecone orders bytes differently', async () => {
    const emulator = await startEmulator();
    await emulator.createIndex({ name: 'memories', dimension: 2 });
    const store = storeFor(emulator);
    // In UTF-8 bytes (Pinecone's id order) U+FFFD (EF BF BD) sorts before U+1F600 (F0 9F 98 80);
    // in UTF-16 code units (mem's order) U+1F600 (D83D DE00) sorts before U+FFFD.
    const ids = ['\uFFFD', '\u{1F600}', 'b', 'a', 'é'];
    await store.upsert({ records: ids.map((id, index) => record(id, [1, index])) });
    expect(await collect(store.list({ scope: { userId: 'u1' } }))).toEqual([...ids].sort(compareIds));
    expect([...ids].sort(compareIds)).toEqual(['a', 'b', 'é', '\u{1F600}', '\uFFFD']);
    expect(paths(emulator).slice(-2)).toEqual(['POST /vectors/fetch_by_metadata 200', 'GET /vectors/fetch 200']);
  });

  it('stores ids Pinecone refuses (non-ASCII, spaces, which fetch rejects) percent-encoded, and gives them back unchanged', async () => {
    const emulator = await startEmulator();
    await emulator.createIndex({ name: 'memories', dimension: 2 });
    const store = storeFor(emulator);
    const ids = ['café', 'with space', '100%', 'a%20b', '🍣', 'plain-uuid-0190'];
    await store.upsert({ records: ids.map((id, index) => record(id, [1, index])) });
    expect(emulator.ids('memories', '')).toEqual(['%F0%9F%8D%A3', '100%25', 'a%2520b', 'caf%C3%A9', 'plain-uuid-0190', 'with%20space']);
    const scope = { userId: 'u1' };
    expect((await store.get({ scope, ids: ['with space', 'café', 'missing'] })).map((found) => found.id)).toEqual(['with space', 'café']);
    expect(await collect(store.list({ scope }))).toEqual([...ids].sort(compareIds));
    const [best] = await store.query({ scope, vector: [1, 4], topK: 1 });
    expect(best!.record.id).toBe('🍣');
    await store.delete({ scope, ids: ['100%', '🍣'] });
    expect(await collect(store.list({ scope }))).toEqual(['a%20b', 'café', 'plain-uuid-0190', 'with space']);
  });

  it('splits an upsert above 2 MB of JSON into requests Pinecone accepts, and stores every record', async () => {
    const emulator = await startEmulator();
    await emulator.createIndex({ name: 'memories', dimension: 2_048 });
    const store = storeFor(emulator);
    const records = Array.from({ length: 100 }, (_, index) =>
      record(
        `r${index}`,
        Array.from({ length: 2_048 }, (_, position) => Math.sin(index * 2_048 + position + 1) / 3),
      ),
    );
    await store.upsert({ records });
    const upserts = emulator.requests.filter((request) => request.path === '/vectors/upsert');
    expect(upserts.length).toBeGreaterThan(1);
    for (const upsert of upserts) {
      expect(upsert.status).toBe(200);
      expect(Buffer.byteLength(JSON.stringify(upsert.body))).toBeLessThanOrEqual(2 * 1024 * 1024);
    }
    expect(emulator.ids('memories', '')).toHaveLength(100);
  });

  it('answers topK above 1000 with ids and scores first, then the records, still best first', async () => {
    const emulator = await startEmulator();
    await emulator.createIndex({ name: 'memories', dimension: 2 });
    const store = storeFor(emulator);
    const records = Array.from({ length: 1_200 }, (_, index) =>
      record(`r${String(index).padStart(4, '0')}`, [Math.cos(index / 100), Math.sin(index / 100)]),
    );
    for (let start = 0; start < records.length; start += 100) await store.upsert({ records: records.slice(start, start + 100) });
    const vector = [1, 0.2];
    const matches = await store.query({ scope: { userId: 'u1' }, vector, topK: 1_100 });
    const expected = records
      .map((candidate) => ({ id: candidate.id, score: cosineSimilarity(vector, candidate.vector) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, 1_100);
    expect(matches).toHaveLength(1_100);
    matches.forEach((match, index) => expect(match.score).toBeCloseTo(expected[index]!.score, 5));
    expect(matches[0]!.record.text).toBe(`memory ${expected[0]!.id}`);
    const query = emulator.requests.find((request) => request.path === '/query');
    expect(query!.body).toMatchObject({ topK: 1_100, includeValues: false, includeMetadata: false });
  });

  it('answers a zero query vector like the reference store (every score 0, ties by id) without asking Pinecone, which rejects it', async () => {
    const emulator = await startEmulator();
    await emulator.createIndex({ name: 'memories', dimension: 2 });
    const store = storeFor(emulator);
    await store.upsert({ records: ['c', 'a', 'b'].map((id) => record(id, [1, 1])) });
    const matches = await store.query({ scope: { userId: 'u1' }, vector: [0, 0], topK: 2 });
    expect(matches.map((match) => [match.record.id, match.score])).toEqual([
      ['a', 0],
      ['b', 0],
    ]);
    expect(paths(emulator).some((path) => path.startsWith('POST /query'))).toBe(false);
  });

  it('rejects a zero record vector or metadata over 40 KB before sending anything', async () => {
    const emulator = await startEmulator();
    await emulator.createIndex({ name: 'memories', dimension: 2 });
    const store = storeFor(emulator);
    const zero = await errorOf(() => store.upsert({ records: [record('ok', [1, 0]), record('zero', [0, 0])] }));
    expect(zero.message).toBe(
      "Invalid records[1].vector: every component is zero. Pinecone's cosine metric cannot store a zero vector; check the embedder output.",
    );
    const large = await errorOf(() => store.upsert({ records: [record('big', [1, 0], { userId: 'u1' }, { note: 'x'.repeat(41_000) })] }));
    expect(large.code).toBe('INVALID_INPUT');
    expect(emulator.requests.filter((request) => request.path === '/vectors/upsert')).toEqual([]);
  });

  it('treats a namespace Pinecone does not know as empty when deleting or resetting', async () => {
    const emulator = await startEmulator();
    await emulator.createIndex({ name: 'memories', dimension: 2 });
    const store = storeFor(emulator, { namespace: 'never-written' });
    await store.reset();
    await store.dropNamespace();
    expect(paths(emulator).filter((path) => path.includes('404'))).toEqual([
      'POST /vectors/delete 404',
      'DELETE /namespaces/never-written 404',
    ]);
    await store.upsert({ records: [record('a', [1, 0])] });
    await store.dropNamespace();
    expect(emulator.namespaces('memories')).toEqual([]);
  });
});

describe('ensureCollection', () => {
  it('without createIndex, a missing index is a NOT_FOUND error saying how to create it, and nothing is created', async () => {
    const emulator = await startEmulator();
    const error = await errorOf(() => storeFor(emulator).ensureCollection({ dimensions: 384 }));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toBe(
      'The Pinecone index "memories" does not exist in this project. Create it in the Pinecone console or with the SDK (serverless, dense, dimension 384, metric cosine), or pass createIndex: { cloud: "aws", region: "us-east-1" } so ensureCollection creates it.',
    );
    expect(paths(emulator)).toEqual(['GET /indexes/memories 404']);
  });

  it('creates a missing serverless cosine index and waits until it is ready', async () => {
    const emulator = await startEmulator({ initializingDescribes: 2 });
    const store = storeFor(emulator, { createIndex: { cloud: 'gcp', region: 'us-central1', tags: { app: 'mem-test' } } });
    await store.ensureCollection({ dimensions: 4 });
    const create = emulator.requests.find((request) => request.method === 'POST' && request.path === '/indexes');
    expect(create!.body).toEqual({
      name: 'memories',
      dimension: 4,
      metric: 'cosine',
      vector_type: 'dense',
      tags: { app: 'mem-test' },
      spec: { serverless: { cloud: 'gcp', region: 'us-central1' } },
    });
    // Created, then described twice while Initializing, then Ready.
    expect(paths(emulator)).toEqual([
      'GET /indexes/memories 404',
      'POST /indexes 201',
      'GET /indexes/memories 200',
      'GET /indexes/memories 200',
      'GET /indexes/memories 200',
    ]);
    await store.ensureCollection({ dimensions: 4 });
    expect((await errorOf(() => store.ensureCollection({ dimensions: 5 }))).code).toBe('DIMENSION_MISMATCH');
  });

  it('refuses an index with another metric, saying how to fix it', async () => {
    const emulator = await startEmulator();
    await emulator.createIndex({ name: 'memories', dimension: 3, metric: 'dotproduct' });
    const error = await errorOf(() => storeFor(emulator).ensureCollection({ dimensions: 3 }));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toBe(
      'Invalid index: The Pinecone index "memories" uses metric "dotproduct", but mem ranks memories by cosine similarity. Pinecone cannot change the metric of an index: create one with metric "cosine" (or pass createIndex with a new index name) and point the store at it.',
    );
  });

  it('with only a host, finds the index among the project indexes to check its metric, or reads the dimension from the data plane', async () => {
    const emulator = await startEmulator();
    const dotHost = await emulator.createIndex({ name: 'dot', dimension: 3, metric: 'dotproduct' });
    const cosineHost = await emulator.createIndex({ name: 'cos', dimension: 3 });
    const hostOnly = (host: string) =>
      new PineconeVectorStore({ apiKey: 'k', host, controllerHostUrl: emulator.controllerHostUrl, retryDelayMs: 0 });
    expect((await errorOf(() => hostOnly(dotHost).ensureCollection({ dimensions: 3 }))).code).toBe('INVALID_INPUT');
    await hostOnly(cosineHost).ensureCollection({ dimensions: 3 });
    // The same server under another name is not in the project's list: only the dimension can be checked.
    const unlisted = hostOnly(cosineHost.replace('127.0.0.1', 'localhost'));
    expect((await errorOf(() => unlisted.ensureCollection({ dimensions: 8 }))).message).toMatch(
      /^The Pinecone index at http:\/\/localhost:\d+ holds vectors of 3 dimensions but got 8\./,
    );
    expect(paths(emulator).filter((path) => path.startsWith('POST /describe_index_stats'))).toEqual(['POST /describe_index_stats 200']);
  });
});

describe('retries and cancellation', () => {
  it('retries a retryable failure (503, 429) and succeeds', async () => {
    const emulator = await startEmulator();
    await emulator.createIndex({ name: 'memories', dimension: 2 });
    const store = storeFor(emulator);
    await store.upsert({ records: [record('a', [1, 0])] });
    emulator.failNext({ path: '/query', status: 503 });
    emulator.failNext({ path: '/query', status: 429 });
    const matches = await store.query({ scope: { userId: 'u1' }, vector: [1, 0], topK: 1 });
    expect(matches.map((match) => match.record.id)).toEqual(['a']);
    expect(paths(emulator).filter((path) => path.startsWith('POST /query'))).toEqual([
      'POST /query 503',
      'POST /query 429',
      'POST /query 200',
    ]);
  });

  it('does not retry a 400, and reports the status with retryable false', async () => {
    const emulator = await startEmulator();
    await emulator.createIndex({ name: 'memories', dimension: 2 });
    const store = storeFor(emulator);
    emulator.failNext({ path: '/vectors/upsert', status: 400 });
    const error = (await errorOf(() => store.upsert({ records: [record('a', [1, 0])] }))) as ProviderRequestError;
    expect([error.code, error.status, error.retryable, error.operation]).toEqual(['PROVIDER_REQUEST_FAILED', 400, false, 'upsert']);
    expect(paths(emulator).filter((path) => path.includes('/vectors/upsert'))).toEqual(['POST /vectors/upsert 400']);
  });

  it('gives up after maxRetries with the last status, retryable true', async () => {
    const emulator = await startEmulator();
    await emulator.createIndex({ name: 'memories', dimension: 2 });
    const store = storeFor(emulator, { maxRetries: 1 });
    emulator.failNext({ path: '/vectors/upsert', status: 500, times: 2 });
    const error = (await errorOf(() => store.upsert({ records: [record('a', [1, 0])] }))) as ProviderRequestError;
    expect([error.status, error.retryable]).toEqual([500, true]);
    expect(error.message).toBe('pinecone upsert failed (HTTP 500): Pinecone had a server error. See https://status.pinecone.io');
  });

  it('stops waiting for a retry as soon as the AbortSignal fires', async () => {
    const emulator = await startEmulator();
    await emulator.createIndex({ name: 'memories', dimension: 2 });
    const controller = new AbortController();
    const store = storeFor(emulator, {
      retryDelayMs: 60_000,
      // Aborts once the first (failing) answer has arrived, while the store waits to retry.
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        if (response.status === 503) setImmediate(() => controller.abort(new Error('user cancelled')));
        return response;
      },
    });
    await store.ensureCollection({ dimensions: 2 });
    emulator.failNext({ path: '/query', status: 503, times: 5 });
    const error = await errorOf(() => store.query({ scope: { userId: 'u1' }, vector: [1, 0], topK: 1, signal: controller.signal }));
    expect(error.code).toBe('ABORTED');
    expect(paths(emulator).filter((path) => path.startsWith('POST /query'))).toEqual(['POST /query 503']);
  });
});

describe('eventual consistency (emulated)', () => {
  const selected = vectorStoreCases.filter((testCase) =>
    [
      'round trip: text, hash, scope, vector and dates (millisecond precision) through get, list and query',
      'list: ascending id order, and the after cursor starts strictly after the given id',
      'scope: delete never touches records outside the call scope',
      'upsert: the same id twice keeps one record and the second version wins entirely',
    ].includes(testCase.name),
  );

  it('passes conformance cases when writes show up in reads 40 ms late', async () => {
    expect(selected).toHaveLength(4);
    const emulator = await startEmulator({ visibilityDelayMs: 40 });
    for (const testCase of selected) {
      const namespace = `eventual-${selected.indexOf(testCase)}`;
      const store = storeFor(emulator, { namespace, createIndex: { cloud: 'aws', region: 'us-east-1' } });
      expect(await runVectorStoreCase(testCase, store, { namespace }), testCase.name).toEqual({ status: 'passed' });
    }
  }, 30_000);
});
