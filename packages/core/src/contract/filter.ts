import { InvalidInputError } from './errors';
import { denseItems } from './dense-array';
import { DATE_FIELDS, EXPIRES_AT_KEY, MEMORY_TYPE_KEY, SCOPE_FIELDS, type DateField, type MemoryRecord, type ScopeField } from './types';

/** A scalar a filter compares against. */
export type FilterScalar = string | number | boolean;

/** Every operator of the filter language. */
export const FILTER_OPERATORS = ['eq', 'ne', 'in', 'nin', 'gt', 'gte', 'lt', 'lte', 'contains', 'and', 'or', 'not'] as const;
export type FilterOperator = (typeof FILTER_OPERATORS)[number];

/**
 * A parsed, validated filter: what adapters receive. Build one from user input with {@link parseFilter}.
 *
 * Semantics (the reference is {@link evaluateFilter}; every adapter must agree with it):
 * - A field is a metadata key, a date field (`createdAt`, `updatedAt`, `occurredAt`, compared as epoch
 *   milliseconds) or a scope field (`userId`, `agentId`, `runId`). Scope fields only narrow: the call's
 *   scope always applies as well. `expiresAt` is a metadata key holding epoch milliseconds
 *   ({@link EXPIRES_AT_KEY}); {@link parseFilter} reads dates for it like for the date fields.
 * - `eq` and `in` match a scalar field of the same type and value, or an array field with any element
 *   that matches. A missing field never matches them.
 * - `ne` and `nin` are their exact negations, so they match missing fields.
 * - `gt`, `gte`, `lt`, `lte` match numeric (and date) fields only.
 * - `contains` matches a string field containing the value (case-sensitive) or an array field with the
 *   value as an element.
 * - `and`, `or`, `not` combine filters.
 */
export type Filter =
  | { readonly op: 'and' | 'or'; readonly filters: readonly Filter[] }
  | { readonly op: 'not'; readonly filter: Filter }
  | { readonly op: 'eq' | 'ne'; readonly field: string; readonly value: FilterScalar }
  | { readonly op: 'in' | 'nin'; readonly field: string; readonly values: readonly FilterScalar[] }
  | { readonly op: 'gt' | 'gte' | 'lt' | 'lte'; readonly field: string; readonly value: number }
  | { readonly op: 'contains'; readonly field: string; readonly value: string };

/** A filter leaf, i.e. a filter that names a field. */
export type FieldFilter = Extract<Filter, { readonly field: string }>;

type InputScalar = FilterScalar | Date;

/** Operators a field may carry in {@link FilterInput}. */
export interface FieldOperators {
  readonly $eq?: InputScalar;
  readonly $ne?: InputScalar;
  readonly $in?: readonly InputScalar[];
  readonly $nin?: readonly InputScalar[];
  readonly $gt?: number | Date | string;
  readonly $gte?: number | Date | string;
  readonly $lt?: number | Date | string;
  readonly $lte?: number | Date | string;
  readonly $contains?: string;
}

/**
 * The filter syntax users write, in the style of MongoDB, Chroma and Pinecone.
 *
 * @example
 * { category: 'food' }                                   // equality
 * { rating: { $gte: 3, $lt: 5 } }                         // several operators on one field: all must hold
 * { $or: [{ city: 'Lisbon' }, { tags: { $contains: 'travel' } }] }
 * { occurredAt: { $gte: new Date('2024-05-01') } }        // dates: Date, ISO string or epoch ms
 */
export interface FilterInput {
  readonly $and?: readonly FilterInput[];
  readonly $or?: readonly FilterInput[];
  readonly $not?: FilterInput;
  readonly [field: string]: InputScalar | FieldOperators | readonly FilterInput[] | FilterInput | undefined;
}

/** Limits that keep a filter cheap to evaluate and safe to translate. */
export const FILTER_LIMITS = { maxDepth: 8, maxNodes: 256, maxValues: 1000, maxStringLength: 1024 } as const;

/** Metadata keys: letters, digits, `_`, `-`, `.`; 1–64 characters; starts with a letter or `_`. */
export const FIELD_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

