import { EXPIRES_AT_KEY, expiresAtOf, type MemoryRecord, type Metadata, type Scope } from './types';

/** A memory as `Memory` returns it: a {@link MemoryRecord} without its vector. */
export interface MemoryItem {
  readonly id: string;
  readonly text: string;
  /** SHA-256 of the text. */
  readonly hash: string;
  /** The user's metadata (the expiry is `expiresAt`, not a metadata key). */
  readonly metadata: Metadata;
  readonly scope: Scope;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /** When the conversation the memory came from happened. */
  readonly occurredAt: Date;
  /** When the memory expires (hidden from `search` and `getAll` from then on); absent when it never does. */
  readonly expiresAt?: Date;
}

/** The {@link MemoryItem} of a stored record: the expiry moves from the metadata to `expiresAt`. */
export function toMemoryItem(record: MemoryRecord): MemoryItem {
  const expiresAt = expiresAtOf(record);
  let metadata = record.metadata;
  if (expiresAt !== undefined) {
    const { [EXPIRES_AT_KEY]: _expiry, ...rest } = record.metadata;
    metadata = rest;
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
  };
}

/** `metadata` with the expiry set to `expiresAt` (epoch ms), or removed for `null`; unchanged for `undefined`. */
export function withExpiry(metadata: Metadata, expiresAt: number | null | undefined): Metadata {
  if (expiresAt === undefined) return metadata;
  const { [EXPIRES_AT_KEY]: _previous, ...rest } = metadata;
  return expiresAt === null ? rest : { ...rest, [EXPIRES_AT_KEY]: expiresAt };
}
