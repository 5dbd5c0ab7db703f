import {
  CATEGORIES_KEY,
  EXPIRES_AT_KEY,
  MEMORY_TYPE_KEY,
  categoriesOf,
  expiresAtOf,
  memoryTypeOf,
  type MemoryRecord,
  type Metadata,
  type Scope,
} from './types';

/** A memory as `Memory` returns it: a {@link MemoryRecord} without its vector. */
export interface MemoryItem {
  readonly id: string;
  readonly text: string;
  /** SHA-256 of the text. */
  readonly hash: string;
  /** The user's metadata (the expiry, type and categories are fields of their own, not metadata keys). */
  readonly metadata: Metadata;
  readonly scope: Scope;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /** When the conversation the memory came from happened. */
  readonly occurredAt: Date;
  /** When the memory expires (hidden from `search` and `getAll` from then on); absent when it never does. */
  readonly expiresAt?: Date;
  /** `'procedural'` for the summary of an agent's run (`add` with `memoryType: 'procedural'`); absent for ordinary memories. */
  readonly memoryType?: 'procedural';
  /** The custom categories extraction assigned (names from the `categories` option); absent when none. */
  readonly categories?: readonly string[];
}

/**
 * The {@link MemoryItem} of a stored record: the expiry, the type and the categories move from the
 * metadata to `expiresAt`, `memoryType` and `categories`.
 */
export function toMemoryItem(record: MemoryRecord): MemoryItem {
  const expiresAt = expiresAtOf(record);
  const procedural = memoryTypeOf(record) === 'procedural';
  const categories = categoriesOf(record);
  let metadata = record.metadata;
  if (expiresAt !== undefined || procedural || categories !== undefined) {
    const { [EXPIRES_AT_KEY]: _expiry, [MEMORY_TYPE_KEY]: _type, [CATEGORIES_KEY]: _categories, ...rest } = record.metadata;
    metadata = {
      ...rest,
      // A value core did not write (an old store's user key) stays where it was.
      ...(expiresAt === undefined && _expiry !== undefined ? { [EXPIRES_AT_KEY]: _expiry } : {}),
      ...(!procedural && _type !== undefined ? { [MEMORY_TYPE_KEY]: _type } : {}),
      ...(categories === undefined && _categories !== undefined ? { [CATEGORIES_KEY]: _categories } : {}),
    };
  }
  return {
    id: record.id,
    text: record.text,
    hash: record.hash,
    metadata,
    scope: record.scope,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    occurredAt: record.occurredAt,
    ...(expiresAt === undefined ? {} : { expiresAt }),
    ...(procedural ? { memoryType: 'procedural' as const } : {}),
    ...(categories === undefined ? {} : { categories: [...categories] }),
  };
}

/** `metadata` with the type `procedural` marked ({@link MEMORY_TYPE_KEY}); unchanged for the default type. */
export function withMemoryType(metadata: Metadata, memoryType: 'semantic' | 'procedural'): Metadata {
  return memoryType === 'procedural' ? { ...metadata, [MEMORY_TYPE_KEY]: 'procedural' } : metadata;
}

/** `metadata` with the categories set to `categories` (removed when empty); unchanged for `undefined`. */
export function withCategories(metadata: Metadata, categories: readonly string[] | undefined): Metadata {
  if (categories === undefined) return metadata;
  const { [CATEGORIES_KEY]: _previous, ...rest } = metadata;
  return categories.length === 0 ? rest : { ...rest, [CATEGORIES_KEY]: [...categories] };
}

/** `metadata` with the expiry set to `expiresAt` (epoch ms), or removed for `null`; unchanged for `undefined`. */
export function withExpiry(metadata: Metadata, expiresAt: number | null | undefined): Metadata {
  if (expiresAt === undefined) return metadata;
  const { [EXPIRES_AT_KEY]: _previous, ...rest } = metadata;
  return expiresAt === null ? rest : { ...rest, [EXPIRES_AT_KEY]: expiresAt };
}
