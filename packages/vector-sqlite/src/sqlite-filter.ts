import {
  EXPIRES_AT_KEY,
  FIELD_NAME_PATTERN,
  FILTER_LIMITS,
  InvalidInputError,
  MEMORY_TYPE_KEY,
  fieldKind,
  type Filter,
  type FilterScalar,
  type Metadata,
} from '@mem/core/adapter';

/** A value bound to a `?` placeholder. better-sqlite3 binds no booleans, so none appear here. */
export type SqlValue = string | number | null;

/** A boolean SQL expression and the values of its `?` placeholders, in order. */
export interface SqlCondition {
  readonly sql: string;
  readonly params: readonly SqlValue[];
}

// SQLite stores UTF-8: a lone UTF-16 surrogate would become U+FFFD and compare wrongly.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const TRUE: SqlCondition = { sql: '1', params: [] };
const FALSE: SqlCondition = { sql: '0', params: [] };

const SCOPE_COLUMNS: Readonly<Record<string, string>> = { userId: 'user_id', agentId: 'agent_id', runId: 'run_id' };
const DATE_COLUMNS: Readonly<Record<string, string>> = { createdAt: 'created_at', updatedAt: 'updated_at', occurredAt: 'occurred_at' };

/** JSON types json_each/json_type report for numbers. */
const NUMBER_TYPES = `('integer','real')`;

/**
 * Copies of the two reserved metadata keys core puts in (nearly) every filter it sends: expiry
 * (`not expiresAt <= now`, every search and add) and memory type (`memoryType != 'procedural'`,
 * every add). The store keeps them in narrow columns beside each vector, so those conditions are
 * tested without reading the memory's row at all: the ranking step of a search then reads the scope's
 * index and the vectors table only. `expires_at`: the key's value when it is a number, else NULL.
 * `memory_type`: its value when it is a string, the array's JSON as a BLOB when it is an array (so it
 * never equals a string), else NULL.
 */
export interface MetadataMirrors {
  readonly expires_at: number | null;
  readonly memory_type: string | Buffer | null;
}

/** The mirrored columns of `metadata` (see {@link MetadataMirrors}). */
export function metadataMirrors(metadata: Metadata): MetadataMirrors {
  const expiresAt = metadata[EXPIRES_AT_KEY];
  const memoryType = metadata[MEMORY_TYPE_KEY];
  return {
    expires_at: typeof expiresAt === 'number' ? expiresAt : null,
    memory_type: typeof memoryType === 'string' ? memoryType : Array.isArray(memoryType) ? Buffer.from(JSON.stringify(memoryType)) : null,
  };
}

/** The same columns computed in SQL from a row's `metadata` JSON: for migrating rows written before them. */
export function metadataMirrorsSql(metadata: string): { expires_at: string; memory_type: string } {
  const expires = `'${metadataPath(EXPIRES_AT_KEY)}'`;
  const type = `'${metadataPath(MEMORY_TYPE_KEY)}'`;
  return {
    expires_at: `CASE WHEN json_type(${metadata}, ${expires}) IN ${NUMBER_TYPES} THEN CAST(json_extract(${metadata}, ${expires}) AS REAL) END`,
    memory_type: `CASE json_type(${metadata}, ${type}) WHEN 'text' THEN json_extract(${metadata}, ${type}) WHEN 'array' THEN CAST(json_extract(${metadata}, ${type}) AS BLOB) END`,
  };
}

/**
 * Translates a filter into a SQLite condition over the memories table aliased `alias`, agreeing
 * with core's `evaluateFilter` on every record.
 *
 * Every expression it builds is strictly 0 or 1, never NULL, so `not` is an exact negation
 * (SQL's three-valued logic would otherwise turn `NOT (missing = 'x')` into NULL, i.e. no match).
 * Field names reach SQL only inside bound JSON paths and values only as bound parameters; the SQL
 * text depends on the filter's shape alone, so statements can be cached by it.
 *
 * Metadata is a JSON object: `json_each(metadata, path)` yields one row for a scalar and one row per
 * element for an array, which gives "a scalar equal to the value, or an array holding it" in one
 * query. json_extract reports true/false as 1/0, so booleans are told apart from numbers by their
 * JSON type. Numbers are compared as REAL: JSON text like `88523708544661340` parses to an exact
 * 64-bit integer that differs from the double JavaScript wrote; casting gives back the same double.
 *
 * @throws {InvalidInputError} for an unknown operator, a bad field name, a value of the wrong type, or
 * a string with a lone UTF-16 surrogate (SQLite would compare U+FFFD instead).
 */
export function filterToSql(filter: Filter, alias: string, mirrors?: string): SqlCondition {
  return translate(filter, { alias, mirrors }, 'filter', 1, { nodes: 0 });
}

/** The table alias of the memories, and of their {@link MetadataMirrors} when the statement joins them. */
interface Aliases {
  readonly alias: string;
  readonly mirrors: string | undefined;
}

