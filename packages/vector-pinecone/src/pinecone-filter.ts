import {
  InvalidInputError,
  SCOPE_FIELDS,
  UnsupportedCapabilityError,
  type Filter,
  type FilterOperator,
  type FilterScalar,
  type Scope,
} from '@mem/core/adapter';
import { PINECONE_PROVIDER, reservedKey, storedFilterKey } from './pinecone-record';

/**
 * The operators Pinecone evaluates exactly as core's `evaluateFilter` does, so the adapter declares
 * them in `capabilities.filterOperators`; core evaluates the others itself.
 *
 * - `eq` → `$eq`: type-strict on strings, numbers and booleans; on a list-of-strings field it matches
 *   when any element equals the value (Pinecone's documented list semantics, the same as core's).
 * - `in` → `$in` for strings and numbers. Pinecone documents `$in` for strings and numbers only, so
 *   boolean values become `$eq` clauses joined by `$or`.
 * - `gt`, `gte`, `lt`, `lte` → `$gt` …: numbers only on both sides; dates are stored as epoch-ms numbers.
 * - `and`, `or` → `$and`, `$or`.
 *
 * Left to core, because Pinecone's operator is not the exact negation core defines:
 * - `ne`, `nin`: core matches records that lack the field; Pinecone's `$ne`/`$nin` match only
 *   records that have it (since 2024), and their meaning on list fields is not documented.
 * - `not`: Pinecone has no `$not`.
 * - `contains`: Pinecone has no substring operator.
 */
export const PINECONE_FILTER_OPERATORS = ['eq', 'in', 'gt', 'gte', 'lt', 'lte', 'and', 'or'] as const satisfies readonly FilterOperator[];

/** A Pinecone metadata filter expression (`{ field: { $op: value } }`, `$and`, `$or`). */
export type PineconeFilter = { readonly [key: string]: unknown };

const NATIVE: ReadonlySet<FilterOperator> = new Set(PINECONE_FILTER_OPERATORS);

/** Matches every record mem wrote (each carries a hash). */
const MATCH_ALL: PineconeFilter = { [reservedKey('hash')]: { $exists: true } };
/** Matches no record mem wrote. */
const MATCH_NONE: PineconeFilter = { [reservedKey('hash')]: { $exists: false } };

/**
 * Translates a filter whose operators are all in {@link PINECONE_FILTER_OPERATORS}.
 *
 * @throws {UnsupportedCapabilityError} for any other operator (nothing has been sent yet).
 * @throws {InvalidInputError} for a range bound that is not a finite number.
 * @example
 * toPineconeFilter({ op: 'in', field: 'vegan', values: [true, 'yes'] })
 * // { $or: [{ vegan: { $in: ['yes'] } }, { vegan: { $eq: true } }] }
 */
export function toPineconeFilter(filter: Filter): PineconeFilter {
  switch (filter.op) {
    case 'and':
      if (filter.filters.length === 0) return MATCH_ALL;
      return filter.filters.length === 1 ? toPineconeFilter(filter.filters[0]!) : { $and: filter.filters.map(toPineconeFilter) };
    case 'or':
      if (filter.filters.length === 0) return MATCH_NONE;
      return filter.filters.length === 1 ? toPineconeFilter(filter.filters[0]!) : { $or: filter.filters.map(toPineconeFilter) };
    case 'eq':
      return { [storedFilterKey(filter.field)]: { $eq: checkScalar(filter.value, filter.field) } };
    case 'in':
      return translateIn(storedFilterKey(filter.field), filter.values, filter.field);
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      if (typeof filter.value !== 'number' || !Number.isFinite(filter.value)) {
        throw new InvalidInputError(
          `filter.${filter.field}.$${filter.op}`,
          'expected a finite number',
          'Range operators compare numbers and dates only.',
        );
      }
      return { [storedFilterKey(filter.field)]: { [`$${filter.op}`]: filter.value } };
    default:
      throw unsupported(filter.op);
  }
}

function translateIn(key: string, values: readonly FilterScalar[], field: string): PineconeFilter {
  const scalars = [...new Set(values.map((value) => checkScalar(value, field)))];
  const listable = scalars.filter((value) => typeof value !== 'boolean');
  const booleans = scalars.filter((value): value is boolean => typeof value === 'boolean');
  const parts: PineconeFilter[] = [
    ...(listable.length > 0 ? [{ [key]: { $in: listable } }] : []),
    ...booleans.map((value) => ({ [key]: { $eq: value } })),
  ];
  if (parts.length === 0) return MATCH_NONE;
  return parts.length === 1 ? parts[0]! : { $or: parts };
}

function checkScalar(value: FilterScalar, field: string): FilterScalar {
  if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) return value;
  throw new InvalidInputError(`filter.${field}`, 'expected a string, a finite number or a boolean', 'Compare against a scalar.');
}

/** The filter that confines a call to `scope`: every id the scope sets must be equal. */
export function scopeToPineconeFilter(scope: Scope): PineconeFilter {
  const parts = SCOPE_FIELDS.flatMap((key) => (scope[key] === undefined ? [] : [{ [reservedKey(key)]: { $eq: scope[key] } }]));
  if (parts.length === 0)
    throw new InvalidInputError('scope', 'no userId, agentId or runId was given', 'Pass at least one, e.g. { userId: "u1" }.');
  return parts.length === 1 ? parts[0]! : { $and: parts };
}

/** ANDs the scope filter with an optional user filter. */
export function scopedPineconeFilter(scope: Scope, filter: Filter | undefined): PineconeFilter {
  const scoped = scopeToPineconeFilter(scope);
  return filter ? { $and: [scoped, toPineconeFilter(filter)] } : scoped;
}

/**
 * Throws {@link UnsupportedCapabilityError} when `filter` uses an operator Pinecone does not evaluate
 * exactly; called before any request, so a rejected call changes nothing.
 */
export function assertNativeFilter(filter: Filter | undefined): void {
  if (!filter) return;
  const pending: Filter[] = [filter];
  while (pending.length > 0) {
    const current = pending.pop()!;
    if (!NATIVE.has(current.op)) throw unsupported(current.op);
    if (current.op === 'and' || current.op === 'or') pending.push(...current.filters);
  }
}

function unsupported(op: FilterOperator): UnsupportedCapabilityError {
  return new UnsupportedCapabilityError(
    PINECONE_PROVIDER,
    `the filter operator "${op}"`,
    'Pinecone has no exact equivalent; core evaluates it. Pass only operators listed in capabilities.filterOperators (Memory does this for you).',
  );
}
