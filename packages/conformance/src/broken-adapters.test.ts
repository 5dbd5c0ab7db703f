import { describe, expect, it } from 'vitest';
import type { ConformanceCase, CaseOutcome, RunCaseOptions } from './case';
import { embedderCases, runEmbedderCase } from './embedder-cases';
import { historyStoreCases, runHistoryStoreCase } from './history-store-cases';
import { llmCases, runLLMCase } from './llm-cases';
import { rerankerCases, runRerankerCase } from './reranker-cases';
import {
  AcceptsUndeclaredOperatorsVectorStore,
  DropsMetadataVectorStore,
  fencedJsonLLM,
  silentlyCutLLM,
  CommitsDiscardedHistoryStore,
  HalfBatchHistoryStore,
  ListsPendingHistoryStore,
  IgnoresAbortEmbedder,
  IgnoresAbortReranker,
  IgnoresAbortVectorStore,
  IgnoresScopeVectorStore,
  LikeContainsVectorStore,
  LikeScopeVectorStore,
  LosesConcurrentWritesVectorStore,
  MergesOnUpsertVectorStore,
  NeSkipsMissingFieldsVectorStore,
  NewestFirstHistoryStore,
  NullAsEmptyHistoryStore,
  NeverExpiringIdempotencyHistoryStore,
  ScopelessIdempotencyHistoryStore,
  PartialBatchVectorStore,
  PositionalReranker,
  PostFiltersTopKVectorStore,
  ReversedBatchEmbedder,
  StringifiesBooleansVectorStore,
  TopKPlusOneVectorStore,
  TruncatesDatesVectorStore,
  UnorderedListVectorStore,
  UnsortedScoresVectorStore,
  untypedAbortLLM,
} from './test-adapters';
import { runVectorStoreCase, vectorStoreCases } from './vector-store-cases';

/** Runs every case against a fresh subject; returns the names of the cases that failed. */
async function failingCases<T, C extends ConformanceCase<T, never>>(
  cases: readonly C[],
  run: (testCase: C, subject: T, options: RunCaseOptions) => Promise<CaseOutcome>,
  create: () => T,
): Promise<string[]> {
  const failed: string[] = [];
  for (const testCase of cases) {
    try {
      await run(testCase, create(), {});
    } catch {
      failed.push(testCase.name);
    }
  }
  return failed;
}

// Each broken adapter names a case that must catch it; it may fail others too.
describe('the vector store cases catch broken adapters', () => {
  it.each([
    {
      broken: 'ignores scope',
      create: () => new IgnoresScopeVectorStore(),
      caughtBy: 'scope: query returns only records inside the call scope',
    },
    {
      broken: 'stores booleans as strings',
      create: () => new StringifiesBooleansVectorStore(),
      caughtBy: 'round trip: metadata keeps exact values and types',
    },
    { broken: 'drops metadata', create: () => new DropsMetadataVectorStore(), caughtBy: 'filter: eq on strings' },
    { broken: 'returns topK + 1', create: () => new TopKPlusOneVectorStore(), caughtBy: 'query: topK is respected exactly' },
    {
      broken: 'returns scores in ascending order',
      create: () => new UnsortedScoresVectorStore(),
      caughtBy: 'query: results are sorted by descending score',
    },
    {
      broken: 'ne / nin skip missing fields',
      create: () => new NeSkipsMissingFieldsVectorStore(),
      caughtBy: 'filter: ne is the exact negation',
    },
    {
      broken: 'loses concurrent writes',
      create: () => new LosesConcurrentWritesVectorStore(),
      caughtBy: 'concurrency: 20 concurrent upserts of distinct ids',
    },
    {
      broken: 'truncates dates to seconds',
      create: () => new TruncatesDatesVectorStore(),
      caughtBy: 'round trip: text, hash, scope, vector and dates',
    },
    {
      broken: 'writes half a rejected batch',
      create: () => new PartialBatchVectorStore(),
      caughtBy: 'upsert: a batch with a wrong-length vector',
    },
    { broken: 'merges metadata on upsert', create: () => new MergesOnUpsertVectorStore(), caughtBy: 'upsert: the same id twice' },
    { broken: 'lists unordered and ignores after', create: () => new UnorderedListVectorStore(), caughtBy: 'list: ascending id order' },
    { broken: 'contains as an unescaped LIKE', create: () => new LikeContainsVectorStore(), caughtBy: 'filter: contains' },
    {
      broken: 'scope ids compared with an unescaped LIKE',
      create: () => new LikeScopeVectorStore(),
      caughtBy: 'scope: ids with quotes, unicode, wildcards',
    },
    {
      broken: 'filters after taking the top k',
      create: () => new PostFiltersTopKVectorStore(),
      caughtBy: 'query: topK counts only records matching the filter',
    },
    { broken: 'ignores an aborted signal on upsert', create: () => new IgnoresAbortVectorStore(), caughtBy: 'an already aborted signal' },
    {
      broken: 'accepts undeclared filter operators',
      create: () => new AcceptsUndeclaredOperatorsVectorStore(),
      caughtBy: 'filter: ne is the exact negation',
    },
  ])('$broken', async ({ create, caughtBy }) => {
    const failed = await failingCases(vectorStoreCases, runVectorStoreCase, create);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.some((name) => name.startsWith(caughtBy))).toBe(true);
  });
});

