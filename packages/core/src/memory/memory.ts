import { checkIdempotencyKey, IdempotentAdds, requestHash, resolveIdempotency } from '../add/idempotency';
import { type AddResult, type IdempotencyHooks, runAdd } from '../add/run-add';
import type { AddStrategy } from '../add/add-strategy';
import { additiveStrategy, rawMemoryText, rawStrategy, reconcileStrategy } from '../add/built-in-strategies';
import { proceduralStrategy } from '../add/summarize-run';
import { resolveImageSettings, withoutImages, type ImageSettings } from '../add/images';
import { InvalidInputError, MissingSettingError } from '../contract/errors';
import { andFilters, expiredFilter, notExpiredFilter, type Filter, type FilterInput } from '../contract/filter';
import type { Embedder, HistoryStore, LLM, Reranker, VectorStore } from '../contract/interfaces';
import { scopeContains, validateScope } from '../contract/scope';
import { toMemoryItem, type MemoryItem } from '../contract/memory-item';
import type { ChatMessage, HistoryEvent, MemoryRecord, Usage } from '../contract/types';
import {
  INPUT_LIMITS,
  checkCategories,
  checkDate,
  checkExpiresAt,
  checkId,
  checkInteger,
  checkMemoryTextLength,
  checkString,
  validateMessages,
  validateMetadata,
  type CategoryDefinition,
} from '../contract/validation';
import { deleteMemories, deleteMemory } from '../edit/delete-memories';
import { importRecords } from '../edit/import-records';
import { updateMemory } from '../edit/update-memory';
import { resolveGraphSettings, type GraphSettings } from '../graph/graph-options';
import { DEFAULT_EXTRACTION_INSTRUCTIONS, DEFAULT_PROCEDURAL_INSTRUCTIONS, DEFAULT_UPDATE_INSTRUCTIONS } from '../llm/prompts';
import { resolveRanking, type RankingSettings } from '../search/ranking';
import { runSearch, type SearchResponse } from '../search/run-search';
import { checkedGraphStore, checkedHistoryStore, checkedVectorStore } from '../store/checked-stores';
import { scanScope } from '../store/filtered-reads';
import { MemoryWriter } from '../store/memory-writer';
import {
  tracedEmbedder,
  tracedGraphStore,
  tracedHistoryStore,
  tracedLLM,
  tracedReranker,
  tracedVectorStore,
} from '../telemetry/traced-parts';
import type { SettleReport } from '../store/write-ahead';
import type { AddOptions, GetAllOptions, MemoryChange, MemoryOptions, ScopeOptions, SearchOptions } from './memory-options';
import {
  MAX_PROMPT_LENGTH,
  checkChange,
  checkFilterOption,
  checkIncludeExpired,
  checkInfer,
  checkMemoryType,
  checkRecords,
  checkScopeOptions,
  checkSearchOptions,
} from './method-checks';
import { setUpTelemetry, traceOperations } from './memory-spans';

/**
 * Long-term memory for an assistant: `add` conversations, `search` what was learned.
 *
 * Each method validates its input here, then delegates: `add` to `add/run-add.ts`, `search` to
 * `search/run-search.ts`, `update`, `delete`, `deleteAll` and `importRecords` to `edit/`, and every
 * write goes through the one write protocol of `store/memory-writer.ts`.
 *
 * @example
 * import { Memory, LexicalEmbedder } from '@mem/core';
 * import { SqliteVectorStore } from '@mem/vector-sqlite';
 * import { SqliteHistoryStore } from '@mem/history-sqlite';
 *
 * const memory = new Memory({
 *   embedder: new LexicalEmbedder(),
 *   vectorStore: new SqliteVectorStore({ path: 'mem.db' }),
 *   historyStore: new SqliteHistoryStore({ path: 'mem.db' }),
 * });
 * await memory.add('I am vegetarian', { scope: { userId: 'alice' }, infer: false });
 * const { results } = await memory.search('what does alice eat?', { scope: { userId: 'alice' } });
 */
export class Memory {
  private readonly embedder: Embedder;
  private readonly vectorStore: VectorStore;
  private readonly historyStore: HistoryStore;
  private readonly llm: LLM | undefined;
  private readonly strategy: AddStrategy;
  private readonly prompts: { extraction: string; update: string; procedural: string };
  private readonly categories: readonly CategoryDefinition[];
  private readonly reranker: Reranker | undefined;
  private readonly ranking: RankingSettings;
  private readonly candidateLimit: number;
  private readonly now: () => Date;
  private readonly graph: GraphSettings | undefined;
  private readonly images: ImageSettings;
  /** The write protocol (locks, history written ahead) every change goes through. */
  private readonly writer: MemoryWriter;
  /** The keys and results of idempotent adds, kept in the history store. */
  private readonly idempotentAdds: IdempotentAdds;

