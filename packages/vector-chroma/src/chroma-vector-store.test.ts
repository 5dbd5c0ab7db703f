import { randomUUID } from 'node:crypto';
import { MemError, hashText, type MemoryRecord, type Scope } from '@mem/core/adapter';
import { ChromaClient } from 'chromadb';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { ChromaVectorStore } from './chroma-vector-store';
import type { ChromaVectorStoreOptions } from './chroma-vector-store-options';

// Adapter-specific behaviour against the real Chroma server of test/global-setup.ts.
const url = inject('chromaUrl');
const skip = inject('chromaSkip');

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const action of cleanup.splice(0)) await action();
});

function newStore(options: ChromaVectorStoreOptions = {}): ChromaVectorStore {
  const store = new ChromaVectorStore({ url, collection: `test_${randomUUID().slice(0, 12)}`, maxRetries: 0, ...options });
  cleanup.push(() => store.dropCollection());
  return store;
}

function sdk(): ChromaClient {
  const { hostname, port } = new URL(url);
  return new ChromaClient({ host: hostname, port: Number(port) });
}

function record(id: string, fields: Partial<MemoryRecord> = {}): MemoryRecord {
  const text = fields.text ?? `memory ${id}`;
  return {
    id,
    vector: [1, 0, 0],
    text,
    hash: hashText(text),
    scope: { userId: 'u1' },
    metadata: {},
    createdAt: new Date(Date.UTC(2024, 0, 1)),
    updatedAt: new Date(Date.UTC(2024, 0, 2)),
    occurredAt: new Date(Date.UTC(2023, 11, 31)),
    ...fields,
  };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const result: T[] = [];
  for await (const item of items) result.push(item);
  return result;
}

async function codeOf(action: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await action();
  } catch (error) {
    return MemError.is(error) ? error.code : `not a MemError: ${String(error)}`;
  }
  return undefined;
}

