import { InvalidInputError } from '@mem/core/adapter';

// PostgreSQL `text` and `jsonb` hold no U+0000, and a lone UTF-16 surrogate has no UTF-8 encoding.
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether PostgreSQL can store `value` as `text` or in `jsonb` unchanged (no U+0000, no lone UTF-16 surrogate). */
export function isStorableText(value: string): boolean {
  return !UNSTORABLE.test(value);
}

/** @throws {InvalidInputError} naming `field` when PostgreSQL cannot store `value` unchanged. */
export function checkStorableText(value: string, field: string): void {
  if (!isStorableText(value)) {
    throw new InvalidInputError(
      field,
      'the text holds U+0000 or a lone UTF-16 surrogate, which PostgreSQL cannot store',
      'Remove NUL characters and decode the text as UTF-8 first.',
    );
  }
}

/** A date's epoch milliseconds, as stored in `bigint` columns. @throws {InvalidInputError} naming `field` for an invalid date. */
export function epochMs(date: unknown, field: string): number {
  const ms = date instanceof Date ? date.getTime() : Number.NaN;
  if (!Number.isFinite(ms)) throw new InvalidInputError(field, 'expected a valid Date', 'Pass a Date such as new Date().');
  return ms;
}
