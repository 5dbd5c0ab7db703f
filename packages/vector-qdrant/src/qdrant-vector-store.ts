import {
  DimensionMismatchError,
  InvalidInputError,
  MemError,
  ProviderResponseInvalidError,
  SCOPE_FIELDS,
  UnsupportedCapabilityError,
  compareIds,
  defineVectorStoreCapabilities,
  scopeContains,
  throwIfAborted,
  resolveRetryPolicy,
  validateScope,
  withRetries,
  type Call,
  type Filter,
  type MemoryRecord,
  type ProviderRequestError,
  type ScopedCall,
  type VectorMatch,
  type VectorStore,
  type VectorStoreCapabilities,
} from '@mem/core/adapter';
import { QdrantClient, type Schemas } from '@qdrant/js-client-rest';
import { retryAfterMs, toMemError } from './qdrant-errors';
import { QDRANT_FILTER_OPERATORS, checkNativeOperators, toQdrantFilter, type QdrantCondition, type QdrantFilter } from './qdrant-filter';
import { ID_MAPPED_KEY, QDRANT_PROVIDER, fromPoint, isObject, payloadId, toPoint } from './qdrant-payload';
import { firstUuidAfter, toPointId } from './qdrant-point-id';
import { resolveQdrantOptions, type QdrantVectorStoreOptions, type ResolvedQdrantOptions } from './qdrant-vector-store-options';

type QdrantApi = ReturnType<QdrantClient['api']>;

/** Points fetched per scroll page and ids per retrieve or delete request. */
const PAGE_SIZE = 256;
/** Largest vector Qdrant accepts (its documented limit for dense vectors). */
const MAX_DIMENSIONS = 65_536;
/** Longest pause between retries, in milliseconds. */
const MAX_RETRY_DELAY_MS = 30_000;

const IS_MAPPED: QdrantCondition = { key: ID_MAPPED_KEY, match: { value: true } };

/**
 * A {@link VectorStore} on Qdrant, through the official `@qdrant/js-client-rest` SDK.
 *
 * One collection holds every scope; the scope ids are payload keys with keyword indexes, and every
 * read and delete carries them as `must` conditions. Scores are Qdrant's Cosine similarity.
 * Filters run natively except `contains`, which core evaluates. Memory ids that are not canonical
 * UUIDs get a derived point id and keep their own id in the payload.
 *
 * @example
 * const store = new QdrantVectorStore({ url: 'http://localhost:6333', collection: 'memories' });
 * await store.ensureCollection({ dimensions: 1536 });
 * const memory = new Memory({ embedder, llm, vectorStore: store, historyStore });
 */
export class QdrantVectorStore implements VectorStore {
  readonly provider = QDRANT_PROVIDER;
  readonly capabilities: VectorStoreCapabilities;
  /** Name of the Qdrant collection this store reads and writes. */
  readonly collection: string;
  private readonly options: ResolvedQdrantOptions;
  private readonly api: QdrantApi;
  private dimensions: number | undefined;

  /**
   * Creates the store; nothing is sent until the first call.
   *
   * @throws {InvalidInputError} when an option (or `QDRANT_URL`) is malformed.
   */
  constructor(options: QdrantVectorStoreOptions = {}) {
    this.options = resolveQdrantOptions(options);
    this.collection = this.options.collection;
    this.capabilities = defineVectorStoreCapabilities({
      filterOperators: QDRANT_FILTER_OPERATORS,
      maxUpsertBatch: this.options.upsertBatchSize,
      readAfterWrite: 'immediate',
      keywordSearch: false,
    });
    const { connection, apiKey } = this.options;
    try {
      const client = new QdrantClient({
        ...('url' in connection
          ? urlAndPrefix(connection.url)
          : { host: connection.host, port: connection.port, https: connection.https ?? apiKey !== undefined }),
        // The key goes in as a header: passed as apiKey, the SDK prints a warning on plain http.
        ...(apiKey === undefined ? {} : { headers: { 'api-key': apiKey } }),
        // The adapter times requests out itself, so the caller's AbortSignal reaches fetch.
        timeout: Number.POSITIVE_INFINITY,
        checkCompatibility: this.options.checkCompatibility,
      });
      this.api = client.api();
    } catch (error) {
      throw toMemError(error, { operation: 'connect' });
    }
  }

