import {
  DATE_FIELDS,
  DimensionMismatchError,
  FIELD_NAME_PATTERN,
  InvalidInputError,
  ProviderResponseInvalidError,
  SCOPE_FIELDS,
  fieldKind,
  validateScope,
  type DateField,
  type MemoryRecord,
  type Metadata,
  type MetadataValue,
  type Scope,
  type ScopeField,
} from '@mem/core/adapter';

/** Provider name used in errors and `VectorStore.provider`. */
export const PINECONE_PROVIDER = 'pinecone';

/** Pinecone's limit on the metadata of one record, in bytes of JSON. https://docs.pinecone.io/reference/api/database-limits */
export const MAX_METADATA_BYTES = 40_960;
/** Pinecone's limit on a record id, in characters (the `Vector.id` schema). */
export const MAX_ID_LENGTH = 512;
/** Largest float32 magnitude: Pinecone stores vector components as float32. */
const MAX_FLOAT32 = 3.4028234663852886e38;

/**
 * mem's own fields live in the record metadata under keys that start with this prefix, next to the
 * user's metadata keys. A user key that itself starts with the prefix is stored with the prefix
 * doubled, so the mapping stays one-to-one and every stored key keeps to letters, digits and `_`.
 */
const RESERVED_PREFIX = '_mem_';
const RESERVED_NAMES = ['text', 'hash', ...SCOPE_FIELDS, ...DATE_FIELDS] as const;
type ReservedName = (typeof RESERVED_NAMES)[number];
const RESERVED_NAME_SET: ReadonlySet<string> = new Set(RESERVED_NAMES);

/** A metadata value as Pinecone stores it. */
export type PineconeMetadataValue = string | number | boolean | string[];
/** Record metadata as sent to and read from Pinecone. */
export type PineconeMetadata = Record<string, PineconeMetadataValue>;

/** A record in Pinecone's shape (`Vector` in the data-plane API). */
export interface PineconeVector {
  readonly id: string;
  readonly values: number[];
  readonly metadata: PineconeMetadata;
}

/**
 * The id Pinecone stores for a record id. Pinecone accepts only ASCII ids, and fetch ids may not
 * contain spaces, so every character outside `!`..`~`, and `%` itself, is percent-encoded (UTF-8).
 * UUIDs and other plain ids are unchanged. `undefined` when the id cannot be stored (empty, not a
 * string, lone surrogates, or longer than 512 characters once encoded).
 */
export function toStoredId(id: string): string | undefined {
  if (typeof id !== 'string' || id.length === 0) return undefined;
  let stored: string;
  try {
    stored = id.replace(/[^!-$&-~]/gu, (character) => encodeURIComponent(character));
  } catch {
    return undefined; // a lone surrogate cannot be encoded
  }
  return stored.length <= MAX_ID_LENGTH ? stored : undefined;
}

/** The record id of a stored id (inverse of {@link toStoredId}); an id mem did not write is returned as is. */
export function fromStoredId(stored: string): string {
  if (!stored.includes('%')) return stored;
  try {
    return decodeURIComponent(stored);
  } catch {
    return stored;
  }
}

/** The stored metadata key of one of mem's own fields, e.g. `_mem_userId`. */
export function reservedKey(name: ReservedName): string {
  return RESERVED_PREFIX + name;
}

/** The stored metadata key of a user metadata key (unchanged unless it starts with `_mem_`). */
export function storedUserKey(key: string): string {
  return key.startsWith(RESERVED_PREFIX) ? RESERVED_PREFIX + key : key;
}

/** The stored metadata key a filter field refers to: scope and date fields are mem's own, the rest user keys. */
export function storedFilterKey(field: string): string {
  return fieldKind(field) === 'metadata' ? storedUserKey(field) : reservedKey(field as ScopeField | DateField);
}

/**
 * Turns a record into Pinecone's shape, validating everything Pinecone would reject so a batch fails
 * before anything is written.
 *
 * @param field - where the record sits in the request, e.g. `records[3]`, for error messages
 * @throws {DimensionMismatchError} when the vector length differs from the index dimension.
 * @throws {InvalidInputError} for an id, vector, scope, date or metadata Pinecone cannot store.
 */
export function encodeRecord(record: MemoryRecord, field: string, dimensions: number): PineconeVector {
  const id = toStoredId(record.id);
  if (id === undefined) {
    throw new InvalidInputError(
      `${field}.id`,
      `expected a non-empty string of at most ${MAX_ID_LENGTH} characters once characters outside printable ASCII are escaped`,
      'Pinecone limits record ids to 512 ASCII characters; use shorter ids such as UUIDs.',
    );
  }
  const values = encodeVector(
    record.vector,
    `${field}.vector`,
    dimensions,
    'Embed with the model the index was created for, or point the store at an index of matching dimension.',
  );
  if (typeof record.text !== 'string') throw new InvalidInputError(`${field}.text`, 'expected a string', 'Pass the memory text.');
  if (typeof record.hash !== 'string')
    throw new InvalidInputError(`${field}.hash`, 'expected a string', 'Pass the SHA-256 hex digest of the text.');
  const scope = validateScope(record.scope, `${field}.scope`);
  const metadata: PineconeMetadata = {};
  for (const [key, value] of Object.entries(record.metadata ?? {})) {
    metadata[storedUserKey(checkMetadataKey(key, `${field}.metadata`))] = encodeMetadataValue(value, `${field}.metadata.${key}`);
  }
  metadata[reservedKey('text')] = record.text;
  metadata[reservedKey('hash')] = record.hash;
  for (const key of SCOPE_FIELDS) {
    const id = scope[key];
    if (id !== undefined) metadata[reservedKey(key)] = id;
  }
  for (const key of DATE_FIELDS) metadata[reservedKey(key)] = encodeDate(record[key], `${field}.${key}`);
  const bytes = Buffer.byteLength(JSON.stringify(metadata), 'utf8');
  if (bytes > MAX_METADATA_BYTES) {
    throw new InvalidInputError(
      `${field}.metadata`,
      `the stored metadata (text, hash, scope, dates and metadata together) is ${bytes} bytes of JSON, more than Pinecone's limit of ${MAX_METADATA_BYTES} per record`,
      'Shorten the memory text or the metadata values.',
    );
  }
  return { id, values, metadata };
}

