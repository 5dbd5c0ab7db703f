import {
  MemError,
  evaluateFilter,
  scopeContains,
  type Filter,
  type FilterScalar,
  type MemoryRecord,
  type Metadata,
  type Scope,
} from '@mem/core/adapter';
import { describe, expect, it } from 'vitest';
import {
  PINECONE_FILTER_OPERATORS,
  assertNativeFilter,
  scopeToPineconeFilter,
  scopedPineconeFilter,
  toPineconeFilter,
} from './pinecone-filter';
import { encodeRecord } from './pinecone-record';
import { compileFilter } from './testing/pinecone-emulator-filter';

describe('toPineconeFilter', () => {
  it('maps metadata, scope and date fields to their stored keys', () => {
    expect(toPineconeFilter({ op: 'eq', field: 'category', value: 'food' })).toEqual({ category: { $eq: 'food' } });
    expect(toPineconeFilter({ op: 'eq', field: 'agentId', value: 'a1' })).toEqual({ _mem_agentId: { $eq: 'a1' } });
    expect(toPineconeFilter({ op: 'gte', field: 'occurredAt', value: 1_700_000_000_000 })).toEqual({
      _mem_occurredAt: { $gte: 1_700_000_000_000 },
    });
    // A user key that looks like mem's own keys is stored with the prefix doubled.
    expect(toPineconeFilter({ op: 'eq', field: '_mem_text', value: 'x' })).toEqual({ _mem__mem_text: { $eq: 'x' } });
    // text and hash are mem's record fields, not filter fields: a filter on them means user metadata.
    expect(toPineconeFilter({ op: 'eq', field: 'text', value: 'x' })).toEqual({ text: { $eq: 'x' } });
  });

  it('translates every native operator, nesting and/or', () => {
    const filter: Filter = {
      op: 'or',
      filters: [
        {
          op: 'and',
          filters: [
            { op: 'gt', field: 'rating', value: 3 },
            { op: 'lt', field: 'rating', value: 5 },
            { op: 'lte', field: 'n', value: 1 },
          ],
        },
        { op: 'in', field: 'tags', values: ['a', 'b', 'a'] },
      ],
    };
    expect(toPineconeFilter(filter)).toMatchInlineSnapshot(`
      {
        "$or": [
          {
            "$and": [
              {
                "rating": {
                  "$gt": 3,
                },
              },
              {
                "rating": {
                  "$lt": 5,
                },
              },
              {
                "n": {
                  "$lte": 1,
                },
              },
            ],
          },
          {
            "tags": {
              "$in": [
                "a",
                "b",
              ],
            },
          },
        ],
      }
    `);
  });

  it('sends booleans of in as $eq clauses, since Pinecone documents $in for strings and numbers only', () => {
    expect(toPineconeFilter({ op: 'in', field: 'vegan', values: [false] })).toEqual({ vegan: { $eq: false } });
    expect(toPineconeFilter({ op: 'in', field: 'flag', values: [true, 1, 'yes'] })).toEqual({
      $or: [{ flag: { $in: [1, 'yes'] } }, { flag: { $eq: true } }],
    });
  });

  it('keeps empty and/or/in exact: and [] matches everything, or [] and in [] nothing', () => {
    expect(toPineconeFilter({ op: 'and', filters: [] })).toEqual({ _mem_hash: { $exists: true } });
    expect(toPineconeFilter({ op: 'or', filters: [] })).toEqual({ _mem_hash: { $exists: false } });
    expect(toPineconeFilter({ op: 'in', field: 'x', values: [] })).toEqual({ _mem_hash: { $exists: false } });
  });

  it('rejects every operator Pinecone has no exact equivalent for, before anything is sent', () => {
    for (const filter of [
      { op: 'ne', field: 'a', value: 1 },
      { op: 'nin', field: 'a', values: [1] },
      { op: 'contains', field: 'a', value: 'x' },
      { op: 'not', filter: { op: 'eq', field: 'a', value: 1 } },
      {
        op: 'and',
        filters: [
          { op: 'eq', field: 'a', value: 1 },
          { op: 'or', filters: [{ op: 'ne', field: 'b', value: 2 }] },
        ],
      },
    ] satisfies Filter[]) {
      let thrown: unknown;
      try {
        assertNativeFilter(filter);
      } catch (error) {
        thrown = error;
      }
      expect(MemError.is(thrown, 'UNSUPPORTED_CAPABILITY'), JSON.stringify(filter)).toBe(true);
    }
    expect(() =>
      assertNativeFilter({
        op: 'and',
        filters: [
          { op: 'eq', field: 'a', value: 1 },
          { op: 'in', field: 'b', values: [1] },
        ],
      }),
    ).not.toThrow();
  });

  it('confines every call to its scope: each id the scope sets must be equal', () => {
    expect(scopeToPineconeFilter({ userId: 'u1' })).toEqual({ _mem_userId: { $eq: 'u1' } });
    expect(scopeToPineconeFilter({ userId: 'u1', runId: 'r' })).toEqual({
      $and: [{ _mem_userId: { $eq: 'u1' } }, { _mem_runId: { $eq: 'r' } }],
    });
    expect(scopedPineconeFilter({ agentId: 'a' }, { op: 'eq', field: 'k', value: true })).toEqual({
      $and: [{ _mem_agentId: { $eq: 'a' } }, { k: { $eq: true } }],
    });
  });
});

