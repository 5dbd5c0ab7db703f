import {
  DimensionMismatchError,
  InvalidInputError,
  MemError,
  ProviderResponseInvalidError,
  UnsupportedCapabilityError,
  compareIds,
  defineVectorStoreCapabilities,
  evaluateFilter,
  scopeContains,
  throwIfAborted,
  validateScope,
  type Call,
  type Filter,
  type MemoryRecord,
  type ProviderRequestError,
  type Scope,
  type ScopedCall,
  type VectorMatch,
  type VectorStore,
  type VectorStoreCapabilities,
} from '@mem/core/adapter';
import { ChromaClient, ChromaNotFoundError, ChromaUniqueError, type Collection, type EmbeddingFunction, type Where } from 'chromadb';
import { CHROMA_FILTER_OPERATORS, allOf, assertNativeFilter, filterToWhere, scopeToWhere } from './chroma-filter';
import { decodeRecord, encodeRecord, validateRecord, type ChromaResultRow } from './chroma-record-codec';
import { callChroma, type ChromaRetryPolicy } from './chroma-retry';
import { chromaEndpoint, resolveChromaSettings, type ChromaSettings, type ChromaVectorStoreOptions } from './chroma-vector-store-options';

/** Collection metadata key holding the vector length mem created the collection with. */
const DIMENSIONS_KEY = 'mem:dimensions';

type Include = NonNullable<NonNullable<Parameters<Collection['get']>[0]>['include']>;
const RECORD_FIELDS: Include = ['documents', 'metadatas', 'embeddings'];

/**
 * Handed to chromadb when it asks for an embedding function: mem always sends vectors, so Chroma
 * never embeds. Passing one also stops chromadb from resolving (and warning about) the default one.
 */
const NO_EMBEDDING_FUNCTION: EmbeddingFunction = {
  name: 'mem-precomputed',
  generate: () => Promise.reject(new Error('ChromaVectorStore always sends precomputed vectors.')),
};

interface CollectionState {
  readonly collection: Collection;
  /** Vector length; `undefined` only for an empty collection mem did not create. */
  readonly dimensions: number | undefined;
}

/**
 * A {@link VectorStore} on a Chroma server (chroma 1.x, local or Chroma Cloud) through the official
 * `chromadb` client. Scores are cosine similarity (`1 - cosine distance`); the collection is created
 * with `hnsw:space: cosine` and no embedding function.
 *
 * Filters: `gt`, `gte`, `lt`, `lte`, `and`, `or` run inside Chroma; core evaluates the other operators
 * (see {@link CHROMA_FILTER_OPERATORS} for why). `keywordQuery` is not supported: Chroma's document
 * search matches substrings without ranking them.
 *
 * @example
 * import { Memory } from '@mem/core';
 * import { ChromaVectorStore } from '@mem/vector-chroma';
 *
 * const vectorStore = new ChromaVectorStore({ url: 'http://localhost:8000', collection: 'memories' });
 * const memory = new Memory({ llm, embedder, vectorStore, historyStore });
 * await memory.add('I moved to Lisbon last spring', { scope: { userId: 'alice' } });
 */
export class ChromaVectorStore implements VectorStore {
  readonly provider = 'chroma';
  readonly capabilities: VectorStoreCapabilities;
  /** Name of the Chroma collection this store uses. */
  readonly collectionName: string;
  private readonly settings: ChromaSettings;
  private readonly client: ChromaClient;
  private readonly policy: ChromaRetryPolicy;
  private state: Promise<CollectionState | undefined> | undefined;
  private batchLimit: Promise<number> | undefined;

  /**
   * @throws {InvalidInputError} when an option (or the environment variable it falls back to) cannot be used.
   */
  constructor(options: ChromaVectorStoreOptions = {}) {
    this.settings = resolveChromaSettings(options);
    const { host, port, ssl, tenant, database, headers } = this.settings;
    // `client` is typed structurally (ChromaClientLike); what it must be is a chromadb ChromaClient.
    this.client =
      (options.client as ChromaClient | undefined) ?? new ChromaClient({ host, port, ssl, tenant, database, headers: { ...headers } });
    this.collectionName = this.settings.collection;
    this.capabilities = defineVectorStoreCapabilities({
      filterOperators: CHROMA_FILTER_OPERATORS,
      maxUpsertBatch: this.settings.maxUpsertBatch,
      readAfterWrite: 'immediate',
      keywordSearch: false,
    });
    this.policy = {
      endpoint: options.client ? 'the server of options.client' : chromaEndpoint(this.settings),
      collection: this.collectionName,
      maxRetries: this.settings.maxRetries,
      retryDelayMs: this.settings.retryDelayMs,
    };
  }

