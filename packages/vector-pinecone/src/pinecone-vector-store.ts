import { AsyncLocalStorage } from 'node:async_hooks';
import {
  DimensionMismatchError,
  InvalidInputError,
  MemError,
  ProviderRequestError,
  ProviderResponseInvalidError,
  UnsupportedCapabilityError,
  compareIds,
  defineVectorStoreCapabilities,
  evaluateFilter,
  abortableDelay,
  resolveRetryPolicy,
  scopeContains,
  throwIfAborted,
  validateScope,
  withRetries,
  type Call,
  type Filter,
  type MemoryRecord,
  type Scope,
  type ScopedCall,
  type VectorMatch,
  type VectorStore,
} from '@mem/core/adapter';
import { Pinecone, type FetchByMetadataResponse, type FetchResponse, type Index, type IndexModel } from '@pinecone-database/pinecone';
import { PineconeIndexNotFoundError, toMemError } from './pinecone-errors';
import { PINECONE_FILTER_OPERATORS, assertNativeFilter, scopedPineconeFilter } from './pinecone-filter';
import {
  PINECONE_PROVIDER,
  decodeRecord,
  encodeRecord,
  encodeVector,
  fromStoredId,
  isZeroVector,
  toStoredId,
  storedScope,
  type PineconeMetadata,
  type PineconeVector,
  type StoredVector,
} from './pinecone-record';
import { resolvePineconeSettings, type PineconeSettings, type PineconeVectorStoreOptions } from './pinecone-vector-store-options';

/** Records per upsert call core sends; one call is one request unless the records exceed 2 MB of JSON. */
const MAX_UPSERT_BATCH = 100;
/** Pinecone's limits on one upsert request: 1000 records and 2 MB. The budget leaves room for the envelope. */
const MAX_VECTORS_PER_UPSERT = 1_000;
const UPSERT_BYTE_BUDGET = 2_000_000;
/** Pinecone's limit on ids per delete request. */
const MAX_IDS_PER_DELETE = 1_000;
/** Ids per fetch request (a GET: the ids travel in the URL, so both a count and a length bound apply). */
const MAX_IDS_PER_FETCH = 100;
const FETCH_URL_BUDGET = 4_000;
/** Records per fetch_by_metadata page while listing (Pinecone's default page size). */
const LIST_PAGE_SIZE = 100;
/** Pinecone returns values and metadata for at most 1000 matches; up to 10,000 it returns ids and scores only. */
const MAX_TOP_K_WITH_RECORDS = 1_000;
const MAX_TOP_K = 10_000;
/** Largest dimension Pinecone accepts for a dense index. */
const MAX_DIMENSIONS = 20_000;

/** What the adapter's `fetch` wrapper learns about the requests of one SDK call. */
interface CallContext {
  readonly signal: AbortSignal | undefined;
  status: number | undefined;
  responded: boolean;
}

/** The index the store writes to, once described. */
interface Target {
  readonly dimensions: number;
  readonly data: Index<PineconeMetadata>;
  /** e.g. `The Pinecone index "memories"`, for error messages. */
  readonly label: string;
}

/**
 * A {@link VectorStore} on a Pinecone serverless index (dense vectors, metric cosine), through the
 * official `@pinecone-database/pinecone` SDK.
 *
 * Layout: every record of the store lives in one namespace (`namespace` option). Text, hash, scope ids
 * and dates (epoch milliseconds) are metadata keys prefixed `_mem_` next to the user's metadata keys;
 * every read ANDs the call's scope into the Pinecone filter, so scopes without a `userId` (an agent
 * across users, a run) work like any other. One namespace per user was rejected: record ids are
 * unique across scopes, so an upsert that changes a record's `userId` would leave a copy behind, and
 * a scope without `userId` would have to query every namespace.
 *
 * Costs: `query` is one request (two above topK 1000); `get` and `delete` fetch by id, 100 ids per
 * request, and `delete` then deletes the ids inside the scope; `list` reads the ids of every record in
 * the scope that matches the filter with `fetch_by_metadata` (100 per page), sorts them, then fetches
 * them again 100 at a time as the caller iterates: about 2 × n / 100 requests for n records in scope,
 * whatever `after` is.
 *
 * Pinecone is eventually consistent: a write may take a moment to show in reads, so
 * `capabilities.readAfterWrite` is `'eventual'`.
 *
 * @example
 * const vectorStore = new PineconeVectorStore({ index: 'memories', createIndex: { cloud: 'aws', region: 'us-east-1' } });
 * const memory = new Memory({ embedder, llm, vectorStore, historyStore });
 */
