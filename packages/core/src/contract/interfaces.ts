import type { GraphStoreCapabilities, HistoryStoreCapabilities, LLMCapabilities, VectorStoreCapabilities } from './capabilities';
import type { Filter } from './filter';
import type { Call, HistoryEvent, IdempotencyRecord, MemoryKey, MemoryRecord, Scope, ScopedCall, VectorMatch } from './types';

/** A JSON Schema object (draft 2020-12 subset that OpenAI strict mode and Anthropic tools accept). */
export type JsonSchema = { readonly [key: string]: unknown };

/** A message sent to an {@link LLM}. */
export interface LLMMessage {
  readonly role: 'system' | 'user' | 'assistant';
  /** The text (of a message with `parts`: its text parts joined, for adapters and logs that read text only). */
  readonly content: string;
  /**
   * The content as text and image parts in order, in a user message to an LLM whose
   * `capabilities.imageInput` is true: such an adapter sends these instead of `content`. Core never
   * sets it for an LLM without `imageInput`.
   */
  readonly parts?: readonly LLMContentPart[];
}

/** One part of a user message's content: a text or an image. */
export type LLMContentPart = { readonly type: 'text'; readonly text: string } | LLMImagePart;

/** The image formats core accepts and every adapter with `imageInput` must send. */
export type ImageMediaType = 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp';

/** An image in a user message, checked by core (format, size) before it reaches an adapter. */
export interface LLMImagePart {
  readonly type: 'image';
  /**
   * Where the image is: an `http(s)` URL the provider fetches itself, or the image's bytes as
   * base64 (from a data URL; `mediaType` matches the bytes).
   */
  readonly source:
    | { readonly type: 'url'; readonly url: string }
    | { readonly type: 'base64'; readonly mediaType: ImageMediaType; readonly data: string };
  /** How closely the model should look, when the caller said (OpenAI's `detail`; others may ignore it). */
  readonly detail?: 'auto' | 'low' | 'high';
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
  /**
   * How the answer ended. `'length'`: cut off by the token limit (or otherwise unfinished, e.g. a
   * paused turn): core never acts on it, however it parses; `'refusal'`: the model declined;
   * `'other'`: any other reason the provider gave (or none).
   */
  readonly finishReason: 'stop' | 'length' | 'refusal' | 'other';
  readonly usage: TokenUsage;
  /**
   * The answer token limit the call ran with: the request's `maxTokens`, or the adapter's default.
   * Absent when no limit was sent (the model's own maximum applied). Core doubles it, up to
   * `capabilities.maxOutputTokens`, for the one retry of a cut-off answer.
   */
  readonly maxTokens?: number;
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
  generate(
    request: Call<{
      readonly messages: readonly LLMMessage[];
      readonly responseFormat?: ResponseFormat;
      /** @default 0 */
      readonly temperature?: number;
      /** Upper bound on answer tokens; adapters choose a default that does not truncate JSON answers. */
      readonly maxTokens?: number;
    }>,
  ): Promise<LLMResponse>;
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
  query(
    request: ScopedCall<{ readonly vector: readonly number[]; readonly topK: number; readonly filter?: Filter }>,
  ): Promise<VectorMatch[]>;
  /**
   * Optional: the `topK` records in scope most similar to any of `vectors`, best first; score is the
   * best cosine similarity to one of them. The same records as one `query` per vector merged by best
   * score, in one pass over the scope: `add` asks it once for all the messages of a call.
   */
  queryAny?(
    request: ScopedCall<{ readonly vectors: readonly (readonly number[])[]; readonly topK: number; readonly filter?: Filter }>,
  ): Promise<VectorMatch[]>;
  /**
   * The `topK` records in scope ranked by keyword relevance to `text`, best first.
   * @throws {UnsupportedCapabilityError} when `capabilities.keywordSearch` is false.
   */
  keywordQuery(request: ScopedCall<{ readonly text: string; readonly topK: number; readonly filter?: Filter }>): Promise<VectorMatch[]>;
  /** The records in scope with these ids; missing ids are left out. */
  get(request: ScopedCall<{ readonly ids: readonly string[] }>): Promise<MemoryRecord[]>;
  /**
   * Optional: the records in scope whose `hash` is one of `hashes`, in any order. `add` uses it to
   * find a stored copy of a text through an index; a store without it is asked a vector query with
   * the text's vector instead, which reads the scope's vectors.
   */
  findByHash?(request: ScopedCall<{ readonly hashes: readonly string[] }>): Promise<MemoryRecord[]>;
  /** Deletes the records in scope with these ids; missing ids are ignored. */
  delete(request: ScopedCall<{ readonly ids: readonly string[] }>): Promise<void>;
  /** Every record in scope that matches `filter`, in ascending id order, after `after` if given; pages lazily. */
  list(request: ScopedCall<{ readonly filter?: Filter; readonly after?: string }>): AsyncIterable<MemoryRecord>;
  /**
   * Optional: the id, `createdAt` and `occurredAt` of the records in scope that match `filter`, in
   * ascending id order, the first `limit` of them, without reading texts or vectors. `search` reads the
   * conversations of its best candidates through it and then `get`s only the neighbours it does not
   * hold yet; a store without it is read with `list`, whole records.
   *
   * With `unordered: true` the caller needs no order and no particular cut: the store may answer any
   * `limit` of the matching records, in any order (all of them when no more than `limit` match).
   * `search` asks so, one more than it can use, only to learn whether a conversation is too long to
   * read; a store that reads its keys in another order then stops at `limit` instead of reading and
   * sorting every match. A store may ignore it and answer as without it.
   */
  listKeys?(request: ScopedCall<{ readonly filter?: Filter; readonly limit: number; readonly unordered?: boolean }>): Promise<MemoryKey[]>;
  /** Deletes every record in every scope. */
  reset(request?: Call<object>): Promise<void>;
  close(): Promise<void>;
}

