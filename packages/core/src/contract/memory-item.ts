import type { MemoryRecord, Metadata, Scope } from './types';

/** A memory as `Memory` returns it: a {@link MemoryRecord} without its vector. */
export interface MemoryItem {
  readonly id: string;
  readonly text: string;
  /** SHA-256 of the text. */
  readonly hash: string;
  readonly metadata: Metadata;
  readonly scope: Scope;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /** When the conversation the memory came from happened. */
  readonly occurredAt: Date;
}

/** The {@link MemoryItem} of a stored record. */
export function toMemoryItem(record: MemoryRecord): MemoryItem {
  return {
    id: record.id,
    text: record.text,
    hash: record.hash,
    metadata: record.metadata,
    scope: record.scope,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    occurredAt: record.occurredAt,
  };
}
