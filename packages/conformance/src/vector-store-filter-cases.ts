import assert from 'node:assert/strict';
import {
  filterOperatorsUsed,
  type Filter,
  type FilterOperator,
  type MemoryRecord,
  type Metadata,
  type Scope,
  type VectorStore,
} from '@mem/core/adapter';
import { assertRejectsWithCode, collect } from './assertions';
import { ALL, expectedInScope, matchIds, waitUntilVisible } from './vector-store-case-support';
import type { VectorStoreCase } from './vector-store-cases';
import type { VectorStoreCaseHelpers } from './vector-store-helpers';

/** Records used by the filter cases: every value type, missing fields, look-alike types, scope and date fields. */
function filterFixture(helpers: VectorStoreCaseHelpers): { scope: Scope; records: MemoryRecord[] } {
  const scope: Scope = { userId: 'filter-user' };
  const day = 86_400_000;
  const base = Date.UTC(2024, 0, 1, 8, 0, 0, 0);
  const rows: { scope: Scope; metadata: Metadata }[] = [
    {
      scope: { userId: 'filter-user', agentId: 'agent-1' },
      metadata: { category: 'food', rating: 5, vegan: true, tags: ['travel', 'food'], note: 'likes green tea' },
    },
    {
      scope: { userId: 'filter-user', agentId: 'agent-2', runId: 'run-1' },
      metadata: { category: 'travel', rating: 3.5, vegan: false, tags: ['work'], note: 'Green Tea in Kyoto' },
    },
    {
      scope: { userId: 'filter-user' },
      metadata: { category: 'Food', rating: -2, count: 0, tags: ['food'], quote: `O'Reilly "books"`, pattern: 'plain' },
    },
    { scope: { userId: 'filter-user', runId: 'run-1' }, metadata: {} },
    // Look-alikes of other types: a string '5', a string 'true', the number 1 next to the boolean true.
    { scope: { userId: 'filter-user' }, metadata: { category: 'food', rating: '5', vegan: 'true', flag: 1 } },
    {
      scope: { userId: 'filter-user', agentId: 'agent-2' },
      metadata: { category: 'sport', rating: 1_000_000, vegan: true, flag: true, tags: ['travel'], pattern: '100% sure_thing' },
    },
    { scope: { userId: 'filter-user', agentId: 'agent-1' }, metadata: { rating: 4, note: 'tea', count: 12, 'source.app': 'mobile-app' } },
    // Another user with matching metadata: a filter never widens the call's scope.
    { scope: { userId: 'other-user' }, metadata: { category: 'food', rating: 5, vegan: true, tags: ['travel'], note: 'tea' } },
  ];
  const records = rows.map((row, index) =>
    helpers.record({
      id: helpers.id(index + 1),
      scope: row.scope,
      metadata: row.metadata,
      text: `filter fixture ${index + 1}`,
      vector: helpers.unitVector(index + 1),
      createdAt: new Date(base + index * day + index * 7),
      updatedAt: new Date(base + index * day + 3_600_000 + 123 * index),
      occurredAt: new Date(base - index * 1_000 + 456),
    }),
  );
  return { scope, records };
}

