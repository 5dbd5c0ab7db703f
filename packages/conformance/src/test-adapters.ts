// Deliberately broken and deliberately limited adapters, built on core's reference adapters.
// Only the self-tests import this file; it is not exported.
import {
  defineVectorStoreCapabilities,
  evaluateFilter,
  fieldValue,
  SCOPE_FIELDS,
  InvalidInputError,
  UnsupportedCapabilityError,
  throwIfAborted,
  tokenize,
  validateScope,
  type Call,
  type Filter,
  type HistoryEvent,
  type IdempotencyRecord,
  type MemoryRecord,
  type Metadata,
  type Reranker,
  type ResponseFormat,
  type Scope,
  type ScopedCall,
  type VectorMatch,
} from '@mem/core/adapter';
import { InMemoryHistoryStore, InMemoryVectorStore, LexicalEmbedder } from '@mem/core';
import { ScriptedLLM } from '@mem/core/testing';

type QueryRequest = ScopedCall<{ vector: readonly number[]; topK: number; filter?: Filter }>;
type ListRequest = ScopedCall<{ filter?: Filter; after?: string }>;
type IdsRequest = ScopedCall<{ ids: readonly string[] }>;
type UpsertRequest = Call<{ records: readonly MemoryRecord[] }>;

// ---------------------------------------------------------------------------------------------
// Correct adapters that declare less than the reference: the suite must adapt, and they must pass.

/** Declares core's defaults (eq, in, and; batches of 100; no keyword search) and enforces them. */
export class MinimalVectorStore extends InMemoryVectorStore {
  override readonly capabilities = defineVectorStoreCapabilities({ maxUpsertBatch: 100 });

  override async keywordQuery(): Promise<VectorMatch[]> {
    throw new UnsupportedCapabilityError(this.provider, 'keyword search', 'Use vector search, or a store with keywordSearch.');
  }
}

/** Declares only range operators (as a store that cannot tell `'5'` from `5` in equality might). */
export class RangeOnlyVectorStore extends MinimalVectorStore {
  override readonly capabilities = defineVectorStoreCapabilities({
    filterOperators: ['gt', 'gte', 'lt', 'lte', 'and', 'or'],
    maxUpsertBatch: 50,
  });
}

/** Applies writes a few milliseconds late and declares `readAfterWrite: 'eventual'`: the suite must poll. */
export class LaggingVectorStore extends InMemoryVectorStore {
  override readonly capabilities = defineVectorStoreCapabilities({
    filterOperators: ['eq', 'ne', 'in', 'nin', 'gt', 'gte', 'lt', 'lte', 'contains', 'and', 'or', 'not'],
    maxUpsertBatch: 25,
    readAfterWrite: 'eventual',
    keywordSearch: true,
  });
  private pending: Promise<void> = Promise.resolve();
  private collectionDimensions: number | undefined;

  override async ensureCollection(request: Call<{ dimensions: number }>): Promise<void> {
    await super.ensureCollection(request);
    this.collectionDimensions = request.dimensions;
  }

  /** Validates now, applies 5 ms later, in order. */
  private later(apply: () => Promise<void>): void {
    this.pending = this.pending.then(() => new Promise((resolve) => setTimeout(resolve, 5))).then(apply);
  }

  override async upsert(request: UpsertRequest): Promise<void> {
    throwIfAborted(request.signal, 'lagging upsert');
    const expected = this.collectionDimensions;
    if (request.records.length > this.capabilities.maxUpsertBatch) throw new RangeError('batch larger than maxUpsertBatch');
    if (expected !== undefined && request.records.some((record) => record.vector.length !== expected)) {
      return super.upsert(request); // throws the DimensionMismatchError now
    }
    request.records.forEach((record, index) => validateScope(record.scope, `records[${index}].scope`));
    const records = structuredClone(request.records);
    this.later(() => super.upsert({ records }));
  }

  override async delete(request: IdsRequest): Promise<void> {
    throwIfAborted(request.signal, 'lagging delete');
    validateScope(request.scope);
    const copy = structuredClone({ scope: request.scope, ids: request.ids });
    this.later(() => super.delete(copy));
  }

  override async reset(): Promise<void> {
    this.later(() => super.reset());
  }
}

