import {
  FILTER_OPERATORS,
  evaluateFilter,
  type Filter,
  type FilterScalar,
  type MemoryRecord,
  type Metadata,
  type Scope,
} from '@mem/core/adapter';
import { describe, expect, it } from 'vitest';
import { QDRANT_FILTER_OPERATORS, checkNativeOperators, payloadKey, toCondition, toQdrantFilter } from './qdrant-filter';
import { toPoint } from './qdrant-payload';
import { matchesFilter } from './testing/qdrant-emulator-filter';

describe('toQdrantFilter', () => {
  it('ANDs every scope id of the call as a must condition, before the filter', () => {
    expect(toQdrantFilter({ userId: 'u1', runId: 'r1' }, { op: 'eq', field: 'category', value: 'food' })).toMatchInlineSnapshot(`
      {
        "must": [
          {
            "key": "userId",
            "match": {
              "value": "u1",
            },
          },
          {
            "key": "runId",
            "match": {
              "value": "r1",
            },
          },
          {
            "key": "metadata.category",
            "match": {
              "value": "food",
            },
          },
        ],
      }
    `);
  });

  it('flattens a top-level and into the must list and appends extra conditions last', () => {
    const filter: Filter = {
      op: 'and',
      filters: [
        { op: 'gt', field: 'rating', value: 3 },
        { op: 'lte', field: 'createdAt', value: 1_700_000_000_000 },
      ],
    };
    expect(toQdrantFilter({ agentId: 'a' }, filter, [{ has_id: ['018f0000-0000-7000-8000-000000000001'] }])).toMatchInlineSnapshot(`
      {
        "must": [
          {
            "key": "agentId",
            "match": {
              "value": "a",
            },
          },
          {
            "key": "metadata.rating",
            "range": {
              "gt": 3,
            },
          },
          {
            "key": "createdAt",
            "range": {
              "lte": 1700000000000,
            },
          },
          {
            "has_id": [
              "018f0000-0000-7000-8000-000000000001",
            ],
          },
        ],
      }
    `);
  });
});

describe('toCondition', () => {
  it('eq: match for strings, booleans and integers; the range [v, v] for fractions', () => {
    expect(toCondition({ op: 'eq', field: 'tag', value: 'x' })).toEqual({ key: 'metadata.tag', match: { value: 'x' } });
    expect(toCondition({ op: 'eq', field: 'vegan', value: false })).toEqual({ key: 'metadata.vegan', match: { value: false } });
    expect(toCondition({ op: 'eq', field: 'rating', value: -7 })).toEqual({ key: 'metadata.rating', match: { value: -7 } });
    expect(toCondition({ op: 'eq', field: 'rating', value: 3.5 })).toEqual({ key: 'metadata.rating', range: { gte: 3.5, lte: 3.5 } });
    // Beyond 2^53 an integer is no longer exact in JSON numbers: compared as a number range.
    expect(toCondition({ op: 'eq', field: 'big', value: 2 ** 60 })).toEqual({ key: 'metadata.big', range: { gte: 2 ** 60, lte: 2 ** 60 } });
  });

  it('ne and nin: must_not of eq and in, so a missing field matches', () => {
    expect(toCondition({ op: 'ne', field: 'userId', value: 'u' })).toEqual({ must_not: [{ key: 'userId', match: { value: 'u' } }] });
    expect(toCondition({ op: 'nin', field: 'tag', values: ['a', 'b'] })).toEqual({
      must_not: [{ key: 'metadata.tag', match: { any: ['a', 'b'] } }],
    });
  });

  it('in: one match.any per type Qdrant accepts (strings, integers), every other value on its own, ORed', () => {
    expect(toCondition({ op: 'in', field: 'v', values: ['a', 'b', 'a'] })).toEqual({ key: 'metadata.v', match: { any: ['a', 'b'] } });
    expect(toCondition({ op: 'in', field: 'v', values: [1, 2] })).toEqual({ key: 'metadata.v', match: { any: [1, 2] } });
    expect(toCondition({ op: 'in', field: 'v', values: ['a'] })).toEqual({ key: 'metadata.v', match: { value: 'a' } });
    expect(toCondition({ op: 'in', field: 'v', values: ['a', 'b', 1, 2, true, 2.5, true] })).toMatchInlineSnapshot(`
      {
        "should": [
          {
            "key": "metadata.v",
            "match": {
              "any": [
                "a",
                "b",
              ],
            },
          },
          {
            "key": "metadata.v",
            "match": {
              "any": [
                1,
                2,
              ],
            },
          },
          {
            "key": "metadata.v",
            "match": {
              "value": true,
            },
          },
          {
            "key": "metadata.v",
            "range": {
              "gte": 2.5,
              "lte": 2.5,
            },
          },
        ],
      }
    `);
  });

  it('and, or, not: nested filters with must, should, must_not; empty and/or are always/never', () => {
    const eq: Filter = { op: 'eq', field: 'a', value: 1 };
    expect(toCondition({ op: 'and', filters: [eq, eq] })).toEqual({ must: [toCondition(eq), toCondition(eq)] });
    expect(toCondition({ op: 'or', filters: [eq] })).toEqual({ should: [toCondition(eq)] });
    expect(toCondition({ op: 'not', filter: eq })).toEqual({ must_not: [toCondition(eq)] });
    expect(toCondition({ op: 'or', filters: [] })).toEqual({ has_id: [] });
    expect(toCondition({ op: 'and', filters: [] })).toEqual({ must_not: [{ has_id: [] }] });
  });

  it('rejects what Qdrant cannot express exactly', () => {
    expect(() => toCondition({ op: 'gt', field: 'rating', value: Number.POSITIVE_INFINITY })).toThrow(
      /Invalid filter.value: expected a finite number/,
    );
    expect(() => toCondition({ op: 'eq', field: 'bad"key', value: 1 })).toThrow(/Invalid filter.field/);
    expect(() => toCondition({ op: 'contains', field: 'note', value: 'tea' })).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED_CAPABILITY' }),
    );
  });
});

