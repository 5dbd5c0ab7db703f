/**
 * Who a memory belongs to. At least one id is set on every stored memory and every data call.
 * A call sees exactly the memories whose ids equal every id the call's scope sets: `{ userId: 'u1' }`
 * sees all of u1's memories, `{ userId: 'u1', agentId: 'a' }` only those also tagged with agent `a`.
 */
export interface Scope {
  readonly userId?: string;
  readonly agentId?: string;
  readonly runId?: string;
}

/** The names of the scope ids, in a fixed order. */
export const SCOPE_FIELDS = ['userId', 'agentId', 'runId'] as const;
export type ScopeField = (typeof SCOPE_FIELDS)[number];

/** A value stored in memory metadata. Arrays hold strings only, so every backend can index them. */
export type MetadataValue = string | number | boolean | readonly string[];

/** User metadata of a memory. Keys are 1–64 characters of letters, digits, `_`, `-` and `.`. */
export type Metadata = { readonly [key: string]: MetadataValue };

/**
 * The metadata key that holds when a memory expires, as epoch milliseconds (a finite number). Core
 * writes it from `add`'s and `update`'s `expiresAt`, and users cannot set it as metadata; stores keep
 * it like any other key, so every store filters on it with the filter language it already speaks.
 * A record without the key (or with a value that is not a finite number) never expires.
 */
export const EXPIRES_AT_KEY = 'expiresAt';

/**
 * The metadata key that holds a memory's type when it is not the default: `'procedural'` for the
 * summary of an agent's run (`add(messages, { memoryType: 'procedural' })`). Ordinary (`'semantic'`)
 * memories do not carry the key. Reserved like {@link EXPIRES_AT_KEY}, so every store filters on it
 * natively: `{ memoryType: 'procedural' }`, or `{ memoryType: { $ne: 'procedural' } }` for the others.
 */
export const MEMORY_TYPE_KEY = 'memoryType';

/** The kinds of memory: facts (`semantic`, the default) and summaries of an agent's runs (`procedural`). */
export const MEMORY_TYPES = ['semantic', 'procedural'] as const;
export type MemoryType = (typeof MEMORY_TYPES)[number];

/**
 * The metadata key that holds the custom categories extraction assigned to a memory (a non-empty
 * array of category names). Reserved; filter with `{ categories: 'food' }` (any element) or `$in`.
 */
export const CATEGORIES_KEY = 'categories';

/** Date fields every memory carries; filters may name them. */
export const DATE_FIELDS = ['createdAt', 'updatedAt', 'occurredAt'] as const;
export type DateField = (typeof DATE_FIELDS)[number];

/** One stored memory, as every {@link VectorStore} keeps it. */
export interface MemoryRecord {
  /** Unique id (UUID v7 when mem creates it). */
  readonly id: string;
  /** The embedding of `text`. */
  readonly vector: readonly number[];
  /** The memory itself, e.g. "Is vegetarian". */
  readonly text: string;
  /** SHA-256 hex digest of `text`, used to de-duplicate. */
  readonly hash: string;
  readonly scope: Scope;
  /** User metadata, plus {@link EXPIRES_AT_KEY} (epoch ms) when the memory expires. */
  readonly metadata: Metadata;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /** When the conversation the memory came from took place. */
  readonly occurredAt: Date;
}

/** What {@link VectorStore.listKeys} gives of a record: enough to order a conversation, no text or vector. */
export interface MemoryKey {
  readonly id: string;
  readonly createdAt: Date;
  readonly occurredAt: Date;
}

/** When `record` expires, or `undefined` when it never does (no {@link EXPIRES_AT_KEY}, or not a finite number). */
export function expiresAtOf(record: { readonly metadata: Metadata }): Date | undefined {
  const value = Object.hasOwn(record.metadata, EXPIRES_AT_KEY) ? record.metadata[EXPIRES_AT_KEY] : undefined;
  return typeof value === 'number' && Number.isFinite(value) ? new Date(value) : undefined;
}

/** Whether `record` has expired at `now`: it expires at or before `now`. */
export function isExpired(record: { readonly metadata: Metadata }, now: Date): boolean {
  const expiresAt = expiresAtOf(record);
  return expiresAt !== undefined && expiresAt.getTime() <= now.getTime();
}

/** The type of `record`: `'procedural'` when its {@link MEMORY_TYPE_KEY} says so, else `'semantic'`. */
export function memoryTypeOf(record: { readonly metadata: Metadata }): MemoryType {
  return Object.hasOwn(record.metadata, MEMORY_TYPE_KEY) && record.metadata[MEMORY_TYPE_KEY] === 'procedural' ? 'procedural' : 'semantic';
}

/** The categories of `record` ({@link CATEGORIES_KEY}), or `undefined` when it has none. */
export function categoriesOf(record: { readonly metadata: Metadata }): readonly string[] | undefined {
  const value = Object.hasOwn(record.metadata, CATEGORIES_KEY) ? record.metadata[CATEGORIES_KEY] : undefined;
  return Array.isArray(value) && value.length > 0 ? value : undefined;
}

/** A record with its similarity to a query. */
export interface VectorMatch {
  readonly record: MemoryRecord;
  /** Cosine similarity in [-1, 1], higher is better (keyword queries: the backend's relevance, higher is better). */
  readonly score: number;
}

