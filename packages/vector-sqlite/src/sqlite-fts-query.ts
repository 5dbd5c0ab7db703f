import { tokenize, type Scope } from '@mem/core';

/** Most distinct words of a keyword query that reach FTS5; the rest are ignored. */
export const MAX_KEYWORD_TERMS = 64;

/**
 * Turns user text into an FTS5 query that matches any of its words, or `undefined` when the text
 * holds no word. Words are split like core's BM25 (letters and digits, lowercased) and each one is
 * a quoted string, so user text is never read as FTS5 syntax: `"`, `*`, `-`, `NEAR`, `AND`, `OR`,
 * `NOT`, `:` and parentheses are either separators or plain words.
 */
export function toFtsQuery(text: string, scope?: Scope): string | undefined {
  const words = [...new Set(tokenize(text))].slice(0, MAX_KEYWORD_TERMS);
  if (words.length === 0) return undefined;
  // Words hold only letters and digits; doubling quotes keeps the quoting sound regardless.
  const anyWord = words.map((word) => `"${word.replaceAll('"', '""')}"`).join(' OR ');
  const scopeTerms = scope ? scopeTokenQuery(scope) : [];
  return scopeTerms.length === 0 ? anyWord : `${scopeTerms.join(' AND ')} AND text : (${anyWord})`;
}

/**
 * The scope column terms of a keyword query: `u`, `a` or `r` followed by the upper-case hex of the
 * id's UTF-8 bytes, the same token the index triggers write with SQLite's `hex()`. Hex digits are
 * letters and digits only, so an id can never be read as FTS5 syntax.
 */
export function scopeTokenQuery(scope: Scope): string[] {
  const terms: string[] = [];
  for (const [prefix, id] of [
    ['u', scope.userId],
    ['a', scope.agentId],
    ['r', scope.runId],
  ] as const) {
    if (id !== undefined) terms.push(`scope : "${prefix}${Buffer.from(id, 'utf8').toString('hex').toUpperCase()}"`);
  }
  return terms;
}