describe('payloadKey', () => {
  it('keeps scope and date fields top-level, nests metadata, and quotes keys Qdrant would split', () => {
    expect(payloadKey('userId')).toBe('userId');
    expect(payloadKey('occurredAt')).toBe('occurredAt');
    expect(payloadKey('rating')).toBe('metadata.rating');
    expect(payloadKey('with-dash_1')).toBe('metadata.with-dash_1');
    expect(payloadKey('source.app')).toBe('metadata."source.app"');
    expect(() => payloadKey('9lives')).toThrow(/Invalid filter.field/);
  });
});

describe('checkNativeOperators', () => {
  it('declares every operator but contains, and rejects contains anywhere in the tree', () => {
    expect(new Set(QDRANT_FILTER_OPERATORS)).toEqual(new Set(FILTER_OPERATORS.filter((op) => op !== 'contains')));
    const nested: Filter = {
      op: 'or',
      filters: [
        { op: 'eq', field: 'a', value: 1 },
        { op: 'not', filter: { op: 'contains', field: 'b', value: 'x' } },
      ],
    };
    expect(() => checkNativeOperators(nested)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_CAPABILITY' }));
    expect(() => checkNativeOperators({ op: 'nin', field: 'a', values: [1] })).not.toThrow();
  });
});

// ---------------------------------------------------------------------------------------------
// Semantics: the translated filter, evaluated with Qdrant's rules (the emulator's filter model),
// selects exactly the records core's reference evaluateFilter selects.

const metadataRows: Metadata[] = [
  { category: 'food', rating: 5, vegan: true, tags: ['travel', 'food'], note: 'likes green tea' },
  { category: 'travel', rating: 3.5, vegan: false, tags: ['work'], note: 'Green Tea in Kyoto' },
  { category: 'Food', rating: -2, count: 0, tags: ['food'] },
  {},
  { category: 'food', rating: '5', vegan: 'true', flag: 1 },
  { category: 'sport', rating: 1_000_000, vegan: true, flag: true, tags: ['travel', '5'] },
  { rating: 4, note: 'tea', count: 12, 'source.app': 'mobile-app', tiny: 1.5e-7 },
  { rating: 2 ** 60, count: -0.5, tags: ['true', '1'] },
];
const scopes: Scope[] = [{ userId: 'u' }, { userId: 'u', agentId: 'a1' }, { agentId: 'a2', runId: 'r1' }, { runId: 'r1' }];

const records: MemoryRecord[] = metadataRows.map((metadata, index) => {
  const time = Date.UTC(2024, 0, 1) + index * 86_400_007;
  return {
    id: `018f0000-0000-7000-8000-${String(index).padStart(12, '0')}`,
    vector: [1, 0],
    text: `record ${index}`,
    hash: 'h',
    scope: scopes[index % scopes.length]!,
    metadata,
    createdAt: new Date(time),
    updatedAt: new Date(time + 1),
    occurredAt: new Date(time - 999),
  };
});

const fields = [
  'category',
  'rating',
  'vegan',
  'tags',
  'note',
  'flag',
  'count',
  'source.app',
  'tiny',
  'missing',
  'userId',
  'agentId',
  'runId',
  'createdAt',
  'updatedAt',
];
const values: FilterScalar[] = [
  'food',
  'Food',
  'travel',
  'tea',
  '5',
  'true',
  '1',
  'a1',
  'r1',
  'u',
  5,
  3.5,
  -2,
  0,
  1,
  4,
  1_000_000,
  2 ** 60,
  1.5e-7,
  -0.5,
  true,
  false,
];
const numbers = [
  -1e9,
  -2,
  -0.5,
  0,
  1.5e-7,
  1,
  3.5,
  4,
  5,
  1_000_000,
  2 ** 60,
  records[2]!.createdAt.getTime(),
  records[5]!.updatedAt.getTime(),
];

function leafFilters(): Filter[] {
  const filters: Filter[] = [];
  for (const field of fields) {
    for (const value of values) filters.push({ op: 'eq', field, value }, { op: 'ne', field, value });
    for (let index = 0; index + 2 < values.length; index += 2) {
      const chosen = [values[index]!, values[index + 1]!, values[(index * 7 + 3) % values.length]!];
      filters.push({ op: 'in', field, values: chosen }, { op: 'nin', field, values: chosen });
    }
    for (const value of numbers) for (const op of ['gt', 'gte', 'lt', 'lte'] as const) filters.push({ op, field, value });
  }
  return filters;
}

/** Deterministic compositions of leaves, up to depth 3. */
function composedFilters(leaves: readonly Filter[], count: number): Filter[] {
  let state = 12_345;
  const next = (limit: number) => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state % limit;
  };
  const build = (depth: number): Filter => {
    const choice = depth === 0 ? 3 : next(4);
    if (choice === 0) return { op: 'and', filters: Array.from({ length: 1 + next(3) }, () => build(depth - 1)) };
    if (choice === 1) return { op: 'or', filters: Array.from({ length: 1 + next(3) }, () => build(depth - 1)) };
    if (choice === 2) return { op: 'not', filter: build(depth - 1) };
    return leaves[next(leaves.length)]!;
  };
  return Array.from({ length: count }, () => build(3));
}

