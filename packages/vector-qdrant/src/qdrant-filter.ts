import {
  FIELD_NAME_PATTERN,
  InvalidInputError,
  SCOPE_FIELDS,
  UnsupportedCapabilityError,
  fieldKind,
  filterOperatorsUsed,
  type Filter,
  type FilterOperator,
  type FilterScalar,
  type Scope,
} from '@mem/core/adapter';
import type { Schemas } from '@qdrant/js-client-rest';
import { QDRANT_PROVIDER } from './qdrant-payload';

/** A Qdrant filter, as the REST API takes it. */
export type QdrantFilter = Schemas['Filter'];
/** One condition of a Qdrant filter: a field condition, an id condition or a nested filter. */
export type QdrantCondition = Schemas['Condition'];

/**
 * The operators Qdrant evaluates exactly as core's `evaluateFilter` does:
 * - `match: { value }` and `match: { any }` hit a scalar of the same type or any element of an array,
 *   like `eq` and `in`; `must_not` of them also holds for a missing field, like `ne` and `nin`.
 * - `range` only holds for numbers, like `gt`/`gte`/`lt`/`lte` (dates are stored as epoch ms).
 * - `must`, `should` and `must_not` are `and`, `or` and `not`.
 *
 * `contains` is left to core: Qdrant's `match: { text }` is token-based once a full-text index
 * exists (and substring-based before), and on an array it tests each element as text rather than
 * for equality, so it never equals "substring of a string, or element of an array".
 */
export const QDRANT_FILTER_OPERATORS = [
  'eq',
  'ne',
  'in',
  'nin',
  'gt',
  'gte',
  'lt',
  'lte',
  'and',
  'or',
  'not',
] as const satisfies readonly FilterOperator[];

const NATIVE = new Set<FilterOperator>(QDRANT_FILTER_OPERATORS);

/** A condition no point satisfies: an empty id set. */
const NEVER: QdrantCondition = { has_id: [] };
/** A condition every point satisfies. */
const ALWAYS: QdrantCondition = { must_not: [NEVER] };

/**
 * Rejects a filter using an operator Qdrant does not evaluate natively, before anything is sent.
 *
 * @throws {UnsupportedCapabilityError} naming the operator.
 */
export function checkNativeOperators(filter: Filter | undefined): void {
  if (!filter) return;
  for (const op of filterOperatorsUsed(filter)) {
    if (!NATIVE.has(op)) {
      throw new UnsupportedCapabilityError(
        QDRANT_PROVIDER,
        `the filter operator "${op}"`,
        'Core evaluates it itself; do not pass it to this store.',
      );
    }
  }
}

/**
 * The Qdrant filter selecting the records of `scope` that match `filter`: every scope id the call
 * sets is a `must` condition, ANDed with the translated filter.
 *
 * @throws {UnsupportedCapabilityError} when `filter` uses `contains`.
 * @throws {InvalidInputError} when a field name or value cannot be expressed.
 */
export function toQdrantFilter(scope: Scope, filter?: Filter, extra: readonly QdrantCondition[] = []): QdrantFilter {
  checkNativeOperators(filter);
  const must: QdrantCondition[] = scopeConditions(scope);
  if (filter?.op === 'and') must.push(...filter.filters.map((child, index) => toCondition(child, `filter.filters[${index}]`)));
  else if (filter) must.push(toCondition(filter, 'filter'));
  must.push(...extra);
  return { must };
}

/** One `match` condition per scope id the call sets. */
export function scopeConditions(scope: Scope): QdrantCondition[] {
  return SCOPE_FIELDS.filter((key) => scope[key] !== undefined).map((key) => ({ key, match: { value: scope[key]! } }));
}

/**
 * The payload key path of a filter field: scope ids and dates are top-level keys, metadata keys
 * live under `metadata`. Qdrant reads `.` as nesting, so a metadata key holding anything but
 * letters, digits, `_` and `-` is quoted (`metadata."a.b"`), which Qdrant's key syntax allows.
 */