function translate(filter: Filter, aliases: Aliases, path: string, depth: number, counter: { nodes: number }): SqlCondition {
  const { alias } = aliases;
  if (depth > FILTER_LIMITS.maxDepth * 2) {
    throw new InvalidInputError(path, 'the filter is nested too deeply', 'Flatten the filter.');
  }
  counter.nodes += 1;
  if (counter.nodes > FILTER_LIMITS.maxNodes * 4) {
    throw new InvalidInputError(path, 'the filter has too many conditions', 'Simplify the filter.');
  }
  if (typeof filter !== 'object' || filter === null) {
    throw new InvalidInputError(path, 'expected a filter object', 'Build filters with parseFilter from @mem/core.');
  }
  switch (filter.op) {
    case 'and':
    case 'or': {
      if (!Array.isArray(filter.filters)) {
        throw new InvalidInputError(`${path}.filters`, 'expected an array of filters', 'Build filters with parseFilter from @mem/core.');
      }
      const parts = filter.filters.map((child, index) => translate(child, aliases, `${path}.filters[${index}]`, depth + 1, counter));
      if (parts.length === 0) return filter.op === 'and' ? TRUE : FALSE;
      if (parts.length === 1) return parts[0]!;
      return {
        sql: `(${parts.map((part) => part.sql).join(filter.op === 'and' ? ' AND ' : ' OR ')})`,
        params: parts.flatMap((part) => part.params),
      };
    }
    case 'not': {
      const inner = translate(filter.filter, aliases, `${path}.filter`, depth + 1, counter);
      return { sql: `(NOT ${inner.sql})`, params: inner.params };
    }
    case 'eq':
    case 'ne': {
      checkField(filter.field, path);
      checkScalar(filter.value, `${path}.value`);
      return negateIf(filter.op === 'ne', matchAny(filter.field, [filter.value], aliases));
    }
    case 'in':
    case 'nin': {
      checkField(filter.field, path);
      if (!Array.isArray(filter.values)) {
        throw new InvalidInputError(`${path}.values`, 'expected an array of values', 'Write { field: { $in: ["a", "b"] } }.');
      }
      filter.values.forEach((value, index) => checkScalar(value, `${path}.values[${index}]`));
      return negateIf(filter.op === 'nin', matchAny(filter.field, filter.values, aliases));
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      checkField(filter.field, path);
      if (typeof filter.value !== 'number' || !Number.isFinite(filter.value)) {
        throw new InvalidInputError(`${path}.value`, 'expected a finite number', 'Range operators compare numbers and dates only.');
      }
      return range(filter.field, filter.op, filter.value, aliases);
    }
    case 'contains': {
      checkField(filter.field, path);
      if (typeof filter.value !== 'string' || LONE_SURROGATE.test(filter.value)) {
        throw new InvalidInputError(`${path}.value`, 'expected a string of well-formed Unicode', 'Write { field: { $contains: "word" } }.');
      }
      return contains(filter.field, filter.value, alias);
    }
    default:
      throw new InvalidInputError(
        `${path}.op`,
        'unknown filter operator',
        'Use eq, ne, in, nin, gt, gte, lt, lte, contains, and, or or not.',
      );
  }
}

/** The JSON path of a metadata key; keys may hold `.` and `-`, so the key is quoted. */
export function metadataPath(field: string): string {
  return `$."${field}"`;
}