  /** @throws {InvalidInputError} when a required part is missing. */
  constructor(options: MemoryOptions) {
    for (const part of ['embedder', 'vectorStore', 'historyStore'] as const) {
      if (!options?.[part])
        throw new MissingSettingError(part, `Pass { ${part} } to new Memory(); see the README for the embedded SQLite default.`);
    }
    // OpenTelemetry (memory/memory-spans.ts): each operation in a span, each call of a part in a child span.
    const traced = setUpTelemetry(this, options.telemetry);
    this.embedder = traced ? tracedEmbedder(options.embedder) : options.embedder;
    // Every result of the stores is read against the contract before use (store/checked-stores.ts).
    this.vectorStore = checkedVectorStore(options.vectorStore);
    this.historyStore = checkedHistoryStore(options.historyStore);
    if (traced) {
      this.vectorStore = tracedVectorStore(this.vectorStore);
      this.historyStore = tracedHistoryStore(this.historyStore);
    }
    this.llm = traced && options.llm ? tracedLLM(options.llm) : options.llm;
    this.strategy =
      options.strategy === undefined || options.strategy === 'reconcile'
        ? reconcileStrategy
        : options.strategy === 'additive'
          ? additiveStrategy
          : options.strategy;
    if (typeof this.strategy?.plan !== 'function') {
      throw new InvalidInputError(
        'options.strategy',
        'expected "reconcile", "additive" or an object with plan()',
        'Pass a built-in name or an AddStrategy.',
      );
    }
    this.prompts = {
      extraction:
        options.prompts?.extraction === undefined
          ? DEFAULT_EXTRACTION_INSTRUCTIONS
          : checkString(options.prompts.extraction, 'options.prompts.extraction', { max: MAX_PROMPT_LENGTH }),
      update:
        options.prompts?.update === undefined
          ? DEFAULT_UPDATE_INSTRUCTIONS
          : checkString(options.prompts.update, 'options.prompts.update', { max: MAX_PROMPT_LENGTH }),
      procedural:
        options.prompts?.procedural === undefined
          ? DEFAULT_PROCEDURAL_INSTRUCTIONS
          : checkString(options.prompts.procedural, 'options.prompts.procedural', { max: MAX_PROMPT_LENGTH }),
    };
    this.categories = options.categories === undefined ? [] : checkCategories(options.categories, 'options.categories');
    this.reranker = traced && options.reranker ? tracedReranker(options.reranker) : options.reranker;
    this.ranking = resolveRanking(options.ranking, options.embedder);
    this.candidateLimit = checkInteger(options.candidateLimit, 'options.candidateLimit', 0, 100, 10);
    this.now = options.now ?? (() => new Date());
    const graph = options.graphStore === undefined ? undefined : resolveGraphSettings(options.graphStore, options.graph);
    this.graph = graph && { ...graph, store: traced ? tracedGraphStore(checkedGraphStore(graph.store)) : checkedGraphStore(graph.store) };
    this.images = resolveImageSettings(options.images);
    this.writer = new MemoryWriter(this.vectorStore, this.historyStore);
    this.idempotentAdds = new IdempotentAdds(this.historyStore, resolveIdempotency(options.idempotency).retentionMs, this.now);
  }

