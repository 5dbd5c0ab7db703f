import { tokenize } from '@mem/core';

/** Most distinct words of a keyword query that reach FTS5; the rest are ignored. */
export const MAX_KEYWORD_TERMS = 64;

/**
 * Turns user text into an FTS5 query that matches any of its words, or `undefined` when the text
 * holds no word. Words are split like core's BM25 (letters and digits, lowercased) and each one is
 * a quoted string, so user text is never read as FTS5 syntax: `"`, `*`, `-`, `NEAR`, `AND`, `OR`,
 * `NOT`, `:` and parentheses are either separators or plain words.
 */
export function toFtsQuery(text: string): string | undefined {
  const words = [...new Set(tokenize(text))].slice(0, MAX_KEYWORD_TERMS);
  if (words.length === 0) return undefined;
  // Words hold only letters and digits; doubling quotes keeps the quoting sound regardless.
  return words.map((word) => `"${word.replaceAll('"', '""')}"`).join(' OR ');
}
