import { createHash } from 'node:crypto';
import { IdempotencyKeyReusedError, InvalidInputError, ProviderResponseInvalidError, UnsupportedCapabilityError } from '../contract/errors';
import type { HistoryStore } from '../contract/interfaces';
import type { MemoryItem } from '../contract/memory-item';
import { scopeKey } from '../contract/scope';
import type { ChatMessage, IdempotencyRecord, MemoryType, Metadata, Scope } from '../contract/types';
import { INPUT_LIMITS, type CategoryDefinition } from '../contract/validation';
import { KeyedMutex } from '../store/locks';
import type { AddResult, IdempotencyHooks } from './run-add';

// Idempotent adds: `add(messages, { idempotencyKey })` stores, in the history store, the key, a hash
// of the request and the result. A retry with the same key in the same scope gets that result back
// and writes nothing. The key is looked up
// - before the add runs (a finished first call: no LLM call, no lock), and
// - again under the scope's write lock, just before anything is written (a first call in another
//   process that finished meanwhile), and the record is stored under the same lock with the add's
//   writes (in the settle that commits its history; after the graph write with graph memory), so
//   two callers with one key never both write.
// Within one process, callers with the same key also wait for each other from the start, so a
// retry sent while the first call runs spends no LLM call.

/** Default of `MemoryOptions.idempotency.retentionMs`: 24 hours. */
export const DEFAULT_IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60 * 1000;
/** Largest `idempotency.retentionMs`: 366 days. */
export const MAX_IDEMPOTENCY_RETENTION_MS = 366 * 24 * 60 * 60 * 1000;

const KEY_FIELD = 'options.idempotencyKey';
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Settings of idempotent adds, as `Memory` takes them. */
export interface IdempotencyOptions {
  /**
   * How long a key and its result are kept, in milliseconds, from the end of the add: a retry within
   * it gets the first result; later the key is free again (and `purgeIdempotencyKeys` deletes it).
   * 1 to 366 days' worth of milliseconds. @default 86_400_000 (24 hours)
   */
  readonly retentionMs?: number;
}

/** `options.idempotency`, checked: the retention in milliseconds. */
export function resolveIdempotency(options: IdempotencyOptions | undefined): { readonly retentionMs: number } {
  if (options === undefined) return { retentionMs: DEFAULT_IDEMPOTENCY_RETENTION_MS };
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidInputError('options.idempotency', 'expected an object', 'Pass e.g. { idempotency: { retentionMs: 86_400_000 } }.');
  }
  const { retentionMs } = options;
  if (retentionMs === undefined) return { retentionMs: DEFAULT_IDEMPOTENCY_RETENTION_MS };
  if (typeof retentionMs !== 'number' || !Number.isInteger(retentionMs) || retentionMs < 1 || retentionMs > MAX_IDEMPOTENCY_RETENTION_MS) {
    throw new InvalidInputError(
      'options.idempotency.retentionMs',
      `expected an integer from 1 to ${MAX_IDEMPOTENCY_RETENTION_MS} (milliseconds, up to 366 days)`,
      'Pass e.g. 86_400_000 for 24 hours.',
    );
  }
  return { retentionMs };
}

/**
 * Checks an `idempotencyKey`: a string of 1 to `INPUT_LIMITS.maxIdempotencyKeyLength` characters
 * (UTF-16 units), no control characters, no lone surrogates.
 * @throws {InvalidInputError} naming `options.idempotencyKey`.
 */
export function checkIdempotencyKey(value: unknown, field = KEY_FIELD): string {
  const max = INPUT_LIMITS.maxIdempotencyKeyLength;
  if (typeof value !== 'string') {
    throw new InvalidInputError(
      field,
      `expected a string, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`,
      'Pass a key unique to the request, e.g. a UUID.',
    );
  }
  if (value.length === 0 || value.length > max) {
    throw new InvalidInputError(
      field,
      `expected 1 to ${max} characters, got ${value.length}`,
      `Pass a key of at most ${max} characters, e.g. a UUID.`,
    );
  }
  if (CONTROL_CHARACTERS.test(value)) {
    throw new InvalidInputError(field, 'the key holds a control character', 'Use printable characters, e.g. a UUID.');
  }
  if (LONE_SURROGATE.test(value)) {
    throw new InvalidInputError(field, 'the key holds a lone UTF-16 surrogate (invalid Unicode)', 'Use a UUID or other ASCII key.');
  }
  return value;
}

/** What makes two adds "the same request": everything the caller chose, after validation. */
export interface IdempotentRequest {
  readonly messages: readonly ChatMessage[];
  readonly metadata: Metadata;
  readonly infer: boolean;
  readonly prompt: string | undefined;
  /** As given (epoch ms), or `undefined` when the call left it to the clock (a retry does too). */
  readonly occurredAt: number | undefined;
  readonly expiresAt: number | undefined;
  /** Left out of the hash when `'semantic'` (the default), like the categories when absent. */
  readonly memoryType?: MemoryType;
  readonly categories?: readonly CategoryDefinition[] | undefined;
}

