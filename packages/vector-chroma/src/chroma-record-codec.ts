import {
  DimensionMismatchError,
  FIELD_NAME_PATTERN,
  InvalidInputError,
  ProviderResponseInvalidError,
  SCOPE_FIELDS,
  validateScope,
  type MemoryRecord,
  type Metadata,
  type MetadataValue,
} from '@mem/core/adapter';

/**
 * How a {@link MemoryRecord} is laid out in Chroma.
 *
 * - Chroma id = record id, embedding = vector, document = text.
 * - User metadata keys are stored under their own names (strings, numbers, booleans), so Chroma's
 *   range operators see numbers natively. Chroma 1.0 cannot store arrays, so string arrays go
 *   JSON-encoded into `mem:arrays`.
 * - mem's own fields use the `mem:` prefix, which user keys cannot have (they match
 *   `FIELD_NAME_PATTERN`): scope ids, hash, and the three dates as epoch milliseconds.
 * - Chroma *merges* metadata on upsert (a key left out keeps its old value), so a record that drops a
 *   key overwrites it with {@link ABSENT}, and `mem:keys` lists the scalar keys the record really has.
 *   An absent scope id is stored as {@link ABSENT} too, so every write sets every `mem:` key.
 */
export const CHROMA_KEYS = {
  userId: 'mem:userId',
  agentId: 'mem:agentId',
  runId: 'mem:runId',
  hash: 'mem:hash',
  createdAt: 'mem:createdAt',
  updatedAt: 'mem:updatedAt',
  occurredAt: 'mem:occurredAt',
  keys: 'mem:keys',
  arrays: 'mem:arrays',
} as const;

/** Prefix of every key mem itself writes. */
export const INTERNAL_KEY_PREFIX = 'mem:';

/**
 * Written for an unset scope id and for a metadata key an earlier version had. A boolean: no scope
 * id equals it and no range operator (numbers only) matches it.
 */
export const ABSENT = false;

/** A metadata map as Chroma stores it. */
export type ChromaMetadata = Record<string, string | number | boolean>;

/** One record in the shape chromadb's `upsert` takes. */
export interface ChromaRow {
  readonly id: string;
  readonly embedding: number[];
  readonly document: string;
  readonly metadata: ChromaMetadata;
}

/** What chromadb returns for one record; any field may be missing from a foreign collection. */
export interface ChromaResultRow {
  readonly id: string;
  readonly embedding: unknown;
  readonly document: unknown;
  readonly metadata: unknown;
}

const MIN_DATE_MS = -8.64e15;
const MAX_DATE_MS = 8.64e15;

/**
 * Checks one record before anything is written, so a bad record rejects its whole batch.
 *
 * @throws {DimensionMismatchError} when the vector length differs from `dimensions`.
 * @throws {InvalidInputError} naming `records[index].<field>`.
 */
export function validateRecord(record: MemoryRecord, index: number, dimensions: number | undefined, where: string): void {
  const at = `records[${index}]`;
  if (typeof record !== 'object' || record === null)
    throw new InvalidInputError(at, 'expected a MemoryRecord', 'Pass records with id, vector, text, hash, scope, metadata and dates.');
  if (typeof record.id !== 'string' || record.id.length === 0)
    throw new InvalidInputError(`${at}.id`, 'expected a non-empty string', 'Give every record an id.');
  if (!Array.isArray(record.vector))
    throw new InvalidInputError(`${at}.vector`, 'expected an array of numbers', 'Pass the embedding of the text.');
  if (dimensions !== undefined && record.vector.length !== dimensions) {
    throw new DimensionMismatchError(where, dimensions, record.vector.length, 'Embed with the same model the collection was created with.');
  }
  if (record.vector.length === 0 || !record.vector.every((value) => typeof value === 'number' && Number.isFinite(value))) {
    throw new InvalidInputError(`${at}.vector`, 'expected a non-empty array of finite numbers', 'Check the embedder output.');
  }
  if (typeof record.text !== 'string') throw new InvalidInputError(`${at}.text`, 'expected a string', 'Pass the memory text.');
  if (typeof record.hash !== 'string')
    throw new InvalidInputError(`${at}.hash`, 'expected a string', 'Pass the SHA-256 hex digest of the text.');
  validateScope(record.scope, `${at}.scope`);
  for (const field of ['createdAt', 'updatedAt', 'occurredAt'] as const) {
    const value = record[field];
    if (!(value instanceof Date) || !Number.isFinite(value.getTime()))
      throw new InvalidInputError(`${at}.${field}`, 'expected a valid Date', 'Pass a Date.');
  }
  const metadata = record.metadata as unknown;
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new InvalidInputError(`${at}.metadata`, 'expected a plain object', 'Pass {} when there is no metadata.');
  }
  for (const [key, value] of Object.entries(metadata)) {
    const path = `${at}.metadata.${key}`;
    if (!FIELD_NAME_PATTERN.test(key)) {
      throw new InvalidInputError(
        path,
        'keys must be 1-64 letters, digits, "_", "-" or "." and start with a letter or "_"',
        'Rename the key.',
      );
    }
    if (typeof value === 'number' ? !Number.isFinite(value) : !isMetadataValue(value)) {
      throw new InvalidInputError(path, 'expected a string, a finite number, a boolean or an array of strings', 'Convert the value.');
    }
  }
}