/** Whether `field` is a date field, a scope field or a metadata key. */
export function fieldKind(field: string): 'date' | 'scope' | 'metadata' {
  if ((DATE_FIELDS as readonly string[]).includes(field)) return 'date';
  if ((SCOPE_FIELDS as readonly string[]).includes(field)) return 'scope';
  return 'metadata';
}

const FIELD_OPS = new Set(['$eq', '$ne', '$in', '$nin', '$gt', '$gte', '$lt', '$lte', '$contains']);

/**
 * Validates user filter input and turns it into a {@link Filter}.
 *
 * @throws {InvalidInputError} naming the offending path, e.g. `filter.$or[1].rating.$gt`.
 * @example
 * parseFilter({ rating: { $gte: 3 } }) // { op: 'gte', field: 'rating', value: 3 }
 */
export function parseFilter(input: unknown, path = 'filter'): Filter {
  const counter = { nodes: 0 };
  return parseNode(input, path, 1, counter);
}

function parseNode(input: unknown, path: string, depth: number, counter: { nodes: number }): Filter {
  if (depth > FILTER_LIMITS.maxDepth) {
    throw new InvalidInputError(path, `nesting is deeper than ${FILTER_LIMITS.maxDepth} levels`, 'Flatten the filter.');
  }
  if (!isPlainObject(input)) {
    throw new InvalidInputError(path, `expected an object, got ${describe(input)}`, 'Write filters like { category: "food" }.');
  }
  const parts: Filter[] = [];
  const keys = Object.keys(input);
  if (keys.length === 0) throw new InvalidInputError(path, 'the object is empty', 'Leave the filter out to match everything.');
  for (const key of keys) {
    const value = (input as Record<string, unknown>)[key];
    const at = `${path}.${key}`;
    if (value === undefined) continue;
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(value) || value.length === 0) {
        throw new InvalidInputError(at, 'expected a non-empty array of filters', `Write { ${key}: [{ a: 1 }, { b: 2 }] }.`);
      }
      parts.push({
        op: key === '$and' ? 'and' : 'or',
        filters: denseItems(value, at).map((child, index) => parseNode(child, `${at}[${index}]`, depth + 1, counter)),
      });
    } else if (key === '$not') {
      parts.push({ op: 'not', filter: parseNode(value, at, depth + 1, counter) });
    } else if (key.startsWith('$')) {
      throw new InvalidInputError(
        at,
        'unknown logical operator',
        'Use $and, $or or $not; field operators go inside a field: { age: { $gt: 3 } }.',
      );
    } else {
      checkFieldName(key, at);
      parts.push(...parseField(key, value, at));
    }
  }
  counter.nodes += parts.length;
  if (counter.nodes > FILTER_LIMITS.maxNodes) {
    throw new InvalidInputError(path, `more than ${FILTER_LIMITS.maxNodes} conditions`, 'Simplify the filter.');
  }
  if (parts.length === 0) throw new InvalidInputError(path, 'no condition is set', 'Leave the filter out to match everything.');
  return parts.length === 1 ? parts[0]! : { op: 'and', filters: parts };
}