describe('the history store cases catch broken adapters', () => {
  it.each([
    {
      broken: 'appends half a batch on conflict',
      create: () => new HalfBatchHistoryStore(),
      caughtBy: 'append: a batch holding an already stored id',
    },
    {
      broken: 'lists newest first',
      create: () => new NewestFirstHistoryStore(),
      caughtBy: 'list returns the events of one memory oldest first',
    },
    { broken: 'stores null texts as empty strings', create: () => new NullAsEmptyHistoryStore(), caughtBy: 'round trip: every field' },
    {
      broken: 'lists pending events',
      create: () => new ListsPendingHistoryStore(),
      caughtBy: 'pending: appended events are not listed until settle commits them',
    },
    {
      broken: 'commits discarded events',
      create: () => new CommitsDiscardedHistoryStore(),
      caughtBy: 'settle: discard deletes pending events only',
    },
    {
      broken: 'keeps idempotency records by key only',
      create: () => new ScopelessIdempotencyHistoryStore(),
      caughtBy: 'idempotency records: exact scope',
    },
    {
      broken: 'returns expired idempotency records',
      create: () => new NeverExpiringIdempotencyHistoryStore(),
      caughtBy: 'idempotency records: a record is returned until expiresAt',
    },
  ])('$broken', async ({ create, caughtBy }) => {
    const failed = await failingCases(historyStoreCases, runHistoryStoreCase, create);
    expect(failed.some((name) => name.startsWith(caughtBy))).toBe(true);
  });
});

describe('the embedder and LLM cases catch broken adapters', () => {
  it('an embedder that reverses a batch', async () => {
    expect(await failingCases(embedderCases, runEmbedderCase, () => new ReversedBatchEmbedder())).toContain(
      'embed: vectors come back in the order of the texts',
    );
  });

  it('an embedder that ignores an aborted signal', async () => {
    expect(await failingCases(embedderCases, runEmbedderCase, () => new IgnoresAbortEmbedder())).toContain(
      'embed: an already aborted signal throws a MemError with code ABORTED',
    );
  });

  it('a reranker that scores positions instead of documents', async () => {
    expect(await failingCases(rerankerCases, runRerankerCase, () => new PositionalReranker())).toEqual([
      'rerank: a relevant document scores above an unrelated one, in either order',
      'rerank: a document scores the same alone and in a batch (scores follow the documents, not their positions)',
    ]);
  });

  it('a reranker that ignores an aborted signal', async () => {
    expect(await failingCases(rerankerCases, runRerankerCase, () => new IgnoresAbortReranker())).toEqual([
      'rerank: an already aborted signal throws a MemError with code ABORTED',
    ]);
  });

  it('an LLM that wraps JSON in a markdown fence', async () => {
    expect(await failingCases(llmCases, runLLMCase, fencedJsonLLM)).toEqual([
      'generate: responseFormat json returns JSON text matching the schema ({ facts: string[] })',
    ]);
  });

  it('an LLM that reports a cut-off answer as complete', async () => {
    expect(await failingCases(llmCases, runLLMCase, silentlyCutLLM)).toEqual([
      'generate: an answer cut off by maxTokens finishes with "length" and reports the limit it ran with',
    ]);
  });

  it('an LLM that throws an untyped error when aborted', async () => {
    expect(await failingCases(llmCases, runLLMCase, untypedAbortLLM)).toEqual([
      'generate: an already aborted signal throws a MemError with code ABORTED',
    ]);
  });
});
