import { InvalidInputError, MissingSettingError } from '../contract/errors';
import { parseFilter, type Filter, type FilterInput } from '../contract/filter';
import { validateScope } from '../contract/scope';
import { denseItems } from '../contract/dense-array';
import {
  CATEGORIES_KEY,
  EXPIRES_AT_KEY,
  MEMORY_TYPE_KEY,
  MEMORY_TYPES,
  type MemoryRecord,
  type MemoryType,
  type Metadata,
  type Scope,
} from '../contract/types';
import {
  INPUT_LIMITS,
  checkCategoryNames,
  checkExpiresAt,
  checkId,
  checkInteger,
  checkMemoryText,
  validateMetadata,
} from '../contract/validation';
import { hashText } from '../kit/ids';
import type { AddOptions, MemoryChange, ScopeOptions, SearchOptions } from './memory-options';

// The checks `Memory` runs on each method's input before anything is read or written. Each failure
// is an InvalidInputError (or MissingSettingError) naming the field and the fix.

/** Longest custom prompt accepted (`prompts.*`, `add(..., { prompt })`). */
export const MAX_PROMPT_LENGTH = 20_000;

/** The scope and the signal of a scoped call. */
export function checkScopeOptions(options: ScopeOptions): { scope: Scope; signal: AbortSignal | undefined } {
  return { scope: validateScope(options?.scope, 'options.scope'), signal: options.signal };
}

/** `options.filter`, parsed; `undefined` when absent. */
export function checkFilterOption(filter: FilterInput | undefined): Filter | undefined {
  return filter === undefined ? undefined : parseFilter(filter, 'options.filter');
}

/** `add`'s `infer` option. */
export function checkInfer(infer: AddOptions['infer']): void {
  if (infer !== undefined && typeof infer !== 'boolean') {
    throw new InvalidInputError('options.infer', 'expected a boolean', 'Pass infer: false to store messages as given.');
  }
}

/** `search`'s numeric and boolean options (the query, scope and filter are checked on their own). */
export function checkSearchOptions(
  options: SearchOptions,
  hasReranker: boolean,
): { limit: number; threshold: number | undefined; relationLimit: number; includeInvalidRelations: boolean } {
  const limit = checkInteger(options.limit, 'options.limit', 1, INPUT_LIMITS.maxLimit, 10);
  if (options.threshold !== undefined && (typeof options.threshold !== 'number' || !(options.threshold >= -1 && options.threshold <= 1))) {
    throw new InvalidInputError('options.threshold', 'expected a number from -1 to 1 (cosine similarity)', 'Pass e.g. threshold: 0.3.');
  }
  if (options.rerank && !hasReranker) {
    throw new MissingSettingError('reranker', 'Pass { reranker } to new Memory() to search with rerank: true.');
  }
  const relationLimit = checkInteger(options.relationLimit, 'options.relationLimit', 1, INPUT_LIMITS.maxLimit, limit);
  if (options.includeInvalidRelations !== undefined && typeof options.includeInvalidRelations !== 'boolean') {
    throw new InvalidInputError(
      'options.includeInvalidRelations',
      'expected a boolean',
      'Pass includeInvalidRelations: true to see ended relations too.',
    );
  }
  return { limit, threshold: options.threshold, relationLimit, includeInvalidRelations: options.includeInvalidRelations === true };
}

/** `update`'s change: a new text (trimmed), metadata keys to merge, and/or an expiry (epoch ms, `null` to clear). */
export function checkChange(change: string | MemoryChange): {
  text: string | undefined;
  metadata: Metadata | undefined;
  expiresAt: number | null | undefined;
} {
  const patch = typeof change === 'string' ? { text: change } : change;
  if (
    typeof patch !== 'object' ||
    patch === null ||
    (patch.text === undefined && patch.metadata === undefined && patch.expiresAt === undefined)
  ) {
    throw new InvalidInputError(
      'change',
      'expected a text or { text?, metadata?, expiresAt? }',
      'Pass the new text, e.g. memory.update(id, "Lives in Porto", { scope }).',
    );
  }
  return {
    text: patch.text === undefined ? undefined : checkMemoryText(patch.text, 'change.text'),
    metadata: patch.metadata === undefined ? undefined : validateMetadata(patch.metadata, 'change.metadata'),
    expiresAt:
      patch.expiresAt === undefined || patch.expiresAt === null ? patch.expiresAt : checkExpiresAt(patch.expiresAt, 'change.expiresAt'),
  };
}