  /**
   * Learns from a conversation: extracts facts and reconciles them with what is stored (or, with
   * `infer: false`, stores the messages as given; with `memoryType: 'procedural'`, summarises an
   * agent's run into one new procedural memory). Adds for one scope apply one at a time, so
   * concurrent callers lose nothing and create no duplicates.
   *
   * @param messages - one user message as a string, or chat messages
   * With `idempotencyKey`, a retry of the same call (same key, scope, messages and options) returns
   * the first call's result and writes nothing; see {@link AddOptions.idempotencyKey}.
   *
   * @throws {InvalidInputError} for bad input (messages, tool calls, metadata, categories, options); nothing is written.
   * @throws {MissingSettingError} when the call needs an LLM (inference, a procedural summary) and none is configured.
   * @throws {ProviderResponseInvalidError} when the LLM's answer stays unusable after one corrective retry; nothing is written.
   * @throws {IdempotencyKeyReusedError} when `idempotencyKey` was used in this scope for another request; nothing is written.
   * @throws {UnsupportedCapabilityError} for an `idempotencyKey` when the history store keeps no idempotency records.
   * @example
   * const { events } = await memory.add(
   *   [{ role: 'user', content: 'I moved to Lisbon last month' }],
   *   { scope: { userId: 'alice' }, occurredAt: new Date('2024-06-10') },
   * );
   */
  async add(messages: string | readonly ChatMessage[], options: AddOptions): Promise<AddResult> {
    const scope = validateScope(options?.scope, 'options.scope');
    const checked = validateMessages(messages, 'messages', this.images.limits);
    const metadata = validateMetadata(options.metadata, 'options.metadata');
    const occurredAt = checkDate(options.occurredAt, 'options.occurredAt', this.now);
    const expiresAt = options.expiresAt === undefined ? undefined : checkExpiresAt(options.expiresAt, 'options.expiresAt');
    const idempotencyKey = options.idempotencyKey === undefined ? undefined : checkIdempotencyKey(options.idempotencyKey);
    checkInfer(options.infer);
    const memoryType = checkMemoryType(options.memoryType);
    const procedural = memoryType === 'procedural';
    const infer = options.infer !== false;
    if (procedural && !infer) {
      throw new InvalidInputError(
        'options.infer',
        'a procedural memory is a summary of the run written by an LLM, so it cannot be stored with infer: false',
        'Leave infer out (with { llm } passed to new Memory()), or add the messages without memoryType.',
      );
    }
    const categories = options.categories === undefined ? this.categories : checkCategories(options.categories, 'options.categories');
    // An empty list turns categories off for the call, which such an add already is.
    if (options.categories !== undefined && options.categories.length > 0 && (!infer || procedural)) {
      throw new InvalidInputError(
        'options.categories',
        procedural ? 'a procedural memory gets no categories' : 'categories are assigned at extraction, which infer: false skips',
        'Leave categories out of this call, or filter on your own metadata key.',
      );
    }
    const strategy = procedural ? proceduralStrategy : infer ? this.strategy : rawStrategy;
    // Without inference each message becomes a memory: its text keeps the limit of a memory's text.
    if (!infer) {
      checked.forEach((message, index) => {
        const text = rawMemoryText(withoutImages(message));
        if (text !== undefined) checkMemoryTextLength(text, typeof messages === 'string' ? 'messages' : `messages[${index}].content`);
      });
    }
    if (procedural && !this.llm) {
      throw new MissingSettingError(
        'llm',
        'A procedural memory is a summary of the run written by an LLM: pass { llm } to new Memory() to add with memoryType: "procedural".',
      );
    }
    if (this.graph && infer && !procedural && !this.llm) {
      throw new MissingSettingError(
        'llm',
        'Graph memory extracts entities and relations with an LLM: pass { llm } to new Memory(), or add with { infer: false }.',
      );
    }
    if (strategy.needsLLM && !this.llm) {
      throw new MissingSettingError(
        'llm',
        `The ${strategy.name} strategy extracts facts with an LLM: pass { llm } to new Memory(), or add with { infer: false }.`,
      );
    }
    const instructions = procedural ? this.prompts.procedural : this.prompts.extraction;
    const extraction =
      options.prompt === undefined ? instructions : checkString(options.prompt, 'options.prompt', { max: MAX_PROMPT_LENGTH });
    const run = (idempotency?: IdempotencyHooks) =>
      runAdd(
        {
          messages: checked,
          scope,
          metadata,
          occurredAt,
          expiresAt,
          strategy,
          prompts: { extraction, update: this.prompts.update },
          // A procedural summary is about how a task was done, not facts about people: no graph, no categories.
          graph: infer && !procedural ? this.graph : undefined,
          memoryType,
          categories: infer && !procedural ? categories : [],
          images: this.images,
          infer,
          idempotency,
          signal: options.signal,
        },
        { llm: this.llm, embedder: this.embedder, writer: this.writer, candidateLimit: this.candidateLimit, now: this.now },
      );
    if (idempotencyKey === undefined) return run();
    this.idempotentAdds.assertSupported();
    const hash = requestHash({
      messages: checked,
      metadata,
      infer,
      prompt: options.prompt,
      // As the caller gave them: a retry that leaves occurredAt to the clock is still the same request.
      occurredAt: options.occurredAt === undefined ? undefined : occurredAt.getTime(),
      expiresAt,
      memoryType,
      // The call's own list (the Memory's is the same for every retry).
      categories: options.categories === undefined ? undefined : categories,
    });
    return this.idempotentAdds.run({ scope, key: idempotencyKey, hash, signal: options.signal }, run);
  }

