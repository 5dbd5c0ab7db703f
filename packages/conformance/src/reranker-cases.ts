import assert from 'node:assert/strict';
import type { Reranker } from '@mem/core/adapter';
import { assertRejectsWithCode } from './assertions';
import {
  baseHelpers,
  createNamespace,
  runPrepared,
  type CaseHelpers,
  type CaseOutcome,
  type ConformanceCase,
  type RunCaseOptions,
} from './case';

/** A conformance case for a {@link Reranker}. */
export type RerankerCase = ConformanceCase<Reranker, CaseHelpers>;

/**
 * The exact queries and documents the reranker cases send, so a fixture server can answer them.
 * Relevant and unrelated documents share no content word, so any relevance model separates them.
 */
export const rerankerCaseTexts = {
  query: 'green tea',
  relevant: 'The user likes green tea.',
  unrelated: 'My brother plays chess on monday.',
  batch: ['The user likes green tea.', 'My brother plays chess on monday.', 'She works in an office in Berlin.', 'The dog eats cheese.'],
  unicode: ['Zoë loves 🍣 and 日本語 — “quotes”', 'مرحبا بالعالم', 'Ünïcödé\nnew line\ttab'],
} as const;

function assertScores(scores: unknown, count: number, where: string): number[] {
  assert.ok(Array.isArray(scores), `${where}: rerank must return an array of scores`);
  assert.equal(scores.length, count, `${where}: one score per document`);
  (scores as unknown[]).forEach((score, index) =>
    assert.ok(typeof score === 'number' && Number.isFinite(score), `${where}: score ${index} is ${String(score)}, not a finite number`),
  );
  return scores as number[];
}

/** Every reranker case, in the order the suite runs them. */
export const rerankerCases: readonly RerankerCase[] = [
  {
    name: 'rerank: one finite score per document',
    async run(reranker) {
      assertScores(
        await reranker.rerank({ query: rerankerCaseTexts.query, documents: rerankerCaseTexts.batch }),
        4,
        'rerank of 4 documents',
      );
    },
  },
  {
    name: 'rerank: a relevant document scores above an unrelated one, in either order',
    async run(reranker) {
      const forward = assertScores(
        await reranker.rerank({ query: rerankerCaseTexts.query, documents: [rerankerCaseTexts.relevant, rerankerCaseTexts.unrelated] }),
        2,
        'relevant first',
      );
      const backward = assertScores(
        await reranker.rerank({ query: rerankerCaseTexts.query, documents: [rerankerCaseTexts.unrelated, rerankerCaseTexts.relevant] }),
        2,
        'relevant second',
      );
      assert.ok(forward[0]! > forward[1]!, `relevant first: ${forward[0]} is not above the unrelated document's ${forward[1]}`);
      assert.ok(backward[1]! > backward[0]!, `relevant second: ${backward[1]} is not above the unrelated document's ${backward[0]}`);
    },
  },
  {
    name: 'rerank: a document scores the same alone and in a batch (scores follow the documents, not their positions)',
    async run(reranker) {
      const batch = assertScores(
        await reranker.rerank({ query: rerankerCaseTexts.query, documents: rerankerCaseTexts.batch }),
        rerankerCaseTexts.batch.length,
        'batch',
      );
      for (const [index, document] of rerankerCaseTexts.batch.entries()) {
        const [alone] = assertScores(await reranker.rerank({ query: rerankerCaseTexts.query, documents: [document] }), 1, 'alone');
        const tolerance = 1e-3 * Math.max(1, Math.abs(alone!));
        assert.ok(
          Math.abs(alone! - batch[index]!) <= tolerance,
          `document ${index} scores ${batch[index]} in the batch but ${alone} alone: scores depend on the batch (padding or order)`,
        );
      }
    },
  },
  {
    name: 'rerank: no documents give no scores',
    async run(reranker) {
      assert.deepEqual(await reranker.rerank({ query: rerankerCaseTexts.query, documents: [] }), [], 'scores for no documents');
    },
  },
  {
    name: 'rerank: unicode, emoji and an empty document work',
    async run(reranker) {
      assertScores(
        await reranker.rerank({ query: rerankerCaseTexts.unicode[0], documents: [...rerankerCaseTexts.unicode, ''] }),
        4,
        'unicode',
      );
    },
  },
  {
    name: 'rerank: documents that are not strings are rejected with INVALID_INPUT',
    async run(reranker) {
      await assertRejectsWithCode(
        () => reranker.rerank({ query: rerankerCaseTexts.query, documents: [rerankerCaseTexts.relevant, 42 as unknown as string] }),
        'INVALID_INPUT',
        'rerank with a number among the documents',
      );
    },
  },
  {
    name: 'rerank: an already aborted signal throws a MemError with code ABORTED',
    async run(reranker) {
      const controller = new AbortController();
      controller.abort();
      await assertRejectsWithCode(
        () => reranker.rerank({ query: rerankerCaseTexts.query, documents: rerankerCaseTexts.batch, signal: controller.signal }),
        'ABORTED',
        'rerank with an aborted signal',
      );
    },
  },
];

/**
 * Runs one reranker case directly (outside `describeReranker`).
 *
 * @returns `{ status: 'passed' }`, or `{ status: 'skipped', reason }`.
 * @throws the case's assertion error when the reranker does not conform.
 */
export async function runRerankerCase(testCase: RerankerCase, reranker: Reranker, options: RunCaseOptions = {}): Promise<CaseOutcome> {
  return runPrepared(
    testCase,
    reranker,
    baseHelpers({ ...options, namespace: options.namespace ?? createNamespace(), consistency: 'immediate' }),
  );
}