  /**
   * Creates the collection (Cosine distance) and the keyword payload indexes of userId, agentId
   * and runId if they are missing. Idempotent.
   *
   * @throws {DimensionMismatchError} when the collection exists with another vector size.
   * @throws {InvalidInputError} when it exists with another distance or with named vectors.
   */
  async ensureCollection(request: Call<{ readonly dimensions: number }>): Promise<void> {
    const { dimensions, signal } = request;
    if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > MAX_DIMENSIONS) {
      throw new InvalidInputError(
        'dimensions',
        `expected an integer from 1 to ${MAX_DIMENSIONS}`,
        "Pass the length of your embedder's vectors.",
      );
    }
    const operation = 'ensureCollection';
    const exists = await this.send(operation, signal, (init) => this.api.collectionExists({ collection_name: this.collection }, init));
    if (!readExists(exists, operation)) {
      try {
        await this.send(
          operation,
          signal,
          (init) => this.api.createCollection({ collection_name: this.collection, ...this.createCollectionBody(dimensions) }, init),
          {
            // 409: another process created it meanwhile; it is checked below like any existing one.
            retryWhen: (error) => error.status !== 409,
          },
        );
      } catch (error) {
        if (!(MemError.is(error, 'PROVIDER_REQUEST_FAILED') && (error as ProviderRequestError).status === 409)) throw error;
      }
    }
    const info = await this.send(operation, signal, (init) => this.api.getCollection({ collection_name: this.collection }, init));
    const { size, distance, indexed } = readCollectionInfo(info, operation);
    if (size !== dimensions) {
      throw new DimensionMismatchError(
        `The Qdrant collection "${this.collection}"`,
        size,
        dimensions,
        'Use the embedder the collection was created with, pass another collection option, or drop the collection (dropCollection()) to start over.',
      );
    }
    if (distance !== 'Cosine') {
      throw new InvalidInputError(
        'collection',
        `the Qdrant collection "${this.collection}" uses ${distance} distance, and mem needs Cosine`,
        'Pass another collection option, or recreate the collection with Cosine distance.',
      );
    }
    for (const field of SCOPE_FIELDS) {
      if (indexed.has(field)) continue;
      await this.send(operation, signal, (init) =>
        this.api.createFieldIndex(
          {
            collection_name: this.collection,
            wait: true,
            field_name: field,
            field_schema: this.options.onDiskPayloadIndexes ? { type: 'keyword', on_disk: true } : 'keyword',
          },
          init,
        ),
      );
    }
    this.dimensions = size;
  }

  /**
   * Inserts or replaces records by id, in requests of `upsertBatchSize` points that Qdrant applies
   * before answering (`wait=true`), so the next read sees them. Every record is checked before the
   * first request; a later id replaces an earlier one in the same call.
   *
   * @throws {DimensionMismatchError} when a vector has another length than the collection.
   */
  async upsert(request: Call<{ readonly records: readonly MemoryRecord[] }>): Promise<void> {
    const { records, signal } = request;
    throwIfAborted(signal, `${QDRANT_PROVIDER} upsert`);
    if (!Array.isArray(records)) throw new InvalidInputError('records', 'expected an array of memory records', 'Pass { records: [...] }.');
    if (records.length === 0) return;
    const dimensions = await this.requireDimensions(signal, 'upsert');
    const latest = new Map<string, MemoryRecord>();
    records.forEach((record, index) => {
      checkRecord(record, index, dimensions, this.collection);
      latest.delete(record.id); // keep the position of the last occurrence
      latest.set(record.id, record);
    });
    const points = [...latest.values()].map(toPoint);
    for (let start = 0; start < points.length; start += this.options.upsertBatchSize) {
      const batch = points.slice(start, start + this.options.upsertBatchSize);
      const answer = await this.send('upsert', signal, (init) =>
        this.api.upsertPoints({ collection_name: this.collection, wait: true, points: batch }, init),
      );
      readResult(answer, 'upsert');
    }
  }

  /** The `topK` records in scope most similar to `vector` (Cosine similarity), best first. */
  async query(
    request: ScopedCall<{ readonly vector: readonly number[]; readonly topK: number; readonly filter?: Filter }>,
  ): Promise<VectorMatch[]> {
    const { vector, topK, filter, signal } = request;
    const scope = validateScope(request.scope);
    throwIfAborted(signal, `${QDRANT_PROVIDER} query`);
    if (!Number.isInteger(topK) || topK < 0) throw new InvalidInputError('topK', 'expected a whole number of at least 0', 'Pass e.g. 10.');
    checkNativeOperators(filter);
    const qdrantFilter = toQdrantFilter(scope, filter);
    const dimensions = await this.requireDimensions(signal, 'query');
    if (!Array.isArray(vector) || vector.length !== dimensions) {
      throw new DimensionMismatchError(
        `The Qdrant collection "${this.collection}"`,
        dimensions,
        Array.isArray(vector) ? vector.length : 0,
        'Embed queries with the same model as the memories.',
      );
    }
    checkVector(vector, 'vector');
    if (topK === 0) return [];
    const { hnswEf, exact } = this.options.search;
    const answer = await this.send('query', signal, (init) =>
      this.api.queryPoints(
        {
          collection_name: this.collection,
          query: [...vector],
          filter: qdrantFilter,
          limit: topK,
          with_payload: true,
          with_vector: true,
          ...(hnswEf === undefined && exact === undefined
            ? {}
            : { params: { ...(hnswEf === undefined ? {} : { hnsw_ef: hnswEf }), ...(exact === undefined ? {} : { exact }) } }),
        },
        init,
      ),
    );
    const result = readResult(answer, 'query');
    const points = isObject(result) && Array.isArray(result['points']) ? result['points'] : undefined;
    if (!points) throw new ProviderResponseInvalidError(QDRANT_PROVIDER, 'query', 'the answer has no points list');
    return points
      .map((point: unknown) => {
        const score = isObject(point) ? point['score'] : undefined;
        if (typeof score !== 'number') throw new ProviderResponseInvalidError(QDRANT_PROVIDER, 'query', 'a point has no numeric score');
        return { record: fromPoint(point, 'query'), score };
      })
      .sort((a, b) => b.score - a.score || compareIds(a.record.id, b.record.id))
      .slice(0, topK);
  }

  /**
   * Not supported: Qdrant filters by full-text match on a text index but does not rank dense
   * collections by keyword relevance (no BM25 score), so `capabilities.keywordSearch` is false.
   *
   * @throws {UnsupportedCapabilityError} always.
   */
  async keywordQuery(
    _request: ScopedCall<{ readonly text: string; readonly topK: number; readonly filter?: Filter }>,
  ): Promise<VectorMatch[]> {
    throw new UnsupportedCapabilityError(
      QDRANT_PROVIDER,
      'keyword search',
      'Use vector search (query); capabilities.keywordSearch is false.',
    );
  }

  /** The records in scope with these ids, in the order of `ids`; missing ids are left out. */
  async get(request: ScopedCall<{ readonly ids: readonly string[] }>): Promise<MemoryRecord[]> {
    const { signal } = request;
    const scope = validateScope(request.scope);
    const ids = uniqueIds(request.ids);
    throwIfAborted(signal, `${QDRANT_PROVIDER} get`);
    const found = new Map<string, MemoryRecord>();
    for (let start = 0; start < ids.length; start += PAGE_SIZE) {
      const chunk = ids.slice(start, start + PAGE_SIZE);
      for (const record of await this.retrieve(chunk, signal, 'get')) {
        if (scopeContains(scope, record.scope)) found.set(record.id, record);
      }
    }
    return ids.flatMap((id) => (found.has(id) ? [found.get(id)!] : []));
  }

  /** Deletes the records in scope with these ids (other scopes' records are never touched); missing ids are ignored. */
  async delete(request: ScopedCall<{ readonly ids: readonly string[] }>): Promise<void> {
    const { signal } = request;
    const scope = validateScope(request.scope);
    const ids = uniqueIds(request.ids);
    throwIfAborted(signal, `${QDRANT_PROVIDER} delete`);
    for (let start = 0; start < ids.length; start += PAGE_SIZE) {
      const pointIds = ids.slice(start, start + PAGE_SIZE).map(toPointId);
      const filter = toQdrantFilter(scope, undefined, [{ has_id: pointIds }]);
      const done = await this.sendUnlessMissing('delete', signal, (init) =>
        this.api.deletePoints({ collection_name: this.collection, wait: true, filter }, init),
      );
      if (done === undefined) return;
    }
  }

  /**
   * Every record in scope matching `filter`, in ascending id order (JavaScript string order), after
   * `after` if given. Pages lazily through Qdrant's scroll, which orders points by point id; for
   * canonical UUID ids that is string order. Records whose id is not a canonical UUID are ordered
   * here: their ids (only the ids) are collected first and merged in.
   */
  async *list(request: ScopedCall<{ readonly filter?: Filter; readonly after?: string }>): AsyncIterable<MemoryRecord> {
    const { filter, after, signal } = request;
    const scope = validateScope(request.scope);
    if (after !== undefined && typeof after !== 'string')
      throw new InvalidInputError('after', 'expected a memory id', 'Pass the id of the last record you saw.');
    throwIfAborted(signal, `${QDRANT_PROVIDER} list`);
    checkNativeOperators(filter);
    const mappedFilter = toQdrantFilter(scope, filter, [IS_MAPPED]);
    const nativeFilter = toQdrantFilter(scope, filter, [{ must_not: [IS_MAPPED] }]);

    // Ids that are not canonical UUIDs: few in practice (mem creates UUID v7 ids).
    const mappedIds: string[] = [];
    for await (const page of this.scroll(mappedFilter, undefined, signal, ['id'], false)) {
      for (const point of page) {
        const id = payloadId(point, 'list');
        if (after === undefined || compareIds(id, after) > 0) mappedIds.push(id);
      }
    }
    mappedIds.sort(compareIds);

    const start = after === undefined ? undefined : firstUuidAfter(after);
    const native = after !== undefined && start === undefined ? emptyPages() : this.scroll(nativeFilter, start, signal, true, true);
    const nativeIterator = native[Symbol.asyncIterator]();
    let nativeBuffer: MemoryRecord[] = [];
    let nativeDone = false;
    let mappedBuffer: MemoryRecord[] = [];
    let mappedNext = 0;

    for (;;) {
      if (nativeBuffer.length === 0 && !nativeDone) {
        const page = await nativeIterator.next();
        if (page.done) nativeDone = true;
        else nativeBuffer = page.value.map((point) => fromPoint(point, 'list'));
        continue;
      }
      if (mappedBuffer.length === 0 && mappedNext < mappedIds.length) {
        const chunk = mappedIds.slice(mappedNext, mappedNext + PAGE_SIZE);
        mappedNext += chunk.length;
        const byId = new Map((await this.retrieve(chunk, signal, 'list')).map((record) => [record.id, record]));
        // A record deleted since its id was collected is skipped.
        mappedBuffer = chunk.flatMap((id) => (byId.has(id) && scopeContains(scope, byId.get(id)!.scope) ? [byId.get(id)!] : []));
        continue;
      }
      const nextNative = nativeBuffer[0];
      const nextMapped = mappedBuffer[0];
      if (nextNative === undefined && nextMapped === undefined) {
        if (nativeDone && mappedNext >= mappedIds.length) return;
        continue;
      }
      if (nextMapped === undefined || (nextNative !== undefined && compareIds(nextNative.id, nextMapped.id) < 0)) {
        nativeBuffer.shift();
        yield nextNative!;
      } else {
        mappedBuffer.shift();
        yield nextMapped;
      }
    }
  }

  /** Deletes every record in every scope; the collection and its indexes stay. */
  async reset(request: Call<object> = {}): Promise<void> {
    await this.sendUnlessMissing('reset', request.signal, (init) =>
      this.api.deletePoints({ collection_name: this.collection, wait: true, filter: {} }, init),
    );
  }

  /**
   * Deletes the whole collection with its points and indexes; does nothing when it does not exist.
   * The next write needs `ensureCollection` again.
   */
  async dropCollection(request: Call<object> = {}): Promise<void> {
    await this.sendUnlessMissing('dropCollection', request.signal, (init) =>
      this.api.deleteCollection({ collection_name: this.collection }, init),
    );
    this.dimensions = undefined;
  }

  /** Nothing to release: the SDK's HTTP connections close when idle. */
  async close(): Promise<void> {}

  private createCollectionBody(dimensions: number): Schemas['CreateCollection'] {
    const { hnsw, quantization, onDiskPayload, onDiskVectors } = this.options;
    const body: Schemas['CreateCollection'] = {
      vectors: { size: dimensions, distance: 'Cosine', ...(onDiskVectors === undefined ? {} : { on_disk: onDiskVectors }) },
    };
    if (onDiskPayload !== undefined) body.on_disk_payload = onDiskPayload;
    if (hnsw) {
      body.hnsw_config = {
        ...(hnsw.m === undefined ? {} : { m: hnsw.m }),
        ...(hnsw.efConstruct === undefined ? {} : { ef_construct: hnsw.efConstruct }),
        ...(hnsw.fullScanThreshold === undefined ? {} : { full_scan_threshold: hnsw.fullScanThreshold }),
        ...(hnsw.onDisk === undefined ? {} : { on_disk: hnsw.onDisk }),
      };
    }
    if (quantization?.type === 'scalar') {
      body.quantization_config = {
        scalar: {
          type: 'int8',
          ...(quantization.quantile === undefined ? {} : { quantile: quantization.quantile }),
          ...(quantization.alwaysRam === undefined ? {} : { always_ram: quantization.alwaysRam }),
        },
      };
    } else if (quantization?.type === 'binary') {
      body.quantization_config = { binary: { ...(quantization.alwaysRam === undefined ? {} : { always_ram: quantization.alwaysRam }) } };
    }
    return body;
  }

  /** Fetches points by memory id (with payload and vector) and reads them back as records. */
  private async retrieve(ids: readonly string[], signal: AbortSignal | undefined, operation: string): Promise<MemoryRecord[]> {
    const answer = await this.sendUnlessMissing(operation, signal, (init) =>
      this.api.getPoints({ collection_name: this.collection, ids: ids.map(toPointId), with_payload: true, with_vector: true }, init),
    );
    if (answer === undefined) return [];
    const result = readResult(answer, operation);
    if (!Array.isArray(result)) throw new ProviderResponseInvalidError(QDRANT_PROVIDER, operation, 'the answer is not a list of points');
    const wanted = new Set(ids);
    // The id check guards against two memory ids that derive the same point id.
    return result.map((point: unknown) => fromPoint(point, operation)).filter((record) => wanted.has(record.id));
  }

  /** Pages of points matching `filter` in point-id order, starting at point id `offset`. */
  private async *scroll(
    filter: QdrantFilter,
    offset: string | undefined,
    signal: AbortSignal | undefined,
    withPayload: true | string[],
    withVector: boolean,
  ): AsyncIterable<unknown[]> {
    let next: string | number | undefined = offset;
    for (;;) {
      const from = next;
      const answer = await this.sendUnlessMissing('list', signal, (init) =>
        this.api.scrollPoints(
          {
            collection_name: this.collection,
            filter,
            limit: PAGE_SIZE,
            with_payload: withPayload,
            with_vector: withVector,
            ...(from === undefined ? {} : { offset: from }),
          },
          init,
        ),
      );
      if (answer === undefined) return;
      const result = readResult(answer, 'list');
      if (!isObject(result) || !Array.isArray(result['points']))
        throw new ProviderResponseInvalidError(QDRANT_PROVIDER, 'list', 'the scroll answer has no points list');
      if (result['points'].length > 0) yield result['points'];
      const pageOffset = result['next_page_offset'];
      if (pageOffset === undefined || pageOffset === null) return;
      if (typeof pageOffset !== 'string' && typeof pageOffset !== 'number') {
        throw new ProviderResponseInvalidError(QDRANT_PROVIDER, 'list', 'next_page_offset is not a point id');
      }
      next = pageOffset;
    }
  }

  /** The collection's vector length, read from Qdrant once when `ensureCollection` was not called here. */
  private async requireDimensions(signal: AbortSignal | undefined, operation: string): Promise<number> {
    if (this.dimensions !== undefined) return this.dimensions;
    const info = await this.sendUnlessMissing(operation, signal, (init) =>
      this.api.getCollection({ collection_name: this.collection }, init),
    );
    if (info === undefined) {
      throw new MemError(
        'CONFLICT',
        `The Qdrant collection "${this.collection}" does not exist yet. Call ensureCollection({ dimensions }) first.`,
      );
    }
    const { size, distance } = readCollectionInfo(info, operation);
    if (distance !== 'Cosine') {
      throw new InvalidInputError(
        'collection',
        `the Qdrant collection "${this.collection}" uses ${distance} distance, and mem needs Cosine`,
        'Pass another collection option.',
      );
    }
    this.dimensions = size;
    return size;
  }

  /** Like {@link send}, but answers `undefined` when the collection does not exist (404). */
  private async sendUnlessMissing<T>(
    operation: string,
    signal: AbortSignal | undefined,
    call: (init: RequestInit) => Promise<T>,
  ): Promise<T | undefined> {
    try {
      return await this.send(operation, signal, call);
    } catch (error) {
      if (MemError.is(error, 'PROVIDER_REQUEST_FAILED') && (error as ProviderRequestError).status === 404) {
        this.dimensions = undefined;
        return undefined;
      }
      throw error;
    }
  }

  /**
   * Sends one SDK request with the adapter's timeout and the caller's signal, maps any failure
   * with `toMemError`, and retries retryable failures (core decides which) with exponential backoff
   * and jitter, or after the wait Qdrant asked for.
   */
  private async send<T>(
    operation: string,
    signal: AbortSignal | undefined,
    call: (init: RequestInit) => Promise<T>,
    options: { readonly retryWhen?: (error: ProviderRequestError) => boolean } = {},
  ): Promise<T> {
    const { timeoutMs, maxRetries, retryDelayMs } = this.options;
    return withRetries({
      provider: QDRANT_PROVIDER,
      operation,
      signal,
      policy: resolveRetryPolicy({
        maxRetries,
        initialDelayMs: retryDelayMs,
        maxDelayMs: MAX_RETRY_DELAY_MS,
        maxRetryAfterMs: Number.POSITIVE_INFINITY,
      }),
      ...(options.retryWhen ? { shouldRetry: options.retryWhen } : {}),
      retryAfterMs: (_raw, failure) => {
        const asked = retryAfterMs(failure);
        return asked === undefined ? undefined : Math.min(MAX_RETRY_DELAY_MS, asked);
      },
      attempt: async () => {
        // A fresh timeout per attempt, so a retry gets the whole budget again.
        const timeout = AbortSignal.timeout(timeoutMs);
        try {
          return await call({ signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
        } catch (error) {
          throw toMemError(error, { operation, signal, ...(timeout.aborted && !signal?.aborted ? { timeoutMs } : {}) });
        }
      },
      toError: (error) => (MemError.is(error) ? error : toMemError(error, { operation, signal })),
    });
  }
}

/**
 * The SDK keeps only the origin of `url` and drops its path, so a server behind a path (a reverse
 * proxy at `https://example.com/qdrant`) is given as origin plus the SDK's `prefix`.
 */
function urlAndPrefix(url: string): { url: string; prefix?: string } {
  const parsed = new URL(url);
  const path = parsed.pathname.replace(/\/+$/, '');
  return path === '' ? { url: parsed.origin } : { url: parsed.origin, prefix: path };
}

async function* emptyPages(): AsyncIterable<unknown[]> {}

/** `result` of Qdrant's `{ result, status, time }` answer. */
function readResult(answer: unknown, operation: string): unknown {
  const data = isObject(answer) ? answer['data'] : undefined;
  if (!isObject(data) || !('result' in data))
    throw new ProviderResponseInvalidError(QDRANT_PROVIDER, operation, 'the answer has no "result"');
  return data['result'];
}

function readExists(answer: unknown, operation: string): boolean {
  const result = readResult(answer, operation);
  if (!isObject(result) || typeof result['exists'] !== 'boolean')
    throw new ProviderResponseInvalidError(QDRANT_PROVIDER, operation, 'the exists answer has no boolean "exists"');
  return result['exists'];
}

/** Vector size, distance and indexed payload keys of a collection, from `GET /collections/{name}`. */
function readCollectionInfo(answer: unknown, operation: string): { size: number; distance: string; indexed: Set<string> } {
  const result = readResult(answer, operation);
  const config = isObject(result) ? result['config'] : undefined;
  const params = isObject(config) ? config['params'] : undefined;
  const vectors = isObject(params) ? params['vectors'] : undefined;
  if (!isObject(vectors))
    throw new ProviderResponseInvalidError(QDRANT_PROVIDER, operation, 'the collection info has no config.params.vectors');
  if (typeof vectors['size'] !== 'number' || typeof vectors['distance'] !== 'string') {
    throw new InvalidInputError(
      'collection',
      'the Qdrant collection uses named vectors, and mem stores one unnamed vector per point',
      'Pass another collection option; mem creates its own collection.',
    );
  }
  const schema = isObject(result) && isObject(result['payload_schema']) ? result['payload_schema'] : {};
  return { size: vectors['size'], distance: vectors['distance'], indexed: new Set(Object.keys(schema)) };
}

function uniqueIds(ids: unknown): string[] {
  if (!Array.isArray(ids)) throw new InvalidInputError('ids', 'expected an array of memory ids', 'Pass { ids: ["…"] }.');
  ids.forEach((id, index) => {
    if (typeof id !== 'string' || id.length === 0)
      throw new InvalidInputError(`ids[${index}]`, 'expected a non-empty string', 'Pass memory ids.');
  });
  return [...new Set(ids as string[])];
}

function checkVector(vector: readonly number[], field: string): void {
  for (let index = 0; index < vector.length; index++) {
    if (typeof vector[index] !== 'number' || !Number.isFinite(vector[index])) {
      throw new InvalidInputError(`${field}[${index}]`, 'expected a finite number', 'Check the embedder output.');
    }
  }
}

function checkRecord(record: MemoryRecord, index: number, dimensions: number, collection: string): void {
  const at = `records[${index}]`;
  if (!isObject(record)) throw new InvalidInputError(at, 'expected a memory record', 'Pass objects with id, vector, text, scope, …');
  if (typeof record.id !== 'string' || record.id.length === 0)
    throw new InvalidInputError(`${at}.id`, 'expected a non-empty string', 'Give every record an id.');
  if (!Array.isArray(record.vector)) throw new InvalidInputError(`${at}.vector`, 'expected an array of numbers', 'Embed the text first.');
  if (record.vector.length !== dimensions) {
    throw new DimensionMismatchError(
      `The Qdrant collection "${collection}"`,
      dimensions,
      record.vector.length,
      'Embed with the same model the collection was created with.',
    );
  }
  checkVector(record.vector, `${at}.vector`);
  if (typeof record.text !== 'string') throw new InvalidInputError(`${at}.text`, 'expected a string', 'Pass the memory text.');
  if (typeof record.hash !== 'string') throw new InvalidInputError(`${at}.hash`, 'expected a string', 'Pass the SHA-256 of the text.');
  validateScope(record.scope, `${at}.scope`);
  if (!isObject(record.metadata)) throw new InvalidInputError(`${at}.metadata`, 'expected a plain object', 'Pass {} when there is none.');
  for (const key of ['createdAt', 'updatedAt', 'occurredAt'] as const) {
    const date = record[key];
    if (!(date instanceof Date) || !Number.isFinite(date.getTime()))
      throw new InvalidInputError(`${at}.${key}`, 'expected a valid Date', 'Pass a Date.');
  }
}
