import { describe, expect, it } from 'vitest';
import { hashText, uuidv7 } from './ids';

describe('uuidv7', () => {
  it('makes valid version 7 UUIDs that sort in creation order, even within one millisecond', () => {
    const ids = Array.from({ length: 5000 }, () => uuidv7(1_700_000_000_000));
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('hashText', () => {
  it('ignores surrounding whitespace and Unicode normalisation form', () => {
    expect(hashText(' Café ')).toBe(hashText('Cafe\u0301'));
    expect(hashText('a')).not.toBe(hashText('b'));
  });
});