describe.skipIf(skip !== '')(`ChromaVectorStore against a real server${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('works through a ready ChromaClient given as client, ignoring the connection options', async () => {
    const store = newStore({ url: 'http://127.0.0.1:9', client: sdk() });
    await store.ensureCollection({ dimensions: 3 });
    await store.upsert({ records: [record('a')] });
    expect((await store.get({ ids: ['a'], scope: { userId: 'u1' } })).map((item) => item.text)).toEqual(['memory a']);
  });

  it('creates the collection with cosine distance, no embedding function and its dimensions in the metadata', async () => {
    const store = newStore();
    await store.ensureCollection({ dimensions: 3 });
    const collection = await sdk().getCollection({ name: store.collectionName, embeddingFunction: { generate: async () => [] } });
    expect(collection.metadata).toMatchObject({ 'mem:dimensions': 3 });
    expect(collection.configuration).toMatchObject({ hnsw: { space: 'cosine' }, embedding_function: null });
  });

  it('refuses a collection with another distance, explaining how to fix it', async () => {
    const store = newStore();
    await sdk().createCollection({ name: store.collectionName, embeddingFunction: null });
    let thrown: unknown;
    try {
      await store.ensureCollection({ dimensions: 3 });
    } catch (error) {
      thrown = error;
    }
    expect(MemError.is(thrown, 'CONFLICT')).toBe(true);
    expect((thrown as Error).message).toMatch(/uses the "l2" distance.*cosine.*choose another collection name, or delete this one/);
  });

  it('learns the dimensions of a collection mem did not create from a stored vector', async () => {
    const store = newStore();
    const collection = await sdk().createCollection({
      name: store.collectionName,
      embeddingFunction: null,
      metadata: { 'hnsw:space': 'cosine' },
    });
    await collection.add({ ids: ['x'], embeddings: [[1, 0, 0, 0]] });
    expect(await codeOf(() => store.ensureCollection({ dimensions: 3 }))).toBe('DIMENSION_MISMATCH');
    // A record without mem's fields is reported, not half-read.
    expect(await codeOf(() => store.ensureCollection({ dimensions: 4 }))).toBeUndefined();
    expect(await codeOf(() => collect(store.list({ scope: { userId: 'u1' } })))).toBeUndefined();
    const foreign = await store.get({ scope: { userId: 'u1' }, ids: ['x'] });
    expect(foreign).toEqual([]);
    expect(await codeOf(() => store.reset())).toBeUndefined();
  });

  it('reports a record written by another application as PROVIDER_RESPONSE_INVALID when it is in scope', async () => {
    const store = newStore();
    await store.ensureCollection({ dimensions: 3 });
    const collection = await sdk().getCollection({ name: store.collectionName, embeddingFunction: { generate: async () => [] } });
    await collection.add({ ids: ['foreign'], embeddings: [[1, 0, 0]], metadatas: [{ 'mem:userId': 'u1' }] });
    expect(await codeOf(() => store.get({ scope: { userId: 'u1' }, ids: ['foreign'] }))).toBe('PROVIDER_RESPONSE_INVALID');
  });

  it('before ensureCollection: reads see nothing, writes and queries say to call ensureCollection', async () => {
    const store = newStore();
    const scope: Scope = { userId: 'u1' };
    expect(await store.get({ scope, ids: ['a'] })).toEqual([]);
    expect(await collect(store.list({ scope }))).toEqual([]);
    await store.delete({ scope, ids: ['a'] });
    await store.reset();
    for (const action of [() => store.upsert({ records: [record('a')] }), () => store.query({ scope, vector: [1, 0, 0], topK: 1 })]) {
      let thrown: unknown;
      try {
        await action();
      } catch (error) {
        thrown = error;
      }
      expect(MemError.is(thrown, 'CONFLICT')).toBe(true);
      expect((thrown as Error).message).toContain('ensureCollection({ dimensions })');
    }
  });

  it('a second store on the same collection reads what the first wrote, without ensureCollection', async () => {
    const first = newStore();
    await first.ensureCollection({ dimensions: 3 });
    await first.upsert({ records: [record('a', { metadata: { tags: ['x', 'y'] } })] });
    const second = new ChromaVectorStore({ url, collection: first.collectionName });
    const [found] = await second.get({ scope: { userId: 'u1' }, ids: ['a'] });
    expect(found?.metadata).toEqual({ tags: ['x', 'y'] });
    expect(await codeOf(() => second.query({ scope: { userId: 'u1' }, vector: [1, 0], topK: 1 }))).toBe('DIMENSION_MISMATCH');
  });

  it('after dropCollection the store sees an empty, missing collection until ensureCollection runs again', async () => {
    const store = newStore();
    await store.ensureCollection({ dimensions: 3 });
    await store.upsert({ records: [record('a')] });
    await store.dropCollection();
    expect(await store.get({ scope: { userId: 'u1' }, ids: ['a'] })).toEqual([]);
    await store.ensureCollection({ dimensions: 5 });
    await store.upsert({ records: [record('b', { vector: [0, 0, 0, 0, 1] })] });
    expect((await collect(store.list({ scope: { userId: 'u1' } }))).map((item) => item.id)).toEqual(['b']);
  });

  it('splits an upsert larger than maxUpsertBatch into requests; the last duplicate id wins', async () => {
    const store = newStore({ maxUpsertBatch: 7 });
    expect(store.capabilities.maxUpsertBatch).toBe(7);
    await store.ensureCollection({ dimensions: 3 });
    const records = Array.from({ length: 30 }, (_, index) => record(`r${String(index).padStart(2, '0')}`));
    await store.upsert({ records: [...records, record('r05', { text: 'the later duplicate' })] });
    const listed = await collect(store.list({ scope: { userId: 'u1' } }));
    expect(listed).toHaveLength(30);
    expect(listed.find((item) => item.id === 'r05')?.text).toBe('the later duplicate');
  });

  it('lists in id order with pages that end exactly on and just past a page boundary', async () => {
    for (const count of [10, 11]) {
      const store = newStore({ pageSize: 5 });
      await store.ensureCollection({ dimensions: 3 });
      const ids = Array.from({ length: count }, (_, index) => `id-${String.fromCharCode(122 - index)}`);
      await store.upsert({ records: ids.map((id) => record(id)) });
      const sorted = [...ids].sort();
      expect((await collect(store.list({ scope: { userId: 'u1' } }))).map((item) => item.id)).toEqual(sorted);
      expect((await collect(store.list({ scope: { userId: 'u1' }, after: sorted[4] }))).map((item) => item.id)).toEqual(sorted.slice(5));
      expect((await store.get({ scope: { userId: 'u1' }, ids: [...ids].reverse() })).map((item) => item.id)).toEqual([...ids].reverse());
    }
  });

  it('a numeric key removed by a later upsert no longer takes a topK slot in a native range query', async () => {
    const store = newStore();
    await store.ensureCollection({ dimensions: 3 });
    const scope: Scope = { userId: 'u1' };
    // "closest" is most similar to the query; its first version had rating 9, its second has none.
    await store.upsert({
      records: [
        record('closest', { vector: [1, 0, 0], metadata: { rating: 9 } }),
        record('farther', { vector: [0.5, 0.5, 0], metadata: { rating: 7 } }),
      ],
    });
    await store.upsert({ records: [record('closest', { vector: [1, 0, 0], metadata: { note: 'rating removed' } })] });
    const matches = await store.query({ scope, vector: [1, 0, 0], topK: 1, filter: { op: 'gt', field: 'rating', value: 5 } });
    expect(matches.map((match) => match.record.id)).toEqual(['farther']);
    const [closest] = await store.get({ scope, ids: ['closest'] });
    expect(closest?.metadata).toEqual({ note: 'rating removed' });
  });

  it('rejects an undeclared filter operator before sending anything, and keywordQuery always', async () => {
    const store = newStore({ url: 'http://127.0.0.1:1' });
    const scope: Scope = { userId: 'u1' };
    const filter = { op: 'eq', field: 'category', value: 'food' } as const;
    expect(await codeOf(() => store.query({ scope, vector: [1, 0, 0], topK: 1, filter }))).toBe('UNSUPPORTED_CAPABILITY');
    expect(await codeOf(() => collect(store.list({ scope, filter })))).toBe('UNSUPPORTED_CAPABILITY');
    expect(await codeOf(() => store.keywordQuery({ scope, text: 'tea', topK: 1 }))).toBe('UNSUPPORTED_CAPABILITY');
    cleanup.pop(); // nothing was created on the unreachable server
  });

  it('rejects a call without a scope id with INVALID_INPUT', async () => {
    const store = newStore();
    await store.ensureCollection({ dimensions: 3 });
    expect(await codeOf(() => store.get({ scope: {}, ids: ['a'] }))).toBe('INVALID_INPUT');
    expect(await codeOf(() => store.query({ scope: {}, vector: [1, 0, 0], topK: 1 }))).toBe('INVALID_INPUT');
    expect(await codeOf(() => store.delete({ scope: {}, ids: ['a'] }))).toBe('INVALID_INPUT');
  });
});
