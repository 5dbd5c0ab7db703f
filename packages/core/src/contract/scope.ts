import { InvalidInputError } from './errors';
import { SCOPE_FIELDS, type Scope } from './types';
import { INPUT_LIMITS } from './validation';

/** Scope ids: 1–256 characters (`INPUT_LIMITS.maxIdLength`), no control characters, no lone UTF-16 surrogates. */
const MAX_SCOPE_ID_LENGTH = INPUT_LIMITS.maxIdLength;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;
/**
 * A lone surrogate is not text: stores encode it as U+FFFD, so two different ids ("\uD800",
 * "\uDBFF") would name one scope, and a memory would come back with another scope than it was given.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Validates a scope given by a caller and returns a copy holding only the ids that are set.
 *
 * @throws {InvalidInputError} when no id is set, or an id is not a non-empty string.
 */
export function validateScope(input: unknown, field = 'scope'): Scope {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidInputError(field, 'expected an object with userId, agentId or runId', 'Pass e.g. { scope: { userId: "u1" } }.');
  }
  const scope: { userId?: string; agentId?: string; runId?: string } = {};
  for (const key of Object.keys(input)) {
    if (!(SCOPE_FIELDS as readonly string[]).includes(key)) {
      throw new InvalidInputError(
        `${field}.${key}`,
        'unknown scope field',
        'A scope has only userId, agentId and runId; put other tags in metadata.',
      );
    }
  }
  for (const key of SCOPE_FIELDS) {
    const value = (input as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value.length === 0 || value.length > MAX_SCOPE_ID_LENGTH || CONTROL_CHARACTERS.test(value)) {
      throw new InvalidInputError(
        `${field}.${key}`,
        `expected a string of 1 to ${MAX_SCOPE_ID_LENGTH} printable characters`,
        'Pass an id such as "user-42".',
      );
    }
    if (LONE_SURROGATE.test(value)) {
      throw new InvalidInputError(
        `${field}.${key}`,
        'the id holds a lone UTF-16 surrogate (invalid Unicode)',
        'Decode the id as UTF-8 before passing it.',
      );
    }
    scope[key] = value;
  }
  if (Object.keys(scope).length === 0) {
    throw new InvalidInputError(field, 'no userId, agentId or runId was given', 'Pass at least one, e.g. { userId: "u1" }.');
  }
  return scope;
}

/** Tells whether a record's scope is inside the scope of a call: every id the call sets is equal. */
export function scopeContains(call: Scope, record: Scope): boolean {
  return SCOPE_FIELDS.every((key) => call[key] === undefined || call[key] === record[key]);
}

/** A stable string key for a scope, e.g. for locks. */
export function scopeKey(scope: Scope): string {
  return JSON.stringify(SCOPE_FIELDS.map((key) => scope[key] ?? null));
}