export function payloadKey(field: string, path = 'filter.field'): string {
  if (fieldKind(field) !== 'metadata') return field;
  if (!FIELD_NAME_PATTERN.test(field)) {
    throw new InvalidInputError(
      path,
      'field names must be 1-64 letters, digits, "_", "-" or "." and start with a letter or "_"',
      'Rename the metadata key.',
    );
  }
  return /^[A-Za-z_-][A-Za-z0-9_-]*$/.test(field) ? `metadata.${field}` : `metadata."${field}"`;
}

/** Translates one node of a mem filter into a Qdrant condition. */
export function toCondition(filter: Filter, path = 'filter'): QdrantCondition {
  switch (filter.op) {
    case 'and':
      return filter.filters.length === 0
        ? ALWAYS
        : { must: filter.filters.map((child, index) => toCondition(child, `${path}.filters[${index}]`)) };
    case 'or':
      return filter.filters.length === 0
        ? NEVER
        : { should: filter.filters.map((child, index) => toCondition(child, `${path}.filters[${index}]`)) };
    case 'not':
      return { must_not: [toCondition(filter.filter, `${path}.filter`)] };
    case 'eq':
      return equals(payloadKey(filter.field, `${path}.field`), filter.value, `${path}.value`);
    case 'ne':
      return { must_not: [equals(payloadKey(filter.field, `${path}.field`), filter.value, `${path}.value`)] };
    case 'in':
      return anyOf(payloadKey(filter.field, `${path}.field`), filter.values, `${path}.values`);
    case 'nin':
      return { must_not: [anyOf(payloadKey(filter.field, `${path}.field`), filter.values, `${path}.values`)] };
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return { key: payloadKey(filter.field, `${path}.field`), range: { [filter.op]: finite(filter.value, `${path}.value`) } };
    default:
      throw new UnsupportedCapabilityError(
        QDRANT_PROVIDER,
        `the filter operator "${(filter as { op: string }).op}"`,
        'Core evaluates it itself; do not pass it to this store.',
      );
  }
}

/**
 * Equality with a scalar. Qdrant's `match: { value }` takes strings, booleans and 64-bit integers
 * and compares types strictly; a number with a fraction becomes the range `[v, v]`, which holds
 * exactly for numbers equal to `v` (and, like `match`, for any element of an array).
 */
function equals(key: string, value: FilterScalar, path: string): QdrantCondition {
  if (typeof value === 'string' || typeof value === 'boolean') return { key, match: { value } };
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) return { key, match: { value } };
    const number = finite(value, path);
    return { key, range: { gte: number, lte: number } };
  }
  throw new InvalidInputError(
    path,
    `expected a string, number or boolean, got ${value === null ? 'null' : typeof value}`,
    'Build filters with parseFilter.',
  );
}

/**
 * Membership. `match: { any }` takes a list of strings or a list of integers only, so strings and
 * integers each get one `any` and every other value its own equality, all ORed.
 */
function anyOf(key: string, values: readonly FilterScalar[], path: string): QdrantCondition {
  const strings = new Set<string>();
  const integers = new Set<number>();
  const others: QdrantCondition[] = [];
  const seenOthers = new Set<string>();
  values.forEach((value, index) => {
    if (typeof value === 'string') strings.add(value);
    else if (typeof value === 'number' && Number.isSafeInteger(value)) integers.add(value);
    else {
      const condition = equals(key, value, `${path}[${index}]`);
      const identity = JSON.stringify(condition);
      if (!seenOthers.has(identity)) {
        seenOthers.add(identity);
        others.push(condition);
      }
    }
  });
  const conditions: QdrantCondition[] = [];
  if (strings.size === 1) conditions.push({ key, match: { value: [...strings][0]! } });
  else if (strings.size > 1) conditions.push({ key, match: { any: [...strings] } });
  if (integers.size === 1) conditions.push({ key, match: { value: [...integers][0]! } });
  else if (integers.size > 1) conditions.push({ key, match: { any: [...integers] } });
  conditions.push(...others);
  if (conditions.length === 0) return NEVER;
  return conditions.length === 1 ? conditions[0]! : { should: conditions };
}

function finite(value: number, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidInputError(path, 'expected a finite number', 'Pass a number, or a date as epoch milliseconds.');
  }
  return value;
}