function parseField(field: string, value: unknown, path: string): Filter[] {
  if (!isPlainObject(value) || value instanceof Date) {
    return [{ op: 'eq', field, value: scalar(field, value, path) }];
  }
  const parts: Filter[] = [];
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  if (entries.length === 0) throw new InvalidInputError(path, 'no operator is set', 'Write { field: { $eq: value } }.');
  for (const [op, operand] of entries) {
    const at = `${path}.${op}`;
    if (!FIELD_OPS.has(op)) {
      throw new InvalidInputError(at, 'unknown operator', 'Use one of $eq, $ne, $in, $nin, $gt, $gte, $lt, $lte, $contains.');
    }
    switch (op) {
      case '$eq':
      case '$ne':
        parts.push({ op: op === '$eq' ? 'eq' : 'ne', field, value: scalar(field, operand, at) });
        break;
      case '$in':
      case '$nin': {
        if (!Array.isArray(operand) || operand.length === 0 || operand.length > FILTER_LIMITS.maxValues) {
          throw new InvalidInputError(
            at,
            `expected an array of 1 to ${FILTER_LIMITS.maxValues} values`,
            `Write { ${field}: { ${op}: ["a", "b"] } }.`,
          );
        }
        const values = denseItems(operand, at).map((item, index) => scalar(field, item, `${at}[${index}]`));
        parts.push({ op: op === '$in' ? 'in' : 'nin', field, values });
        break;
      }
      case '$contains':
        if (typeof operand !== 'string' || operand.length > FILTER_LIMITS.maxStringLength) {
          throw new InvalidInputError(
            at,
            `expected a string of at most ${FILTER_LIMITS.maxStringLength} characters`,
            `Write { ${field}: { $contains: "word" } }.`,
          );
        }
        parts.push({ op: 'contains', field, value: operand });
        break;
      default: {
        const number = rangeOperand(field, operand, at);
        parts.push({ op: op.slice(1) as 'gt' | 'gte' | 'lt' | 'lte', field, value: number });
      }
    }
  }
  return parts;
}

/** Whether the filter input of `field` is a date (turned into epoch milliseconds by {@link parseFilter}). */
function holdsDates(field: string): boolean {
  return fieldKind(field) === 'date' || field === EXPIRES_AT_KEY;
}

function scalar(field: string, value: unknown, path: string): FilterScalar {
  if (holdsDates(field)) return toEpochMs(value, path);
  if (typeof value === 'string') {
    if (value.length > FILTER_LIMITS.maxStringLength) {
      throw new InvalidInputError(
        path,
        `the string is longer than ${FILTER_LIMITS.maxStringLength} characters`,
        'Filter on a shorter value.',
      );
    }
    return value;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new InvalidInputError(path, 'the number is not finite', 'Use a finite number.');
    return value;
  }
  if (typeof value === 'boolean') return value;
  throw new InvalidInputError(
    path,
    `expected a string, number or boolean, got ${describe(value)}`,
    'Compare against a scalar; use $contains for arrays.',
  );
}

function rangeOperand(field: string, value: unknown, path: string): number {
  if (holdsDates(field)) return toEpochMs(value, path);
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  throw new InvalidInputError(path, `expected a finite number, got ${describe(value)}`, 'Range operators compare numbers and dates only.');
}

function toEpochMs(value: unknown, path: string): number {
  const ms =
    value instanceof Date
      ? value.getTime()
      : typeof value === 'string'
        ? Date.parse(value)
        : typeof value === 'number'
          ? value
          : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw new InvalidInputError(
      path,
      'expected a Date, an ISO 8601 string or epoch milliseconds',
      'Write e.g. { occurredAt: { $gte: new Date("2024-05-01") } }.',
    );
  }
  return ms;
}

