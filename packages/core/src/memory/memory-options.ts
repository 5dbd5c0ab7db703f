import type { FilterInput } from '../contract/filter';
import type { Embedder, GraphStore, HistoryStore, LLM, Reranker, VectorStore } from '../contract/interfaces';
import type { MemoryType, Metadata, Scope } from '../contract/types';
import type { CategoryDefinition } from '../contract/validation';
import type { AddStrategy } from '../add/add-strategy';
import type { IdempotencyOptions } from '../add/idempotency';
import type { ImageOptions } from '../add/images';
import type { GraphOptions } from '../graph/graph-options';
import type { RankingOptions } from '../search/ranking';
import type { TelemetryOptions } from '../telemetry/telemetry';

/** Settings of a {@link Memory}. */
export interface MemoryOptions {
  /** Turns texts into vectors. */
  readonly embedder: Embedder;
  /** Where memories live, e.g. `SqliteVectorStore` from `@mem/vector-sqlite`. */
  readonly vectorStore: VectorStore;
  /** Where the change log lives, e.g. `SqliteHistoryStore` from `@mem/history-sqlite`. */
  readonly historyStore: HistoryStore;
  /** The model that extracts facts. Required unless every `add` passes `infer: false`. */
  readonly llm?: LLM;
  /** How `add` works: `'reconcile'` (default), `'additive'`, or your own {@link AddStrategy}. */
  readonly strategy?: 'reconcile' | 'additive' | AddStrategy;
  /**
   * Replace the built-in instructions: `extraction` (what to remember), `update` (how to reconcile),
   * `procedural` (how to summarise an agent's run, for `add` with `memoryType: 'procedural'`).
   */
  readonly prompts?: { readonly extraction?: string; readonly update?: string; readonly procedural?: string };
  /**
   * Custom categories (Mem0's `custom_categories`): the extraction call assigns each fact zero or
   * more of them (names from this list only), stored as the memory's `categories` and filterable
   * (`filter: { categories: 'food' }`). At most 50, names 1-64 characters and unique. @default none
   */
  readonly categories?: readonly CategoryDefinition[];
  /** Re-orders search results when a search asks for `rerank: true`. */
  readonly reranker?: Reranker;
  /** How `search` weighs keyword against semantic relevance, and memories of the same conversation. */
  readonly ranking?: RankingOptions;
  /** How many existing memories `add` shows the LLM. @default 10 */
  readonly candidateLimit?: number;
  /** The clock, for tests. @default () => new Date() */
  readonly now?: () => Date;
  /**
   * Switches graph memory on: `add` also extracts entities and relations (in the same LLM call
   * with the default strategy) and `search` returns the relations around the query's entities.
   * E.g. `SqliteGraphStore` from `@mem/graph-sqlite`.
   */
  readonly graphStore?: GraphStore;
  /** Tuning of graph memory (entity resolution threshold, single-valued relations, search seeds). */
  readonly graph?: GraphOptions;
  /** How long `add`'s idempotency keys are kept (`retentionMs`, default 24 hours). */
  readonly idempotency?: IdempotencyOptions;
  /**
   * OpenTelemetry spans (GenAI memory conventions) for add, search, update, delete, deleteAll,
   * purgeExpired and importRecords, with child spans for the LLM, embedder, reranker and store
   * calls. Through `@opentelemetry/api` when it is installed (an optional peer dependency); nothing
   * is recorded until an OpenTelemetry SDK is registered. Memory text and scope ids are left out
   * unless `recordContent` / `recordScope`. `false` turns it off.
   * @default {} (the global tracer, no content, no scope ids)
   */
  readonly telemetry?: TelemetryOptions | false;
  /** Images in messages: whether `add` reads them (`describe`), with which model, and the limits. */
  readonly images?: ImageOptions;
}

/** Options of {@link Memory.add}. */
export interface AddOptions {
  readonly scope: Scope;
  /** Stored on every memory the call creates (and merged into updated ones). */
  readonly metadata?: Metadata;
  /** `false` stores the messages as given, without an LLM. @default true */
  readonly infer?: boolean;
  /** Custom instructions for this call; overrides `prompts.extraction` (or `prompts.procedural` with `memoryType: 'procedural'`). */
  readonly prompt?: string;
  /**
   * `'procedural'`: the messages are an agent's run (steps, tool calls and their results); ONE LLM
   * call summarises it into ONE new memory of that type, keeping commands, ids, values and errors
   * verbatim. Nothing stored is reconciled or changed. Needs an LLM (not `infer: false`).
   * @default 'semantic' (facts extracted and reconciled)
   */
  readonly memoryType?: MemoryType;
  /** Custom categories for this call, replacing the `Memory`'s (`[]`: none). Not with `infer: false` or `memoryType: 'procedural'`. */
  readonly categories?: readonly CategoryDefinition[];
  /** When the conversation happened; relative dates resolve against it. @default now */
  readonly occurredAt?: Date | string | number;
  /**
   * When the memories this call creates or updates expire: from then on `search` and `getAll` leave
   * them out (unless `includeExpired`), `get` still returns them, and `purgeExpired` deletes them.
   * @default never
   */
  readonly expiresAt?: Date | string | number;
  /**
   * Makes the call safe to retry: a later call with the same key in the same scope (exactly the same
   * ids) returns this call's result (the same events, ids and memories) and writes nothing, for
   * `idempotency.retentionMs` (24 hours by default). Concurrent calls with one key run the add once.
   * The same key with other messages or options is refused with `IdempotencyKeyReusedError`. A call
   * that fails records nothing, so its retry runs again. 1 to 255 printable characters, e.g. a UUID.
   * Needs a history store that keeps idempotency records (SQLite, PostgreSQL, in-memory).
   */
  readonly idempotencyKey?: string;
  readonly signal?: AbortSignal;
}

/** Options of {@link Memory.search}. */
export interface SearchOptions {
  readonly scope: Scope;
  readonly filter?: FilterInput;
  /** How many results. @default 10 */
  readonly limit?: number;
  /** Drops results whose `score` (cosine similarity) is below it. */
  readonly threshold?: number;
  /** Fuse keyword (BM25) search in, where the store has it. @default true */
  readonly keyword?: boolean;
  /** Re-order with the configured reranker. @default false */
  readonly rerank?: boolean;
  /** Graph memory: how many relations to return. @default limit */
  readonly relationLimit?: number;
  /** Graph memory: also return relations that have ended (with their `validTo`). @default false */
  readonly includeInvalidRelations?: boolean;
  /** Also return memories whose `expiresAt` has passed. @default false */
  readonly includeExpired?: boolean;
  readonly signal?: AbortSignal;
}

/** Options of {@link Memory.getAll}. */
export interface GetAllOptions extends ScopeOptions {
  readonly filter?: FilterInput;
  /** Memories per page, 1 to 1000. @default 100 */
  readonly pageSize?: number;
  /** The `nextCursor` of the previous page. */
  readonly cursor?: string;
  /** Also list memories whose `expiresAt` has passed. @default false */
  readonly includeExpired?: boolean;
}

/** A change {@link Memory.update} makes: a new text, metadata keys to merge, and/or a new expiry. */
export interface MemoryChange {
  /** The new text (re-embedded). */
  readonly text?: string;
  /** Keys to merge into the metadata. */
  readonly metadata?: Metadata;
  /** When the memory expires; `null` makes it never expire. */
  readonly expiresAt?: Date | string | number | null;
}

/** A scoped call. */
export interface ScopeOptions {
  readonly scope: Scope;
  readonly signal?: AbortSignal;
}
