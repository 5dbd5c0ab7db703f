import {
  FIELD_NAME_PATTERN,
  InvalidInputError,
  SCOPE_FIELDS,
  UnsupportedCapabilityError,
  fieldKind,
  type DateField,
  type Filter,
  type FilterOperator,
  type Scope,
  type ScopeField,
} from '@mem/core/adapter';
import type { Where } from 'chromadb';
import { CHROMA_KEYS } from './chroma-record-codec';

/**
 * The operators whose Chroma translation is exactly core's `evaluateFilter`, verified against a
 * Chroma 1.0 server:
 * - `gt`, `gte`, `lt`, `lte`: Chroma compares integers and floats with each other and never matches
 *   strings or booleans, like core (numbers and dates only). Dates are stored as epoch milliseconds.
 * - `and`, `or`: composition.
 *
 * Not declared, so core evaluates them on an over-fetched result:
 * - `eq`, `in`, `contains`: they must match an element of a string array, which Chroma 1.0 cannot
 *   store (arrays are JSON-encoded in one key; see chroma-record-codec.ts).
 * - `ne`, `nin`, `not`: the negations of the above. (Chroma ≥ 0.5.12's `$ne`/`$nin` do match records
 *   without the key, but the array case still breaks them, and `not` of a range has no Chroma form.)
 */
export const CHROMA_FILTER_OPERATORS: readonly FilterOperator[] = ['gt', 'gte', 'lt', 'lte', 'and', 'or'];

const NATIVE = new Set<FilterOperator>(CHROMA_FILTER_OPERATORS);

/** A clause no record matches: every record mem writes has a valid date, i.e. ≥ −8.64e15 ms. */
export const MATCH_NOTHING: Where = { [CHROMA_KEYS.createdAt]: { $lt: -8.64e15 } };

/** The Chroma metadata key a filter field reads, or `undefined` for a key no stored record can have. */
export function chromaKey(field: string): string | undefined {
  switch (fieldKind(field)) {
    case 'date':
      return CHROMA_KEYS[field as DateField];
    case 'scope':
      return CHROMA_KEYS[field as ScopeField];
    default:
      // Stored metadata keys always match the pattern (checked on upsert), so other names hold nothing.
      return FIELD_NAME_PATTERN.test(field) ? field : undefined;
  }
}

/**
 * Throws when `filter` uses an operator outside {@link CHROMA_FILTER_OPERATORS}; call before any request.
 *
 * @throws {UnsupportedCapabilityError} naming the first such operator.
 */
export function assertNativeFilter(filter: Filter | undefined): void {
  if (!filter) return;
  if (!NATIVE.has(filter.op)) {
    throw new UnsupportedCapabilityError(
      'chroma',
      `the filter operator "${filter.op}"`,
      'It is not in capabilities.filterOperators, so core evaluates it (Memory does this); do not pass it to ChromaVectorStore.',
    );
  }
  if (filter.op === 'and' || filter.op === 'or') for (const child of filter.filters) assertNativeFilter(child);
}

/**
 * Translates a filter into a Chroma `where` clause; `undefined` means "no condition".
 *
 * @throws {UnsupportedCapabilityError} for an operator outside {@link CHROMA_FILTER_OPERATORS}.
 * @example
 * filterToWhere({ op: 'gte', field: 'occurredAt', value: 1714521600000 })
 * // { 'mem:occurredAt': { $gte: 1714521600000 } }
 */
export function filterToWhere(filter: Filter): Where | undefined {
  assertNativeFilter(filter);
  return translate(filter);
}

function translate(filter: Filter): Where | undefined {
  switch (filter.op) {
    case 'and':
      return allOf(filter.filters.map(translate));
    case 'or': {
      // An empty child means "always true", which makes the whole `or` true.
      const children = filter.filters.map(translate);
      if (children.some((child) => child === undefined)) return undefined;
      if (children.length === 0) return MATCH_NOTHING;
      return children.length === 1 ? children[0] : { $or: children as Where[] };
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      if (typeof filter.value !== 'number' || !Number.isFinite(filter.value)) {
        throw new InvalidInputError(
          `filter.${filter.field}.$${filter.op}`,
          'expected a finite number',
          'Range operators compare numbers and dates only.',
        );
      }
      const key = chromaKey(filter.field);
      if (key === undefined) return MATCH_NOTHING;
      return { [key]: { [`$${filter.op}`]: filter.value } } as Where;
    }
    default:
      // assertNativeFilter ran first.
      throw new Error(`unreachable: ${filter.op}`);
  }
}

/** The clause restricting a call to its scope: every id the scope sets must be equal. */
export function scopeToWhere(scope: Scope): Where | undefined {
  return allOf(
    SCOPE_FIELDS.filter((field) => scope[field] !== undefined).map((field) => ({ [CHROMA_KEYS[field]]: { $eq: scope[field]! } }) as Where),
  );
}

/** ANDs clauses, flattening nested `$and`s; `undefined` parts are "no condition". chromadb rejects a one-element `$and`. */
export function allOf(parts: readonly (Where | undefined)[]): Where | undefined {
  const flat: Where[] = [];
  for (const part of parts) {
    if (part === undefined) continue;
    if ('$and' in part && Array.isArray(part.$and)) flat.push(...(part.$and as Where[]));
    else flat.push(part);
  }
  if (flat.length === 0) return undefined;
  return flat.length === 1 ? flat[0] : { $and: flat };
}
