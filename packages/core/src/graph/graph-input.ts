import { DimensionMismatchError, InvalidInputError } from '../contract/errors';
import type { GraphRelationKey } from '../contract/interfaces';

/**
 * Validation of `GraphStore` request values, shared by graph adapters: run it before anything is
 * sent, so a bad item rejects the whole call and writes nothing.
 */

/** Longest entity, type or relation name accepted, in UTF-16 code units (core stores at most 256 characters). */
export const MAX_NAME_LENGTH = 4_096;
/** Largest embedding length accepted by default (covers every common embedding model). */
export const MAX_GRAPH_DIMENSIONS = 16_384;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A non-empty string of at most {@link MAX_NAME_LENGTH} code units that survives UTF-8 (Bolt) intact. */
export function checkName(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_NAME_LENGTH) {
    throw new InvalidInputError(
      field,
      `expected a string of 1 to ${MAX_NAME_LENGTH} characters`,
      'Pass names as core normalises them, e.g. "alice".',
    );
  }
  if (LONE_SURROGATE.test(value)) {
    throw new InvalidInputError(
      field,
      'contains a lone UTF-16 surrogate, which cannot be stored as UTF-8',
      'Pass well-formed Unicode text.',
    );
  }
  return value;
}

/** A relation key with checked names. */
export function checkKey(value: unknown, field: string): GraphRelationKey {
  if (typeof value !== 'object' || value === null) {
    throw new InvalidInputError(
      field,
      'expected { source, relation, target }',
      'Pass e.g. { source: "alice", relation: "works_at", target: "acme" }.',
    );
  }
  const key = value as GraphRelationKey;
  return {
    source: checkName(key.source, `${field}.source`),
    relation: checkName(key.relation, `${field}.relation`),
    target: checkName(key.target, `${field}.target`),
  };
}

/** An array of at most `max` items. */
export function checkBatch<T>(value: readonly T[] | undefined, field: string, max: number): readonly T[] {
  if (!Array.isArray(value)) throw new InvalidInputError(field, 'expected an array', `Pass { ${field}: [...] }.`);
  if (value.length > max) {
    throw new InvalidInputError(
      field,
      `holds ${value.length} items, more than the ${max} one call accepts`,
      `Split it into batches of at most ${max} (capabilities.maxBatchSize).`,
    );
  }
  return value;
}

/** Milliseconds since the epoch of a valid Date. */
export function epochMs(value: unknown, field: string): number {
  const time = value instanceof Date ? value.getTime() : Number.NaN;
  if (Number.isNaN(time)) throw new InvalidInputError(field, 'expected a valid Date', 'Pass e.g. new Date("2024-06-01").');
  return time;
}

/** A non-negative integer count (`limit`, `topK`). */
export function checkCount(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new InvalidInputError(field, 'expected a non-negative integer', `Pass e.g. { ${field}: 10 }.`);
  }
  return value;
}

/** Length of a vector-like value, or -1 when it is not an array. */
export function vectorLength(value: unknown): number {
  return Array.isArray(value) ? value.length : -1;
}

/**
 * A copy of an embedding or query vector of the expected length with finite numbers.
 * @throws {DimensionMismatchError} for another length; {@link InvalidInputError} for a non-number.
 */
export function checkVector(value: unknown, field: string, dimensions: number, where: string, fix: string): number[] {
  const length = vectorLength(value);
  if (length !== dimensions) throw new DimensionMismatchError(where, dimensions, length, fix);
  const vector = value as readonly unknown[];
  for (let index = 0; index < vector.length; index++) {
    const item = vector[index];
    if (typeof item !== 'number' || !Number.isFinite(item)) {
      throw new InvalidInputError(`${field}[${index}]`, 'expected a finite number', "Pass the embedder's output unchanged.");
    }
  }
  return [...(vector as readonly number[])];
}

/**
 * The embedding dimensions accepted by `ensureSchema`.
 * @param max - the backend's limit, e.g. 4,096 for a Neo4j 5.26 vector index
 * @param why - named in the message when the backend sets the limit
 */
export function checkDimensions(value: unknown, max = MAX_GRAPH_DIMENSIONS, why = ''): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new InvalidInputError(
      'dimensions',
      `expected an integer from 1 to ${max}${why ? ` (${why})` : ''}`,
      "Pass the embedder's vector length, e.g. 1536.",
    );
  }
  return value;
}