  /**
   * Creates the collection (cosine space, no embedding function, `mem:dimensions` in its metadata)
   * or checks an existing one. Idempotent; safe to call concurrently.
   *
   * @throws {DimensionMismatchError} when the collection holds vectors of another length.
   * @throws {MemError} `CONFLICT` when the collection exists with a distance other than cosine.
   */
  async ensureCollection(request: Call<{ readonly dimensions: number }>): Promise<void> {
    const { dimensions, signal } = request;
    if (!Number.isInteger(dimensions) || dimensions < 1) {
      throw new InvalidInputError('dimensions', 'expected a positive integer', 'Pass the vector length of the embedder, e.g. 1536.');
    }
    let state = await this.lookup(signal);
    if (!state) {
      const created = await this.call('createCollection', signal, () =>
        this.client
          .createCollection({
            name: this.collectionName,
            embeddingFunction: null,
            metadata: { 'hnsw:space': 'cosine', [DIMENSIONS_KEY]: dimensions },
          })
          // Another caller created it first: use theirs (and check it below).
          .catch((error: unknown) => (error instanceof ChromaUniqueError ? undefined : Promise.reject(error))),
      );
      state = created ? { collection: created, dimensions } : await this.lookup(signal);
      if (!state)
        throw new MemError(
          'CONFLICT',
          `The Chroma collection "${this.collectionName}" was deleted while it was being created. Call ensureCollection again.`,
        );
    }
    if (state.dimensions !== undefined && state.dimensions !== dimensions) {
      throw new DimensionMismatchError(
        this.where(),
        state.dimensions,
        dimensions,
        'Use the embedder the collection was filled with, or choose another collection name (dropCollection() deletes this one and every memory in it).',
      );
    }
    this.state = Promise.resolve({ collection: state.collection, dimensions });
  }

  /**
   * Inserts or replaces records by id. Records are checked first, so a bad one rejects the whole
   * call; larger calls are sent in requests of `min(maxUpsertBatch, server max_batch_size)` records,
   * each applied whole or not at all. Each request first reads the stored metadata of its ids, to
   * overwrite metadata keys a new version no longer has (Chroma merges metadata on upsert).
   *
   * @throws {DimensionMismatchError} when a vector length differs from the collection's.
   * @throws {InvalidInputError} for a malformed record, naming `records[i].<field>`.
   */
  async upsert(request: Call<{ readonly records: readonly MemoryRecord[] }>): Promise<void> {
    const { records, signal } = request;
    throwIfAborted(signal, 'chroma upsert');
    const state = await this.require('upsert', signal);
    records.forEach((record, index) => validateRecord(record, index, state.dimensions, this.where()));
    // chromadb rejects duplicate ids in one request; the last version wins, as in core's reference store.
    const unique = [...new Map(records.map((record) => [record.id, record])).values()];
    const batchSize = Math.min(this.settings.maxUpsertBatch, await this.serverBatchLimit(signal));
    for (const chunk of chunks(unique, batchSize)) {
      const ids = chunk.map((record) => record.id);
      const stored = await this.call('upsert', signal, () => state.collection.get({ ids, include: ['metadatas'] }));
      const previous = new Map(stored.ids.map((id, index) => [id, stored.metadatas[index]]));
      const rows = chunk.map((record) => encodeRecord(record, previous.get(record.id)));
      await this.call('upsert', signal, () =>
        state.collection.upsert({
          ids,
          embeddings: rows.map((row) => row.embedding),
          documents: rows.map((row) => row.document),
          metadatas: rows.map((row) => row.metadata),
        }),
      );
    }
  }

