import { hashText, type MemoryRecord, type Scope, type VectorStore } from '@mem/core/adapter';
import { baseHelpers, type CaseHelpers, type RunCaseOptions } from './case';

/** Vector length the suite creates collections with: small, so every backend accepts it. */
export const CONFORMANCE_DIMENSIONS = 8;

/** Fields of a test record; everything left out gets a deterministic default. */
export type RecordFields = { -readonly [K in keyof MemoryRecord]?: MemoryRecord[K] };

/** Helpers handed to every vector store case. */
export interface VectorStoreCaseHelpers extends CaseHelpers {
  /** Vector length of the collection the suite created ({@link CONFORMANCE_DIMENSIONS}). */
  readonly dimensions: number;
  /**
   * A UUID-shaped id, unique to this test, that sorts by `n` (ascending `n` gives ascending ids),
   * e.g. `3f9a1c2b-0000-7000-8000-00000000002a`. Backends that only accept UUIDs take it as is.
   */
  id(n: number): string;
  /**
   * A complete {@link MemoryRecord}. Defaults: a fresh id, scope `{ userId: 'user-a' }`, text
   * `memory <n>`, `hash` the SHA-256 hex of the text, a deterministic unit vector, empty metadata,
   * fixed dates with milliseconds set.
   */
  record(fields?: RecordFields): MemoryRecord;
  /** The unit vector along axis `index` (0-based), times `sign`. */
  axis(index: number, sign?: 1 | -1): number[];
  /** A deterministic pseudo-random unit vector for `seed`. */
  unitVector(seed: number): number[];
  /** SHA-256 hex digest of `text`, as mem computes `MemoryRecord.hash` (core's `hashText`). */
  hashOf(text: string): string;
  /** Upserts `records` in batches of at most `capabilities.maxUpsertBatch`. */
  write(records: readonly MemoryRecord[]): Promise<void>;
}

/** Builds the helpers for one vector store case. */
export function createVectorStoreHelpers(
  store: VectorStore,
  options: RunCaseOptions & { readonly namespace: string },
): VectorStoreCaseHelpers {
  const idPrefix = randomHex(4);
  let nextId = 1_000_000;
  const id = (n: number): string => {
    if (!Number.isSafeInteger(n) || n < 0 || n >= 2 ** 48) throw new RangeError('helpers.id(n) needs an integer from 0 to 2^48 - 1');
    return `${idPrefix}-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;
  };
  const hashOf = hashText;
  const unitVector = (seed: number): number[] => seededUnitVector(seed, CONFORMANCE_DIMENSIONS);
  return {
    ...baseHelpers({ ...options, consistency: store.capabilities.readAfterWrite }),
    dimensions: CONFORMANCE_DIMENSIONS,
    id,
    axis: (index, sign = 1) => Array.from({ length: CONFORMANCE_DIMENSIONS }, (_, position) => (position === index ? sign : 0)),
    unitVector,
    hashOf,
    record(fields = {}) {
      const n = nextId++;
      const text = fields.text ?? `memory ${n}`;
      const createdAt = fields.createdAt ?? new Date(Date.UTC(2024, 4, 17, 9, 30, 15, 123));
      return {
        id: fields.id ?? id(n),
        vector: fields.vector ?? unitVector(n),
        text,
        hash: fields.hash ?? hashOf(text),
        scope: fields.scope ?? ({ userId: 'user-a' } satisfies Scope),
        metadata: fields.metadata ?? {},
        createdAt,
        updatedAt: fields.updatedAt ?? new Date(createdAt.getTime() + 61_001),
        occurredAt: fields.occurredAt ?? new Date(Date.UTC(2024, 4, 16, 18, 5, 59, 987)),
      };
    },
    async write(records) {
      const batchSize = Math.max(1, store.capabilities.maxUpsertBatch);
      for (let start = 0; start < records.length; start += batchSize) {
        await store.upsert({ records: records.slice(start, start + batchSize) });
      }
    },
  };
}

function randomHex(bytes: number): string {
  const buffer = new Uint8Array(bytes);
  globalThis.crypto.getRandomValues(buffer);
  return [...buffer].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** mulberry32: a tiny deterministic generator, so vectors are the same on every run. */
function seededUnitVector(seed: number, dimensions: number): number[] {
  let state = (seed * 0x9e3779b1 + 0x6d2b79f5) >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const vector = Array.from({ length: dimensions }, () => next() * 2 - 1);
  const norm = Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0)) || 1;
  return vector.map((x) => x / norm);
}