/** 1 when the field equals one of `values` (or, for an array field, holds one of them as an element). */
function matchAny(field: string, values: readonly FilterScalar[], aliases: Aliases): SqlCondition {
  const { alias, mirrors } = aliases;
  const strings = values.filter((value): value is string => typeof value === 'string');
  const numbers = values.filter((value): value is number => typeof value === 'number');
  const booleans = [...new Set(values.filter((value): value is boolean => typeof value === 'boolean'))];
  const kind = fieldKind(field);
  if (kind === 'scope') {
    // Scope ids are strings; a number or boolean never equals one (no SQLite affinity coercion).
    const column = `${alias}.${SCOPE_COLUMNS[field]}`;
    if (strings.length === 0) return FALSE;
    if (strings.length === 1) return { sql: `(${column} IS ?)`, params: [strings[0]!] };
    return { sql: `(${column} IS NOT NULL AND ${column} IN (SELECT value FROM json_each(?)))`, params: [JSON.stringify(strings)] };
  }
  if (kind === 'date') {
    const column = `${alias}.${DATE_COLUMNS[field]}`;
    if (numbers.length === 0) return FALSE;
    if (numbers.length === 1) return { sql: `(${column} = ?)`, params: [numbers[0]!] };
    return { sql: `(${column} IN (SELECT CAST(value AS REAL) FROM json_each(?)))`, params: [JSON.stringify(numbers)] };
  }
  const branches: string[] = [];
  const params: SqlValue[] = [metadataPath(field)];
  if (strings.length === 1) {
    branches.push(`(je.type = 'text' AND je.value = ?)`);
    params.push(strings[0]!);
  } else if (strings.length > 1) {
    branches.push(`(je.type = 'text' AND je.value IN (SELECT value FROM json_each(?)))`);
    params.push(JSON.stringify(strings));
  }
  if (numbers.length === 1) {
    branches.push(`(je.type IN ${NUMBER_TYPES} AND CAST(je.value AS REAL) = ?)`);
    params.push(numbers[0]!);
  } else if (numbers.length > 1) {
    branches.push(`(je.type IN ${NUMBER_TYPES} AND CAST(je.value AS REAL) IN (SELECT CAST(value AS REAL) FROM json_each(?)))`);
    params.push(JSON.stringify(numbers));
  }
  // JSON types 'true' and 'false' are literals here: booleans cannot be bound.
  for (const value of booleans) branches.push(value ? `je.type = 'true'` : `je.type = 'false'`);
  if (branches.length === 0) return FALSE;
  const json = {
    sql: `EXISTS (SELECT 1 FROM json_each(${alias}.metadata, ?) AS je WHERE ${branches.join(' OR ')})`,
    params,
  };
  if (mirrors === undefined || field !== MEMORY_TYPE_KEY || strings.length !== values.length) return json;
  // Strings only: a string memory_type equals one, an array (its JSON, a BLOB) holds one as an element;
  // anything else (NULL) never matches. The memory's own row is not read.
  const column = `${mirrors}.memory_type`;
  const list = JSON.stringify(strings);
  return {
    sql: `(CASE WHEN typeof(${column}) = 'blob' THEN EXISTS (SELECT 1 FROM json_each(CAST(${column} AS TEXT)) AS je WHERE je.type = 'text' AND je.value IN (SELECT value FROM json_each(?))) ELSE coalesce(${column} IN (SELECT value FROM json_each(?)), 0) END)`,
    params: [list, list],
  };
}

function range(field: string, op: 'gt' | 'gte' | 'lt' | 'lte', value: number, aliases: Aliases): SqlCondition {
  const { alias, mirrors } = aliases;
  const operator = { gt: '>', gte: '>=', lt: '<', lte: '<=' }[op];
  const kind = fieldKind(field);
  if (kind === 'scope') return FALSE; // scope ids are strings, never numbers
  if (kind === 'date') return { sql: `(${alias}.${DATE_COLUMNS[field]} ${operator} ?)`, params: [value] };
  // expires_at holds the key's value when it is a number, else NULL: the same test as below, without the JSON.
  if (mirrors !== undefined && field === EXPIRES_AT_KEY) return { sql: `(${mirrors}.expires_at ${operator} ?) IS 1`, params: [value] };
  const path = metadataPath(field);
  // Only a scalar number qualifies: not a boolean (json_extract gives 1/0), not an array.
  return {
    sql: `(json_type(${alias}.metadata, ?) IN ${NUMBER_TYPES} AND CAST(json_extract(${alias}.metadata, ?) AS REAL) ${operator} ?) IS 1`,
    params: [path, path, value],
  };
}

function contains(field: string, value: string, alias: string): SqlCondition {
  const kind = fieldKind(field);
  if (kind === 'date') return FALSE; // dates are numbers
  if (kind === 'scope') {
    const column = `${alias}.${SCOPE_COLUMNS[field]}`;
    return { sql: `(${column} IS NOT NULL AND instr(${column}, ?) > 0)`, params: [value] };
  }
  // A scalar row of json_each has a NULL key: substring test. Array elements: equality.
  return {
    sql: `EXISTS (SELECT 1 FROM json_each(${alias}.metadata, ?) AS je WHERE je.type = 'text' AND CASE WHEN je.key IS NULL THEN instr(je.value, ?) > 0 ELSE je.value = ? END)`,
    params: [metadataPath(field), value, value],
  };
}

function negateIf(negate: boolean, condition: SqlCondition): SqlCondition {
  if (!negate) return condition;
  if (condition === FALSE) return TRUE;
  return { sql: `(NOT ${condition.sql})`, params: condition.params };
}

function checkField(field: unknown, path: string): void {
  if (typeof field !== 'string' || !FIELD_NAME_PATTERN.test(field)) {
    throw new InvalidInputError(
      `${path}.field`,
      'field names must be 1-64 letters, digits, "_", "-" or "." and start with a letter or "_"',
      'Rename the metadata key.',
    );
  }
}

function checkScalar(value: unknown, path: string): void {
  if (typeof value === 'string' && LONE_SURROGATE.test(value)) {
    throw new InvalidInputError(
      path,
      'the string holds a lone UTF-16 surrogate (not well-formed Unicode)',
      'Compare against well-formed text.',
    );
  }
  if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) return;
  throw new InvalidInputError(
    path,
    'expected a string, a finite number or a boolean',
    'Compare against a scalar; use contains for arrays.',
  );
}
