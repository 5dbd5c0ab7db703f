import type { Embedder, GraphStore, HistoryStore, LLM, LLMMessage, Reranker, VectorStore } from '../contract/interfaces';
import type { MemoryRecord } from '../contract/types';
import { SPAN_KIND, childSpan, openChildSpan, recordingContent, tracing, type TelemetryAttributes } from './telemetry';

// The parts a `Memory` is given, wrapped once so that, inside a traced operation, each call runs in
// a child span: `chat {model}` for the LLM and `embeddings {model}` for the embedder (OpenTelemetry
// GenAI client spans), `rerank`, and `{operation} {vector|history|graph}_store` for the stores.
// Outside a traced operation (telemetry off, no SDK, a dropped trace) a call goes straight through.
// Memory text is recorded only with `recordContent`, and only on the LLM spans.

/** `llm`, with each `generate` in a `chat` span carrying the model, token usage and finish reason. */
export function tracedLLM(llm: LLM): LLM {
  return {
    provider: llm.provider,
    model: llm.model,
    get capabilities() {
      return llm.capabilities;
    },
    generate: (request) => {
      if (!tracing()) return llm.generate(request);
      const content = recordingContent();
      return childSpan(
        `chat ${llm.model}`,
        SPAN_KIND.client,
        {
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': llm.provider,
          'gen_ai.request.model': llm.model,
          'gen_ai.output.type': request.responseFormat?.type === 'json' ? 'json' : 'text',
          'gen_ai.request.temperature': request.temperature,
          'gen_ai.request.max_tokens': request.maxTokens,
          'gen_ai.input.messages': content ? inputMessages(request.messages) : undefined,
        },
        () => llm.generate(request),
        (response) => ({
          'gen_ai.usage.input_tokens': finiteCount(response?.usage?.promptTokens),
          'gen_ai.usage.output_tokens': finiteCount(response?.usage?.completionTokens),
          'gen_ai.response.finish_reasons': typeof response?.finishReason === 'string' ? [response.finishReason] : undefined,
          'gen_ai.output.messages':
            content && typeof response?.text === 'string'
              ? JSON.stringify([
                  { role: 'assistant', parts: [{ type: 'text', content: response.text }], finish_reason: response.finishReason },
                ])
              : undefined,
        }),
      );
    },
  };
}

/** `embedder`, with each `embed` in an `embeddings` span carrying the model, input count and tokens. */
export function tracedEmbedder(embedder: Embedder): Embedder {
  return {
    provider: embedder.provider,
    model: embedder.model,
    embed: (request) => {
      if (!tracing()) return embedder.embed(request);
      return childSpan(
        `embeddings ${embedder.model}`,
        SPAN_KIND.client,
        {
          'gen_ai.operation.name': 'embeddings',
          'gen_ai.provider.name': embedder.provider,
          'gen_ai.request.model': embedder.model,
          'mem.embeddings.input_count': request.texts.length,
          'mem.embeddings.purpose': request.purpose,
        },
        () => embedder.embed(request),
        (result) => ({
          // Embedders report 0 tokens when the provider reports none: left out rather than recorded as 0.
          'gen_ai.usage.input_tokens': result?.tokens ? finiteCount(result.tokens) : undefined,
          'gen_ai.embeddings.dimension.count': Array.isArray(result?.vectors?.[0]) ? result.vectors[0].length : undefined,
        }),
      );
    },
  };
}

/** `reranker`, with each `rerank` in a `rerank` span carrying the document count. */
export function tracedReranker(reranker: Reranker): Reranker {
  return {
    provider: reranker.provider,
    rerank: (request) =>
      tracing()
        ? childSpan('rerank', SPAN_KIND.client, storeAttributes('reranker', reranker.provider, 'rerank', request.documents.length), () =>
            reranker.rerank(request),
          )
        : reranker.rerank(request),
  };
}

/** The number of records a store call returned (0 for a malformed answer, which core refuses later). */
const length = (result: readonly unknown[]) => (Array.isArray(result) ? result.length : 0);

/** `store`, with every call in a span naming the operation and the number of records it wrote or read. */
export function tracedVectorStore(store: VectorStore): VectorStore {
  const kind = 'vector_store';
  const call = storeCall(kind, store.provider);
  return {
    provider: store.provider,
    get capabilities() {
      return store.capabilities;
    },
    ensureCollection: (request) => call('ensureCollection', undefined, () => store.ensureCollection(request)),
    upsert: (request) => call('upsert', request.records.length, () => store.upsert(request)),
    query: (request) => call('query', undefined, () => store.query(request), length),
    keywordQuery: (request) => call('keywordQuery', undefined, () => store.keywordQuery(request), length),
    // The optional methods stay optional: a wrapper that dropped them would send core down the slower path.
    ...(store.queryAny ? { queryAny: (request) => call('queryAny', request.vectors.length, () => store.queryAny!(request), length) } : {}),
    ...(store.findByHash
      ? { findByHash: (request) => call('findByHash', request.hashes.length, () => store.findByHash!(request), length) }
      : {}),
    get: (request) => call('get', request.ids.length, () => store.get(request), length),
    delete: (request) => call('delete', request.ids.length, () => store.delete(request)),
    list: (request) => (tracing() ? tracedListing(kind, store.provider, () => store.list(request)) : store.list(request)),
    ...(store.listKeys ? { listKeys: (request) => call('listKeys', undefined, () => store.listKeys!(request), length) } : {}),
    reset: (request) => call('reset', undefined, () => store.reset(request)),
    close: () => store.close(),
  };
}

