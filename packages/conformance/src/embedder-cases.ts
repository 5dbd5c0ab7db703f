import assert from 'node:assert/strict';
import { cosineSimilarity, type Embedder } from '@mem/core/adapter';
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

/** A conformance case for an {@link Embedder}. */
export type EmbedderCase = ConformanceCase<Embedder, CaseHelpers>;

/** The exact texts the embedder cases send, so a fake server can answer them from fixtures. */
export const embedderCaseTexts = {
  batch: ['The user is vegetarian.', 'The user lives in Lisbon.', 'The user plays the cello on weekends.'],
  repeated: 'The user prefers green tea over coffee.',
  unicode: ['Zoë loves 🍣 and 日本語 — “quotes”', 'مرحبا بالعالم', 'Ünïcödé\nnew line\ttab'],
} as const;

function assertVectors(vectors: unknown, count: number, where: string): number[][] {
  assert.ok(Array.isArray(vectors), `${where}: vectors must be an array`);
  assert.equal(vectors.length, count, `${where}: one vector per text`);
  const typed = vectors as unknown[];
  const length = Array.isArray(typed[0]) ? typed[0].length : -1;
  typed.forEach((vector, index) => {
    assert.ok(Array.isArray(vector), `${where}: vector ${index} must be an array of numbers`);
    assert.ok(vector.length > 0, `${where}: vector ${index} is empty`);
    assert.equal(vector.length, length, `${where}: vector ${index} has ${vector.length} dimensions, vector 0 has ${length}`);
    assert.ok(
      vector.every((value) => typeof value === 'number' && Number.isFinite(value)),
      `${where}: vector ${index} holds a value that is not a finite number`,
    );
    assert.ok(
      vector.some((value) => value !== 0),
      `${where}: vector ${index} is all zeros`,
    );
  });
  return typed as number[][];
}

/** Every embedder case, in the order the suite runs them. */
export const embedderCases: readonly EmbedderCase[] = [
  {
    name: 'embed: one finite, non-zero vector per text, all of one length, tokens ≥ 0',
    async run(embedder) {
      const result = await embedder.embed({ texts: embedderCaseTexts.batch, purpose: 'document' });
      assertVectors(result.vectors, embedderCaseTexts.batch.length, 'embed of 3 texts');
      assert.ok(Number.isFinite(result.tokens) && result.tokens >= 0, `tokens must be a number ≥ 0, got ${result.tokens}`);
    },
  },
  {
    name: 'embed: vectors come back in the order of the texts',
    async run(embedder) {
      const batch = assertVectors((await embedder.embed({ texts: embedderCaseTexts.batch, purpose: 'document' })).vectors, 3, 'batch');
      const singles: number[][] = [];
      for (const text of embedderCaseTexts.batch) {
        singles.push(assertVectors((await embedder.embed({ texts: [text], purpose: 'document' })).vectors, 1, 'single')[0]!);
      }
      batch.forEach((vector, index) => {
        const similarities = singles.map((single) => cosineSimilarity(vector, single));
        const best = similarities.indexOf(Math.max(...similarities));
        assert.equal(
          best,
          index,
          `batch vector ${index} is closest to the text embedded alone at position ${best}: the batch order is not the text order`,
        );
        assert.ok(
          similarities[index]! >= 0.99,
          `batch vector ${index} and the same text embedded alone have cosine ${similarities[index]}, expected ≥ 0.99`,
        );
      });
    },
  },
  {
    name: 'embed: the same text twice gives vectors with cosine ≥ 0.999',
    async run(embedder) {
      const first = assertVectors(
        (await embedder.embed({ texts: [embedderCaseTexts.repeated], purpose: 'query' })).vectors,
        1,
        'first call',
      );
      const second = assertVectors(
        (await embedder.embed({ texts: [embedderCaseTexts.repeated], purpose: 'query' })).vectors,
        1,
        'second call',
      );
      const inOneCall = assertVectors(
        (await embedder.embed({ texts: [embedderCaseTexts.repeated, embedderCaseTexts.repeated], purpose: 'query' })).vectors,
        2,
        'one call',
      );
      assert.ok(cosineSimilarity(first[0]!, second[0]!) >= 0.999, `two calls: cosine ${cosineSimilarity(first[0]!, second[0]!)}`);
      assert.ok(
        cosineSimilarity(inOneCall[0]!, inOneCall[1]!) >= 0.999,
        `one call: cosine ${cosineSimilarity(inOneCall[0]!, inOneCall[1]!)}`,
      );
    },
  },
  {
    name: 'embed: an empty list of texts returns an empty list of vectors',
    async run(embedder) {
      const result = await embedder.embed({ texts: [] });
      assert.deepEqual(result.vectors, [], 'vectors for no texts');
      assert.ok(Number.isFinite(result.tokens) && result.tokens >= 0, `tokens must be a number ≥ 0, got ${result.tokens}`);
    },
  },
  {
    name: 'embed: unicode and emoji texts work, with or without purpose',
    async run(embedder) {
      const documents = assertVectors(
        (await embedder.embed({ texts: embedderCaseTexts.unicode, purpose: 'document' })).vectors,
        3,
        'unicode documents',
      );
      const queries = assertVectors(
        (await embedder.embed({ texts: embedderCaseTexts.unicode, purpose: 'query' })).vectors,
        3,
        'unicode queries',
      );
      const unspecified = assertVectors((await embedder.embed({ texts: embedderCaseTexts.unicode })).vectors, 3, 'unicode without purpose');
      assert.equal(queries[0]!.length, documents[0]!.length, 'query and document vectors have one length');
      assert.equal(unspecified[0]!.length, documents[0]!.length, 'vectors without purpose have the same length');
    },
  },
  {
    name: 'embed: an already aborted signal throws a MemError with code ABORTED',
    async run(embedder) {
      const controller = new AbortController();
      controller.abort();
      await assertRejectsWithCode(
        () => embedder.embed({ texts: embedderCaseTexts.batch, signal: controller.signal }),
        'ABORTED',
        'embed with an aborted signal',
      );
    },
  },
];

/**
 * Runs one embedder case directly (outside `describeEmbedder`).
 *
 * @returns `{ status: 'passed' }`, or `{ status: 'skipped', reason }`.
 * @throws the case's assertion error when the embedder does not conform.
 */
export async function runEmbedderCase(testCase: EmbedderCase, embedder: Embedder, options: RunCaseOptions = {}): Promise<CaseOutcome> {
  return runPrepared(
    testCase,
    embedder,
    baseHelpers({ ...options, namespace: options.namespace ?? createNamespace(), consistency: 'immediate' }),
  );
}
