// Shared by the vector store case files; not exported from the package.
import assert from 'node:assert/strict';
import {
  evaluateFilter,
  scopeContains,
  filterOperatorsUsed,
  type Filter,
  type MemoryRecord,
  type Scope,
  type VectorMatch,
  type VectorStore,
} from '@mem/core/adapter';
import { assertClose, sortedIds } from './assertions';
import type { VectorStoreCaseHelpers } from './vector-store-helpers';

/** Scores are compared with this tolerance: backends store float32 vectors. */
export const SCORE_TOLERANCE = 1e-3;
/** Vector components are compared with this tolerance. */
export const VECTOR_TOLERANCE = 1e-5;
/** Large enough to return every record a case writes (except the listing case). */
export const ALL = 100;

/** For eventually consistent stores: waits until every record can be read back in its own scope. */
export async function waitUntilVisible(
  store: VectorStore,
  helpers: VectorStoreCaseHelpers,
  records: readonly MemoryRecord[],
): Promise<void> {
  await helpers.eventually(async () => {
    for (const record of records) {
      const found = await store.get({ scope: record.scope, ids: [record.id] });
      assert.equal(found.length, 1, `record ${record.id} written in scope ${JSON.stringify(record.scope)} is not readable in that scope`);
    }
  });
}

/** Ids, sorted, of the records a call with `scope` and `filter` must see (core's reference semantics). */
export function expectedInScope(records: readonly MemoryRecord[], scope: Scope, filter?: Filter): string[] {
  return sortedIds(records.filter((record) => scopeContains(scope, record.scope) && (!filter || evaluateFilter(filter, record))));
}

/** Ids of matches, sorted, for set comparisons. */
export function matchIds(matches: readonly VectorMatch[]): string[] {
  return sortedIds(matches.map((match) => match.record));
}

/** `requires` of cases that need keyword search. */
export const needsKeywordSearch = (store: VectorStore) =>
  store.capabilities.keywordSearch ? undefined : 'needs capabilities.keywordSearch: true';
/** Asserts every field of a record read back equals what was written. */
export function assertRecordEqual(actual: MemoryRecord | undefined, expected: MemoryRecord, where: string): void {
  assert.ok(actual, `${where}: record ${expected.id} is missing`);
  assert.equal(actual.id, expected.id, `${where}: id`);
  assert.equal(actual.text, expected.text, `${where}: text of ${expected.id}`);
  assert.equal(actual.hash, expected.hash, `${where}: hash of ${expected.id}`);
  assert.deepEqual(definedOnly(actual.scope), definedOnly(expected.scope), `${where}: scope of ${expected.id}`);
  assert.deepEqual(actual.metadata, expected.metadata, `${where}: metadata of ${expected.id} (values and types must survive)`);
  for (const field of ['createdAt', 'updatedAt', 'occurredAt'] as const) {
    assert.ok(actual[field] instanceof Date, `${where}: ${field} of ${expected.id} must be a Date`);
    assert.equal(actual[field].getTime(), expected[field].getTime(), `${where}: ${field} of ${expected.id} at millisecond precision`);
  }
  assert.equal(actual.vector.length, expected.vector.length, `${where}: vector length of ${expected.id}`);
  expected.vector.forEach((value, index) =>
    assertClose(actual.vector[index]!, value, VECTOR_TOLERANCE, `${where}: vector[${index}] of ${expected.id}`),
  );
}

function definedOnly(scope: Scope): Scope {
  return Object.fromEntries(Object.entries(scope).filter(([, value]) => value !== undefined));
}

/** Asserts matches are in descending score order. */
export function assertSortedByScore(matches: readonly VectorMatch[], where: string): void {
  for (let index = 1; index < matches.length; index++) {
    assert.ok(
      matches[index - 1]!.score >= matches[index]!.score,
      `${where}: scores must be in descending order, got ${matches.map((match) => match.score).join(', ')}`,
    );
  }
}

/** The first of `candidates` (equivalent filters) whose operators the store declares, if any. */
export function pickFilter(store: VectorStore, candidates: readonly Filter[]): Filter | undefined {
  return candidates.find((candidate) => [...filterOperatorsUsed(candidate)].every((op) => store.capabilities.filterOperators.has(op)));
}

/** `requires` of cases that need one of several equivalent filters. */
export const needsOneOf = (candidates: readonly Filter[]) => (store: VectorStore) =>
  pickFilter(store, candidates)
    ? undefined
    : `needs one of the filter operators ${[...new Set(candidates.flatMap((candidate) => [...filterOperatorsUsed(candidate)]))].join(', ')} (rejection of undeclared operators is checked by the filter cases)`;