/**
 * Lays a record out for Chroma. `previous` is the metadata the id holds now (or `undefined`): its
 * user keys the new version lacks are overwritten with {@link ABSENT}, since Chroma merges metadata.
 */
export function encodeRecord(record: MemoryRecord, previous?: Readonly<Record<string, unknown>> | null): ChromaRow {
  const metadata: ChromaMetadata = {};
  const scalarKeys: string[] = [];
  const arrays: Record<string, readonly string[]> = {};
  for (const [key, value] of Object.entries(record.metadata)) {
    if (Array.isArray(value)) {
      arrays[key] = value;
    } else {
      metadata[key] = value as string | number | boolean;
      scalarKeys.push(key);
    }
  }
  for (const key of Object.keys(previous ?? {})) {
    if (!key.startsWith(INTERNAL_KEY_PREFIX) && !(key in metadata)) metadata[key] = ABSENT;
  }
  for (const field of SCOPE_FIELDS) metadata[CHROMA_KEYS[field]] = record.scope[field] ?? ABSENT;
  metadata[CHROMA_KEYS.hash] = record.hash;
  metadata[CHROMA_KEYS.createdAt] = record.createdAt.getTime();
  metadata[CHROMA_KEYS.updatedAt] = record.updatedAt.getTime();
  metadata[CHROMA_KEYS.occurredAt] = record.occurredAt.getTime();
  metadata[CHROMA_KEYS.keys] = JSON.stringify(scalarKeys);
  metadata[CHROMA_KEYS.arrays] = JSON.stringify(arrays);
  return { id: record.id, embedding: [...record.vector], document: record.text, metadata };
}

/**
 * Rebuilds a {@link MemoryRecord} from what Chroma returned.
 *
 * @throws {ProviderResponseInvalidError} when the record lacks mem's fields (e.g. it was written by
 * another application into the same collection).
 */
export function decodeRecord(row: ChromaResultRow, operation: string): MemoryRecord {
  const invalid = (problem: string) =>
    new ProviderResponseInvalidError('chroma', operation, `record "${row.id}" ${problem}. Use a collection that only mem writes to.`);
  const stored = row.metadata;
  if (typeof stored !== 'object' || stored === null) throw invalid('has no metadata');
  const meta = stored as Record<string, unknown>;
  const scope: { userId?: string; agentId?: string; runId?: string } = {};
  for (const field of SCOPE_FIELDS) {
    const value = meta[CHROMA_KEYS[field]];
    if (typeof value === 'string') scope[field] = value;
  }
  const hash = meta[CHROMA_KEYS.hash];
  if (typeof hash !== 'string') throw invalid(`has no ${CHROMA_KEYS.hash}`);
  const dates = (['createdAt', 'updatedAt', 'occurredAt'] as const).map((field) => {
    const value = meta[CHROMA_KEYS[field]];
    if (typeof value !== 'number' || value < MIN_DATE_MS || value > MAX_DATE_MS) throw invalid(`has no valid ${CHROMA_KEYS[field]}`);
    return new Date(value);
  });
  const metadata: Record<string, MetadataValue> = {};
  for (const key of parseJson(meta[CHROMA_KEYS.keys], Array.isArray, () => invalid(`has no valid ${CHROMA_KEYS.keys}`))) {
    const value = meta[key as string];
    if (typeof key !== 'string' || !(typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')) {
      throw invalid(`lists metadata key "${String(key)}" without a value`);
    }
    metadata[key] = value;
  }
  const arrays = parseJson(meta[CHROMA_KEYS.arrays], isPlainObject, () => invalid(`has no valid ${CHROMA_KEYS.arrays}`));
  for (const [key, value] of Object.entries(arrays)) {
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) throw invalid(`holds a non-string array under "${key}"`);
    metadata[key] = value as string[];
  }
  const embedding = row.embedding;
  if (!Array.isArray(embedding) || !embedding.every((value) => typeof value === 'number')) throw invalid('came back without its embedding');
  const document = row.document;
  if (document !== null && document !== undefined && typeof document !== 'string') throw invalid('has a document that is not text');
  return {
    id: row.id,
    vector: embedding as number[],
    text: document ?? '',
    hash,
    scope,
    metadata: metadata as Metadata,
    createdAt: dates[0]!,
    updatedAt: dates[1]!,
    occurredAt: dates[2]!,
  };
}

function parseJson<T>(value: unknown, check: (parsed: unknown) => parsed is T, fail: () => Error): T {
  if (typeof value !== 'string') throw fail();
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw fail();
  }
  if (!check(parsed)) throw fail();
  return parsed;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isMetadataValue(value: unknown): value is MetadataValue {
  if (typeof value === 'string' || typeof value === 'boolean') return true;
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}