/** SHA-256 (hex) of a request in a canonical form: messages in order, metadata keys sorted, absent options as null. */
export function requestHash(request: IdempotentRequest): string {
  const canonical = {
    messages: request.messages.map((message) => [
      message.role,
      message.content,
      message.name ?? null,
      // Tool calls and results only when present, so the hash of a plain conversation is as before.
      ...(message.toolCalls || message.toolCallId !== undefined ? [message.toolCalls ?? null, message.toolCallId ?? null] : []),
    ]),
    metadata: Object.keys(request.metadata)
      .sort()
      .map((key) => [key, request.metadata[key]]),
    infer: request.infer,
    prompt: request.prompt ?? null,
    occurredAt: request.occurredAt ?? null,
    expiresAt: request.expiresAt ?? null,
    ...(request.memoryType === undefined || request.memoryType === 'semantic' ? {} : { memoryType: request.memoryType }),
    ...(request.categories === undefined
      ? {}
      : { categories: request.categories.map((category) => [category.name, category.description ?? null]) }),
  };
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

/** The idempotent adds of one `Memory`: the in-process waiting per key, and the records in the history store. */
export class IdempotentAdds {
  private readonly waiting = new KeyedMutex();

  constructor(
    private readonly historyStore: HistoryStore,
    private readonly retentionMs: number,
    private readonly now: () => Date,
  ) {}

  /**
   * Refuses idempotency keys on a history store that keeps no idempotency records.
   * @throws {UnsupportedCapabilityError} naming the stores that keep them.
   */
  assertSupported(): void {
    if (this.historyStore.capabilities.idempotencyRecords) return;
    throw new UnsupportedCapabilityError(
      `${this.historyStore.provider} history store`,
      'idempotency records (options.idempotencyKey)',
      'Use a history store that keeps them: SqliteHistoryStore (@mem/history-sqlite), PostgresHistoryStore (@mem/history-postgres) or InMemoryHistoryStore; or add without idempotencyKey.',
    );
  }

  /**
   * Runs `add` once per key and scope: callers of this process with the same key wait for each
   * other; a recorded result is returned without running `add` at all.
   */
  async run(
    request: { readonly scope: Scope; readonly key: string; readonly hash: string; readonly signal?: AbortSignal | undefined },
    add: (hooks: IdempotencyHooks) => Promise<AddResult>,
  ): Promise<AddResult> {
    const hooks: IdempotencyHooks = {
      replay: () => this.replay(request),
      recordOf: (result) => this.recordOf(request, result),
      store: (record) => this.store(record),
    };
    return this.waiting.run(JSON.stringify([scopeKey(request.scope), request.key]), async () => (await hooks.replay()) ?? add(hooks));
  }

  /** Deletes the records whose retention has passed, in every scope. */
  async purge(signal?: AbortSignal): Promise<{ purged: number }> {
    this.assertSupported();
    const { purged } = await this.historyStore.purgeIdempotencyRecords!({ before: this.now(), ...(signal ? { signal } : {}) });
    return { purged };
  }

  private async replay(request: {
    readonly scope: Scope;
    readonly key: string;
    readonly hash: string;
    readonly signal?: AbortSignal | undefined;
  }): Promise<AddResult | undefined> {
    const found = await this.historyStore.getIdempotencyRecord!({
      scope: request.scope,
      key: request.key,
      now: this.now(),
      ...(request.signal ? { signal: request.signal } : {}),
    });
    if (!found) return undefined;
    if (found.requestHash !== request.hash) throw new IdempotencyKeyReusedError(KEY_FIELD);
    return decodeAddResult(found.result, this.historyStore.provider);
  }

  private recordOf(request: { readonly scope: Scope; readonly key: string; readonly hash: string }, result: AddResult): IdempotencyRecord {
    const createdAt = this.now();
    return {
      scope: request.scope,
      key: request.key,
      requestHash: request.hash,
      result: encodeAddResult(result),
      createdAt,
      expiresAt: new Date(createdAt.getTime() + this.retentionMs),
    };
  }

  private async store(record: IdempotencyRecord): Promise<void> {
    // No signal: the add's writes are done, so its key must be recorded even if the caller gave up.
    await this.historyStore.putIdempotencyRecord!({ record });
  }
}

const RESULT_FORMAT = 1;
const ITEM_DATES = ['createdAt', 'updatedAt', 'occurredAt', 'expiresAt'] as const;

/** An add's result as JSON text (dates as epoch milliseconds), for an idempotency record. */
export function encodeAddResult(result: AddResult): string {
  const memories = result.memories.map((item) => {
    const encoded: Record<string, unknown> = { ...item };
    for (const key of ITEM_DATES) if (item[key] !== undefined) encoded[key] = item[key]!.getTime();
    return encoded;
  });
  return JSON.stringify({ format: RESULT_FORMAT, result: { ...result, memories } });
}

/**
 * The result {@link encodeAddResult} wrote.
 * @throws {ProviderResponseInvalidError} when the stored text is not such a result (the store changed it).
 */
export function decodeAddResult(text: string, provider: string): AddResult {
  const fail = (problem: string): never => {
    throw new ProviderResponseInvalidError(
      provider,
      'getIdempotencyRecord',
      `the stored result of the idempotency key ${problem}. The store changed what core wrote; @mem/conformance shows where.`,
    );
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return fail('is not JSON');
  }
  const envelope = parsed as { format?: unknown; result?: Record<string, unknown> } | null;
  if (typeof envelope !== 'object' || envelope === null || envelope.format !== RESULT_FORMAT || typeof envelope.result !== 'object') {
    return fail(`is not in format ${RESULT_FORMAT}`);
  }
  const result = envelope.result as Record<string, unknown>;
  if (!Array.isArray(result.events) || !Array.isArray(result.memories) || typeof result.usage !== 'object' || result.usage === null) {
    return fail('lacks events, memories or usage');
  }
  const memories = (result.memories as Record<string, unknown>[]).map((item) => {
    const decoded: Record<string, unknown> = { ...item };
    for (const key of ITEM_DATES) {
      if (item[key] === undefined) continue;
      if (typeof item[key] !== 'number') fail(`has a memory whose ${key} is not a time`);
      decoded[key] = new Date(item[key] as number);
    }
    return decoded as unknown as MemoryItem;
  });
  return { ...(result as unknown as AddResult), memories };
}