/** Filters for one operator. Each may also use other operators; unsupported ones must be rejected. */
function filtersFor(op: FilterOperator, records: readonly MemoryRecord[]): Filter[] {
  const ms = (index: number, field: 'createdAt' | 'updatedAt' | 'occurredAt') => records[index]![field].getTime();
  switch (op) {
    case 'eq':
      return [
        { op: 'eq', field: 'category', value: 'food' },
        { op: 'eq', field: 'category', value: 'nothing-has-this' },
        { op: 'eq', field: 'rating', value: 5 },
        { op: 'eq', field: 'rating', value: 3.5 },
        { op: 'eq', field: 'rating', value: 1_000_000 },
        { op: 'eq', field: 'vegan', value: true },
        { op: 'eq', field: 'vegan', value: false },
        { op: 'eq', field: 'flag', value: true },
        { op: 'eq', field: 'flag', value: 1 },
        { op: 'eq', field: 'tags', value: 'travel' },
        { op: 'eq', field: 'note', value: 'tea' },
        { op: 'eq', field: 'quote', value: `O'Reilly "books"` },
        // A key with a dot is one key, not a nested path.
        { op: 'eq', field: 'source.app', value: 'mobile-app' },
        { op: 'eq', field: 'agentId', value: 'agent-1' },
        { op: 'eq', field: 'runId', value: 'run-1' },
        { op: 'eq', field: 'userId', value: 'other-user' },
        { op: 'eq', field: 'createdAt', value: ms(2, 'createdAt') },
        { op: 'eq', field: 'occurredAt', value: ms(4, 'occurredAt') },
      ];
    case 'ne':
      return [
        { op: 'ne', field: 'category', value: 'food' },
        { op: 'ne', field: 'rating', value: 5 },
        { op: 'ne', field: 'vegan', value: true },
        { op: 'ne', field: 'flag', value: 1 },
        { op: 'ne', field: 'tags', value: 'travel' },
        { op: 'ne', field: 'agentId', value: 'agent-1' },
        { op: 'ne', field: 'runId', value: 'run-1' },
        { op: 'ne', field: 'createdAt', value: ms(0, 'createdAt') },
        { op: 'ne', field: 'nothing-has-this-key', value: 'x' },
      ];
    case 'in':
      return [
        { op: 'in', field: 'category', values: ['food', 'sport'] },
        { op: 'in', field: 'rating', values: [5, 4] },
        { op: 'in', field: 'vegan', values: [false] },
        { op: 'in', field: 'tags', values: ['work', 'food'] },
        { op: 'in', field: 'agentId', values: ['agent-2'] },
        { op: 'in', field: 'createdAt', values: [ms(1, 'createdAt'), ms(5, 'createdAt')] },
        { op: 'in', field: 'category', values: ['nothing-has-this'] },
        { op: 'in', field: 'quote', values: [`O'Reilly "books"`, "'; DROP TABLE x; --"] },
      ];
    case 'nin':
      return [
        { op: 'nin', field: 'category', values: ['food', 'travel'] },
        { op: 'nin', field: 'rating', values: [5, 3.5] },
        { op: 'nin', field: 'vegan', values: [true] },
        { op: 'nin', field: 'tags', values: ['travel'] },
        { op: 'nin', field: 'agentId', values: ['agent-1', 'agent-2'] },
        { op: 'nin', field: 'updatedAt', values: [ms(3, 'updatedAt')] },
      ];
    case 'gt':
      return [
        { op: 'gt', field: 'rating', value: 3.5 },
        { op: 'gt', field: 'rating', value: -1_000_000_000 },
        { op: 'gt', field: 'count', value: 0 },
        { op: 'gt', field: 'createdAt', value: ms(3, 'createdAt') },
      ];
    case 'gte':
      return [
        { op: 'gte', field: 'rating', value: 3.5 },
        { op: 'gte', field: 'count', value: 0 },
        { op: 'gte', field: 'createdAt', value: ms(3, 'createdAt') },
        { op: 'gte', field: 'occurredAt', value: ms(2, 'occurredAt') },
      ];
    case 'lt':
      return [
        { op: 'lt', field: 'rating', value: 0 },
        { op: 'lt', field: 'rating', value: 5 },
        { op: 'lt', field: 'updatedAt', value: ms(2, 'updatedAt') },
        { op: 'lt', field: 'count', value: 1 },
      ];
    case 'lte':
      return [
        { op: 'lte', field: 'rating', value: 5 },
        { op: 'lte', field: 'rating', value: -2 },
        { op: 'lte', field: 'updatedAt', value: ms(2, 'updatedAt') },
        { op: 'lte', field: 'occurredAt', value: ms(3, 'occurredAt') },
      ];
    case 'contains':
      return [
        { op: 'contains', field: 'note', value: 'tea' },
        { op: 'contains', field: 'note', value: 'Tea' },
        { op: 'contains', field: 'category', value: 'oo' },
        { op: 'contains', field: 'tags', value: 'travel' },
        { op: 'contains', field: 'quote', value: `O'R` },
        // Literal characters, not LIKE or regex wildcards.
        { op: 'contains', field: 'pattern', value: '%' },
        { op: 'contains', field: 'pattern', value: '_t' },
        { op: 'contains', field: 'pattern', value: '.*' },
        // An array field matches whole elements only.
        { op: 'contains', field: 'tags', value: 'trav' },
      ];
    case 'and':
      return [
        {
          op: 'and',
          filters: [
            { op: 'eq', field: 'category', value: 'food' },
            { op: 'in', field: 'rating', values: [5, 4] },
          ],
        },
        {
          op: 'and',
          filters: [
            { op: 'eq', field: 'vegan', value: true },
            { op: 'eq', field: 'agentId', value: 'agent-2' },
          ],
        },
        {
          op: 'and',
          filters: [
            { op: 'eq', field: 'category', value: 'food' },
            { op: 'eq', field: 'category', value: 'sport' },
          ],
        },
        {
          op: 'and',
          filters: [
            { op: 'gte', field: 'rating', value: 3.5 },
            { op: 'lt', field: 'rating', value: 100 },
          ],
        },
      ];
    case 'or':
      return [
        {
          op: 'or',
          filters: [
            { op: 'eq', field: 'category', value: 'sport' },
            { op: 'eq', field: 'rating', value: 3.5 },
          ],
        },
        {
          op: 'or',
          filters: [
            { op: 'in', field: 'tags', values: ['work'] },
            { op: 'eq', field: 'runId', value: 'run-1' },
          ],
        },
        {
          op: 'or',
          filters: [
            {
              op: 'and',
              filters: [
                { op: 'eq', field: 'category', value: 'food' },
                { op: 'eq', field: 'vegan', value: true },
              ],
            },
            { op: 'eq', field: 'note', value: 'tea' },
          ],
        },
      ];
    case 'not':
      return [
        { op: 'not', filter: { op: 'eq', field: 'category', value: 'food' } },
        { op: 'not', filter: { op: 'in', field: 'tags', values: ['travel', 'work'] } },
        { op: 'not', filter: { op: 'not', filter: { op: 'eq', field: 'vegan', value: true } } },
        {
          op: 'and',
          filters: [
            {
              op: 'or',
              filters: [
                { op: 'eq', field: 'agentId', value: 'agent-1' },
                { op: 'eq', field: 'agentId', value: 'agent-2' },
              ],
            },
            { op: 'not', filter: { op: 'eq', field: 'category', value: 'sport' } },
          ],
        },
      ];
  }
}