/**
 * Keeps the change log of every memory. It is also the write-ahead log of `Memory`: the events of a
 * change are appended as `pending` before the vector store is written, and settled (committed, or
 * dropped when the vector write never happened) afterwards or by `Memory.recover()` after a crash.
 */
export interface HistoryStore {
  readonly provider: string;
  /** How far {@link lock} reaches. Build it with `defineHistoryStoreCapabilities`. */
  readonly capabilities: HistoryStoreCapabilities;
  /**
   * Runs `work` holding exclusive write locks on `keys` (core's scope and memory keys, taken in
   * sorted order). `Memory` takes every write's locks through it, after its own in-process locks, so
   * with `capabilities.writeLocks: 'database'` writers in other processes on the same database wait
   * too: no duplicate add, no lost update, one history chain per memory. A store whose locks reach
   * only its process (`'process'`) just runs `work`. Locks must be released when `work` settles, and
   * when the process holding them dies.
   * @throws {MemError} with code `CONFLICT` when the keys stay taken past the store's lock timeout (`work` did not run).
   */
  lock<T>(request: Call<{ readonly keys: readonly string[] }>, work: () => Promise<T>): Promise<T>;
  /**
   * Appends events: all or none. Event ids are unique: a batch holding an id that is already
   * stored (or twice in the batch) throws a `MemError` with code `CONFLICT` and stores none of the batch.
   * With `pending: true` the events are stored but not listed by `list` until {@link settle} commits them.
   */
  append(request: Call<{ readonly events: readonly HistoryEvent[]; readonly pending?: boolean }>): Promise<void>;
  /** The committed events of one memory, oldest first (pending events are left out). */
  list(request: Call<{ readonly memoryId: string }>): Promise<HistoryEvent[]>;
  /** Pending events of every memory, oldest first (append order), at most `limit`. */
  listPending(request: Call<{ readonly limit: number }>): Promise<HistoryEvent[]>;
  /**
   * Settles pending events, all in one step: `commit` makes them committed (listed, in their
   * original append order), `discard` deletes them. Ids that are not pending (unknown, or already
   * committed) are ignored, so a committed event can never be discarded. With `idempotencyRecord`
   * (given only to stores that declare `capabilities.idempotencyRecords`), the record is stored as
   * by {@link putIdempotencyRecord} in the same step: the add's history and its key, both or neither.
   */
  settle(
    request: Call<{
      readonly commit?: readonly string[];
      readonly discard?: readonly string[];
      readonly idempotencyRecord?: IdempotencyRecord;
    }>,
  ): Promise<void>;
  /**
   * The live idempotency record of exactly this scope (compared id by id, unset ids included) and
   * key (compared exactly), or `null` when there is none or it has expired (`expiresAt` ≤ `now`).
   * Only on stores that declare `capabilities.idempotencyRecords`; core never calls it otherwise.
   */
  getIdempotencyRecord?(
    request: Call<{ readonly scope: Scope; readonly key: string; readonly now: Date }>,
  ): Promise<IdempotencyRecord | null>;
  /**
   * Stores an idempotency record, replacing any record of the same exact scope and key (core puts
   * one only after finding none live, holding the scope's lock). Durable once it resolves.
   * Only on stores that declare `capabilities.idempotencyRecords`.
   */
  putIdempotencyRecord?(request: Call<{ readonly record: IdempotencyRecord }>): Promise<void>;
  /**
   * Deletes every idempotency record, of every scope, whose `expiresAt` is at or before `before`.
   * Only on stores that declare `capabilities.idempotencyRecords`.
   * @returns how many records were deleted.
   */
  purgeIdempotencyRecords?(request: Call<{ readonly before: Date }>): Promise<{ readonly purged: number }>;
  /** Deletes every event (and every idempotency record). */
  reset(request?: Call<object>): Promise<void>;
  close(): Promise<void>;
}