// ---------------------------------------------------------------------------------------------
// Broken vector stores: each must fail at least one case.

/** Reads and deletes across every scope. */
export class IgnoresScopeVectorStore extends InMemoryVectorStore {
  override query(request: QueryRequest) {
    return super.query({ ...request, scope: {} });
  }
  override get(request: IdsRequest) {
    return super.get({ ...request, scope: {} });
  }
  override list(request: ListRequest) {
    return super.list({ ...request, scope: {} });
  }
  override delete(request: IdsRequest) {
    return super.delete({ ...request, scope: {} });
  }
}

/** Stores booleans as the strings 'true' / 'false' (a common JSON-column mistake). */
export class StringifiesBooleansVectorStore extends InMemoryVectorStore {
  override upsert(request: UpsertRequest) {
    const records = request.records.map((record) => ({
      ...record,
      metadata: Object.fromEntries(
        Object.entries(record.metadata).map(([key, value]) => [key, typeof value === 'boolean' ? String(value) : value]),
      ) as Metadata,
    }));
    return super.upsert({ ...request, records });
  }
}

/** Drops metadata entirely. */
export class DropsMetadataVectorStore extends InMemoryVectorStore {
  override upsert(request: UpsertRequest) {
    return super.upsert({ ...request, records: request.records.map((record) => ({ ...record, metadata: {} })) });
  }
}

/** Returns one match too many (an off-by-one in a limit clause). */
export class TopKPlusOneVectorStore extends InMemoryVectorStore {
  override query(request: QueryRequest) {
    return super.query({ ...request, topK: request.topK + 1 });
  }
}

/** Returns matches in ascending score order. */
export class UnsortedScoresVectorStore extends InMemoryVectorStore {
  override async query(request: QueryRequest) {
    return (await super.query(request)).reverse();
  }
}

/** Translates `ne` / `nin` into "field exists and differs", so missing fields never match. */
export class NeSkipsMissingFieldsVectorStore extends InMemoryVectorStore {
  override async query(request: QueryRequest) {
    return (await super.query(request)).filter((match) => negationFieldsPresent(request.filter, match.record));
  }
  override async *list(request: ListRequest) {
    for await (const record of super.list(request)) if (negationFieldsPresent(request.filter, record)) yield record;
  }
}

function negationFieldsPresent(filter: Filter | undefined, record: MemoryRecord): boolean {
  if (!filter) return true;
  if (filter.op === 'ne' || filter.op === 'nin') return fieldValue(record, filter.field) !== undefined;
  if (filter.op === 'and' || filter.op === 'or') return filter.filters.every((child) => negationFieldsPresent(child, record));
  return true;
}

/** Keeps its own copy of the records and writes it back across an await: concurrent writers overwrite each other. */
export class LosesConcurrentWritesVectorStore extends InMemoryVectorStore {
  private snapshot = new Map<string, MemoryRecord>();

  override async upsert(request: UpsertRequest): Promise<void> {
    const copy = new Map(this.snapshot); // read
    await Promise.resolve(); // …another writer runs here…
    for (const record of request.records) copy.set(record.id, record); // modify
    this.snapshot = copy;
    // write: replace everything with this writer's copy (reset and upsert run synchronously, so the
    // replacement is atomic; the other writers' records are simply not in it)
    void super.reset();
    await super.upsert({ records: [...copy.values()] });
  }

  override async delete(request: IdsRequest): Promise<void> {
    for (const found of await super.get(request)) this.snapshot.delete(found.id);
    await super.delete(request);
  }

  override async reset(): Promise<void> {
    this.snapshot.clear();
    await super.reset();
  }
}

/** Truncates dates to whole seconds (a TIMESTAMP(0) column). */
export class TruncatesDatesVectorStore extends InMemoryVectorStore {
  override upsert(request: UpsertRequest) {
    const seconds = (date: Date) => new Date(Math.floor(date.getTime() / 1000) * 1000);
    return super.upsert({
      ...request,
      records: request.records.map((record) => ({
        ...record,
        createdAt: seconds(record.createdAt),
        updatedAt: seconds(record.updatedAt),
        occurredAt: seconds(record.occurredAt),
      })),
    });
  }
}

