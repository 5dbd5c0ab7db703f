import type { LLMCapabilities, VectorStoreCapabilities } from './capabilities';
import type { Filter } from './filter';
import type { Call, HistoryEvent, MemoryRecord, Scope, ScopedCall, VectorMatch } from './types';

/** A JSON Schema object (draft 2020-12 subset that OpenAI strict mode and Anthropic tools accept). */
export type JsonSchema = { readonly [key: string]: unknown };

/** A message sent to an {@link LLM}. */
export interface LLMMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

/** How the answer must be shaped. */
export type ResponseFormat =
  | { readonly type: 'text' }
  /** A JSON object matching `schema`; `name` is a short identifier such as `memory_operations`. */
  | { readonly type: 'json'; readonly name: string; readonly schema: JsonSchema };

/** Tokens one LLM call spent, as the provider reported them. */
export interface TokenUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
}

/** An LLM's answer. */
export interface LLMResponse {
  /** The answer text; for `responseFormat: json`, the JSON text (adapters serialise tool-call input). */
  readonly text: string;
  /** `'length'`: the answer was cut by the token limit; `'refusal'`: the model declined. */
  readonly finishReason: 'stop' | 'length' | 'refusal' | 'other';
  readonly usage: TokenUsage;
}

/** A chat model. Adapters: `@mem/llm-openai`, `@mem/llm-anthropic`. */
export interface LLM {
  /** Short provider name used in errors, e.g. `openai`. */
  readonly provider: string;
  readonly model: string;
  readonly capabilities: LLMCapabilities;
  /**
   * Generates one answer.
   * @throws {ProviderRequestError} when the provider fails (after the adapter's own retries).
   */
  generate(request: Call<{
    readonly messages: readonly LLMMessage[];
    readonly responseFormat?: ResponseFormat;
    /** @default 0 */
    readonly temperature?: number;
    /** Upper bound on answer tokens; adapters choose a default that does not truncate JSON answers. */
    readonly maxTokens?: number;
  }>): Promise<LLMResponse>;
}

/** Turns texts into vectors. */
export interface Embedder {
  readonly provider: string;
  readonly model: string;
  /**
   * Embeds texts, one vector per text in the same order. `purpose` lets asymmetric models
   * (query vs passage prefixes) embed each side correctly.
   */
  embed(request: Call<{ readonly texts: readonly string[]; readonly purpose?: 'document' | 'query' }>): Promise<{
    readonly vectors: number[][];
    /** Tokens billed, when the provider reports them; 0 otherwise. */
    readonly tokens: number;
  }>;
}

/** Stores memory records and finds them by vector similarity. */
export interface VectorStore {
  readonly provider: string;
  readonly capabilities: VectorStoreCapabilities;
  /**
   * Creates the collection if it is missing; checks the dimensions of an existing one. Idempotent.
   * @throws {DimensionMismatchError} when the collection exists with other dimensions.
   */
  ensureCollection(request: Call<{ readonly dimensions: number }>): Promise<void>;
  /** Inserts or replaces records by id. All records or none (per batch up to `maxUpsertBatch`). */
  upsert(request: Call<{ readonly records: readonly MemoryRecord[] }>): Promise<void>;
  /** The `topK` records in scope most similar to `vector`, best first; score is cosine similarity. */
  query(request: ScopedCall<{ readonly vector: readonly number[]; readonly topK: number; readonly filter?: Filter }>): Promise<VectorMatch[]>;
  /**
   * The `topK` records in scope ranked by keyword relevance to `text`, best first.
   * @throws {UnsupportedCapabilityError} when `capabilities.keywordSearch` is false.
   */
  keywordQuery(request: ScopedCall<{ readonly text: string; readonly topK: number; readonly filter?: Filter }>): Promise<VectorMatch[]>;
  /** The records in scope with these ids; missing ids are left out. */
  get(request: ScopedCall<{ readonly ids: readonly string[] }>): Promise<MemoryRecord[]>;
  /** Deletes the records in scope with these ids; missing ids are ignored. */
  delete(request: ScopedCall<{ readonly ids: readonly string[] }>): Promise<void>;
  /** Every record in scope that matches `filter`, in ascending id order, after `after` if given; pages lazily. */
  list(request: ScopedCall<{ readonly filter?: Filter; readonly after?: string }>): AsyncIterable<MemoryRecord>;
  /** Deletes every record in every scope. */
  reset(request?: Call<object>): Promise<void>;
  close(): Promise<void>;
}

/** Keeps the change log of every memory. */
export interface HistoryStore {
  readonly provider: string;
  /**
   * Appends events: all or none. Event ids are unique: a batch holding an id that is already
   * stored (or twice in the batch) throws a `MemError` with code `CONFLICT` and stores none of the batch.
   */
  append(request: Call<{ readonly events: readonly HistoryEvent[] }>): Promise<void>;
  /** The events of one memory, oldest first. */
  list(request: Call<{ readonly memoryId: string }>): Promise<HistoryEvent[]>;
  /** Deletes every event. */
  reset(request?: Call<object>): Promise<void>;
  close(): Promise<void>;
}

/** A relation between two entities, e.g. (alice, works_at, acme). Graph memory arrives in a later release. */
export interface Relation {
  readonly source: string;
  readonly relation: string;
  readonly target: string;
  readonly validFrom?: Date;
  /** Set when the relation stopped being true; the relation is kept for history. */
  readonly validTo?: Date;
}

/** Stores entities and relations (shape only; adapters arrive with graph memory). */
export interface GraphStore {
  readonly provider: string;
  upsertRelations(request: ScopedCall<{ readonly relations: readonly Relation[] }>): Promise<void>;
  deleteRelations(request: ScopedCall<{ readonly relations: readonly Relation[] }>): Promise<void>;
  neighbors(request: ScopedCall<{ readonly entities: readonly string[]; readonly limit: number }>): Promise<Relation[]>;
  close(): Promise<void>;
}

/** Re-orders search candidates by relevance to the query, e.g. with a cross-encoder. */
export interface Reranker {
  readonly provider: string;
  /** Scores each document for `query`; higher is more relevant. Returns one score per document, same order. */
  rerank(request: Call<{ readonly query: string; readonly documents: readonly string[] }>): Promise<number[]>;
}

export type { Scope };
