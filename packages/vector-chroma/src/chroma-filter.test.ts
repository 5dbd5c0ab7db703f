import { MemError, type Filter, type FilterOperator } from '@mem/core/adapter';
import { describe, expect, it } from 'vitest';
import { CHROMA_FILTER_OPERATORS, MATCH_NOTHING, allOf, filterToWhere, scopeToWhere } from './chroma-filter';

const rating = (op: 'gt' | 'gte' | 'lt' | 'lte', value: number): Filter => ({ op, field: 'rating', value });

describe('filterToWhere', () => {
  it('translates each range operator on a metadata key to the same Chroma operator on that key', () => {
    for (const op of ['gt', 'gte', 'lt', 'lte'] as const) {
      expect(filterToWhere(rating(op, 3.5))).toEqual({ rating: { [`$${op}`]: 3.5 } });
    }
  });

  it('reads date fields from their epoch-millisecond keys and scope fields from their mem: keys', () => {
    expect(filterToWhere({ op: 'gte', field: 'occurredAt', value: 1_714_521_600_000 })).toEqual({
      'mem:occurredAt': { $gte: 1_714_521_600_000 },
    });
    expect(filterToWhere({ op: 'lt', field: 'createdAt', value: 5 })).toEqual({ 'mem:createdAt': { $lt: 5 } });
    expect(filterToWhere({ op: 'lte', field: 'updatedAt', value: 5 })).toEqual({ 'mem:updatedAt': { $lte: 5 } });
    // A range on a scope id (a string) never matches, in core and in Chroma alike.
    expect(filterToWhere({ op: 'gt', field: 'userId', value: 1 })).toEqual({ 'mem:userId': { $gt: 1 } });
  });

  it('matches nothing for a field name no stored record can have', () => {
    expect(filterToWhere({ op: 'gt', field: 'mem:createdAt', value: 0 })).toEqual(MATCH_NOTHING);
    expect(filterToWhere({ op: 'gt', field: '$where', value: 0 })).toEqual(MATCH_NOTHING);
  });

  it('keeps and/or structure, drops one-element wrappers and flattens nested ands', () => {
    expect(filterToWhere({ op: 'and', filters: [rating('gt', 1)] })).toEqual({ rating: { $gt: 1 } });
    expect(filterToWhere({ op: 'or', filters: [rating('gt', 1)] })).toEqual({ rating: { $gt: 1 } });
    expect(
      filterToWhere({
        op: 'and',
        filters: [rating('gt', 1), { op: 'and', filters: [rating('lt', 9), { op: 'or', filters: [rating('lte', 2), rating('gte', 8)] }] }],
      }),
    ).toEqual({ $and: [{ rating: { $gt: 1 } }, { rating: { $lt: 9 } }, { $or: [{ rating: { $lte: 2 } }, { rating: { $gte: 8 } }] }] });
  });

  it('treats an empty and as "always" and an empty or as "never", like evaluateFilter', () => {
    expect(filterToWhere({ op: 'and', filters: [] })).toBeUndefined();
    expect(filterToWhere({ op: 'or', filters: [] })).toEqual(MATCH_NOTHING);
    // or(always, x) is always.
    expect(filterToWhere({ op: 'or', filters: [{ op: 'and', filters: [] }, rating('gt', 1)] })).toBeUndefined();
  });

  it('rejects every operator it does not declare with UNSUPPORTED_CAPABILITY, also when nested', () => {
    const undeclared: Filter[] = [
      { op: 'eq', field: 'category', value: 'food' },
      { op: 'ne', field: 'category', value: 'food' },
      { op: 'in', field: 'category', values: ['food'] },
      { op: 'nin', field: 'category', values: ['food'] },
      { op: 'contains', field: 'note', value: 'tea' },
      { op: 'not', filter: rating('gt', 1) },
    ];
    for (const filter of undeclared) {
      for (const wrapped of [
        filter,
        { op: 'and', filters: [rating('gt', 1), filter] },
        { op: 'or', filters: [{ op: 'and', filters: [filter] }] },
      ] as Filter[]) {
        let thrown: unknown;
        try {
          filterToWhere(wrapped);
        } catch (error) {
          thrown = error;
        }
        expect(MemError.is(thrown, 'UNSUPPORTED_CAPABILITY'), JSON.stringify(wrapped)).toBe(true);
        expect((thrown as Error).message).toContain(`"${filter.op}"`);
      }
    }
  });

  it('declares exactly the range operators, and and or', () => {
    expect([...CHROMA_FILTER_OPERATORS].sort()).toEqual((['and', 'gt', 'gte', 'lt', 'lte', 'or'] satisfies FilterOperator[]).sort());
  });

  it('rejects a non-finite range value, which JSON cannot carry', () => {
    expect(() => filterToWhere(rating('gt', Number.NaN))).toThrow(/Invalid filter\.rating\.\$gt/);
    expect(() => filterToWhere(rating('lt', Number.POSITIVE_INFINITY))).toThrow(/finite number/);
  });
});

describe('scopeToWhere', () => {
  it('requires equality on every id the scope sets, in mem: keys', () => {
    expect(scopeToWhere({ userId: 'u1' })).toEqual({ 'mem:userId': { $eq: 'u1' } });
    expect(scopeToWhere({ userId: 'u1', agentId: 'a', runId: 'r' })).toEqual({
      $and: [{ 'mem:userId': { $eq: 'u1' } }, { 'mem:agentId': { $eq: 'a' } }, { 'mem:runId': { $eq: 'r' } }],
    });
    expect(scopeToWhere({ agentId: 'a' })).toEqual({ 'mem:agentId': { $eq: 'a' } });
  });
});

describe('allOf', () => {
  it('flattens nested $and and skips absent parts', () => {
    expect(allOf([undefined, undefined])).toBeUndefined();
    expect(allOf([{ a: { $gt: 1 } }, undefined])).toEqual({ a: { $gt: 1 } });
    expect(allOf([{ $and: [{ a: { $gt: 1 } }, { b: { $gt: 1 } }] }, { c: { $lt: 1 } }])).toEqual({
      $and: [{ a: { $gt: 1 } }, { b: { $gt: 1 } }, { c: { $lt: 1 } }],
    });
  });
});
