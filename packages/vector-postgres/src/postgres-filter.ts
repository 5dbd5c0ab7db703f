import { FIELD_NAME_PATTERN, FILTER_LIMITS, type Filter, type FilterScalar, InvalidInputError, fieldKind } from '@mem/core/adapter';
import { isStorableText } from '@mem/postgres';

/** Collects bound values and hands out their `$n` placeholders, in order. */
export class SqlParameters {
  readonly values: unknown[] = [];

  /** The placeholder of `value` (`$1`, `$2`, …), with an optional cast such as `::jsonb`. */
  add(value: unknown, cast = ''): string {
    this.values.push(value);
    return `$${this.values.length}${cast}`;
  }
}

const TRUE = 'true';
const FALSE = 'false';

const SCOPE_COLUMNS: Readonly<Record<string, string>> = { userId: 'user_id', agentId: 'agent_id', runId: 'run_id' };
const DATE_COLUMNS: Readonly<Record<string, string>> = { createdAt: 'created_at', updatedAt: 'updated_at', occurredAt: 'occurred_at' };

/**
 * Translates a filter into a PostgreSQL condition over the memories table aliased `alias`,
 * agreeing with core's `evaluateFilter` on every record; every operator runs in SQL.
 *
 * Every expression it builds is strictly true or false, never NULL, so `not` is an exact negation
 * (three-valued logic would otherwise turn `NOT (missing = 'x')` into NULL, i.e. no match). Field
 * names and values reach SQL only as bound parameters; the SQL text depends on the filter's shape.
 *
 * Metadata is `jsonb`. `eq`/`in` use containment (`@>`, which the GIN index serves): a scalar field
 * equal to the value is `{"f": v}`, an array field holding it is `{"f": [v]}`. jsonb compares
 * strings exactly, numbers by value and never equates `true` with `1`. Ranges read the field only
 * when `jsonb_typeof` says it is a number and compare it as `float8`, the double JavaScript wrote.
 *
 * @throws {InvalidInputError} for an unknown operator, a bad field name, a value of the wrong type, or
 * a string PostgreSQL cannot store (U+0000, lone UTF-16 surrogates).
 */
export function filterToSql(filter: Filter, alias: string, parameters: SqlParameters): string {
  return translate(filter, alias, parameters, 'filter', 1, { nodes: 0 });
}

function translate(
  filter: Filter,
  alias: string,
  parameters: SqlParameters,
  path: string,
  depth: number,
  counter: { nodes: number },
): string {
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
      const parts = filter.filters.map((child, index) =>
        translate(child, alias, parameters, `${path}.filters[${index}]`, depth + 1, counter),
      );
      if (parts.length === 0) return filter.op === 'and' ? TRUE : FALSE;
      if (parts.length === 1) return parts[0]!;
      return `(${parts.join(filter.op === 'and' ? ' AND ' : ' OR ')})`;
    }
    case 'not':
      return `(NOT ${translate(filter.filter, alias, parameters, `${path}.filter`, depth + 1, counter)})`;
    case 'eq':
    case 'ne': {
      checkField(filter.field, path);
      checkScalar(filter.value, `${path}.value`);
      return negateIf(filter.op === 'ne', matchAny(filter.field, [filter.value], alias, parameters));
    }
    case 'in':
    case 'nin': {
      checkField(filter.field, path);
      if (!Array.isArray(filter.values)) {
        throw new InvalidInputError(`${path}.values`, 'expected an array of values', 'Write { field: { $in: ["a", "b"] } }.');
      }
      filter.values.forEach((value, index) => checkScalar(value, `${path}.values[${index}]`));
      return negateIf(filter.op === 'nin', matchAny(filter.field, filter.values, alias, parameters));
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      checkField(filter.field, path);
      if (typeof filter.value !== 'number' || !Number.isFinite(filter.value)) {
        throw new InvalidInputError(`${path}.value`, 'expected a finite number', 'Range operators compare numbers and dates only.');
      }
      return range(filter.field, filter.op, filter.value, alias, parameters);
    }
    case 'contains': {
      checkField(filter.field, path);
      if (typeof filter.value !== 'string' || !isStorableText(filter.value)) {
        throw new InvalidInputError(
          `${path}.value`,
          'expected a string of well-formed Unicode without U+0000',
          'Write { field: { $contains: "word" } }.',
        );
      }
      return contains(filter.field, filter.value, alias, parameters);
    }
    default:
      throw new InvalidInputError(
        `${path}.op`,
        'unknown filter operator',
        'Use eq, ne, in, nin, gt, gte, lt, lte, contains, and, or or not.',
      );
  }
}