/** `add`'s `memoryType` option: `'semantic'` when absent. */
export function checkMemoryType(value: unknown): MemoryType {
  if (value === undefined) return 'semantic';
  if (typeof value !== 'string' || !(MEMORY_TYPES as readonly string[]).includes(value)) {
    throw new InvalidInputError(
      'options.memoryType',
      `expected ${MEMORY_TYPES.map((type) => `"${type}"`).join(' or ')}`,
      'Pass memoryType: "procedural" to summarise an agent\'s run, or leave it out for facts.',
    );
  }
  return value as MemoryType;
}

/** An `includeExpired` option: a boolean, `false` when absent. */
export function checkIncludeExpired(value: unknown): boolean {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new InvalidInputError('options.includeExpired', 'expected a boolean', 'Pass includeExpired: true to see expired memories too.');
  }
  return value === true;
}

/**
 * `importRecords`' records, each checked like API input (id, scope, text, metadata, dates, a finite
 * vector of one length for all); returns copies with recomputed hashes.
 * @throws {InvalidInputError} naming `records[i].<field>`.
 */
export function checkRecords(records: readonly MemoryRecord[]): MemoryRecord[] {
  if (!Array.isArray(records))
    throw new InvalidInputError('records', 'expected an array of memory records', 'Pass the records of an export.');
  const items = denseItems(records, 'records');
  const dimensions = Array.isArray(items[0]?.vector) ? items[0]!.vector.length : 0;
  const checked = items.map((record, index) => checkRecord(record, `records[${index}]`, dimensions));
  // One id names one memory: a repeated id would write one record over the other (in another scope, even).
  const first = new Map<string, number>();
  checked.forEach((record, index) => {
    const earlier = first.get(record.id);
    if (earlier !== undefined)
      throw new InvalidInputError(`records[${index}].id`, `repeats the id of records[${earlier}]`, 'Give each record its own id.');
    first.set(record.id, index);
  });
  return checked;
}

function checkRecord(record: MemoryRecord, field: string, dimensions: number): MemoryRecord {
  if (typeof record !== 'object' || record === null)
    throw new InvalidInputError(field, 'expected a memory record', 'Pass the records of an export.');
  const id = checkId(record.id, `${field}.id`);
  const scope = validateScope(record.scope, `${field}.scope`);
  const text = checkMemoryText(record.text, `${field}.text`);
  // An export carries the expiry in the metadata, where core keeps it: take it out before the check.
  const plain =
    typeof record.metadata === 'object' &&
    record.metadata !== null &&
    !Array.isArray(record.metadata) &&
    !(record.metadata instanceof Date);
  // The same for the type and the categories.
  const { [EXPIRES_AT_KEY]: expiry, [MEMORY_TYPE_KEY]: type, [CATEGORIES_KEY]: categories, ...userMetadata } = plain ? record.metadata : {};
  const metadata = validateMetadata(plain ? userMetadata : record.metadata, `${field}.metadata`);
  const expiresAt = expiry === undefined ? undefined : checkExpiresAt(expiry, `${field}.metadata.${EXPIRES_AT_KEY}`);
  if (type !== undefined && type !== 'procedural')
    throw new InvalidInputError(
      `${field}.metadata.${MEMORY_TYPE_KEY}`,
      'expected "procedural" (ordinary memories carry no type)',
      'Leave the key out for an ordinary memory.',
    );
  const names = categories === undefined ? undefined : checkCategoryNames(categories, `${field}.metadata.${CATEGORIES_KEY}`);
  const vector = record.vector;
  if (!Array.isArray(vector) || vector.length === 0 || vector.length !== dimensions) {
    throw new InvalidInputError(
      `${field}.vector`,
      `expected ${dimensions || 'some'} finite numbers, like the first record`,
      'Import records embedded by one model.',
    );
  }
  denseItems(vector, `${field}.vector`).forEach((value, index) => {
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw new InvalidInputError(`${field}.vector[${index}]`, 'is not a finite number', 'Import records embedded by one model.');
  });
  const date = (key: 'createdAt' | 'updatedAt' | 'occurredAt') => {
    const value = record[key];
    if (!(value instanceof Date) || Number.isNaN(value.getTime()))
      throw new InvalidInputError(`${field}.${key}`, 'expected a valid Date', 'Parse the dates of the export into Date objects.');
    return value;
  };
  return {
    id,
    vector: [...vector],
    text,
    hash: hashText(text),
    scope,
    metadata: {
      ...metadata,
      ...(expiresAt === undefined ? {} : { [EXPIRES_AT_KEY]: expiresAt }),
      ...(type === undefined ? {} : { [MEMORY_TYPE_KEY]: type }),
      ...(names === undefined ? {} : { [CATEGORIES_KEY]: names }),
    },
    createdAt: date('createdAt'),
    updatedAt: date('updatedAt'),
    occurredAt: date('occurredAt'),
  };
}