/** One message of a conversation given to `add`. */
export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant' | 'tool';
  /**
   * The text, or OpenAI-style content parts: text and images (see {@link ChatContentPart}). May be
   * empty (or, on input, `null`) for an assistant message that only calls tools.
   */
  readonly content: string | readonly ChatContentPart[];
  /** Speaker name, e.g. "Caroline"; used by extraction to attribute facts. For a `tool` message: the tool's name. */
  readonly name?: string;
  /** The tools an `assistant` message calls (an agent's run). */
  readonly toolCalls?: readonly ToolCall[];
  /** On a `tool` message: the id of the {@link ToolCall} whose result it carries. */
  readonly toolCallId?: string;
}

/** One tool call of an assistant message. */
export interface ToolCall {
  /** The call's id, which the `tool` message with its result names as `toolCallId`. */
  readonly id?: string;
  /** The tool's name, e.g. "search_flights". */
  readonly name: string;
  /** The arguments: JSON text, or an object (`add` serialises it to JSON text). */
  readonly arguments?: string | { readonly [key: string]: unknown };
}

/**
 * One part of a message's content, as OpenAI's Chat Completions API spells it: a text, or an image
 * given by an `http(s)` URL or a `data:image/<png|jpeg|gif|webp>;base64,…` URL. What `add` does
 * with images depends on `MemoryOptions.images`.
 */
export type ChatContentPart = ChatTextPart | ChatImagePart;

/** A text part of a message. */
export interface ChatTextPart {
  readonly type: 'text';
  readonly text: string;
}

/** An image part of a message. */
export interface ChatImagePart {
  readonly type: 'image_url';
  readonly image_url: {
    /** `https://…` (or `http://…`), or a base64 data URL: `data:image/png;base64,iVBORw0…`. */
    readonly url: string;
    /** How closely the model looks (OpenAI's `detail`; other providers ignore it). @default 'auto' */
    readonly detail?: 'auto' | 'low' | 'high';
  };
}

/**
 * A message as the `add` pipeline hands it to strategies: its content is text. Images of the
 * message are replaced by a marker (`[image 1]`, numbered in the call) or, when described in a
 * call of their own, by their description (`[image 1: A golden retriever on a beach]`).
 */
export type TextChatMessage = Omit<ChatMessage, 'content'> & { readonly content: string };

/** The kinds of change a history event records. */
export type HistoryEventKind = 'ADD' | 'UPDATE' | 'DELETE';

/**
 * What an `add` with an `idempotencyKey` leaves in the {@link HistoryStore}: the key, a hash of the
 * request and the result, so a retry with the same key in the same scope gets the same result and
 * writes nothing. Kept until `expiresAt`; after that it is ignored and may be purged.
 */
export interface IdempotencyRecord {
  /** The exact scope of the add (only the ids that were set): records of different scopes never meet. */
  readonly scope: Scope;
  /** The caller's key, 1 to `INPUT_LIMITS.maxIdempotencyKeyLength` printable characters, compared exactly. */
  readonly key: string;
  /** SHA-256 (hex) of the normalised request: the same key with another request is refused. */
  readonly requestHash: string;
  /** The add's result as JSON text, written and read by core only (opaque to the store). */
  readonly result: string;
  /** When the add finished. */
  readonly createdAt: Date;
  /** From this moment on the record is ignored (`getIdempotencyRecord` returns null) and purgeable. */
  readonly expiresAt: Date;
}

/** One change to one memory, as every {@link HistoryStore} keeps it. */
export interface HistoryEvent {
  /** Unique id of the event (UUID v7, so ids sort in creation order). */
  readonly id: string;
  readonly memoryId: string;
  readonly kind: HistoryEventKind;
  /** Text before the change; `null` for ADD. */
  readonly previousText: string | null;
  /** Text after the change; `null` for DELETE. */
  readonly text: string | null;
  readonly scope: Scope;
  /** When the change became true: for UPDATE and DELETE, the time the previous text stopped being true. */
  readonly validAt: Date;
  /** When mem recorded the change. */
  readonly createdAt: Date;
  /** Why: 'add' (pipeline), 'update', 'delete', 'deleteAll', 'reset' (API calls). */
  readonly actor: 'add' | 'update' | 'delete' | 'deleteAll';
}

/** Tokens and calls one operation spent on providers. */
export interface Usage {
  llmCalls: number;
  promptTokens: number;
  completionTokens: number;
  embeddingCalls: number;
  embeddingTokens: number;
}

/** A fresh zeroed {@link Usage}. */
export function emptyUsage(): Usage {
  return { llmCalls: 0, promptTokens: 0, completionTokens: 0, embeddingCalls: 0, embeddingTokens: 0 };
}

/** Options every provider call accepts. */
export interface CallOptions {
  /** Cancels the call; the provider stops as soon as it can and throws an `ABORTED` error. */
  readonly signal?: AbortSignal;
}

/** A provider request: its own fields plus {@link CallOptions}. */
export type Call<T> = T & CallOptions;

/** A provider request confined to one {@link Scope}. */
export type ScopedCall<T> = Call<T & { readonly scope: Scope }>;
