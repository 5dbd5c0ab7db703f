import { InvalidInputError } from '../contract/errors';

/** Longest entity or relation name core stores, in characters after normalisation. */
export const MAX_GRAPH_NAME_LENGTH = 256;

/**
 * The form in which core stores an entity name, so "Alice", " alice " and "ALICE" are one entity:
 * Unicode NFKC, whitespace collapsed to one space, trimmed, lower case. Stores compare the result
 * exactly. Returns `''` for a name of only whitespace.
 *
 * @example
 * normalizeEntityName('  Dr.  Alice\tSmith ') // 'dr. alice smith'
 */
export function normalizeEntityName(name: string): string {
  return wellFormed(name).normalize('NFKC').replace(/\s+/gu, ' ').trim().toLowerCase();
}

/** Replaces lone surrogates (which no store can encode) with U+FFFD. */
function wellFormed(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/**
 * The form in which core stores a relation or entity-type name: NFKC, lower case, runs of
 * whitespace and dashes turned into one `_`, e.g. "Works At" → `works_at`.
 */
export function normalizeRelationName(name: string): string {
  return wellFormed(name)
    .normalize('NFKC')
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/gu, '_');
}

/** Checks a normalised name's length. @throws {InvalidInputError} */
export function checkGraphName(name: string, field: string): string {
  if (name.length === 0 || name.length > MAX_GRAPH_NAME_LENGTH) {
    throw new InvalidInputError(
      field,
      `expected 1 to ${MAX_GRAPH_NAME_LENGTH} characters`,
      'Give a short name such as "alice" or "works_at".',
    );
  }
  return name;
}
