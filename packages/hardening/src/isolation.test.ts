import { evaluateFilter, hashText, normalize, type Filter } from '@mem/core/adapter';
import {
  InMemoryGraphStore,
  InMemoryHistoryStore,
  InMemoryVectorStore,
  Memory,
  type FilterInput,
  type GraphStore,
  type MemoryRecord,
  type Scope,
  type VectorStore,
} from '@mem/core';
import { HashEmbedder } from '@mem/core/testing';
import { SqliteGraphStore } from '@mem/graph-sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromaBackend, inMemoryBackend, pineconeBackend, qdrantBackend, sqliteBackend, type Backend } from './support/backends';
import { recordFigure, scaled } from './support/figures';
import { generator, graphIsolation, randomScopes } from './support/graph-isolation';
import { visible } from './support/invariants';

// Isolation: every scope holds the SAME records (identical vectors, texts and metadata) and graph
// (identical names, embeddings and relations); scope ids are chosen to collide in sloppy code
// (prefixes, case, trailing spaces, quotes, LIKE/regex wildcards, Unicode normalisation forms).
// Random queries through every read path, with filters that name scope fields, must return only
// what the call's scope may see, and deletes must remove nothing outside it.

const VECTORS = [
  [1, 0, 0, 0, 0, 0, 0, 0],
  [0.8, 0.6, 0, 0, 0, 0, 0, 0],
  [0, 1, 0, 0, 0, 0, 0, 0],
  [0, 0, 1, 0, 0, 0, 0, 0],
].map((vector) => normalize(vector));
const TEXTS = ['likes green tea in the morning', 'plays the cello on sundays', 'has a dog named rex', 'works as a nurse in lisbon'];

function recordsFor(scopes: readonly Scope[]): MemoryRecord[] {
  const at = new Date(Date.UTC(2025, 0, 2, 3, 4, 5, 6));
  return scopes.flatMap((scope, scopeIndex) =>
    TEXTS.map((text, index) => ({
      id: `rec-${String(scopeIndex).padStart(2, '0')}-${index}`,
      vector: VECTORS[index]!,
      text,
      hash: hashText(text),
      scope,
      metadata: { category: index % 2 === 0 ? 'food' : 'hobby', n: index },
      createdAt: at,
      updatedAt: at,
      occurredAt: at,
    })),
  );
}

/** Filters that name scope fields (and a metadata field): they may only narrow what the scope sees. */
function scopeFilter(random: () => number, own: Scope, other: Scope, supported: ReadonlySet<string>): Filter | undefined {
  const field = (['userId', 'agentId', 'runId'] as const)[Math.floor(random() * 3)]!;
  const otherValue = other[field] ?? other.userId ?? 'u1';
  const ownValue = own[field] ?? own.userId ?? own.agentId ?? 'u1';
  const candidates: Filter[] = [
    { op: 'eq', field, value: otherValue },
    { op: 'in', field, values: [otherValue, ownValue] },
    { op: 'ne', field, value: ownValue },
    { op: 'nin', field, values: [ownValue] },
    {
      op: 'or',
      filters: [
        { op: 'eq', field: 'userId', value: otherValue },
        { op: 'eq', field: 'category', value: 'food' },
      ],
    },
    {
      op: 'and',
      filters: [
        { op: 'eq', field: 'category', value: 'hobby' },
        { op: 'in', field: 'agentId', values: [otherValue] },
      ],
    },
    { op: 'not', filter: { op: 'eq', field, value: ownValue } },
    { op: 'contains', field, value: otherValue.slice(0, 2) },
    { op: 'eq', field: 'category', value: 'food' },
  ];
  const usable = candidates.filter((filter) => operators(filter).every((op) => supported.has(op)));
  return usable.length === 0 ? undefined : usable[Math.floor(random() * usable.length)];
}