export class PineconeVectorStore implements VectorStore {
  readonly provider = PINECONE_PROVIDER;
  readonly capabilities = defineVectorStoreCapabilities({
    filterOperators: PINECONE_FILTER_OPERATORS,
    maxUpsertBatch: MAX_UPSERT_BATCH,
    readAfterWrite: 'eventual',
    keywordSearch: false,
  });

  private readonly settings: PineconeSettings;
  private readonly client: Pinecone;
  private readonly calls = new AsyncLocalStorage<CallContext>();
  private target: Target | undefined;

  /**
   * @throws {MissingSettingError} when no API key, or neither an index name nor a host, is given.
   * @throws {InvalidInputError} for an option Pinecone would reject.
   */
  constructor(options: PineconeVectorStoreOptions = {}) {
    this.settings = resolvePineconeSettings(options);
    this.client = new Pinecone({
      apiKey: this.settings.apiKey,
      ...(this.settings.controllerHostUrl === undefined ? {} : { controllerHostUrl: this.settings.controllerHostUrl }),
      fetchApi: this.fetchInCall,
      // Retries happen in this adapter, for exactly the failures core calls retryable.
      maxRetries: 0,
    });
  }

  /** The namespace this store reads and writes. */
  get namespace(): string {
    return this.settings.namespace;
  }