/** Writes the records before the bad one, then fails: a batch that is not all-or-nothing. */
export class PartialBatchVectorStore extends InMemoryVectorStore {
  override async upsert(request: UpsertRequest): Promise<void> {
    for (const record of request.records) await super.upsert({ ...request, records: [record] });
  }
}

/** Merges new metadata into the old on upsert instead of replacing the record. */
export class MergesOnUpsertVectorStore extends InMemoryVectorStore {
  override async upsert(request: UpsertRequest): Promise<void> {
    const records: MemoryRecord[] = [];
    for (const record of request.records) {
      const [old] = await super.get({ scope: record.scope, ids: [record.id] });
      records.push(old ? { ...record, metadata: { ...old.metadata, ...record.metadata } } : record);
    }
    await super.upsert({ ...request, records });
  }
}

/** Lists records in insertion order and ignores the `after` cursor. */
export class UnorderedListVectorStore extends InMemoryVectorStore {
  override async *list(request: ListRequest) {
    const records: MemoryRecord[] = [];
    for await (const record of super.list({ ...request, after: undefined })) records.push(record);
    yield* records.reverse();
  }
}

/** Evaluates every operator itself but only declares core's defaults, so undeclared operators are silently accepted. */
export class AcceptsUndeclaredOperatorsVectorStore extends InMemoryVectorStore {
  override readonly capabilities = defineVectorStoreCapabilities({ maxUpsertBatch: 100, keywordSearch: true });
  private readonly all = new InMemoryVectorStore();

  override ensureCollection(request: Call<{ dimensions: number }>) {
    return Promise.all([super.ensureCollection(request), this.all.ensureCollection(request)]).then(() => undefined);
  }
  override upsert(request: UpsertRequest) {
    return Promise.all([super.upsert(request), this.all.upsert(request)]).then(() => undefined);
  }
  override query(request: QueryRequest) {
    return this.all.query(request);
  }
  override list(request: ListRequest) {
    return this.all.list(request);
  }
}

/** SQL LIKE without escaping: `%` and `_` in a pattern are wildcards. */
function like(pattern: string, value: string, anywhere: boolean): boolean {
  const body = pattern
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    .replace(/%/g, '.*')
    .replace(/_/g, '.');
  return new RegExp(anywhere ? body : `^${body}$`, 's').test(value);
}

function likeEvaluate(filter: Filter, record: MemoryRecord): boolean {
  switch (filter.op) {
    case 'and':
      return filter.filters.every((child) => likeEvaluate(child, record));
    case 'or':
      return filter.filters.some((child) => likeEvaluate(child, record));
    case 'not':
      return !likeEvaluate(filter.filter, record);
    case 'contains': {
      const value = fieldValue(record, filter.field);
      if (typeof value === 'string') return like(filter.value, value, true);
      return Array.isArray(value) && value.includes(filter.value);
    }
    default:
      return evaluateFilter(filter, record);
  }
}

/** Translates `contains` into an unescaped SQL `LIKE '%value%'`. */
export class LikeContainsVectorStore extends InMemoryVectorStore {
  override async query(request: QueryRequest) {
    const { filter } = request;
    const all = await super.query({ ...request, filter: undefined, topK: 100_000 });
    return all.filter((match) => !filter || likeEvaluate(filter, match.record)).slice(0, request.topK);
  }
  override async *list(request: ListRequest) {
    const { filter } = request;
    for await (const record of super.list({ ...request, filter: undefined })) if (!filter || likeEvaluate(filter, record)) yield record;
  }
}

/** Compares scope ids with an unescaped SQL `LIKE`, so `%` and `_` match other users. */
export class LikeScopeVectorStore extends InMemoryVectorStore {
  private inScope(scope: Scope, record: MemoryRecord): boolean {
    return SCOPE_FIELDS.every(
      (key) => scope[key] === undefined || (record.scope[key] !== undefined && like(scope[key], record.scope[key], false)),
    );
  }
  override async query(request: QueryRequest) {
    const all = await super.query({ ...request, scope: {}, topK: 100_000 });
    return all.filter((match) => this.inScope(request.scope, match.record)).slice(0, request.topK);
  }
  override async get(request: IdsRequest) {
    return (await super.get({ ...request, scope: {} })).filter((record) => this.inScope(request.scope, record));
  }
  override async *list(request: ListRequest) {
    for await (const record of super.list({ ...request, scope: {} })) if (this.inScope(request.scope, record)) yield record;
  }
}