function operators(filter: Filter): string[] {
  if (filter.op === 'and' || filter.op === 'or') return [filter.op, ...filter.filters.flatMap(operators)];
  if (filter.op === 'not') return ['not', ...operators(filter.filter)];
  return [filter.op];
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

async function vectorIsolation(backend: Backend, queries: number, seed: number): Promise<{ queries: number; violations: string[] }> {
  const random = generator(seed);
  const stores = await backend.create();
  const store: VectorStore = stores.vectorStore;
  const violations: string[] = [];
  let asked = 0;
  try {
    const scopes = randomScopes(random, 10);
    const records = recordsFor(scopes);
    await store.ensureCollection({ dimensions: 8 });
    for (let start = 0; start < records.length; start += store.capabilities.maxUpsertBatch)
      await store.upsert({ records: records.slice(start, start + store.capabilities.maxUpsertBatch) });
    const allIds = records.map((record) => record.id);
    const supported = store.capabilities.filterOperators as ReadonlySet<string>;
    const memory = new Memory({
      embedder: new HashEmbedder({ dimensions: 8 }),
      vectorStore: store,
      historyStore: new InMemoryHistoryStore(),
    });
    const leak = (where: string, scope: Scope, returned: readonly MemoryRecord[]) => {
      for (const record of returned)
        if (!visible(scope, record.scope))
          violations.push(
            `${backend.name} ${where} in ${JSON.stringify(scope)} returned ${record.id} of ${JSON.stringify(record.scope)} (seed ${seed})`,
          );
    };
    const sameIds = (where: string, scope: Scope, returned: readonly MemoryRecord[], expected: readonly MemoryRecord[]) => {
      const got = returned.map((record) => record.id).sort();
      const want = expected.map((record) => record.id).sort();
      if (JSON.stringify(got) !== JSON.stringify(want))
        violations.push(
          `${backend.name} ${where} in ${JSON.stringify(scope)}: ${got.length} records, expected ${want.length} (seed ${seed})`,
        );
    };
    while (asked < queries) {
      const scope = scopes[Math.floor(random() * scopes.length)]!;
      const other = scopes[Math.floor(random() * scopes.length)]!;
      const filter = random() < 0.7 ? scopeFilter(random, scope, other, supported) : undefined;
      const expected = records.filter((record) => visible(scope, record.scope) && (!filter || evaluateFilter(filter, record)));
      const withFilter = filter ? { filter } : {};
      switch (Math.floor(random() * 6)) {
        case 0: {
          const matches = await store.query({ scope, vector: VECTORS[Math.floor(random() * VECTORS.length)]!, topK: 100, ...withFilter });
          leak(
            'query',
            scope,
            matches.map((match) => match.record),
          );
          sameIds(
            'query',
            scope,
            matches.map((match) => match.record),
            expected,
          );
          break;
        }
        case 1: {
          if (!store.capabilities.keywordSearch) continue;
          const matches = await store.keywordQuery({ scope, text: TEXTS[Math.floor(random() * TEXTS.length)]!, topK: 100, ...withFilter });
          leak(
            'keywordQuery',
            scope,
            matches.map((match) => match.record),
          );
          break;
        }
        case 2: {
          const listed = await collect(store.list({ scope, ...withFilter }));
          leak('list', scope, listed);
          sameIds('list', scope, listed, expected);
          break;
        }
        case 3: {
          const found = await store.get({ scope, ids: allIds });
          leak('get', scope, found);
          sameIds(
            'get',
            scope,
            found,
            records.filter((record) => visible(scope, record.scope)),
          );
          break;
        }
        case 4: {
          // Through Memory, with a filter in the user syntax that names scope ids of another scope.
          const input: FilterInput =
            random() < 0.5 ? { userId: other.userId ?? 'u1' } : { $or: [{ agentId: other.agentId ?? 'x' }, { category: 'food' }] };
          const { results } = await memory.search(TEXTS[Math.floor(random() * TEXTS.length)]!, { scope, filter: input, limit: 50 });
          for (const result of results)
            if (!visible(scope, result.scope)) violations.push(`${backend.name} Memory.search leaked ${result.id} (seed ${seed})`);
          break;
        }
        case 5: {
          const { results } = await memory.getAll({ scope, filter: { $not: { userId: scope.userId ?? 'none' } }, pageSize: 100 });
          for (const result of results)
            if (!visible(scope, result.scope)) violations.push(`${backend.name} Memory.getAll leaked ${result.id} (seed ${seed})`);
          break;
        }
      }
      asked++;
    }
    // Deletes: every id of every scope, asked through one scope, removes only what that scope sees.
    for (const scope of scopes.slice(0, 3)) {
      const before = await store.get({ scope: { userId: '__nobody__' }, ids: allIds });
      if (before.length > 0) violations.push(`${backend.name}: a scope without records sees ${before.length}`);
      const survivors = records.filter((record) => !visible(scope, record.scope));
      const present = new Set<string>();
      for (const other of scopes) for (const record of await store.get({ scope: other, ids: allIds })) present.add(record.id);
      await store.delete({ scope, ids: allIds });
      for (const record of survivors) {
        if (!present.has(record.id)) continue;
        const [still] = await store.get({ scope: record.scope, ids: [record.id] });
        if (!still)
          violations.push(
            `${backend.name}: delete through ${JSON.stringify(scope)} removed ${record.id} of ${JSON.stringify(record.scope)} (seed ${seed})`,
          );
      }
      asked++;
    }
    await memory.close().catch(() => undefined);
  } finally {
    await stores.dispose();
  }
  return { queries: asked, violations };
}

const backends: Backend[] = [];
beforeAll(async () => {
  backends.push(inMemoryBackend(), sqliteBackend(), chromaBackend(), await qdrantBackend(), await pineconeBackend());
});
afterAll(async () => {
  for (const backend of backends) await backend.close();
});

describe('scope isolation of every vector store', () => {
  for (const name of ['in-memory', 'sqlite (embedded default)', 'chroma (real server)', 'qdrant (emulator)', 'pinecone (emulator)']) {
    it(`${name}: identical records in random scopes, random reads with scope-field filters, deletes`, async (context) => {
      const backend = backends.find((candidate) => candidate.name === name)!;
      if (backend.skip) context.skip(backend.skip);
      const seed = Date.now() % 1_000_000;
      const { queries, violations } = await vectorIsolation(backend, scaled(name === 'chroma (real server)' ? 150 : 300, 1_500), seed);
      recordFigure({
        category: 'isolation (vector store reads and deletes)',
        backend: name,
        cases: queries,
        violations: violations.length,
      });
      expect(violations.slice(0, 10)).toEqual([]);
    });
  }
});

describe('the isolation check itself', () => {
  it('catches a store that ignores the scope of a query (control)', async () => {
    class ScopeBlindStore extends InMemoryVectorStore {
      override query(request: Parameters<InMemoryVectorStore['query']>[0]) {
        return super.query({ ...request, scope: { userId: 'u1' } });
      }
    }
    const blind: Backend = {
      name: 'scope-blind control',
      create: async () => ({ vectorStore: new ScopeBlindStore(), historyStore: new InMemoryHistoryStore(), dispose: async () => {} }),
      close: async () => {},
    };
    const { violations } = await vectorIsolation(blind, 200, 7);
    expect(violations.length).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------
// Graph stores

describe('scope isolation of every graph store', () => {
  const stores: { name: string; create: () => GraphStore }[] = [
    { name: 'in-memory graph', create: () => new InMemoryGraphStore() },
    { name: 'graph-sqlite (embedded default)', create: () => new SqliteGraphStore({ path: ':memory:' }) },
  ];
  for (const { name, create } of stores) {
    it(`${name}: identical entities and relations in random scopes`, async () => {
      const store = create();
      const seed = Date.now() % 1_000_000;
      const { queries, violations } = await graphIsolation(name, store, scaled(300, 1_500), seed);
      await store.close();
      recordFigure({ category: 'isolation (graph store reads and deletes)', backend: name, cases: queries, violations: violations.length });
      expect(violations.slice(0, 10)).toEqual([]);
    });
  }
});