  /**
   * The `topK` records in scope most similar to `vector`, best first; `score` is cosine similarity.
   * Chroma's HNSW index is approximate on large collections, like every ANN index.
   *
   * @throws {UnsupportedCapabilityError} for a filter operator outside `capabilities.filterOperators`.
   * @throws {DimensionMismatchError} when `vector` has another length than the collection's vectors.
   */
  async query(
    request: ScopedCall<{ readonly vector: readonly number[]; readonly topK: number; readonly filter?: Filter }>,
  ): Promise<VectorMatch[]> {
    const { scope, vector, topK, filter, signal } = request;
    throwIfAborted(signal, 'chroma query');
    const where = this.whereFor(scope, filter);
    if (!Number.isInteger(topK) || topK < 0) throw new InvalidInputError('topK', 'expected a non-negative integer', 'Pass e.g. 10.');
    const state = await this.require('query', signal);
    if (state.dimensions !== undefined && vector.length !== state.dimensions) {
      throw new DimensionMismatchError(this.where(), state.dimensions, vector.length, 'Embed queries with the same model as the memories.');
    }
    if (!vector.every((value) => typeof value === 'number' && Number.isFinite(value))) {
      throw new InvalidInputError('vector', 'expected finite numbers', 'Check the embedder output.');
    }
    if (topK === 0) return [];
    const result = await this.call('query', signal, () =>
      state.collection.query({
        queryEmbeddings: [[...vector]],
        nResults: topK,
        where,
        include: ['documents', 'metadatas', 'embeddings', 'distances'],
      }),
    );
    const ids = result.ids[0] ?? [];
    const matches: VectorMatch[] = ids.map((id, index) => {
      const record = decodeRecord(
        { id, embedding: result.embeddings[0]?.[index], document: result.documents[0]?.[index], metadata: result.metadatas[0]?.[index] },
        'query',
      );
      const distance = result.distances[0]?.[index];
      if (typeof distance !== 'number') throw decodeRecordError('query', id, 'came back without a distance');
      // Chroma's cosine space returns 1 - cosine similarity, computed in float32.
      return { record, score: Math.max(-1, Math.min(1, 1 - distance)) };
    });
    return matches
      .filter((match) => this.matches(match.record, scope, filter))
      .sort((a, b) => b.score - a.score || compareIds(a.record.id, b.record.id))
      .slice(0, topK);
  }

  /**
   * Not supported: Chroma 1.0 filters documents by substring (`$contains`) but does not rank them.
   *
   * @throws {UnsupportedCapabilityError} always; `capabilities.keywordSearch` is false.
   */
  async keywordQuery(
    _request: ScopedCall<{ readonly text: string; readonly topK: number; readonly filter?: Filter }>,
  ): Promise<VectorMatch[]> {
    throw new UnsupportedCapabilityError(
      this.provider,
      'keyword search',
      'Chroma 1.0 matches document substrings without ranking them; capabilities.keywordSearch is false, so Memory searches by vector only.',
    );
  }

  /** The records in scope with these ids, in the order asked (missing ids left out). */
  async get(request: ScopedCall<{ readonly ids: readonly string[] }>): Promise<MemoryRecord[]> {
    const { scope, signal } = request;
    throwIfAborted(signal, 'chroma get');
    const where = this.whereFor(scope, undefined);
    const ids = uniqueIds(request.ids, 'ids');
    if (ids.length === 0) return [];
    const state = await this.current(signal);
    if (!state) return [];
    const found = new Map<string, MemoryRecord>();
    for (const chunk of chunks(ids, this.settings.pageSize)) {
      for (const record of await this.fetchRecords(state, chunk, where, 'get', signal)) found.set(record.id, record);
    }
    return ids.flatMap((id) => {
      const record = found.get(id);
      return record && scopeContains(scope, record.scope) ? [record] : [];
    });
  }

  /** Deletes the records in scope with these ids, `pageSize` ids per request; missing ids are ignored. */
  async delete(request: ScopedCall<{ readonly ids: readonly string[] }>): Promise<void> {
    const { scope, signal } = request;
    throwIfAborted(signal, 'chroma delete');
    const where = this.whereFor(scope, undefined);
    const ids = uniqueIds(request.ids, 'ids');
    if (ids.length === 0) return;
    const state = await this.current(signal);
    if (!state) return;
    for (const chunk of chunks(ids, this.settings.pageSize)) {
      await this.call('delete', signal, () => state.collection.delete({ ids: chunk, where }));
    }
  }

