import { tokenize, type Scope } from '@mem/core/adapter';

/** Most distinct words of a keyword query that reach FTS5; the rest are ignored. */
export const MAX_KEYWORD_TERMS = 64;

/**
 * English function words left out of keyword queries: they match almost every memory, so they only
 * add noise to BM25 (question words such as "what" or "when" above all). The index keeps them, so a
 * query made only of such words still finds memories that hold them.
 */
export const KEYWORD_STOP_WORDS: ReadonlySet<string> = new Set(
  (
    'a about above after again against all am an and any are as at be because been before being below between both but by ' +
    'can could did do does doing down during each few for from further had has have having he her here hers herself him ' +
    'himself his how i if in into is it its itself just me more most my myself no nor not now of off on once only or other ' +
    'our ours ourselves out over own same she should so some such than that the their theirs them themselves then there ' +
    'these they this those through to too under until up very was we were what when where which while who whom why will ' +
    'with would you your yours yourself yourselves ever also s t d ll m re ve'
  ).split(' '),
);

/**
 * Turns user text into an FTS5 query that matches any of its words, or `undefined` when the text
 * holds no word. Words are split like core's BM25 (letters and digits, lowercased), stop words are
 * dropped (unless nothing else is left), and each word is a quoted string, so user text is never
 * read as FTS5 syntax: `"`, `*`, `-`, `NEAR`, `AND`, `OR`, `NOT`, `:` and parentheses are either
 * separators or plain words. FTS5 stems each quoted word with the index's Porter tokenizer, so
 * "researching" finds "researched".
 */
export function toFtsQuery(text: string, scope?: Scope): string | undefined {
  const anyWord = anyWordQuery(text);
  if (anyWord === undefined) return undefined;
  const scopeTerms = scope ? scopeTokenQuery(scope) : [];
  return scopeTerms.length === 0 ? anyWord : `${scopeTerms.join(' AND ')} AND text : (${anyWord})`;
}

/**
 * The words of {@link toFtsQuery} in the text column only, with no scope term: the same matches in the
 * text column and the same BM25 scores as the scoped query (the scope's column weighs 0), for a
 * caller that checks the scope itself. `undefined` when the text holds no word.
 */
export function toFtsTextQuery(text: string): string | undefined {
  const anyWord = anyWordQuery(text);
  return anyWord === undefined ? undefined : `text : (${anyWord})`;
}

/**
 * The words a keyword query over `text` looks for, in the order of its phrases: split like core's
 * BM25, deduplicated, stop words dropped unless nothing else is left, at most {@link MAX_KEYWORD_TERMS}.
 */
export function keywordQueryWords(text: string): string[] {
  const all = [...new Set(tokenize(text))];
  const content = all.filter((word) => !KEYWORD_STOP_WORDS.has(word));
  return (content.length > 0 ? content : all).slice(0, MAX_KEYWORD_TERMS);
}

/** The query's words (see keywordQueryWords) as quoted strings joined by OR. */
function anyWordQuery(text: string): string | undefined {
  const words = keywordQueryWords(text);
  if (words.length === 0) return undefined;
  // Words hold only letters and digits; doubling quotes keeps the quoting sound regardless.
  return words.map((word) => `"${word.replaceAll('"', '""')}"`).join(' OR ');
}

/**
 * The scope column terms of a keyword query: `u`, `a` or `r`, the upper-case hex of the id's UTF-8
 * bytes, then `0`; the same token the index triggers write with SQLite's `hex()`. Hex digits are
 * letters and digits only, so an id can never be read as FTS5 syntax. The final `0` keeps the
 * index's Porter stemmer off the token (it strips letter suffixes such as `e` and `ed`), so the
 * token is exactly the id's bytes.
 */
export function scopeTokenQuery(scope: Scope): string[] {
  const terms: string[] = [];
  for (const [prefix, id] of [
    ['u', scope.userId],
    ['a', scope.agentId],
    ['r', scope.runId],
  ] as const) {
    if (id !== undefined) terms.push(`scope : "${prefix}${Buffer.from(id, 'utf8').toString('hex').toUpperCase()}0"`);
  }
  return terms;
}
