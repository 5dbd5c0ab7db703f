import assert from 'node:assert/strict';
import {
  CATEGORIES_KEY,
  EXPIRES_AT_KEY,
  MEMORY_TYPE_KEY,
  andFilters,
  filterOperatorsUsed,
  notExpiredFilter,
  notProceduralFilter,
  type Filter,
  type MemoryRecord,
  type Scope,
  type VectorStore,
} from '@mem/core/adapter';
import { collect } from './assertions';
import { ALL, expectedInScope, matchIds, waitUntilVisible } from './vector-store-case-support';
import type { VectorStoreCase } from './vector-store-cases';
import type { VectorStoreCaseHelpers } from './vector-store-helpers';

/** The instant the candidate filter evaluates expiry at. */
const NOW = Date.UTC(2030, 0, 31, 12, 0, 0, 0);

/**
 * Records with and without the reserved keys core writes for procedural memories (`memoryType`)
 * and custom categories (`categories`, a string array), one expired, one of another user.
 */
function typedFixture(helpers: VectorStoreCaseHelpers): { scope: Scope; records: MemoryRecord[] } {
  const scope: Scope = { userId: 'typed-user' };
  const rows: { scope: Scope; metadata: MemoryRecord['metadata'] }[] = [
    { scope, metadata: { [MEMORY_TYPE_KEY]: 'procedural' } },
    { scope: { ...scope, agentId: 'agent-1' }, metadata: { [MEMORY_TYPE_KEY]: 'procedural', [CATEGORIES_KEY]: ['ops'] } },
    { scope, metadata: { [CATEGORIES_KEY]: ['food', 'health'] } },
    { scope, metadata: { [CATEGORIES_KEY]: ['travel'], note: 'food' } },
    { scope, metadata: {} },
    { scope, metadata: { [MEMORY_TYPE_KEY]: 'procedural', [EXPIRES_AT_KEY]: NOW - 1 } },
    { scope, metadata: { [CATEGORIES_KEY]: ['food'], [EXPIRES_AT_KEY]: NOW - 1 } },
    { scope: { userId: 'other-user' }, metadata: { [CATEGORIES_KEY]: ['food'] } },
    { scope: { userId: 'other-user' }, metadata: { [MEMORY_TYPE_KEY]: 'procedural' } },
  ];
  const records = rows.map((row, index) =>
    helpers.record({
      id: helpers.id(index + 1),
      scope: row.scope,
      metadata: row.metadata,
      text: `typed fixture ${index + 1} deploy`,
      vector: helpers.unitVector(index + 1),
    }),
  );
  return { scope, records };
}

/** Why a store cannot evaluate `filter` natively (Memory then evaluates it itself), or `undefined`. */
function needsOperatorsOf(filter: Filter) {
  return (store: VectorStore) => {
    const missing = [...filterOperatorsUsed(filter)].filter((op) => !store.capabilities.filterOperators.has(op));
    return missing.length === 0
      ? undefined
      : `declares no native ${missing.join(', ')}: Memory evaluates this filter itself (core's tests cover that path)`;
  };
}

/** Checks query, list and (with keyword search) keywordQuery with `filter` against core's evaluateFilter. */
async function checkTypedFilter(store: VectorStore, helpers: VectorStoreCaseHelpers, filter: Filter, what: string): Promise<void> {
  const { scope, records } = typedFixture(helpers);
  await helpers.write(records);
  await waitUntilVisible(store, helpers, records);
  const expected = expectedInScope(records, scope, filter);
  assert.ok(expected.length > 0 && expected.length < records.length, `fixture sanity: ${what} selects some records`);
  const queried = await store.query({ scope, vector: helpers.axis(0), topK: ALL, filter });
  assert.deepEqual(matchIds(queried), expected, `query with ${what}: ids differ from core's evaluateFilter`);
  const listed = await collect(store.list({ scope, filter }));
  assert.deepEqual(
    listed.map((record) => record.id),
    expected,
    `list with ${what}: ids differ from core's evaluateFilter (or are not in ascending order)`,
  );
  if (store.capabilities.keywordSearch) {
    const found = await helpers.eventually(async () => {
      const matches = await store.keywordQuery({ scope, text: 'deploy', topK: ALL, filter });
      assert.ok(matches.length > 0, `keywordQuery with ${what} found nothing`);
      return matches;
    });
    assert.deepEqual(matchIds(found), expected, `keywordQuery with ${what}: ids differ from core's evaluateFilter`);
  }
}

const PROCEDURAL: Filter = { op: 'eq', field: MEMORY_TYPE_KEY, value: 'procedural' };
const CANDIDATES = andFilters(notExpiredFilter(new Date(NOW)), notProceduralFilter())!;
const CATEGORY: Filter = { op: 'eq', field: CATEGORIES_KEY, value: 'food' };
const CATEGORIES_IN: Filter = { op: 'in', field: CATEGORIES_KEY, values: ['health', 'travel'] };

/**
 * Procedural memories and custom categories: core keeps a memory's type (`memoryType`) and its
 * categories (`categories`, a string array) in its metadata. A store that declares the operators
 * must evaluate the filters users and core write on them exactly as core does: the type filter
 * search uses, the filter `add` retrieves reconcile candidates with (not expired and not
 * procedural: records without the key match), and category filters on the array.
 */
export const MEMORY_TYPE_CASES: readonly VectorStoreCase[] = [
  {
    name: 'memory type: memoryType = procedural selects exactly the procedural memories',
    requires: needsOperatorsOf(PROCEDURAL),
    run: (store, helpers) => checkTypedFilter(store, helpers, PROCEDURAL, 'memoryType = procedural'),
  },
  {
    name: "memory type: add's candidate filter (not expired and not procedural) keeps records without the keys",
    requires: needsOperatorsOf(CANDIDATES),
    run: (store, helpers) => checkTypedFilter(store, helpers, CANDIDATES, 'not expired and not procedural'),
  },
  {
    name: 'categories: eq and in on the categories array match any element',
    requires: needsOperatorsOf({ op: 'and', filters: [CATEGORY, CATEGORIES_IN] }),
    run: async (store, helpers) => {
      await checkTypedFilter(store, helpers, CATEGORY, 'categories = food');
      // The same fixture again (same ids): the upsert changes nothing.
      await checkTypedFilter(store, helpers, CATEGORIES_IN, 'categories in [health, travel]');
    },
  },
];