/** Checks one filter against the reference evaluator, or that the store rejects it when it uses an undeclared operator. */
async function checkFilter(
  store: VectorStore,
  helpers: VectorStoreCaseHelpers,
  scope: Scope,
  records: readonly MemoryRecord[],
  filter: Filter,
): Promise<void> {
  const used = [...filterOperatorsUsed(filter)];
  const unsupported = used.filter((op) => !store.capabilities.filterOperators.has(op));
  const label = JSON.stringify(filter);
  if (unsupported.length > 0) {
    const what = `filter ${label} uses ${unsupported.join(', ')}, which capabilities.filterOperators does not declare`;
    await assertRejectsWithCode(
      () => store.query({ scope, vector: helpers.axis(0), topK: ALL, filter }),
      'UNSUPPORTED_CAPABILITY',
      `query with ${what}`,
    );
    await assertRejectsWithCode(() => collect(store.list({ scope, filter })), 'UNSUPPORTED_CAPABILITY', `list with ${what}`);
    if (store.capabilities.keywordSearch) {
      await assertRejectsWithCode(
        () => store.keywordQuery({ scope, text: 'filter fixture', topK: ALL, filter }),
        'UNSUPPORTED_CAPABILITY',
        `keywordQuery with ${what}`,
      );
    }
    return;
  }
  const expected = expectedInScope(records, scope, filter);
  const queried = await store.query({ scope, vector: helpers.axis(0), topK: ALL, filter });
  assert.deepEqual(
    matchIds(queried),
    expected,
    `query with filter ${label} in scope ${JSON.stringify(scope)}: ids differ from core's evaluateFilter`,
  );
  const listed = await collect(store.list({ scope, filter }));
  assert.deepEqual(
    listed.map((record) => record.id),
    expected,
    `list with filter ${label} in scope ${JSON.stringify(scope)}: ids differ from core's evaluateFilter (or are not in ascending order)`,
  );
}

/** The case checking one operator (and rejection when it is undeclared) against core's `evaluateFilter`. */
export function filterCase(op: FilterOperator, title: string): VectorStoreCase {
  return {
    name: `filter: ${title}`,
    async run(store, helpers) {
      const { scope, records } = filterFixture(helpers);
      await helpers.write(records);
      await waitUntilVisible(store, helpers, records);
      for (const filter of filtersFor(op, records)) await checkFilter(store, helpers, scope, records, filter);
      // Rejecting a filter changes nothing.
      const listed = await collect(store.list({ scope }));
      assert.deepEqual(
        listed.map((record) => record.id),
        expectedInScope(records, scope),
        'records in scope after the filter checks',
      );
    },
  };
}