function qdrantSelects(filter: Filter, scope: Scope, record: MemoryRecord): boolean {
  const point = toPoint(record);
  return matchesFilter(toQdrantFilter(scope, filter), { id: point.id, payload: point.payload as unknown as Record<string, unknown> });
}

function referenceSelects(filter: Filter, scope: Scope, record: MemoryRecord): boolean {
  const inScope = Object.entries(scope).every(([key, value]) => record.scope[key as keyof Scope] === value);
  return inScope && evaluateFilter(filter, record);
}

describe('translation agrees with evaluateFilter under Qdrant semantics', () => {
  const leaves = leafFilters();
  const cases: [string, Filter[]][] = [
    ['every leaf operator over every field and value type', leaves],
    ['400 nested and/or/not compositions', composedFilters(leaves, 400)],
  ];
  it.each(cases)('%s', (_, filters) => {
    const disagreements: string[] = [];
    for (const filter of filters) {
      for (const scope of [{ userId: 'u' }, { runId: 'r1' }] satisfies Scope[]) {
        for (const record of records) {
          if (qdrantSelects(filter, scope, record) !== referenceSelects(filter, scope, record)) {
            disagreements.push(`${JSON.stringify(filter)} on record ${record.text} in ${JSON.stringify(scope)}`);
          }
        }
      }
    }
    expect(filters.length).toBeGreaterThan(100);
    expect(disagreements.slice(0, 5)).toEqual([]);
  });
});
