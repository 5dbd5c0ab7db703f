import { type Filter, MemError, parseFilter } from '@mem/core/adapter';
import { describe, expect, it } from 'vitest';
import { SqlParameters, filterToSql } from './postgres-filter';

function translate(filter: Filter): { sql: string; values: unknown[] } {
  const parameters = new SqlParameters();
  return { sql: filterToSql(filter, 'm', parameters), values: parameters.values };
}

describe('filterToSql', () => {
  it('binds every field name and value: hostile text never reaches the SQL', () => {
    const hostile = `x'); DROP TABLE memories; --`;
    const filter = parseFilter({
      $or: [
        { [`a.b-c_${'d'.repeat(10)}`]: hostile },
        { tags: { $contains: hostile } },
        { rating: { $gte: 3, $lt: 5 } },
        { userId: { $in: [hostile, 'u2'] } },
        { $not: { city: { $nin: ['Lisbon', 7, true] } } },
      ],
    });
    const { sql, values } = translate(filter);
    expect(sql).not.toContain('DROP');
    expect(sql).not.toContain('Lisbon');
    expect(sql).not.toContain('rating');
    const bound = values.flat();
    expect(bound).toContain(JSON.stringify({ [`a.b-c_${'d'.repeat(10)}`]: hostile }));
    expect(bound).toContain(hostile);
  });

  it('the SQL depends on the shape of the filter only, so statements are reusable', () => {
    const one = translate(parseFilter({ category: 'food', rating: { $gt: 2 } }));
    const two = translate(parseFilter({ topic: 'travel', stars: { $gt: 4.5 } }));
    expect(one.sql).toBe(two.sql);
    expect(one.values).not.toEqual(two.values);
  });

  it('comparisons that can never hold become constants (scope ids are strings; dates are numbers)', () => {
    expect(translate({ op: 'eq', field: 'userId', value: 3 }).sql).toBe('false');
    expect(translate({ op: 'ne', field: 'userId', value: true }).sql).toBe('true');
    expect(translate({ op: 'gt', field: 'agentId', value: 3 }).sql).toBe('false');
    expect(translate({ op: 'contains', field: 'createdAt', value: '2024' }).sql).toBe('false');
    expect(translate({ op: 'and', filters: [] }).sql).toBe('true');
    expect(translate({ op: 'or', filters: [] }).sql).toBe('false');
  });

  it('refuses malformed filters and strings PostgreSQL cannot compare, naming the path', () => {
    const bad: [unknown, string][] = [
      [{ op: 'eq', field: 'a b', value: 1 }, 'filter.field'],
      [{ op: 'eq', field: 'a', value: null }, 'filter.value'],
      [{ op: 'eq', field: 'a', value: 'x\u0000' }, 'filter.value'],
      [{ op: 'in', field: 'a', values: 'x' }, 'filter.values'],
      [{ op: 'gt', field: 'a', value: Number.NaN }, 'filter.value'],
      [{ op: 'contains', field: 'a', value: '\uD800' }, 'filter.value'],
      [{ op: 'near', field: 'a', value: 1 }, 'filter.op'],
      [{ op: 'and', filters: [{ op: 'eq', field: 'a', value: {} }] }, 'filter.filters[0].value'],
    ];
    for (const [filter, field] of bad) {
      expect(() => translate(filter as Filter), field).toThrow(
        expect.toSatisfy((error: unknown) => MemError.is(error, 'INVALID_INPUT') && (error as { field?: string }).field === field),
      );
    }
  });
});
