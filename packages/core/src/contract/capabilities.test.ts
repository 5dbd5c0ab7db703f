import { describe, expect, it } from 'vitest';
import { defineVectorStoreCapabilities } from './capabilities';
import type { FilterOperator } from './filter';

describe('defineVectorStoreCapabilities', () => {
  it('fills the documented defaults and freezes the result', () => {
    const capabilities = defineVectorStoreCapabilities();
    expect([...capabilities.filterOperators]).toEqual(['eq', 'in', 'and']);
    expect(capabilities).toMatchObject({ maxUpsertBatch: 100, readAfterWrite: 'immediate', keywordSearch: false });
    expect(Object.isFrozen(capabilities)).toBe(true);
  });

  it('rejects an operator of the input syntax ("$eq") or an unknown one, naming the field and the valid operators', () => {
    for (const operator of ['$eq', 'regex', '']) {
      let caught: unknown;
      try {
        defineVectorStoreCapabilities({ filterOperators: ['eq', operator as FilterOperator] });
      } catch (error) {
        caught = error;
      }
      expect(caught).toMatchObject({ code: 'INVALID_INPUT', field: 'capabilities.filterOperators' });
      expect((caught as Error).message).toContain(JSON.stringify(operator));
      expect((caught as Error).message).toContain('eq, ne, in, nin, gt, gte, lt, lte, contains, and, or, not');
    }
  });
});
