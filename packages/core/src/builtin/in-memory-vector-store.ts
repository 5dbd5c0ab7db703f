import { bm25Scores } from '../kit/bm25';
import { defineVectorStoreCapabilities } from '../contract/capabilities';
import { DimensionMismatchError, MemError, UnsupportedCapabilityError, throwIfAborted } from '../contract/errors';
import { FILTER_OPERATORS, evaluateFilter, filterOperatorsUsed, type Filter } from '../contract/filter';
import type { VectorStore } from '../contract/interfaces';
import { scopeContains, validateScope } from '../contract/scope';
import type { Call, MemoryKey, MemoryRecord, ScopedCall, VectorMatch } from '../contract/types';
import { compareIds } from '../kit/ids';
import { cosineSimilarity } from '../kit/vector-math';

/**
 * A {@link VectorStore} in process memory: exact search, every filter operator, BM25 keyword search.
 * Nothing survives the process, and nothing is shared with another: single-process only. Use
 * `@mem/vector-sqlite` (one file, several processes) or `@mem/vector-postgres` to keep memories.
 *
 * @example
 * const memory = new Memory({ embedder, vectorStore: new InMemoryVectorStore(), historyStore: new InMemoryHistoryStore() });
 */
export class InMemoryVectorStore implements VectorStore {
  readonly provider = 'in-memory';
  readonly capabilities = defineVectorStoreCapabilities({
    filterOperators: FILTER_OPERATORS,
    maxUpsertBatch: 10_000,
    keywordSearch: true,
  });
  private dimensions: number | undefined;
  private readonly records = new Map<string, MemoryRecord>();

  async ensureCollection(request: Call<{ dimensions: number }>): Promise<void> {
    throwIfAborted(request.signal, 'in-memory ensureCollection');
    if (this.dimensions !== undefined && this.dimensions !== request.dimensions) {
      throw new DimensionMismatchError(
        'The in-memory collection',
        this.dimensions,
        request.dimensions,
        'Use one embedder per store, or create a new store.',
      );
    }
    this.dimensions = request.dimensions;
  }

  async upsert(request: Call<{ records: readonly MemoryRecord[] }>): Promise<void> {
    throwIfAborted(request.signal, 'in-memory upsert');
    request.records.forEach((record, index) => validateScope(record.scope, `records[${index}].scope`));
    const dimensions = this.requireDimensions();
    for (const record of request.records) {
      if (record.vector.length !== dimensions) {
        throw new DimensionMismatchError(
          'The in-memory collection',
          dimensions,
          record.vector.length,
          'Embed with the same model the collection was created with.',
        );
      }
    }
    for (const record of request.records) this.records.set(record.id, copyRecord(record));
  }

  async query(request: ScopedCall<{ vector: readonly number[]; topK: number; filter?: Filter }>): Promise<VectorMatch[]> {
    throwIfAborted(request.signal, 'in-memory query');
    validateScope(request.scope);
    const dimensions = this.requireDimensions();
    if (request.vector.length !== dimensions) {
      throw new DimensionMismatchError(
        'The in-memory collection',
        dimensions,
        request.vector.length,
        'Embed queries with the same model as the memories.',
      );
    }
    this.checkFilter(request.filter);
    return this.matching(request)
      .map((record) => ({ record: copyRecord(record), score: cosineSimilarity(request.vector, record.vector) }))
      .sort((a, b) => b.score - a.score || compareIds(a.record.id, b.record.id))
      .slice(0, request.topK);
  }

  async keywordQuery(request: ScopedCall<{ text: string; topK: number; filter?: Filter }>): Promise<VectorMatch[]> {
    throwIfAborted(request.signal, 'in-memory keywordQuery');
    validateScope(request.scope);
    this.checkFilter(request.filter);
    const candidates = this.matching(request);
    const scores = bm25Scores(
      request.text,
      candidates.map((record) => record.text),
    );
    return candidates
      .map((record, index) => ({ record: copyRecord(record), score: scores[index]! }))
      .filter((match) => match.score > 0)
      .sort((a, b) => b.score - a.score || compareIds(a.record.id, b.record.id))
      .slice(0, request.topK);
  }

  async get(request: ScopedCall<{ ids: readonly string[] }>): Promise<MemoryRecord[]> {
    throwIfAborted(request.signal, 'in-memory get');
    validateScope(request.scope);
    const found: MemoryRecord[] = [];
    for (const id of new Set(request.ids)) {
      const record = this.records.get(id);
      if (record && scopeContains(request.scope, record.scope)) found.push(copyRecord(record));
    }
    return found;
  }

  async delete(request: ScopedCall<{ ids: readonly string[] }>): Promise<void> {
    throwIfAborted(request.signal, 'in-memory delete');
    validateScope(request.scope);
    for (const id of request.ids) {
      const record = this.records.get(id);
      if (record && scopeContains(request.scope, record.scope)) this.records.delete(id);
    }
  }

  async *list(request: ScopedCall<{ filter?: Filter; after?: string }>): AsyncIterable<MemoryRecord> {
    throwIfAborted(request.signal, 'in-memory list');
    validateScope(request.scope);
    this.checkFilter(request.filter);
    const records = this.matching(request)
      .filter((record) => request.after === undefined || compareIds(record.id, request.after) > 0)
      .sort((a, b) => compareIds(a.id, b.id));
    for (const record of records) yield copyRecord(record);
  }

  /**
   * The id, createdAt and occurredAt of the first `limit` records in scope matching `filter`, in
   * ascending id order (also when asked `unordered`, which allows any `limit` of them).
   */
  async listKeys(request: ScopedCall<{ filter?: Filter; limit: number; unordered?: boolean }>): Promise<MemoryKey[]> {
    throwIfAborted(request.signal, 'in-memory listKeys');
    validateScope(request.scope);
    this.checkFilter(request.filter);
    return this.matching(request)
      .sort((a, b) => compareIds(a.id, b.id))
      .slice(0, request.limit)
      .map((record) => ({ id: record.id, createdAt: new Date(record.createdAt), occurredAt: new Date(record.occurredAt) }));
  }

  async reset(): Promise<void> {
    this.records.clear();
  }

  async close(): Promise<void> {}

  private matching(request: ScopedCall<{ filter?: Filter }>): MemoryRecord[] {
    const { filter, scope } = request;
    return [...this.records.values()].filter((record) => scopeContains(scope, record.scope) && (!filter || evaluateFilter(filter, record)));
  }

  private checkFilter(filter: Filter | undefined): void {
    if (!filter) return;
    for (const op of filterOperatorsUsed(filter)) {
      if (!this.capabilities.filterOperators.has(op)) {
        throw new UnsupportedCapabilityError(
          this.provider,
          `the filter operator "${op}"`,
          'Core evaluates it; do not pass it to this store.',
        );
      }
    }
  }

  private requireDimensions(): number {
    if (this.dimensions === undefined) {
      throw new MemError('CONFLICT', 'The in-memory collection does not exist yet. Call ensureCollection({ dimensions }) first.');
    }
    return this.dimensions;
  }
}

function copyRecord(record: MemoryRecord): MemoryRecord {
  return {
    ...record,
    vector: [...record.vector],
    scope: { ...record.scope },
    metadata: structuredClone(record.metadata),
    createdAt: new Date(record.createdAt),
    updatedAt: new Date(record.updatedAt),
    occurredAt: new Date(record.occurredAt),
  };
}
