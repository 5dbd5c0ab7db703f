import {
  ProviderResponseInvalidError,
  SCOPE_FIELDS,
  type MemoryRecord,
  type Metadata,
  type MetadataValue,
  type Scope,
} from '@mem/core/adapter';
import { isNativePointId, toPointId } from './qdrant-point-id';

/** Provider name used in errors. */
export const QDRANT_PROVIDER = 'qdrant';

/**
 * The payload mem stores with every Qdrant point. Scope ids and dates are top-level keys (dates as
 * epoch milliseconds, so range filters work without a datetime index); user metadata sits under
 * `metadata`, so a metadata key can never shadow one of mem's own keys.
 */
export type QdrantMemoryPayload = {
  /** The memory id exactly as given; the point id may be derived from it (see `toPointId`). */
  readonly id: string;
  readonly text: string;
  readonly hash: string;
  readonly userId?: string;
  readonly agentId?: string;
  readonly runId?: string;
  readonly metadata: Metadata;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly occurredAt: number;
  /** Set when the point id is derived from `id`: such points are not in id order in Qdrant. */
  readonly idMapped?: true;
};

/** Payload key marking points whose id is derived (see {@link QdrantMemoryPayload.idMapped}). */
export const ID_MAPPED_KEY = 'idMapped';

/** A point as sent to Qdrant's upsert. */
export interface QdrantPointInput {
  readonly id: string;
  readonly vector: number[];
  readonly payload: QdrantMemoryPayload;
}

/** Turns a record into the point stored for it. */
export function toPoint(record: MemoryRecord): QdrantPointInput {
  const scope: { userId?: string; agentId?: string; runId?: string } = {};
  for (const key of SCOPE_FIELDS) if (record.scope[key] !== undefined) scope[key] = record.scope[key];
  return {
    id: toPointId(record.id),
    vector: [...record.vector],
    payload: {
      id: record.id,
      text: record.text,
      hash: record.hash,
      ...scope,
      metadata: record.metadata,
      createdAt: record.createdAt.getTime(),
      updatedAt: record.updatedAt.getTime(),
      occurredAt: record.occurredAt.getTime(),
      ...(isNativePointId(record.id) ? {} : { idMapped: true as const }),
    },
  };
}

/**
 * Reads a record back from a point Qdrant returned, checking only the fields mem reads.
 *
 * @throws {ProviderResponseInvalidError} when the point lacks a field or holds the wrong type,
 *   e.g. because the collection holds points mem did not write.
 */
export function fromPoint(point: unknown, operation: string): MemoryRecord {
  const invalid = (problem: string) => new ProviderResponseInvalidError(QDRANT_PROVIDER, operation, problem);
  if (!isObject(point)) throw invalid('a point is not an object');
  const payload = point['payload'];
  if (!isObject(payload)) throw invalid('a point has no payload; the collection may hold points mem did not write');
  const id = payload['id'];
  if (typeof id !== 'string') throw invalid('a point payload has no string "id"; the collection may hold points mem did not write');
  for (const key of ['text', 'hash'] as const) {
    if (typeof payload[key] !== 'string') throw invalid(`the point of memory "${id}" has no string "${key}"`);
  }
  const scope: { userId?: string; agentId?: string; runId?: string } = {};
  for (const key of SCOPE_FIELDS) {
    const value = payload[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') throw invalid(`the point of memory "${id}" has a non-string "${key}"`);
    scope[key] = value;
  }
  const dates = (['createdAt', 'updatedAt', 'occurredAt'] as const).map((key) => {
    const value = payload[key];
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw invalid(`the point of memory "${id}" has no epoch-millisecond "${key}"`);
    return new Date(value);
  });
  return {
    id,
    vector: readVector(point['vector'], () => invalid(`the point of memory "${id}" has no dense vector`)),
    text: payload['text'] as string,
    hash: payload['hash'] as string,
    scope: scope as Scope,
    metadata: readMetadata(payload['metadata'], () => invalid(`the point of memory "${id}" has malformed metadata`)),
    createdAt: dates[0]!,
    updatedAt: dates[1]!,
    occurredAt: dates[2]!,
  };
}

/** Reads the original memory id of a point fetched with only the `id` payload key. */
export function payloadId(point: unknown, operation: string): string {
  const payload = isObject(point) ? point['payload'] : undefined;
  const id = isObject(payload) ? payload['id'] : undefined;
  if (typeof id !== 'string') {
    throw new ProviderResponseInvalidError(
      QDRANT_PROVIDER,
      operation,
      'a point payload has no string "id"; the collection may hold points mem did not write',
    );
  }
  return id;
}

function readVector(value: unknown, invalid: () => Error): number[] {
  if (!Array.isArray(value) || !value.every((x) => typeof x === 'number')) throw invalid();
  return value as number[];
}

function readMetadata(value: unknown, invalid: () => Error): Metadata {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw invalid();
  const metadata: Record<string, MetadataValue> = {};
  for (const [key, item] of Object.entries(value)) {
    const valid =
      typeof item === 'string' ||
      typeof item === 'number' ||
      typeof item === 'boolean' ||
      (Array.isArray(item) && item.every((element) => typeof element === 'string'));
    if (!valid) throw invalid();
    // defineProperty, not assignment: a key such as "__proto__" stays an ordinary key.
    Object.defineProperty(metadata, key, { value: item as MetadataValue, enumerable: true, writable: true, configurable: true });
  }
  return metadata;
}

/** Whether `value` is a non-array object. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