  /**
   * Deletes the idempotency keys of `add` whose retention (`idempotency.retentionMs`) has passed, in
   * every scope. Expired keys are already ignored by `add`; this frees their space.
   * @throws {UnsupportedCapabilityError} when the history store keeps no idempotency records.
   * @example
   * const { purged } = await memory.purgeIdempotencyKeys();
   */
  async purgeIdempotencyKeys(options: { readonly signal?: AbortSignal } = {}): Promise<{ purged: number }> {
    return this.idempotentAdds.purge(options.signal);
  }

  /**
   * Finds the memories of a scope most relevant to `query`: semantic similarity, fused with keyword
   * search where the store has it, filtered by metadata, optionally reranked.
   *
   * @throws {InvalidInputError} for a bad query, scope, filter, limit or threshold.
   * @example
   * const { results } = await memory.search('food preferences', {
   *   scope: { userId: 'alice' }, filter: { category: 'food' }, limit: 5, threshold: 0.2,
   * });
   */
  async search(query: string, options: SearchOptions): Promise<SearchResponse> {
    const scope = validateScope(options?.scope, 'options.scope');
    checkString(query, 'query', { max: INPUT_LIMITS.maxQueryLength });
    const filter = this.unexpired(checkFilterOption(options.filter), checkIncludeExpired(options.includeExpired));
    const checked = checkSearchOptions(options, this.reranker !== undefined);
    return runSearch(
      {
        query,
        scope,
        filter,
        ...checked,
        keyword: options.keyword !== false,
        reranker: options.rerank ? this.reranker : undefined,
        signal: options.signal,
      },
      { embedder: this.embedder, vectorStore: this.vectorStore, ranking: this.ranking, graph: this.graph },
    );
  }

  /** The memory with this id in `scope`, or `null`. */
  async get(id: string, options: ScopeOptions): Promise<MemoryItem | null> {
    const { scope, signal } = checkScopeOptions(options);
    checkId(id);
    const [record] = await this.vectorStore.get({ scope, ids: [id], ...(signal ? { signal } : {}) });
    return record ? toMemoryItem(record) : null;
  }

  /**
   * Lists the memories of a scope in id order (creation order for ids mem made), a page at a time.
   * Pass the returned `nextCursor` as `cursor` to get the next page.
   */
  async getAll(options: GetAllOptions): Promise<{ results: MemoryItem[]; nextCursor?: string }> {
    const { scope, signal } = checkScopeOptions(options);
    const filter = this.unexpired(checkFilterOption(options.filter), checkIncludeExpired(options.includeExpired));
    const pageSize = checkInteger(options.pageSize, 'options.pageSize', 1, INPUT_LIMITS.maxLimit, 100);
    const after = options.cursor === undefined ? undefined : checkId(options.cursor, 'options.cursor');
    const results: MemoryItem[] = [];
    let more = false;
    for await (const record of scanScope(this.vectorStore, { scope, filter, after, signal })) {
      if (results.length === pageSize) {
        more = true;
        break;
      }
      results.push(toMemoryItem(record));
    }
    return { results, ...(more ? { nextCursor: results[results.length - 1]!.id } : {}) };
  }

  /**
   * Changes a memory's text, metadata and/or expiry. Scope ids can never change; metadata keys are
   * merged; `expiresAt: null` makes the memory never expire. A new text is re-embedded (reported in `usage`).
   * @throws {NotFoundError} when no memory with this id is in `scope` (expired memories can be updated).
   */
  async update(id: string, change: string | MemoryChange, options: ScopeOptions): Promise<{ memory: MemoryItem; usage: Usage }> {
    const { scope, signal } = checkScopeOptions(options);
    checkId(id);
    const { text, metadata, expiresAt } = checkChange(change);
    return updateMemory({ id, scope, text, metadata, expiresAt, signal }, { writer: this.writer, embedder: this.embedder, now: this.now });
  }

