/**
 * Pinecone's metadata filter language, as the emulator evaluates it. Written from Pinecone's
 * documentation (https://docs.pinecone.io/guides/search/filter-by-metadata), independently of the
 * adapter's translator, so the conformance suite compares two separate readings of the semantics:
 *
 * - `{ field: value }` is `{ field: { $eq: value } }`; several operators on one field, and several
 *   fields in one object, must all hold.
 * - `$eq`/`$ne` take a string, number or boolean; `$in`/`$nin` a non-empty array of strings or
 *   numbers; `$gt`/`$gte`/`$lt`/`$lte` a number; `$exists` a boolean. Comparisons are type-strict.
 * - On a list-of-strings field, `$eq` and `$in` match when any element matches.
 * - `$ne` and `$nin` match only records that have the field (Pinecone's behaviour since 2024: a
 *   missing field does not match them); on a list they match when no element matches.
 * - Ranges match number fields only. `$exists: false` matches records without the field.
 * - `$and` and `$or` take non-empty arrays of filters. There is no `$not`.
 */

/** Metadata as the emulator stores it. */
export type EmulatorMetadata = Readonly<Record<string, string | number | boolean | readonly string[]>>;

/** A compiled filter. */
export type MetadataPredicate = (metadata: EmulatorMetadata | undefined) => boolean;

/** The filter is not valid Pinecone syntax; the emulator answers 400 with this message. */
export class FilterSyntaxError extends Error {
  override readonly name = 'FilterSyntaxError';
}

type Scalar = string | number | boolean;

/**
 * Checks a filter expression and turns it into a predicate.
 *
 * @throws {FilterSyntaxError} for anything Pinecone documents as invalid.
 */
export function compileFilter(filter: unknown, path = 'filter'): MetadataPredicate {
  if (!isPlainObject(filter)) throw new FilterSyntaxError(`${path} must be an object`);
  const parts: MetadataPredicate[] = [];
  for (const [key, value] of Object.entries(filter)) {
    const at = `${path}.${key}`;
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(value) || value.length === 0) throw new FilterSyntaxError(`${at} must be a non-empty array of filters`);
      const children = value.map((child, index) => compileFilter(child, `${at}[${index}]`));
      parts.push(
        key === '$and' ? (metadata) => children.every((child) => child(metadata)) : (metadata) => children.some((child) => child(metadata)),
      );
    } else if (key.startsWith('$')) {
      throw new FilterSyntaxError(`${at}: unsupported logical operator ${key}; use $and or $or`);
    } else {
      parts.push(compileField(key, value, at));
    }
  }
  return (metadata) => parts.every((part) => part(metadata));
}

function compileField(field: string, condition: unknown, path: string): MetadataPredicate {
  if (isScalar(condition)) return compileField(field, { $eq: condition }, path);
  if (!isPlainObject(condition)) throw new FilterSyntaxError(`${path} must be a string, number, boolean or an operator object`);
  const entries = Object.entries(condition);
  if (entries.length === 0) throw new FilterSyntaxError(`${path} has no operator`);
  const tests = entries.map(([op, operand]) => compileOperator(op, operand, `${path}.${op}`));
  return (metadata) => {
    const value = metadata !== undefined && Object.hasOwn(metadata, field) ? metadata[field] : undefined;
    return tests.every((test) => test(value));
  };
}

type ValueTest = (value: EmulatorMetadata[string] | undefined) => boolean;

function compileOperator(op: string, operand: unknown, path: string): ValueTest {
  switch (op) {
    case '$eq':
    case '$ne': {
      if (!isScalar(operand)) throw new FilterSyntaxError(`${path} takes a string, number or boolean`);
      const equal: ValueTest = (value) => value !== undefined && (isList(value) ? value.includes(operand as string) : value === operand);
      return op === '$eq' ? equal : (value) => value !== undefined && !equal(value);
    }
    case '$in':
    case '$nin': {
      if (
        !Array.isArray(operand) ||
        operand.length === 0 ||
        !operand.every((item) => typeof item === 'string' || (typeof item === 'number' && Number.isFinite(item)))
      ) {
        throw new FilterSyntaxError(`${path} takes a non-empty array of strings or numbers`);
      }
      const set: readonly Scalar[] = operand;
      const member: ValueTest = (value) =>
        value !== undefined && (isList(value) ? value.some((item) => set.includes(item)) : set.includes(value as Scalar));
      return op === '$in' ? member : (value) => value !== undefined && !member(value);
    }
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte': {
      if (typeof operand !== 'number' || !Number.isFinite(operand)) throw new FilterSyntaxError(`${path} takes a number`);
      const bound = operand;
      return (value) =>
        typeof value === 'number' &&
        (op === '$gt' ? value > bound : op === '$gte' ? value >= bound : op === '$lt' ? value < bound : value <= bound);
    }
    case '$exists': {
      if (typeof operand !== 'boolean') throw new FilterSyntaxError(`${path} takes a boolean`);
      return (value) => (value !== undefined) === operand;
    }
    default:
      throw new FilterSyntaxError(`${path}: unsupported operator ${op}`);
  }
}

function isScalar(value: unknown): value is Scalar {
  return typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}

function isList(value: unknown): value is readonly string[] {
  return Array.isArray(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