/** One span for a whole listing, from the first page to the last record read (or the reader stopping). */
async function* tracedListing(kind: string, provider: string, list: () => AsyncIterable<MemoryRecord>): AsyncIterable<MemoryRecord> {
  const span = openChildSpan(`list ${kind}`, SPAN_KIND.client, storeAttributes(kind, provider, 'list', undefined));
  let count = 0;
  try {
    for await (const record of list()) {
      count++;
      yield record;
    }
  } catch (error) {
    span?.fail(error);
    throw error;
  } finally {
    span?.end({ 'mem.store.result_count': count });
  }
}

/** `store`, with every call but `lock` in a span; `lock` gets one covering the wait and the work under it. */
export function tracedHistoryStore(store: HistoryStore): HistoryStore {
  const kind = 'history_store';
  const call = storeCall(kind, store.provider);
  return {
    provider: store.provider,
    get capabilities() {
      return store.capabilities;
    },
    lock: (request, work) => call('lock', request.keys.length, () => store.lock(request, work)),
    append: (request) => call('append', request.events.length, () => store.append(request)),
    list: (request) =>
      call(
        'list',
        undefined,
        () => store.list(request),
        (events) => (Array.isArray(events) ? events.length : 0),
      ),
    listPending: (request) =>
      call(
        'listPending',
        undefined,
        () => store.listPending(request),
        (events) => (Array.isArray(events) ? events.length : 0),
      ),
    settle: (request) => call('settle', (request.commit?.length ?? 0) + (request.discard?.length ?? 0), () => store.settle(request)),
    reset: (request) => call('reset', undefined, () => store.reset(request)),
    close: () => store.close(),
    // The optional idempotency methods stay absent where the store has none.
    ...(store.getIdempotencyRecord && {
      getIdempotencyRecord: (request) => call('getIdempotencyRecord', undefined, () => store.getIdempotencyRecord!(request)),
    }),
    ...(store.putIdempotencyRecord && {
      putIdempotencyRecord: (request) => call('putIdempotencyRecord', 1, () => store.putIdempotencyRecord!(request)),
    }),
    ...(store.purgeIdempotencyRecords && {
      purgeIdempotencyRecords: (request) =>
        call(
          'purgeIdempotencyRecords',
          undefined,
          () => store.purgeIdempotencyRecords!(request),
          (result) => finiteCount(result?.purged) ?? 0,
        ),
    }),
  };
}

/** `store`, with every call in a span naming the operation and its entity or relation count. */
export function tracedGraphStore(store: GraphStore): GraphStore {
  const kind = 'graph_store';
  const call = storeCall(kind, store.provider);
  return {
    provider: store.provider,
    get capabilities() {
      return store.capabilities;
    },
    ensureSchema: (request) => call('ensureSchema', undefined, () => store.ensureSchema(request)),
    upsertEntities: (request) => call('upsertEntities', request.entities.length, () => store.upsertEntities(request)),
    upsertRelations: (request) => call('upsertRelations', request.relations.length, () => store.upsertRelations(request)),
    invalidateRelations: (request) =>
      call(
        'invalidateRelations',
        request.relations.length,
        () => store.invalidateRelations(request),
        (result) => finiteCount(result?.invalidated) ?? 0,
      ),
    neighbors: (request) => call('neighbors', request.entities.length, () => store.neighbors(request), length),
    searchEntities: (request) => call('searchEntities', undefined, () => store.searchEntities(request), length),
    deleteAll: (request) => call('deleteAll', undefined, () => store.deleteAll(request)),
    reset: (request) => call('reset', undefined, () => store.reset(request)),
    close: () => store.close(),
  };
}

/**
 * Runs one call of a store (`kind` of `provider`) in a span named `{operation} {kind}`, with the number
 * of records it was given and, through `read`, the number it returned; the bare call without a tracer.
 */
function storeCall(kind: string, provider: string) {
  return <T>(operation: string, count: number | undefined, work: () => Promise<T>, read?: (result: T) => number): Promise<T> =>
    tracing()
      ? childSpan(
          `${operation} ${kind}`,
          SPAN_KIND.client,
          storeAttributes(kind, provider, operation, count),
          work,
          read && ((result) => ({ 'mem.store.result_count': read(result) })),
        )
      : work();
}

function storeAttributes(kind: string, provider: string, operation: string, count: number | undefined): TelemetryAttributes {
  return { 'mem.store.kind': kind, 'mem.store.provider': provider, 'db.operation.name': operation, 'mem.store.request_count': count };
}

/**
 * `gen_ai.input.messages` in the GenAI input-messages JSON form: one text part per message.
 * Recorded only with `recordContent`.
 */
function inputMessages(messages: readonly LLMMessage[]): string {
  return JSON.stringify(messages.map((message) => ({ role: message.role, parts: [{ type: 'text', content: message.content }] })));
}

function finiteCount(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}
