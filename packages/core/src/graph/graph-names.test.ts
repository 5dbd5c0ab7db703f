import { describe, expect, it } from 'vitest';
import { normalizeEntityName, normalizeRelationName } from './graph-names';

describe('graph name normalisation', () => {
  it('makes spelling variants of one entity name equal, keeping punctuation, scripts and emoji', () => {
    expect(normalizeEntityName('  Dr.  Alice\tSmith ')).toBe('dr. alice smith');
    expect(normalizeEntityName('ＡＬＩＣＥ')).toBe('alice'); // full-width letters (NFKC)
    expect(normalizeEntityName(`O'Brien "}) DETACH`)).toBe(`o'brien "}) detach`);
    expect(normalizeEntityName('Zoë 🍣 東京')).toBe('zoë 🍣 東京');
    expect(normalizeEntityName('bad\uD800name')).toBe('bad\uFFFDname'); // a lone surrogate no store could encode
  });

  it('writes relation and type names in lower snake_case', () => {
    expect(normalizeRelationName('Works At')).toBe('works_at');
    expect(normalizeRelationName(' sister-of ')).toBe('sister_of');
    expect(normalizeRelationName('LIVES_IN')).toBe('lives_in');
  });
});