/**
 * Differential check: for random records and random filters over the native operators, the
 * translated filter under Pinecone's documented semantics (the emulator's evaluator) selects exactly
 * the records core's reference evaluator selects, scope included.
 */
describe('translation agrees with core evaluateFilter under Pinecone semantics', () => {
  const random = mulberry32(20_240_517);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const fields = ['category', 'rating', 'flag', 'tags', 'note', 'missing', 'userId', 'agentId', 'runId', 'createdAt', 'occurredAt'];
  const scalars: FilterScalar[] = [
    'food',
    'travel',
    'Food',
    '5',
    'true',
    5,
    3.5,
    -2,
    0,
    1,
    1_700_000_000_000,
    true,
    false,
    'u1',
    'u2',
    'a1',
    'r1',
    'x',
  ];
  const numbers = [-3, 0, 1, 3.5, 5, 1_000_000, 1_700_000_000_000, 1_700_000_000_500];

  function randomMetadata(): Metadata {
    const metadata: Record<string, string | number | boolean | string[]> = {};
    if (random() < 0.7) metadata['category'] = pick(['food', 'travel', 'Food', 'sport']);
    if (random() < 0.7) metadata['rating'] = random() < 0.8 ? pick([5, 3.5, -2, 0, 1_000_000]) : pick(['5', 'high']);
    if (random() < 0.6) metadata['flag'] = pick<string | number | boolean>([true, false, 1, 0, 'true']);
    if (random() < 0.6)
      metadata['tags'] = Array.from({ length: Math.floor(random() * 3) }, () => pick(['food', 'travel', 'x', '5', 'true']));
    if (random() < 0.4) metadata['note'] = pick(['tea', 'green tea', 'x']);
    return metadata;
  }

  function randomScope(): Scope {
    const scope: { userId?: string; agentId?: string; runId?: string } = {};
    if (random() < 0.8) scope.userId = pick(['u1', 'u2']);
    if (random() < 0.5) scope.agentId = pick(['a1', 'a2']);
    if (random() < 0.4 || Object.keys(scope).length === 0) scope.runId = pick(['r1', 'r2']);
    return scope;
  }

  function randomFilter(depth: number): Filter {
    const op = depth > 2 ? pick(['eq', 'in', 'gt', 'gte', 'lt', 'lte'] as const) : pick(PINECONE_FILTER_OPERATORS);
    switch (op) {
      case 'and':
      case 'or':
        return { op, filters: Array.from({ length: 1 + Math.floor(random() * 3) }, () => randomFilter(depth + 1)) };
      case 'eq':
        return { op, field: pick(fields), value: pick(scalars) };
      case 'in':
        return { op, field: pick(fields), values: Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(scalars)) };
      default:
        return { op, field: pick(fields), value: pick(numbers) };
    }
  }

  const records: MemoryRecord[] = Array.from({ length: 60 }, (_, index) => {
    const at = 1_700_000_000_000 + Math.floor(random() * 3) * 500;
    return {
      id: `r${index}`,
      vector: [1, 0],
      text: 'text',
      hash: 'hash',
      scope: randomScope(),
      metadata: randomMetadata(),
      createdAt: new Date(at),
      updatedAt: new Date(at),
      occurredAt: new Date(at + 500),
    };
  });
  const stored = records.map((record) => encodeRecord(record, 'record', 2));

  it('for 400 random filters in 5 scopes', () => {
    let selected = 0;
    for (let round = 0; round < 400; round++) {
      const filter = randomFilter(0);
      const scope = pick<Scope>([
        { userId: 'u1' },
        { userId: 'u2', agentId: 'a1' },
        { agentId: 'a2' },
        { runId: 'r1' },
        { userId: 'u1', agentId: 'a1', runId: 'r2' },
      ]);
      const predicate = compileFilter(scopedPineconeFilter(scope, filter));
      records.forEach((record, index) => {
        const expected = scopeContains(scope, record.scope) && evaluateFilter(filter, record);
        if (expected) selected++;
        expect(
          predicate(stored[index]!.metadata),
          `${JSON.stringify(filter)} in ${JSON.stringify(scope)} on ${JSON.stringify(record)}`,
        ).toBe(expected);
      });
    }
    // The generated cases select something (a generator that never matches would prove nothing).
    expect(selected).toBeGreaterThan(200);
  });
});

function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