  /** Deletes one memory of `scope`; its history is kept. @returns whether a memory was deleted. */
  async delete(id: string, options: ScopeOptions): Promise<{ deleted: boolean }> {
    const { scope, signal } = checkScopeOptions(options);
    checkId(id);
    return deleteMemory({ id, scope, signal }, { writer: this.writer, now: this.now });
  }

  /**
   * Deletes every memory of `scope` that matches `filter` (all of them, however many). Without a
   * filter, also deletes the scope's graph (entities and relations, open and closed).
   */
  async deleteAll(options: ScopeOptions & { filter?: FilterInput }): Promise<{ deleted: number }> {
    const { scope, signal } = checkScopeOptions(options);
    const filter = checkFilterOption(options.filter);
    return deleteMemories({ scope, filter, signal }, { writer: this.writer, graph: this.graph, now: this.now });
  }

  /**
   * Deletes every memory of `scope` whose `expiresAt` has passed, however many (each gets a DELETE
   * in its history, actor `deleteAll`). The graph is left as it is.
   * @example
   * const { deleted } = await memory.purgeExpired({ scope: { userId: 'alice' } });
   */
  async purgeExpired(options: ScopeOptions): Promise<{ deleted: number }> {
    const { scope, signal } = checkScopeOptions(options);
    return deleteMemories({ scope, filter: expiredFilter(this.now()), signal }, { writer: this.writer, graph: this.graph, now: this.now });
  }

  /** The change log of one memory, oldest first. Only events of memories in `scope` are returned. */
  async history(id: string, options: ScopeOptions): Promise<HistoryEvent[]> {
    const { scope, signal } = checkScopeOptions(options);
    checkId(id);
    const events = await this.historyStore.list({ memoryId: id, ...(signal ? { signal } : {}) });
    return events.filter((event) => scopeContains(scope, event.scope));
  }

  /**
   * Finishes what a crashed process left half done. Every change is logged in the history store as
   * pending before the vector store is written and committed after; a process killed in between
   * leaves pending events. `recover` settles them by what the vector store holds: an ADD or UPDATE
   * that reached it is committed, one that did not is dropped from the history (the memory keeps
   * its previous state, which the history already shows), and a DELETE is finished. Afterwards every
   * stored memory has its history and the history shows no change that did not happen.
   *
   * Call it at start-up. Changes this instance has in flight are left alone, but run it only while
   * no other process writes to the same stores: it would take their in-flight changes for crashed
   * ones. Idempotent.
   *
   * @returns how many pending events were committed, discarded and completed (all 0 after a clean shutdown).
   * @example
   * const memory = new Memory({ embedder, vectorStore, historyStore });
   * await memory.recover();
   */
  async recover(options: { readonly signal?: AbortSignal } = {}): Promise<SettleReport> {
    return this.writer.recover(options.signal);
  }

  /** Deletes every memory, every history event and (with graph memory) the whole graph, in every scope. */
  async reset(): Promise<void> {
    await this.vectorStore.reset();
    await this.historyStore.reset();
    await this.graph?.store.reset();
  }

  /** Closes the stores. */
  async close(): Promise<void> {
    await Promise.all([this.vectorStore.close(), this.historyStore.close(), ...(this.graph ? [this.graph.store.close()] : [])]);
  }

  /** `filter`, narrowed to the memories that have not expired now unless `includeExpired`. */
  private unexpired(filter: Filter | undefined, includeExpired: boolean): Filter | undefined {
    return includeExpired ? filter : andFilters(filter, notExpiredFilter(this.now()));
  }

  /**
   * Stores records as they are (e.g. from `mem export`), re-embedding none. Each record is checked
   * like API input (id, scope, text, metadata, dates, a finite vector of one length for all) before
   * anything is written, and gets a history event (ADD, or UPDATE when its id is already stored in
   * its scope), written ahead like every other change, under the same locks.
   *
   * @throws {StoredConflictError} (code `CONFLICT`) naming `records[i].id` when the id is a memory of another scope; nothing is written.
   * @throws {InvalidInputError} naming `records[i].<field>`; nothing is written.
   */
  async importRecords(
    records: readonly MemoryRecord[],
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<{ added: number; updated: number }> {
    return importRecords(checkRecords(records), { writer: this.writer, now: this.now }, options.signal);
  }
}

// add, search, update, delete, deleteAll, purgeExpired and importRecords each run in an OpenTelemetry
// GenAI memory span when the instance has telemetry (memory/memory-spans.ts).
traceOperations(Memory.prototype);