/** Takes the top-k by similarity first, then drops the records the filter rejects. */
export class PostFiltersTopKVectorStore extends InMemoryVectorStore {
  override async query(request: QueryRequest) {
    const { filter } = request;
    const top = await super.query({ ...request, filter: undefined });
    return top.filter((match) => !filter || evaluateFilter(filter, match.record));
  }
}

/** Ignores the caller's AbortSignal on writes. */
export class IgnoresAbortVectorStore extends InMemoryVectorStore {
  override upsert(request: UpsertRequest) {
    return super.upsert({ records: request.records });
  }
}

// ---------------------------------------------------------------------------------------------
// Broken history stores

/** Appends event by event, so a conflict in the middle leaves the first half stored. */
export class HalfBatchHistoryStore extends InMemoryHistoryStore {
  override async append(request: Call<{ events: readonly HistoryEvent[]; pending?: boolean }>): Promise<void> {
    for (const event of request.events) await super.append({ ...request, events: [event] });
  }
}

/** Ignores `pending`: events of the write-ahead log are listed before they are committed. */
export class ListsPendingHistoryStore extends InMemoryHistoryStore {
  override append(request: Call<{ events: readonly HistoryEvent[]; pending?: boolean }>): Promise<void> {
    return super.append({ ...request, pending: false });
  }
}

/** Commits the events it was asked to discard. */
export class CommitsDiscardedHistoryStore extends InMemoryHistoryStore {
  override settle(request: Call<{ commit?: readonly string[]; discard?: readonly string[] }>): Promise<void> {
    return super.settle({ commit: [...(request.commit ?? []), ...(request.discard ?? [])] });
  }
}

/** Lists newest first. */
export class NewestFirstHistoryStore extends InMemoryHistoryStore {
  override async list(request: Call<{ memoryId: string }>): Promise<HistoryEvent[]> {
    return (await super.list(request)).reverse();
  }
}

/** Turns `null` texts into empty strings (a NOT NULL column). */
export class NullAsEmptyHistoryStore extends InMemoryHistoryStore {
  override append(request: Call<{ events: readonly HistoryEvent[] }>): Promise<void> {
    return super.append({
      ...request,
      events: request.events.map((event) => ({ ...event, previousText: event.previousText ?? '', text: event.text ?? '' })),
    });
  }
}

/** Keeps idempotency records by key only: a key given in one scope answers for every scope. */
export class ScopelessIdempotencyHistoryStore extends InMemoryHistoryStore {
  private readonly byKey = new Map<string, IdempotencyRecord>();
  override async getIdempotencyRecord(request: Call<{ scope: Scope; key: string; now: Date }>): Promise<IdempotencyRecord | null> {
    const record = this.byKey.get(request.key);
    return record && record.expiresAt > request.now ? record : null;
  }
  override async putIdempotencyRecord(request: Call<{ record: IdempotencyRecord }>): Promise<void> {
    this.byKey.set(request.record.key, request.record);
  }
}

/** Returns idempotency records whatever their expiresAt. */
export class NeverExpiringIdempotencyHistoryStore extends InMemoryHistoryStore {
  override async getIdempotencyRecord(request: Call<{ scope: Scope; key: string; now: Date }>): Promise<IdempotencyRecord | null> {
    return super.getIdempotencyRecord({ ...request, now: new Date(0) });
  }
}

// ---------------------------------------------------------------------------------------------
// Broken embedders and LLMs

/** Returns the vectors of a batch in reverse order. */
export class ReversedBatchEmbedder extends LexicalEmbedder {
  override async embed(request: Call<{ texts: readonly string[]; purpose?: 'document' | 'query' }>) {
    const result = await super.embed(request);
    return { ...result, vectors: result.vectors.reverse() };
  }
}

/** Ignores the caller's AbortSignal. */
export class IgnoresAbortEmbedder extends LexicalEmbedder {
  override embed(request: Call<{ texts: readonly string[]; purpose?: 'document' | 'query' }>) {
    return super.embed({ texts: request.texts, purpose: request.purpose });
  }
}