/**
 * Checks a query vector (or a record vector) and copies it into a plain array.
 *
 * @throws {DimensionMismatchError} when its length differs from `dimensions`.
 * @throws {InvalidInputError} for a component that is not a finite float32 value.
 */
export function encodeVector(vector: readonly number[], field: string, dimensions: number, fix: string): number[] {
  if (!Array.isArray(vector)) throw new InvalidInputError(field, 'expected an array of numbers', 'Pass the embedding as number[].');
  if (vector.length !== dimensions) throw new DimensionMismatchError('The Pinecone index', dimensions, vector.length, fix);
  const values = new Array<number>(vector.length);
  for (let index = 0; index < vector.length; index++) {
    const value = vector[index];
    if (typeof value !== 'number' || !Number.isFinite(value) || Math.abs(value) > MAX_FLOAT32) {
      throw new InvalidInputError(`${field}[${index}]`, 'expected a finite number within float32 range', 'Check the embedder output.');
    }
    values[index] = value;
  }
  return values;
}

/** Whether every component is zero (cosine similarity is then undefined, and Pinecone rejects such records). */
export function isZeroVector(vector: readonly number[]): boolean {
  return vector.every((value) => value === 0);
}

function checkMetadataKey(key: string, field: string): string {
  if (!FIELD_NAME_PATTERN.test(key)) {
    throw new InvalidInputError(
      `${field}.${key}`,
      'metadata keys must be 1-64 letters, digits, "_", "-" or "." and start with a letter or "_"',
      'Rename the metadata key.',
    );
  }
  return key;
}

function encodeMetadataValue(value: MetadataValue, field: string): PineconeMetadataValue {
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new InvalidInputError(field, 'the number is not finite', 'Store a finite number.');
    return value;
  }
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return [...value];
  throw new InvalidInputError(
    field,
    'expected a string, a finite number, a boolean or an array of strings',
    'Pinecone metadata holds only these types; convert the value.',
  );
}

function encodeDate(value: Date, field: string): number {
  const ms = value instanceof Date ? value.getTime() : Number.NaN;
  if (!Number.isFinite(ms)) throw new InvalidInputError(field, 'expected a valid Date', 'Pass a Date object.');
  return ms;
}

/** The scope stored in a record's metadata (empty for a record mem did not write). */
export function storedScope(metadata: Readonly<Record<string, unknown>> | undefined): Scope {
  const scope: { -readonly [K in ScopeField]?: string } = {};
  if (!metadata) return scope;
  for (const key of SCOPE_FIELDS) {
    const value = metadata[reservedKey(key)];
    if (typeof value === 'string') scope[key] = value;
  }
  return scope;
}

/** What Pinecone returns for one record (fetch, fetch_by_metadata or a query match). */
export interface StoredVector {
  readonly id?: string;
  readonly values?: readonly number[];
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/**
 * Turns a record read from Pinecone back into a {@link MemoryRecord}.
 *
 * @throws {ProviderResponseInvalidError} when mem's fields are missing or have the wrong type.
 */
export function decodeRecord(vector: StoredVector, operation: string): MemoryRecord {
  const invalid = (problem: string) =>
    new ProviderResponseInvalidError(PINECONE_PROVIDER, operation, `record ${JSON.stringify(vector.id ?? '?')} ${problem}`);
  if (typeof vector.id !== 'string' || vector.id.length === 0) throw invalid('has no id');
  const id = fromStoredId(vector.id);
  const values = vector.values;
  if (!Array.isArray(values) || values.length === 0 || !values.every((value) => typeof value === 'number'))
    throw invalid('has no vector values');
  const stored = vector.metadata;
  if (typeof stored !== 'object' || stored === null) throw invalid('has no metadata');
  const text = stored[reservedKey('text')];
  const hash = stored[reservedKey('hash')];
  if (typeof text !== 'string' || typeof hash !== 'string')
    throw invalid(`lacks the ${reservedKey('text')} or ${reservedKey('hash')} metadata mem writes`);
  const dates = {} as Record<DateField, Date>;
  for (const key of DATE_FIELDS) {
    const ms = stored[reservedKey(key)];
    if (typeof ms !== 'number' || !Number.isFinite(ms)) throw invalid(`lacks the ${reservedKey(key)} metadata mem writes`);
    dates[key] = new Date(ms);
  }
  const scope = storedScope(stored);
  if (Object.keys(scope).length === 0) throw invalid('has no scope metadata');
  const metadata: Record<string, MetadataValue> = {};
  for (const [key, value] of Object.entries(stored)) {
    let userKey = key;
    if (key.startsWith(RESERVED_PREFIX)) {
      const rest = key.slice(RESERVED_PREFIX.length);
      if (RESERVED_NAME_SET.has(rest)) continue;
      userKey = rest;
    }
    metadata[userKey] = decodeMetadataValue(value, () => invalid(`has metadata key ${JSON.stringify(userKey)} of an unsupported type`));
  }
  return { id, vector: [...values], text, hash, scope, metadata: metadata as Metadata, ...dates };
}

function decodeMetadataValue(value: unknown, invalid: () => Error): MetadataValue {
  if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) return value;
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return [...value] as string[];
  throw invalid();
}