  /**
   * Checks the index: it must be dense, metric cosine, with `dimensions`. Creates it when it is
   * missing and `createIndex` was given, then waits until it is ready. Idempotent.
   *
   * @throws {DimensionMismatchError} when the index has another dimension.
   * @throws {PineconeIndexNotFoundError} when the index is missing and `createIndex` is not set.
   * @throws {InvalidInputError} when the index uses another metric or holds sparse vectors.
   */
  async ensureCollection(request: Call<{ readonly dimensions: number }>): Promise<void> {
    throwIfAborted(request.signal, 'pinecone ensureCollection');
    const { dimensions } = request;
    if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > MAX_DIMENSIONS) {
      throw new InvalidInputError(
        'dimensions',
        `expected an integer from 1 to ${MAX_DIMENSIONS}`,
        'Pass the embedding length of your embedder.',
      );
    }
    const target = await this.resolveTarget(request.signal, dimensions);
    if (target.dimensions !== dimensions) {
      throw new DimensionMismatchError(
        target.label,
        target.dimensions,
        dimensions,
        'Use an embedder with that many dimensions, or point the store at another index (Pinecone cannot change the dimension of an index).',
      );
    }
  }

  /**
   * Inserts or replaces records by id. A batch of up to 100 records is one request unless its JSON
   * exceeds 2 MB; larger batches are split, and a failure after the first request leaves the
   * earlier requests written. Everything is validated before the first request.
   *
   * @throws {DimensionMismatchError} when a vector's length differs from the index dimension.
   * @throws {InvalidInputError} for a record Pinecone cannot store (zero vector, id over 512
   *   characters, metadata over 40 KB of JSON, …).
   */
  async upsert(request: Call<{ readonly records: readonly MemoryRecord[] }>): Promise<void> {
    throwIfAborted(request.signal, 'pinecone upsert');
    if (!Array.isArray(request.records)) throw new InvalidInputError('records', 'expected an array', 'Pass { records: [...] }.');
    if (request.records.length === 0) return;
    const target = await this.resolveTarget(request.signal);
    const latest = new Map<string, PineconeVector>();
    request.records.forEach((record, index) => {
      const vector = encodeRecord(record, `records[${index}]`, target.dimensions);
      if (isZeroVector(vector.values)) {
        throw new InvalidInputError(
          `records[${index}].vector`,
          'every component is zero',
          "Pinecone's cosine metric cannot store a zero vector; check the embedder output.",
        );
      }
      // The same id twice in one batch: the last version wins, as with one upsert after the other.
      latest.delete(vector.id);
      latest.set(vector.id, vector);
    });
    for (const chunk of upsertChunks([...latest.values()], this.settings.namespace)) {
      await this.call('upsert', request.signal, () => target.data.upsert({ records: chunk }));
    }
  }

  /**
   * The `topK` records in scope most similar to `vector`, best first, scored by cosine similarity
   * (Pinecone's cosine metric, float32). Equal scores are ordered by id.
   *
   * @throws {UnsupportedCapabilityError} for a filter operator outside `capabilities.filterOperators`.
   * @throws {InvalidInputError} for a `topK` above 10,000 (Pinecone's limit).
   */
  async query(
    request: ScopedCall<{ readonly vector: readonly number[]; readonly topK: number; readonly filter?: Filter }>,
  ): Promise<VectorMatch[]> {
    throwIfAborted(request.signal, 'pinecone query');
    const scope = validateScope(request.scope);
    assertNativeFilter(request.filter);
    const topK = request.topK;
    if (!Number.isInteger(topK) || topK < 0 || topK > MAX_TOP_K) {
      throw new InvalidInputError(
        'topK',
        `expected an integer from 0 to ${MAX_TOP_K}`,
        'Pinecone returns at most 10,000 matches per query.',
      );
    }
    const target = await this.resolveTarget(request.signal);
    const vector = encodeVector(request.vector, 'vector', target.dimensions, 'Embed queries with the model the index was created for.');
    if (topK === 0) return [];
    // Cosine similarity with a zero vector is 0 for every record; ties are ordered by id, so the
    // answer is the first topK records of the scope in id order (Pinecone itself rejects the query).
    if (isZeroVector(vector)) return this.firstInScope(scope, request.filter, topK, request.signal);
    const filter = scopedPineconeFilter(scope, request.filter);
    const withRecords = topK <= MAX_TOP_K_WITH_RECORDS;
    const response = await this.call('query', request.signal, () =>
      target.data.query({ vector, topK, filter, includeValues: withRecords, includeMetadata: withRecords }),
    );
    const matches: VectorMatch[] = [];
    if (withRecords) {
      for (const match of response.matches) {
        const record = decodeRecord(match, 'query');
        if (!scopeContains(scope, record.scope)) throw outsideScope('query', record.id);
        matches.push({ record, score: scoreOf(match) });
      }
    } else {
      // Ids and scores first, then the records; one changed in between is dropped if it left the scope or filter.
      const stored = await this.fetchStored(
        target,
        response.matches.map((match) => fromStoredId(match.id)),
        'query',
        request.signal,
      );
      for (const match of response.matches) {
        const vector = stored.get(fromStoredId(match.id));
        if (!vector) continue;
        const record = decodeRecord(vector, 'query');
        if (scopeContains(scope, record.scope) && (!request.filter || evaluateFilter(request.filter, record)))
          matches.push({ record, score: scoreOf(match) });
      }
    }
    return matches.sort((a, b) => b.score - a.score || compareIds(a.record.id, b.record.id)).slice(0, topK);
  }

  /** @throws {UnsupportedCapabilityError} always: keyword search needs sparse vectors, which this adapter does not write. */
  async keywordQuery(
    request: ScopedCall<{ readonly text: string; readonly topK: number; readonly filter?: Filter }>,
  ): Promise<VectorMatch[]> {
    throwIfAborted(request.signal, 'pinecone keywordQuery');
    throw new UnsupportedCapabilityError(
      PINECONE_PROVIDER,
      'keyword search',
      'This adapter stores dense vectors only (capabilities.keywordSearch is false); Memory then searches by vector alone.',
    );
  }

  /** The records in scope with these ids, in the order of the ids; missing ids are left out. */
  async get(request: ScopedCall<{ readonly ids: readonly string[] }>): Promise<MemoryRecord[]> {
    throwIfAborted(request.signal, 'pinecone get');
    const scope = validateScope(request.scope);
    const ids = storableIds(request.ids);
    if (ids.length === 0) return [];
    const target = await this.resolveTarget(request.signal);
    const stored = await this.fetchStored(target, ids, 'get', request.signal);
    const found: MemoryRecord[] = [];
    for (const id of ids) {
      const vector = stored.get(id);
      if (vector && scopeContains(scope, storedScope(vector.metadata))) found.push(decodeRecord(vector, 'get'));
    }
    return found;
  }

  /**
   * Deletes the records in scope with these ids; missing ids and ids of other scopes are ignored.
   * Reads the ids first (to check their scope), then deletes those inside it, 1000 per request.
   */
  async delete(request: ScopedCall<{ readonly ids: readonly string[] }>): Promise<void> {
    throwIfAborted(request.signal, 'pinecone delete');
    const scope = validateScope(request.scope);
    const ids = storableIds(request.ids);
    if (ids.length === 0) return;
    const target = await this.resolveTarget(request.signal);
    const stored = await this.fetchStored(target, ids, 'delete', request.signal);
    const inScope = ids.filter((id) => {
      const vector = stored.get(id);
      return vector !== undefined && scopeContains(scope, storedScope(vector.metadata));
    });
    for (let start = 0; start < inScope.length; start += MAX_IDS_PER_DELETE) {
      const chunk = inScope.slice(start, start + MAX_IDS_PER_DELETE).map((id) => toStoredId(id)!);
      await this.call('delete', request.signal, () => target.data.deleteMany({ ids: chunk }), { onNotFound: () => undefined });
    }
  }

  /**
   * Every record in scope that matches `filter`, in ascending id order (UTF-16 code units), after
   * `after` if given. Collects the matching ids with `fetch_by_metadata` (whose order Pinecone does
   * not define), sorts them, then fetches the records lazily, 100 per request; each is checked again
   * against scope and filter, so a record changed meanwhile is never yielded wrongly.
   *
   * @throws {UnsupportedCapabilityError} for a filter operator outside `capabilities.filterOperators`.
   */
  async *list(request: ScopedCall<{ readonly filter?: Filter; readonly after?: string }>): AsyncIterable<MemoryRecord> {
    throwIfAborted(request.signal, 'pinecone list');
    const scope = validateScope(request.scope);
    assertNativeFilter(request.filter);
    const { after } = request;
    if (after !== undefined && typeof after !== 'string')
      throw new InvalidInputError('after', 'expected a record id', 'Pass the id of the last record you received.');
    const target = await this.resolveTarget(request.signal);
    const filter = scopedPineconeFilter(scope, request.filter);
    const ids = new Set<string>();
    let token: string | undefined;
    do {
      const previous = token;
      const page = await this.call<FetchByMetadataResponse<PineconeMetadata>>(
        'list',
        request.signal,
        () =>
          target.data.fetchByMetadata({ filter, limit: LIST_PAGE_SIZE, ...(previous === undefined ? {} : { paginationToken: previous }) }),
        { onNotFound: () => ({ records: {}, namespace: this.settings.namespace }) },
      );
      for (const [key, vector] of Object.entries(page.records ?? {})) ids.add(fromStoredId(vector.id ?? key));
      token = page.pagination?.next || undefined;
      if (token !== undefined && token === previous) {
        throw new ProviderResponseInvalidError(PINECONE_PROVIDER, 'list', 'fetch_by_metadata returned the same pagination token twice');
      }
    } while (token !== undefined);
    const ordered = [...ids].filter((id) => after === undefined || compareIds(id, after) > 0).sort(compareIds);
    for (const batch of fetchBatches(ordered)) {
      const stored = await this.fetchStored(target, batch, 'list', request.signal);
      for (const id of batch) {
        const vector = stored.get(id);
        if (!vector) continue;
        const record = decodeRecord(vector, 'list');
        if (scopeContains(scope, record.scope) && (!request.filter || evaluateFilter(request.filter, record))) yield record;
      }
    }
  }

  /** Deletes every record in the store's namespace (every scope); other namespaces are untouched. */
  async reset(request: Call<object> = {}): Promise<void> {
    throwIfAborted(request.signal, 'pinecone reset');
    const target = await this.resolveTarget(request.signal);
    await this.call('reset', request.signal, () => target.data.deleteAll(), { onNotFound: () => undefined });
  }

  /**
   * Deletes the store's namespace with all its records (the default namespace is emptied instead,
   * since Pinecone keeps it). For tests and tear-down; the index itself stays.
   */
  async dropNamespace(request: Call<object> = {}): Promise<void> {
    throwIfAborted(request.signal, 'pinecone dropNamespace');
    const target = await this.resolveTarget(request.signal);
    const { namespace } = this.settings;
    await this.call(
      'dropNamespace',
      request.signal,
      () => (namespace === '' || namespace === '__default__' ? target.data.deleteAll() : target.data.deleteNamespace(namespace)),
      { onNotFound: () => undefined },
    );
  }

  /** Nothing to release: the SDK holds no connections of its own. */
  async close(): Promise<void> {}

  // -------------------------------------------------------------------------------------------
  // Index resolution

  /**
   * Describes the index once (the description is cached after it succeeds): through the control
   * plane when an index name is set, else by matching the host among the project's indexes, else
   * with `describe_index_stats`. Creates the index when `createDimensions` is given and
   * `createIndex` is set.
   */
  private async resolveTarget(signal: AbortSignal | undefined, createDimensions?: number): Promise<Target> {
    if (this.target) return this.target;
    const { index, host, namespace } = this.settings;
    let target: Target;
    if (index !== undefined) {
      let model = await this.describeIndex(index, signal);
      if (!model) {
        if (!this.settings.createIndex || createDimensions === undefined) throw new PineconeIndexNotFoundError(index, createDimensions);
        model = await this.createIndex(index, createDimensions, signal);
      }
      if (!model.status?.ready) model = await this.waitUntilReady(index, signal);
      target = this.targetOf(model, host ?? withScheme(model.host));
    } else {
      const dataHost = host!;
      const listed = await this.call('ensureCollection', signal, () => this.client.listIndexes());
      const model = (listed.indexes ?? []).find(
        (candidate) => sameHost(candidate.host, dataHost) || sameHost(candidate.privateHost, dataHost),
      );
      if (model) {
        target = this.targetOf(model, dataHost);
      } else {
        // A host outside the project's index list (Pinecone Local, a private endpoint): only the
        // dimension can be read from the data plane; the metric is taken on trust.
        const data = this.client.index<PineconeMetadata>({ host: dataHost, namespace });
        const stats = await this.call('ensureCollection', signal, () => data.describeIndexStats());
        if (typeof stats.dimension !== 'number') {
          throw new ProviderResponseInvalidError(
            PINECONE_PROVIDER,
            'ensureCollection',
            'describe_index_stats returned no dimension (is this a sparse index?)',
          );
        }
        target = { dimensions: stats.dimension, data, label: `The Pinecone index at ${dataHost}` };
      }
    }
    this.target = target;
    return target;
  }

  private targetOf(model: IndexModel, dataHost: string): Target {
    const label = `The Pinecone index "${model.name}"`;
    if (model.vectorType !== undefined && model.vectorType !== 'dense') {
      throw new InvalidInputError(
        'index',
        `${label} holds ${model.vectorType} vectors`,
        'mem stores dense embeddings: use a dense index with metric "cosine".',
      );
    }
    if (model.metric !== 'cosine') {
      throw new InvalidInputError(
        'index',
        `${label} uses metric "${model.metric}", but mem ranks memories by cosine similarity`,
        'Pinecone cannot change the metric of an index: create one with metric "cosine" (or pass createIndex with a new index name) and point the store at it.',
      );
    }
    if (typeof model.dimension !== 'number') {
      throw new ProviderResponseInvalidError(
        PINECONE_PROVIDER,
        'ensureCollection',
        `the description of index "${model.name}" has no dimension`,
      );
    }
    return {
      dimensions: model.dimension,
      data: this.client.index<PineconeMetadata>({ host: dataHost, namespace: this.settings.namespace }),
      label,
    };
  }

  /** The index description, or `undefined` when the index does not exist. */
  private describeIndex(index: string, signal: AbortSignal | undefined): Promise<IndexModel | undefined> {
    return this.call('ensureCollection', signal, () => this.client.describeIndex(index), { onNotFound: () => undefined });
  }

  private async createIndex(index: string, dimensions: number, signal: AbortSignal | undefined): Promise<IndexModel> {
    const create = this.settings.createIndex!;
    try {
      const created = await this.call(
        'ensureCollection',
        signal,
        () =>
          this.client.createIndex({
            name: index,
            dimension: dimensions,
            metric: 'cosine',
            vectorType: 'dense',
            spec: { serverless: { cloud: create.cloud, region: create.region } },
            ...(create.deletionProtection === undefined ? {} : { deletionProtection: create.deletionProtection }),
            ...(create.tags === undefined ? {} : { tags: { ...create.tags } }),
          }),
        // 409 here means another process created the index first: use it.
        { retryConflicts: false },
      );
      if (created) return created;
    } catch (error) {
      if (!(MemError.is(error, 'PROVIDER_REQUEST_FAILED') && (error as ProviderRequestError).status === 409)) throw error;
    }
    const described = await this.describeIndex(index, signal);
    if (!described) throw new PineconeIndexNotFoundError(index, dimensions);
    return described;
  }

  private async waitUntilReady(index: string, signal: AbortSignal | undefined): Promise<IndexModel> {
    const deadline = Date.now() + this.settings.indexReadyTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      await abortableDelay(Math.min(250 * 2 ** attempt, 5_000), signal, 'pinecone ensureCollection');
      const model = await this.describeIndex(index, signal);
      if (!model) throw new PineconeIndexNotFoundError(index, undefined);
      if (model.status?.ready) return model;
      const state = model.status?.state;
      if (state === 'InitializationFailed' || state === 'Terminating' || state === 'Disabled') {
        throw new ProviderRequestError({
          provider: PINECONE_PROVIDER,
          operation: 'ensureCollection',
          message: `the index is in state ${state} and will not become ready`,
          retryable: false,
        });
      }
      if (Date.now() >= deadline) {
        throw new ProviderRequestError({
          provider: PINECONE_PROVIDER,
          operation: 'ensureCollection',
          message: `the index was not ready after ${this.settings.indexReadyTimeoutMs} ms (state ${state ?? 'unknown'}). Try again later, or raise indexReadyTimeoutMs`,
        });
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Requests

  /** Fetches records by (record) id in batches; the map is keyed by record id, and ids Pinecone does not have are absent. */
  private async fetchStored(
    target: Target,
    ids: readonly string[],
    operation: string,
    signal: AbortSignal | undefined,
  ): Promise<Map<string, StoredVector>> {
    const found = new Map<string, StoredVector>();
    const storedIds = ids.flatMap((id) => toStoredId(id) ?? []);
    for (const batch of fetchBatches(storedIds)) {
      const response = await this.call<FetchResponse<PineconeMetadata>>(operation, signal, () => target.data.fetch({ ids: batch }), {
        onNotFound: () => ({ records: {}, namespace: this.settings.namespace }),
      });
      for (const [key, vector] of Object.entries(response.records ?? {})) found.set(fromStoredId(vector.id ?? key), vector);
    }
    return found;
  }

  /** The first `topK` records of the scope in id order, all scored 0 (the answer for a zero query vector). */
  private async firstInScope(
    scope: Scope,
    filter: Filter | undefined,
    topK: number,
    signal: AbortSignal | undefined,
  ): Promise<VectorMatch[]> {
    const matches: VectorMatch[] = [];
    for await (const record of this.list({ scope, ...(filter ? { filter } : {}), ...(signal ? { signal } : {}) })) {
      matches.push({ record, score: 0 });
      if (matches.length === topK) break;
    }
    return matches;
  }

  /**
   * Runs one SDK call: records the response status through {@link fetchInCall}, maps any failure
   * with `toMemError`, and retries failures core calls retryable, with exponential backoff.
   */
  private async call<T>(
    operation: string,
    signal: AbortSignal | undefined,
    send: () => Promise<T>,
    options: { readonly onNotFound?: () => T; readonly retryConflicts?: boolean } = {},
  ): Promise<T> {
    try {
      return await withRetries({
        provider: 'pinecone',
        operation,
        signal,
        policy: resolveRetryPolicy({
          maxRetries: this.settings.maxRetries,
          initialDelayMs: this.settings.retryDelayMs,
          maxDelayMs: 20_000,
        }),
        ...(options.retryConflicts === false ? { shouldRetry: (error: ProviderRequestError) => error.status !== 409 } : {}),
        attempt: async () => {
          const context: CallContext = { signal, status: undefined, responded: false };
          try {
            return await this.calls.run(context, send);
          } catch (error) {
            throw toMemError(error, {
              operation,
              signal,
              responded: context.responded,
              ...(context.status === undefined ? {} : { status: context.status }),
            });
          }
        },
        toError: (error) => (MemError.is(error) ? error : toMemError(error, { operation, signal, responded: false })),
      });
    } catch (error) {
      if (options.onNotFound && MemError.is(error, 'PROVIDER_REQUEST_FAILED') && (error as ProviderRequestError).status === 404)
        return options.onNotFound();
      throw error;
    }
  }

  /**
   * The `fetch` handed to the SDK: applies the caller's `AbortSignal` of the current call and
   * records the HTTP status, which the SDK's errors do not carry.
   */
  private readonly fetchInCall = async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]): Promise<Response> => {
    const context = this.calls.getStore();
    const signal = context?.signal;
    // AbortSignal.any arrived in Node 20.3; the SDK passes no signal of its own today anyway.
    const combined =
      signal && init?.signal && typeof AbortSignal.any === 'function'
        ? AbortSignal.any([signal, init.signal])
        : (signal ?? init?.signal ?? undefined);
    const response = await this.settings.fetch(input, combined ? { ...init, signal: combined } : init);
    if (context) {
      context.responded = true;
      context.status = response.status;
    }
    return response;
  };
}

