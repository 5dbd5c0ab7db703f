import type { GraphStore } from '@mem/core/adapter';
import { InMemoryGraphStore } from '@mem/core';
import { describe, expect, it } from 'vitest';
import { describeGraphStore } from './describe';
import { graphStoreCases, runGraphStoreCase } from './graph-store-cases';
import {
  DeletesOnInvalidateGraphStore,
  DuplicatesRelationsGraphStore,
  ExactScopeDeleteAllGraphStore,
  FoldsNamesGraphStore,
  IgnoresScopeGraphStore,
  LaggingGraphStore,
  LosesConcurrentWritesGraphStore,
  UnconvertedScoreGraphStore,
} from './graph-test-adapters';

// core's reference graph store passes the whole suite: the cases are satisfiable as written.
describeGraphStore('InMemoryGraphStore', async () => {
  const store = new InMemoryGraphStore();
  return { subject: store, dispose: () => store.close() };
});

// Writes land later and batches are small: every read after a write must poll, every write must split.
describeGraphStore('LaggingGraphStore (readAfterWrite: eventual, maxBatchSize: 3)', async () => {
  const store = new LaggingGraphStore();
  return { subject: store, dispose: () => store.close() };
});

async function failingCases(create: () => GraphStore): Promise<string[]> {
  const failed: string[] = [];
  for (const testCase of graphStoreCases) {
    try {
      await runGraphStoreCase(testCase, create());
    } catch {
      failed.push(testCase.name);
    }
  }
  return failed;
}

// Each broken store names a case that must catch it; it may fail others too.
describe('the graph store cases catch broken adapters', () => {
  it.each([
    {
      broken: 'neighbors ignores scope',
      create: () => new IgnoresScopeGraphStore(),
      caughtBy: 'scope: neighbors returns only relations inside the call scope',
    },
    {
      broken: 'invalidation deletes',
      create: () => new DeletesOnInvalidateGraphStore(),
      caughtBy: 'invalidateRelations: closes the open relation with validTo',
    },
    { broken: 'upsert is not idempotent', create: () => new DuplicatesRelationsGraphStore(), caughtBy: 'upsertRelations: idempotent' },
    { broken: 'folds names', create: () => new FoldsNamesGraphStore(), caughtBy: 'upsertEntities: names are compared exactly' },
    {
      broken: 'loses concurrent writes',
      create: () => new LosesConcurrentWritesGraphStore(),
      caughtBy: 'concurrency: 20 concurrent writers of distinct relations',
    },
    {
      broken: 'deleteAll matches the exact scope only',
      create: () => new ExactScopeDeleteAllGraphStore(),
      caughtBy: 'deleteAll: deletes the entities and relations',
    },
    {
      broken: 'scores on the (1 + cosine) / 2 scale',
      create: () => new UnconvertedScoreGraphStore(),
      caughtBy: 'searchEntities: cosine scores',
    },
  ])('$broken', async ({ create, caughtBy }) => {
    const failed = await failingCases(create);
    expect(failed.some((name) => name.startsWith(caughtBy))).toBe(true);
  });
});