  /**
   * Every record in scope matching `filter`, in ascending id order (JavaScript string order), after
   * `after` when given.
   *
   * Chroma pages `get` in insertion order only, so the first `next()` reads the ids of every matching
   * record (ids only, `pageSize` per request), sorts them, and then records are fetched lazily,
   * `pageSize` ids per request. Cost: `2 × ⌈n / pageSize⌉` requests and the n ids in memory. A
   * record written after the ids were read is not listed; one deleted meanwhile is skipped.
   *
   * @throws {UnsupportedCapabilityError} for a filter operator outside `capabilities.filterOperators`.
   */
  async *list(request: ScopedCall<{ readonly filter?: Filter; readonly after?: string }>): AsyncIterable<MemoryRecord> {
    const { scope, filter, after, signal } = request;
    throwIfAborted(signal, 'chroma list');
    const where = this.whereFor(scope, filter);
    if (after !== undefined && typeof after !== 'string')
      throw new InvalidInputError('after', 'expected an id (a string)', 'Pass the id of the last record you received.');
    const state = await this.current(signal);
    if (!state) return;
    const ids = new Set<string>();
    for (let offset = 0; ; offset += this.settings.pageSize) {
      const page = await this.call('list', signal, () =>
        state.collection.get({ where, limit: this.settings.pageSize, offset, include: [] }),
      );
      for (const id of page.ids) if (after === undefined || compareIds(id, after) > 0) ids.add(id);
      if (page.ids.length < this.settings.pageSize) break;
    }
    const sorted = [...ids].sort(compareIds);
    for (const chunk of chunks(sorted, this.settings.pageSize)) {
      const records = new Map((await this.fetchRecords(state, chunk, where, 'list', signal)).map((record) => [record.id, record]));
      for (const id of chunk) {
        const record = records.get(id);
        if (record && this.matches(record, scope, filter)) yield record;
      }
    }
  }

  /** Deletes every record of the collection (in every scope), `pageSize` per request; keeps the collection. */
  async reset(request: Call<object> = {}): Promise<void> {
    const { signal } = request;
    throwIfAborted(signal, 'chroma reset');
    const state = await this.current(signal);
    if (!state) return;
    for (;;) {
      const page = await this.call('reset', signal, () => state.collection.get({ limit: this.settings.pageSize, include: [] }));
      if (page.ids.length === 0) return;
      await this.call('reset', signal, () => state.collection.delete({ ids: page.ids }));
    }
  }

  /**
   * Deletes the whole collection and every memory in it (tests use it to clean up). The next
   * `ensureCollection` creates it again. A missing collection is not an error.
   */
  async dropCollection(request: Call<object> = {}): Promise<void> {
    this.state = undefined;
    await this.call('deleteCollection', request.signal, () =>
      this.client
        .deleteCollection({ name: this.collectionName })
        .catch((error: unknown) => (error instanceof ChromaNotFoundError ? undefined : Promise.reject(error))),
    );
  }

  /** Nothing to release: chromadb keeps no connection open between requests. */
  async close(): Promise<void> {}

  private where(): string {
    return `The Chroma collection "${this.collectionName}"`;
  }

  /** Validates scope and filter (before any request) and builds the `where` clause. */
  private whereFor(scope: Scope, filter: Filter | undefined): Where {
    const checkedScope = validateScope(scope);
    assertNativeFilter(filter);
    return allOf([scopeToWhere(checkedScope), filter ? filterToWhere(filter) : undefined])!;
  }

  /**
   * Re-checks what Chroma returned: the where clause is exact, but a metadata key removed by a
   * concurrent upsert of the same id may keep its old number until that upsert lands (see encodeRecord).
   */
  private matches(record: MemoryRecord, scope: Scope, filter: Filter | undefined): boolean {
    return scopeContains(scope, record.scope) && (!filter || evaluateFilter(filter, record));
  }

  private async fetchRecords(
    state: CollectionState,
    ids: string[],
    where: Where,
    operation: string,
    signal: AbortSignal | undefined,
  ): Promise<MemoryRecord[]> {
    const result = await this.call(operation, signal, () => state.collection.get({ ids, where, include: RECORD_FIELDS }));
    return result.ids.map((id, index) =>
      decodeRecord(
        {
          id,
          embedding: result.embeddings[index],
          document: result.documents[index],
          metadata: result.metadatas[index],
        } satisfies ChromaResultRow,
        operation,
      ),
    );
  }

