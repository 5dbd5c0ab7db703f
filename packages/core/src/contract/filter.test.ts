import { describe, expect, it } from 'vitest';
import { MemError } from './errors';
import { evaluateFilter, parseFilter, splitFilter, type Filter } from './filter';
import type { MemoryRecord } from './types';

const record = (metadata: MemoryRecord['metadata'], extra: Partial<MemoryRecord> = {}): MemoryRecord => ({
  id: 'r',
  vector: [1],
  text: 't',
  hash: 'h',
  scope: { userId: 'u1', agentId: 'a1' },
  metadata,
  createdAt: new Date(1000),
  updatedAt: new Date(2000),
  occurredAt: new Date('2024-05-01T00:00:00Z'),
  ...extra,
});

describe('parseFilter', () => {
  it('turns the user syntax into the AST', () => {
    expect(parseFilter({ category: 'food', rating: { $gte: 3, $lt: 5 } })).toEqual({
      op: 'and',
      filters: [
        { op: 'eq', field: 'category', value: 'food' },
        { op: 'gte', field: 'rating', value: 3 },
        { op: 'lt', field: 'rating', value: 5 },
      ],
    });
    expect(parseFilter({ $or: [{ a: 1 }, { $not: { b: { $in: ['x', 'y'] } } }] })).toEqual({
      op: 'or',
      filters: [
        { op: 'eq', field: 'a', value: 1 },
        { op: 'not', filter: { op: 'in', field: 'b', values: ['x', 'y'] } },
      ],
    });
  });

  it('converts dates on date fields to epoch milliseconds', () => {
    expect(parseFilter({ occurredAt: { $gte: new Date('2024-05-01T00:00:00Z'), $lt: '2024-06-01T00:00:00Z' } })).toEqual({
      op: 'and',
      filters: [
        { op: 'gte', field: 'occurredAt', value: Date.parse('2024-05-01T00:00:00Z') },
        { op: 'lt', field: 'occurredAt', value: Date.parse('2024-06-01T00:00:00Z') },
      ],
    });
  });

  it.each([
    [{ "a'; DROP TABLE memories; --": 1 }, "filter.a'; DROP TABLE memories; --"],
    [{ a: { $gt: 'x' } }, 'filter.a.$gt'],
    [{ a: { $in: [] } }, 'filter.a.$in'],
    [{ a: [1, 2] }, 'filter.a'],
    [{ a: null }, 'filter.a'],
    [{ $and: {} }, 'filter.$and'],
    [{ $where: 'x' }, 'filter.$where'],
    [{}, 'filter'],
    [{ occurredAt: 'not a date' }, 'filter.occurredAt'],
    [{ a: { $contains: 3 } }, 'filter.a.$contains'],
  ])('rejects %j naming %s', (input, field) => {
    const error = (() => {
      try {
        parseFilter(input);
      } catch (e) {
        return e;
      }
    })();
    expect(MemError.is(error, 'INVALID_INPUT')).toBe(true);
    expect(error).toMatchObject({ field });
  });

  it('bounds the number of conditions', () => {
    const wide = { $or: Array.from({ length: 300 }, (_, i) => ({ [`k${i}`]: i })) };
    expect(() => parseFilter(wide)).toThrow(/more than 256 conditions/);
  });
});

describe('evaluateFilter (the reference semantics)', () => {
  const r = record({ city: 'Lisbon', n: 3, ok: true, tags: ['a', 'b'] });
  const cases: [unknown, boolean][] = [
    [{ city: 'Lisbon' }, true],
    [{ city: 'lisbon' }, false],
    [{ n: 3 }, true],
    [{ n: '3' }, false],
    [{ ok: true }, true],
    [{ ok: 1 }, false],
    [{ tags: 'a' }, true],
    [{ tags: { $in: ['z', 'b'] } }, true],
    [{ tags: { $nin: ['a'] } }, false],
    [{ missing: { $ne: 'x' } }, true],
    [{ missing: { $nin: ['x'] } }, true],
    [{ missing: 'x' }, false],
    [{ missing: { $gt: 0 } }, false],
    [{ city: { $gt: 0 } }, false],
    [{ n: { $gt: 2, $lte: 3 } }, true],
    [{ city: { $contains: 'isb' } }, true],
    [{ tags: { $contains: 'b' } }, true],
    [{ tags: { $contains: 'x' } }, false],
    [{ userId: 'u1' }, true],
    [{ runId: { $ne: 'r' } }, true],
    [{ createdAt: { $lt: 1500 } }, true],
    [{ occurredAt: { $gte: '2024-05-01T00:00:00Z' } }, true],
    [{ $not: { city: 'Lisbon' } }, false],
    [{ $or: [{ city: 'Porto' }, { n: 3 }] }, true],
  ];
  it.each(cases)('%j → %s', (input, expected) => {
    expect(evaluateFilter(parseFilter(input), r)).toBe(expected);
  });
});

describe('splitFilter', () => {
  const filter = parseFilter({ a: 1, b: { $contains: 'x' }, $or: [{ c: 1 }, { d: 2 }] });
  it('pushes down the conjuncts a store supports and keeps the rest for core', () => {
    const { native, residual } = splitFilter(filter, new Set(['eq', 'and']));
    expect(native).toEqual({ op: 'eq', field: 'a', value: 1 });
    expect(residual).toEqual({
      op: 'and',
      filters: [
        { op: 'contains', field: 'b', value: 'x' },
        {
          op: 'or',
          filters: [
            { op: 'eq', field: 'c', value: 1 },
            { op: 'eq', field: 'd', value: 2 },
          ],
        },
      ],
    });
  });
  it('keeps native AND residual equivalent to the filter', () => {
    const records = [
      record({ a: 1, b: 'xx', c: 1 }),
      record({ a: 1, b: 'yy', c: 1 }),
      record({ a: 2, b: 'xx', d: 2 }),
      record({ a: 1, b: 'x', d: 2 }),
    ];
    for (const supported of [new Set<never>(), new Set(['eq', 'and'] as const), new Set(['eq', 'or', 'and', 'contains'] as const)]) {
      const { native, residual } = splitFilter(filter, supported as ReadonlySet<Filter['op']>);
      for (const r of records) {
        const split = (!native || evaluateFilter(native, r)) && (!residual || evaluateFilter(residual, r));
        expect(split).toBe(evaluateFilter(filter, r));
      }
    }
  });
});