/**
 * An entity to store in a {@link GraphStore}: a person, place, organisation, thing or concept.
 *
 * Identity: an entity is identified by its exact `scope` (the scope of the write, compared id by
 * id, unset ids included) and its `name`, compared exactly (case, accents and whitespace count).
 * Core normalises names before they reach a store (trimmed, NFKC, whitespace collapsed, lower
 * case: `normalizeEntityName`), so a store never folds or trims names itself and must round-trip
 * any string: quotes, backslashes, backticks, Cypher or SQL syntax, emoji and other scripts.
 */
export interface GraphEntityInput {
  /** The entity's name, e.g. `alice`. 1 to 256 characters after normalisation. */
  readonly name: string;
  /** What the entity is, e.g. `person`, `organisation`, `city`. Lower-case snake_case from core. */
  readonly type: string;
  /** The embedding of `name` (unit length from core's embedders); used by `searchEntities`. */
  readonly embedding: readonly number[];
}

/** An entity as a {@link GraphStore} returns it. */
export interface GraphEntity {
  readonly name: string;
  /** The type given by the last upsert; `'entity'` for an entity created only as a relation endpoint. */
  readonly type: string;
  /** The exact scope the entity was written with (only the ids that were set). */
  readonly scope: Scope;
}

/** An entity with its similarity to a query vector. */
export interface GraphEntityMatch {
  readonly entity: GraphEntity;
  /** Cosine similarity in [-1, 1], higher is better (stores whose index reports another scale convert). */
  readonly score: number;
}

/**
 * Which relation is meant: `(source)-[relation]->(target)`, by entity names and the relation's name.
 * Names are compared exactly, like entity names; core writes relation names in lower snake_case
 * (`works_at`, `lives_in`). A relation always connects two entities of the same exact scope.
 */
export interface GraphRelationKey {
  readonly source: string;
  readonly relation: string;
  readonly target: string;
}

/** A relation to store: its key and when it became true. */
export interface GraphRelationInput extends GraphRelationKey {
  /** When the relation became true (the conversation's `occurredAt`). Stored with millisecond precision. */
  readonly validFrom: Date;
}

/**
 * A relation as a {@link GraphStore} returns it, e.g. (alice, works_at, acme) valid from 2024-03-01.
 * Relations are never deleted by the pipeline: one that stops being true gets a `validTo`, so the
 * graph keeps its history.
 */
export interface GraphRelation extends GraphRelationKey {
  /** The exact scope the relation was written with (the scope of its two entities). */
  readonly scope: Scope;
  readonly validFrom: Date;
  /** When the relation stopped being true; `null` while it still holds (an "open" relation). */
  readonly validTo: Date | null;
}

/**
 * Stores entities and the relations between them, scoped like memories, with the history of every
 * relation. Adapters: `@mem/graph-sqlite` (embedded default), `@mem/graph-neo4j`, `@mem/graph-memgraph`;
 * `InMemoryGraphStore` in core is the reference. `describeGraphStore` in `@mem/conformance` checks
 * every rule below.
 *
 * Scope rules (the same as {@link VectorStore}):
 * - Writes (`upsertEntities`, `upsertRelations`) store data under exactly the request's scope.
 * - Everything else matches by containment: a call sees (and `invalidateRelations` / `deleteAll`
 *   change) exactly the entities and relations whose stored scope has every id the call's scope
 *   sets, with the same value. `{ userId: 'u1' }` sees u1's data of every agent and run;
 *   `{ userId: 'u1', agentId: 'a' }` only data written with agent `a` too. Nothing outside ever.
 *
 * Backend notes: every value reaches the backend as a query parameter, never spliced into query
 * text (names are arbitrary user data). Cypher stores can key nodes by a property holding
 * `scopeKey(scope)` + name, keep `user_id`/`agent_id`/`run_id` properties (null when unset) for
 * containment matching, and store dates as epoch milliseconds.
 */