  /** Runs a chromadb call with retries; forgets the cached collection when Chroma says it is gone. */
  private async call<T>(operation: string, signal: AbortSignal | undefined, action: () => Promise<T>): Promise<T> {
    try {
      return await callChroma(operation, this.policy, signal, action);
    } catch (error) {
      if (MemError.is(error, 'PROVIDER_REQUEST_FAILED') && (error as ProviderRequestError).status === 404) this.state = undefined;
      throw error;
    }
  }

  /** The collection as Chroma has it now, or `undefined` when it does not exist. */
  private async lookup(signal: AbortSignal | undefined): Promise<CollectionState | undefined> {
    const collection = await this.call('getCollection', signal, () =>
      this.client
        .getCollection({ name: this.collectionName, embeddingFunction: NO_EMBEDDING_FUNCTION })
        .catch((error: unknown) => (error instanceof ChromaNotFoundError ? undefined : Promise.reject(error))),
    );
    if (!collection) return undefined;
    const configuration = collection.configuration as { hnsw?: { space?: unknown } | null; spann?: { space?: unknown } | null } | undefined;
    const space = configuration?.hnsw?.space ?? configuration?.spann?.space ?? collection.metadata?.['hnsw:space'] ?? 'l2';
    if (space !== 'cosine') {
      throw new MemError(
        'CONFLICT',
        `${this.where()} uses the "${String(space)}" distance, but mem ranks by cosine similarity. Chroma cannot change the distance of an existing collection: choose another collection name, or delete this one (dropCollection() deletes every memory in it) and call ensureCollection again.`,
      );
    }
    const declared = collection.metadata?.[DIMENSIONS_KEY];
    if (typeof declared === 'number') return { collection, dimensions: declared };
    // A collection mem did not create: learn the length from a stored vector, if there is one.
    const sample = await this.call('getCollection', signal, () => collection.get({ limit: 1, include: ['embeddings'] }));
    return { collection, dimensions: sample.embeddings[0]?.length };
  }

  /** The cached collection, looked up once; `undefined` (not cached) when it does not exist. */
  private async current(signal: AbortSignal | undefined): Promise<CollectionState | undefined> {
    const pending = (this.state ??= this.lookup(undefined));
    let state: CollectionState | undefined;
    try {
      state = await pending;
    } catch (error) {
      if (this.state === pending) this.state = undefined;
      throw error;
    }
    if (!state && this.state === pending) this.state = undefined;
    throwIfAborted(signal, 'chroma');
    return state;
  }

  private async require(operation: string, signal: AbortSignal | undefined): Promise<CollectionState> {
    const state = await this.current(signal);
    if (!state) {
      throw new MemError(
        'CONFLICT',
        `${this.where()} does not exist yet, so ${operation} cannot run. Call ensureCollection({ dimensions }) first.`,
      );
    }
    return state;
  }

  /** The server's `max_batch_size` (−1 from chromadb when the server does not say: no extra cap). */
  private async serverBatchLimit(signal: AbortSignal | undefined): Promise<number> {
    const pending = (this.batchLimit ??= callChroma('preflight', this.policy, undefined, () => this.client.getMaxBatchSize()));
    let limit: number;
    try {
      limit = await pending;
    } catch (error) {
      if (this.batchLimit === pending) this.batchLimit = undefined;
      throw error;
    }
    throwIfAborted(signal, 'chroma upsert');
    return limit > 0 ? limit : Number.POSITIVE_INFINITY;
  }
}

function decodeRecordError(operation: string, id: string, problem: string): ProviderResponseInvalidError {
  return new ProviderResponseInvalidError('chroma', operation, `record "${id}" ${problem}`);
}

function uniqueIds(ids: readonly string[], field: string): string[] {
  if (!Array.isArray(ids)) throw new InvalidInputError(field, 'expected an array of ids', 'Pass e.g. { ids: ["…"] }.');
  ids.forEach((id, index) => {
    if (typeof id !== 'string' || id.length === 0)
      throw new InvalidInputError(`${field}[${index}]`, 'expected a non-empty string', 'Pass memory ids.');
  });
  return [...new Set(ids)];
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}