function checkFieldName(field: string, path: string): void {
  // "__proto__" is never a stored metadata key (validateMetadata refuses it), and adapters that
  // build provider filters by assignment would set a prototype instead of a field.
  if (!FIELD_NAME_PATTERN.test(field) || field === '__proto__') {
    throw new InvalidInputError(
      path,
      'field names must be 1-64 letters, digits, "_", "-" or "." and start with a letter or "_"',
      'Rename the metadata key.',
    );
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** Reads the value a filter field refers to from a record; `undefined` when the record lacks it. */
export function fieldValue(record: MemoryRecord, field: string): string | number | boolean | readonly string[] | undefined {
  switch (fieldKind(field)) {
    case 'date':
      return record[field as DateField].getTime();
    case 'scope':
      return record.scope[field as ScopeField];
    default:
      return Object.hasOwn(record.metadata, field) ? record.metadata[field] : undefined;
  }
}

/**
 * The reference evaluator: tells whether `record` matches `filter`. Every adapter's native
 * translation must agree with it (the conformance suite checks each operator against it).
 */
export function evaluateFilter(filter: Filter, record: MemoryRecord): boolean {
  switch (filter.op) {
    case 'and':
      return filter.filters.every((child) => evaluateFilter(child, record));
    case 'or':
      return filter.filters.some((child) => evaluateFilter(child, record));
    case 'not':
      return !evaluateFilter(filter.filter, record);
    case 'eq':
      return matchesAny(fieldValue(record, filter.field), (v) => v === filter.value);
    case 'ne':
      return !matchesAny(fieldValue(record, filter.field), (v) => v === filter.value);
    case 'in':
      return matchesAny(fieldValue(record, filter.field), (v) => filter.values.includes(v));
    case 'nin':
      return !matchesAny(fieldValue(record, filter.field), (v) => filter.values.includes(v));
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const value = fieldValue(record, filter.field);
      if (typeof value !== 'number') return false;
      if (filter.op === 'gt') return value > filter.value;
      if (filter.op === 'gte') return value >= filter.value;
      if (filter.op === 'lt') return value < filter.value;
      return value <= filter.value;
    }
    case 'contains': {
      const value = fieldValue(record, filter.field);
      if (typeof value === 'string') return value.includes(filter.value);
      return Array.isArray(value) && value.includes(filter.value);
    }
  }
}

function matchesAny(value: ReturnType<typeof fieldValue>, test: (v: FilterScalar) => boolean): boolean {
  if (value === undefined) return false;
  if (Array.isArray(value)) return value.some(test);
  return test(value as FilterScalar);
}

/** Every operator a filter uses. */
export function filterOperatorsUsed(filter: Filter, into = new Set<FilterOperator>()): Set<FilterOperator> {
  into.add(filter.op);
  if (filter.op === 'and' || filter.op === 'or') for (const child of filter.filters) filterOperatorsUsed(child, into);
  if (filter.op === 'not') filterOperatorsUsed(filter.filter, into);
  return into;
}

/**
 * Splits `filter` into a part the backend evaluates natively and a residual core evaluates,
 * such that `filter ≡ native AND residual`. Either part may be absent.
 */
export function splitFilter(filter: Filter | undefined, supported: ReadonlySet<FilterOperator>): { native?: Filter; residual?: Filter } {
  if (!filter) return {};
  const fits = (f: Filter) => [...filterOperatorsUsed(f)].every((op) => supported.has(op));
  if (fits(filter)) return { native: filter };
  if (filter.op !== 'and' || !supported.has('and')) return { residual: filter };
  const native = filter.filters.filter(fits);
  const residual = filter.filters.filter((f) => !fits(f));
  return { native: combine(native), residual: combine(residual) };
}

function combine(filters: readonly Filter[]): Filter | undefined {
  if (filters.length === 0) return undefined;
  return filters.length === 1 ? filters[0] : { op: 'and', filters };
}

/** ANDs two optional filters. */
export function andFilters(a: Filter | undefined, b: Filter | undefined): Filter | undefined {
  if (!a) return b;
  if (!b) return a;
  return { op: 'and', filters: [a, b] };
}

/**
 * The records that have not expired at `now`: no {@link EXPIRES_AT_KEY}, or one after `now`. It is
 * the filter `Memory` adds to `search` and `getAll` (unless `includeExpired`); a store declaring
 * `not` and `lte` evaluates it natively, core evaluates it for the others.
 */
export function notExpiredFilter(now: Date): Filter {
  return { op: 'not', filter: expiredFilter(now) };
}

/** The records that have expired at `now` ({@link EXPIRES_AT_KEY} at or before `now`): what `Memory.purgeExpired` deletes. */
export function expiredFilter(now: Date): Filter {
  return { op: 'lte', field: EXPIRES_AT_KEY, value: now.getTime() };
}

/**
 * The records that are not procedural memories (no {@link MEMORY_TYPE_KEY} of `'procedural'`): the
 * candidates `add` reconciles facts with. Uses `not` and `eq`, like {@link notExpiredFilter}.
 */
export function notProceduralFilter(): Filter {
  return { op: 'not', filter: { op: 'eq', field: MEMORY_TYPE_KEY, value: 'procedural' } };
}