/** Unique ids Pinecone could hold, in first-seen order (others cannot match any record). */
function storableIds(ids: readonly string[]): string[] {
  if (!Array.isArray(ids)) throw new InvalidInputError('ids', 'expected an array of ids', 'Pass { ids: ["..."] }.');
  return [...new Set(ids)].filter((id) => toStoredId(id) !== undefined);
}

/** Splits ids into fetch requests bounded by count and by their length in the URL. */
function fetchBatches(ids: readonly string[]): string[][] {
  const batches: string[][] = [];
  let current: string[] = [];
  let length = 0;
  for (const id of ids) {
    const cost = encodeURIComponent(id).length + 5; // "&ids="
    if (current.length > 0 && (current.length >= MAX_IDS_PER_FETCH || length + cost > FETCH_URL_BUDGET)) {
      batches.push(current);
      current = [];
      length = 0;
    }
    current.push(id);
    length += cost;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** Splits vectors into upsert requests of at most 1000 records and about 2 MB of JSON. */
function upsertChunks(vectors: readonly PineconeVector[], namespace: string): PineconeVector[][] {
  const envelope = Buffer.byteLength(JSON.stringify({ vectors: [], namespace }), 'utf8');
  const chunks: PineconeVector[][] = [];
  let current: PineconeVector[] = [];
  let bytes = envelope;
  for (const vector of vectors) {
    const size = Buffer.byteLength(JSON.stringify(vector), 'utf8') + 1;
    if (current.length > 0 && (current.length >= MAX_VECTORS_PER_UPSERT || bytes + size > UPSERT_BYTE_BUDGET)) {
      chunks.push(current);
      current = [];
      bytes = envelope;
    }
    current.push(vector);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

function scoreOf(match: { readonly id: string; readonly score?: number }): number {
  if (typeof match.score !== 'number' || !Number.isFinite(match.score)) {
    throw new ProviderResponseInvalidError(PINECONE_PROVIDER, 'query', `match ${JSON.stringify(match.id)} has no score`);
  }
  return match.score;
}

function outsideScope(operation: string, id: string): ProviderResponseInvalidError {
  return new ProviderResponseInvalidError(
    PINECONE_PROVIDER,
    operation,
    `record ${JSON.stringify(id)} is outside the requested scope although the scope was part of the filter`,
  );
}

function withScheme(host: string): string {
  return /^https?:\/\//i.test(host) ? host : `https://${host}`;
}

function sameHost(a: string | undefined, b: string): boolean {
  const bare = (host: string) =>
    host
      .replace(/^https?:\/\//i, '')
      .replace(/\/+$/, '')
      .toLowerCase();
  return a !== undefined && a !== '' && bare(a) === bare(b);
}