/**
 * A correct reranker for the suite's self-test: the score is the share of the query's distinct words
 * that the document holds (pointwise, so it does not depend on the other documents).
 */
export class WordOverlapReranker implements Reranker {
  readonly provider: string = 'word-overlap';

  async rerank(request: Call<{ readonly query: string; readonly documents: readonly string[] }>): Promise<number[]> {
    throwIfAborted(request.signal, `${this.provider} rerank`);
    if (!Array.isArray(request.documents) || request.documents.some((document) => typeof document !== 'string')) {
      throw new InvalidInputError('request.documents', 'expected an array of strings', 'Pass the texts to score.');
    }
    const words = new Set(tokenize(request.query));
    return request.documents.map((document) => {
      const present = new Set(tokenize(document));
      return words.size === 0 ? 0 : [...words].filter((word) => present.has(word)).length / words.size;
    });
  }
}

/** Scores documents by their position in the request, not by their text. */
export class PositionalReranker extends WordOverlapReranker {
  override async rerank(request: Call<{ readonly query: string; readonly documents: readonly string[] }>): Promise<number[]> {
    const scores = await super.rerank(request);
    return scores.map((score, index) => score - index);
  }
}

/** Ignores the caller's AbortSignal. */
export class IgnoresAbortReranker extends WordOverlapReranker {
  override rerank(request: Call<{ readonly query: string; readonly documents: readonly string[] }>): Promise<number[]> {
    return super.rerank({ query: request.query, documents: request.documents });
  }
}

/** Wraps JSON answers in a markdown code fence, as chat models do when not held to a schema. */
export function fencedJsonLLM(): ScriptedLLM {
  return new ScriptedLLM(
    [(request) => (request.responseFormat?.type === 'json' ? '```json\n{"facts": ["Is vegetarian"]}\n```' : 'Hello!')],
    { repeatLast: true },
  );
}

/** Throws a plain Error for an aborted signal instead of a MemError with code ABORTED. */
export function untypedAbortLLM(): ScriptedLLM {
  const llm = new ScriptedLLM([(request) => (request.responseFormat?.type === 'json' ? '{"facts": []}' : 'Hello!')], { repeatLast: true });
  const generate = llm.generate.bind(llm);
  llm.generate = async (request) => {
    if (request.signal?.aborted) throw new Error('The operation was aborted');
    return generate({ ...request, signal: undefined });
  };
  return llm;
}

/**
 * A well-behaved scripted LLM: JSON when asked for it, a sentence otherwise; with `maxTokens`, the
 * answer is cut to that many words, finishes with 'length' and reports the limit.
 */
export function wellBehavedLLM(): ScriptedLLM {
  return cutting((request) =>
    request.responseFormat?.type === 'json'
      ? JSON.stringify({ facts: ['Is vegetarian', 'Lives in Lisbon'] })
      : request.maxTokens !== undefined
        ? '2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31'
        : 'Hello there!',
  );
}

/** Cuts a cut-off answer short but reports it as a complete one ('stop', no limit): core would act on a partial answer. */
export function silentlyCutLLM(): ScriptedLLM {
  const llm = wellBehavedLLM();
  const generate = llm.generate.bind(llm);
  llm.generate = async (request) => {
    const { maxTokens: _limit, ...response } = await generate(request);
    return { ...response, finishReason: 'stop' };
  };
  return llm;
}

function cutting(answer: (request: { readonly responseFormat?: ResponseFormat; readonly maxTokens?: number }) => string): ScriptedLLM {
  return new ScriptedLLM(
    [
      (request) => {
        const text = answer(request);
        const words = text.split(' ');
        const cut = request.maxTokens !== undefined && words.length > request.maxTokens;
        return {
          text: cut ? words.slice(0, request.maxTokens).join(' ') : text,
          finishReason: cut ? 'length' : 'stop',
          usage: { promptTokens: 0, completionTokens: 0 },
          ...(request.maxTokens !== undefined ? { maxTokens: request.maxTokens } : {}),
        };
      },
    ],
    { repeatLast: true, capabilities: { maxOutputTokens: 4_096 } },
  );
}
