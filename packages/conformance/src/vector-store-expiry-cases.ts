import assert from 'node:assert/strict';
import {
  EXPIRES_AT_KEY,
  expiredFilter,
  filterOperatorsUsed,
  notExpiredFilter,
  type Filter,
  type MemoryRecord,
  type Scope,
  type VectorStore,
} from '@mem/core/adapter';
import { collect } from './assertions';
import { ALL, expectedInScope, matchIds, pickFilter, waitUntilVisible } from './vector-store-case-support';
import type { VectorStoreCase } from './vector-store-cases';
import type { VectorStoreCaseHelpers } from './vector-store-helpers';

/** The instant the expiry cases evaluate at. */
const NOW = Date.UTC(2030, 0, 31, 12, 0, 0, 0);

/**
 * Records around `NOW`: expired long ago, expiring exactly at `NOW` (expired: expiry is inclusive),
 * one millisecond later (not expired), far in the future, without the key, and with values that are
 * not epoch milliseconds (a string, a boolean: never expired). One record of another user is expired
 * and one is not, so the filter never widens the scope.
 */
function expiryFixture(helpers: VectorStoreCaseHelpers): { scope: Scope; records: MemoryRecord[] } {
  const scope: Scope = { userId: 'expiry-user' };
  const rows: { scope: Scope; metadata: MemoryRecord['metadata'] }[] = [
    { scope, metadata: { [EXPIRES_AT_KEY]: NOW - 86_400_000 * 400, category: 'offer' } },
    { scope: { ...scope, agentId: 'agent-1' }, metadata: { [EXPIRES_AT_KEY]: NOW, category: 'offer' } },
    { scope, metadata: { [EXPIRES_AT_KEY]: NOW + 1, category: 'offer' } },
    { scope: { ...scope, runId: 'run-1' }, metadata: { [EXPIRES_AT_KEY]: Date.UTC(9999, 11, 31, 23, 59, 59, 999) } },
    { scope, metadata: { category: 'offer' } },
    { scope, metadata: {} },
    { scope, metadata: { [EXPIRES_AT_KEY]: '2020-01-01T00:00:00Z', category: 'note' } },
    { scope, metadata: { [EXPIRES_AT_KEY]: true } },
    { scope: { userId: 'other-user' }, metadata: { [EXPIRES_AT_KEY]: NOW - 1, category: 'offer' } },
    { scope: { userId: 'other-user' }, metadata: { category: 'offer' } },
  ];
  const records = rows.map((row, index) =>
    helpers.record({
      id: helpers.id(index + 1),
      scope: row.scope,
      metadata: row.metadata,
      text: `expiry fixture ${index + 1} offer`,
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
      : `declares no native ${missing.join(', ')}: Memory evaluates this expiry filter itself (core's tests cover that path)`;
  };
}

/** Checks query, list and (with keyword search) keywordQuery with `filter` against core's evaluateFilter. */
async function checkExpiryFilter(store: VectorStore, helpers: VectorStoreCaseHelpers, filter: Filter, what: string): Promise<void> {
  const { scope, records } = expiryFixture(helpers);
  await helpers.write(records);
  await waitUntilVisible(store, helpers, records);
  // Memory ANDs the expiry filter with the caller's: check it beside a metadata condition too.
  const category = pickFilter(store, [
    { op: 'eq', field: 'category', value: 'offer' },
    { op: 'in', field: 'category', values: ['offer'] },
  ]);
  const checks: [string, Filter][] = [[what, filter]];
  if (category) checks.push([`${what} AND category = offer`, { op: 'and', filters: [category, filter] }]);
  for (const [label, filtered] of checks) {
    const expected = expectedInScope(records, scope, filtered);
    assert.ok(expected.length > 0 && expected.length < records.length, `fixture sanity: ${label} selects some records`);
    const queried = await store.query({ scope, vector: helpers.axis(0), topK: ALL, filter: filtered });
    assert.deepEqual(matchIds(queried), expected, `query with ${label}: ids differ from core's evaluateFilter`);
    const listed = await collect(store.list({ scope, filter: filtered }));
    assert.deepEqual(
      listed.map((record) => record.id),
      expected,
      `list with ${label}: ids differ from core's evaluateFilter (or are not in ascending order)`,
    );
    if (store.capabilities.keywordSearch) {
      const found = await helpers.eventually(async () => {
        const matches = await store.keywordQuery({ scope, text: 'offer', topK: ALL, filter: filtered });
        assert.ok(matches.length > 0, `keywordQuery with ${label} found nothing`);
        return matches;
      });
      assert.deepEqual(matchIds(found), expected, `keywordQuery with ${label}: ids differ from core's evaluateFilter`);
    }
  }
}

const HIDE = notExpiredFilter(new Date(NOW));
const PURGE = expiredFilter(new Date(NOW));

/**
 * Expiring memories: core keeps a memory's expiry in its metadata (`expiresAt`, epoch milliseconds)
 * and hides or purges expired memories with two filters. A store that declares their operators must
 * evaluate them exactly as core does, including records without the key or with a value that is not
 * a number (never expired), and the boundary (a memory expiring at `now` has expired).
 */
export const EXPIRY_CASES: readonly VectorStoreCase[] = [
  {
    name: 'expiry: the filter search and getAll use (not expiresAt <= now) keeps exactly the unexpired records',
    requires: needsOperatorsOf(HIDE),
    run: (store, helpers) => checkExpiryFilter(store, helpers, HIDE, 'not expired'),
  },
  {
    name: 'expiry: the filter purgeExpired uses (expiresAt <= now) selects exactly the expired records',
    requires: needsOperatorsOf(PURGE),
    run: (store, helpers) => checkExpiryFilter(store, helpers, PURGE, 'expired'),
  },
];