export interface GraphStore {
  /** Short provider name used in errors, e.g. `neo4j`. */
  readonly provider: string;
  readonly capabilities: GraphStoreCapabilities;
  /**
   * Prepares the store for embeddings of `dimensions` (tables, constraints, the vector index on
   * entity embeddings) if missing; checks the dimensions of an existing store. Idempotent. Core
   * calls it before its first read or write.
   * @throws {DimensionMismatchError} when the store holds embeddings of other dimensions.
   */
  ensureSchema(request: Call<{ readonly dimensions: number }>): Promise<void>;
  /**
   * Inserts entities, or updates the `type` and `embedding` of the entity with the same exact scope
   * and name. Idempotent: the same upsert twice (or concurrently) leaves one entity. A name given
   * twice in one request: the last one wins. All of the request or none of it, up to
   * `capabilities.maxBatchSize` items (core splits larger batches).
   * @throws {DimensionMismatchError} when an embedding's length differs from `ensureSchema`'s.
   */
  upsertEntities(request: ScopedCall<{ readonly entities: readonly GraphEntityInput[] }>): Promise<void>;
  /**
   * Stores relations under exactly the request's scope. Idempotency key: (exact scope, source,
   * relation, target) among OPEN relations. If an open relation with that key exists, nothing
   * changes (its `validFrom` is kept); otherwise a new open relation is stored (`validTo: null`),
   * even when closed relations with the same key exist (a fact that became true again starts a new
   * period; the closed ones stay as history). The same upsert twice, or from concurrent writers,
   * leaves one open relation. A source or target that is not an entity of that exact scope is
   * created as an entity of type `'entity'` with no embedding (it is then never returned by
   * `searchEntities`, until an `upsertEntities` gives it one). All or none, up to `maxBatchSize`.
   */
  upsertRelations(request: ScopedCall<{ readonly relations: readonly GraphRelationInput[] }>): Promise<void>;
  /**
   * Closes the OPEN relations in scope (containment) matching any of the keys: sets their
   * `validTo`, keeps them. A `validTo` before a relation's `validFrom` is stored as its `validFrom`
   * (the relation held for no time). Closed relations are left as they are; keys that match
   * nothing are ignored. Never deletes anything.
   * @returns how many relations were closed.
   */
  invalidateRelations(
    request: ScopedCall<{ readonly relations: readonly GraphRelationKey[]; readonly validTo: Date }>,
  ): Promise<{ readonly invalidated: number }>;
  /**
   * The neighbourhood of some entities: every relation in scope (containment) whose source or
   * target is one of `entities` (names, matched exactly; one hop). Open relations only, unless
   * `includeInvalid` is true, which adds the closed ones. Sorted by `validFrom`, newest first;
   * at most `limit` relations (the newest). Unknown names give no relations.
   */
  neighbors(
    request: ScopedCall<{ readonly entities: readonly string[]; readonly limit: number; readonly includeInvalid?: boolean }>,
  ): Promise<GraphRelation[]>;
  /**
   * The `topK` entities in scope (containment) whose embeddings are most similar to `vector`,
   * best first, score = cosine similarity; entities scoring below `threshold` (when given) are left
   * out, as are entities without an embedding. Must not scan every entity of every scope where the
   * backend has a vector index; results must be exact at the conformance suite's sizes.
   */
  searchEntities(
    request: ScopedCall<{ readonly vector: readonly number[]; readonly topK: number; readonly threshold?: number }>,
  ): Promise<GraphEntityMatch[]>;
  /** Deletes every entity and relation (open or closed) in scope (containment). Other scopes keep theirs. */
  deleteAll(request: ScopedCall<object>): Promise<void>;
  /** Deletes every entity and relation in every scope. The store stays usable (same dimensions). */
  reset(request?: Call<object>): Promise<void>;
  close(): Promise<void>;
}

/** Re-orders search candidates by relevance to the query, e.g. with a cross-encoder. */
export interface Reranker {
  readonly provider: string;
  /** Scores each document for `query`; higher is more relevant. Returns one score per document, same order. */
  rerank(request: Call<{ readonly query: string; readonly documents: readonly string[] }>): Promise<number[]>;
}

export type { Scope };