/** True when the field equals one of `values` (or, for an array field, holds one of them as an element). */
function matchAny(field: string, values: readonly FilterScalar[], alias: string, parameters: SqlParameters): string {
  const kind = fieldKind(field);
  if (kind === 'scope') {
    // Scope ids are strings; a number or boolean never equals one.
    const strings = [...new Set(values.filter((value): value is string => typeof value === 'string'))];
    if (strings.length === 0) return FALSE;
    const column = `${alias}.${SCOPE_COLUMNS[field]}`;
    if (strings.length === 1) return `COALESCE(${column} = ${parameters.add(strings[0])}, false)`;
    return `COALESCE(${column} = ANY(${parameters.add(strings, '::text[]')}), false)`;
  }
  if (kind === 'date') {
    const numbers = [...new Set(values.filter((value): value is number => typeof value === 'number'))];
    if (numbers.length === 0) return FALSE;
    const column = `${alias}.${DATE_COLUMNS[field]}`;
    if (numbers.length === 1) return `(${column} = ${parameters.add(numbers[0], '::float8')})`;
    return `(${column} = ANY(${parameters.add(numbers, '::float8[]')}))`;
  }
  // One containment document per value and shape: {"f": v} matches a scalar field, {"f": [v]} an array holding v.
  const documents: string[] = [];
  for (const value of values) {
    documents.push(JSON.stringify({ [field]: value }), JSON.stringify({ [field]: [value] }));
  }
  const unique = [...new Set(documents)];
  if (unique.length === 1) return `(${alias}.metadata @> ${parameters.add(unique[0], '::jsonb')})`;
  return `(${alias}.metadata @> ANY(${parameters.add(unique, '::jsonb[]')}))`;
}

function range(field: string, op: 'gt' | 'gte' | 'lt' | 'lte', value: number, alias: string, parameters: SqlParameters): string {
  const operator = { gt: '>', gte: '>=', lt: '<', lte: '<=' }[op];
  const kind = fieldKind(field);
  if (kind === 'scope') return FALSE; // scope ids are strings, never numbers
  if (kind === 'date') return `(${alias}.${DATE_COLUMNS[field]} ${operator} ${parameters.add(value, '::float8')})`;
  const key = parameters.add(field, '::text');
  // Only a scalar number qualifies: not a boolean, not a string of digits, not an array.
  return `(CASE WHEN jsonb_typeof(${alias}.metadata -> ${key}) = 'number' THEN (${alias}.metadata ->> ${key})::float8 ${operator} ${parameters.add(value, '::float8')} ELSE false END)`;
}

function contains(field: string, value: string, alias: string, parameters: SqlParameters): string {
  const kind = fieldKind(field);
  if (kind === 'date') return FALSE; // dates are numbers
  if (kind === 'scope') return `COALESCE(strpos(${alias}.${SCOPE_COLUMNS[field]}, ${parameters.add(value, '::text')}) > 0, false)`;
  const key = parameters.add(field, '::text');
  // A string field: substring (case-sensitive, strpos compares bytes). An array field: an element equal to the value.
  return `(CASE jsonb_typeof(${alias}.metadata -> ${key}) WHEN 'string' THEN strpos(${alias}.metadata ->> ${key}, ${parameters.add(value, '::text')}) > 0 WHEN 'array' THEN ${alias}.metadata -> ${key} @> ${parameters.add(JSON.stringify([value]), '::jsonb')} ELSE false END)`;
}

function negateIf(negate: boolean, condition: string): string {
  if (!negate) return condition;
  if (condition === FALSE) return TRUE;
  return `(NOT ${condition})`;
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
  if (typeof value === 'string' && !isStorableText(value)) {
    throw new InvalidInputError(
      path,
      'the string holds U+0000 or a lone UTF-16 surrogate, which PostgreSQL cannot store or compare',
      'Compare against well-formed text without NUL characters.',
    );
  }
  if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) return;
  throw new InvalidInputError(
    path,
    'expected a string, a finite number or a boolean',
    'Compare against a scalar; use contains for arrays.',
  );
}
