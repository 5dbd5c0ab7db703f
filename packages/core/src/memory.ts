import { InvalidInputError, MemError, MissingSettingError, NotFoundError } from './errors';
import { evaluateFilter, parseFilter, splitFilter, type Filter, type FilterInput } from './filter';
import { hashText, uuidv7 } from './ids';
import { applyGraph, type GraphAddResult } from './graph/apply-graph';
import { extractGraph } from './graph/extract-graph';
import { resolveGraphSettings, type GraphOptions, type GraphSettings } from './graph/graph-options';
import { prepareGraph } from './graph/prepare-graph';
import { searchGraph, type GraphSearchEntity, type GraphSearchRelation } from './graph/search-graph';
import type { Embedder, GraphStore, HistoryStore, LLM, Reranker, VectorStore } from './interfaces';
import { KeyedMutex } from './lock';
import { applyPlan, upsertInBatches, type MemoryEvent } from './pipeline/apply';
import { ensureDimensions } from './pipeline/retrieve';
import { hybridSearch } from './pipeline/search';
import { additiveStrategy, rawStrategy, reconcileStrategy } from './pipeline/strategies';
import type { AddContext, AddStrategy } from './pipeline/strategy';
import { UsageMeter } from './pipeline/usage';
import { settlePending, writeAhead, type SettleReport } from './pipeline/write-ahead';
import { DEFAULT_EXTRACTION_INSTRUCTIONS, DEFAULT_UPDATE_INSTRUCTIONS } from './prompts';
import { scopeContains, scopeKey, validateScope } from './scope';
import type { ChatMessage, HistoryEvent, MemoryRecord, Metadata, Scope, Usage } from './types';
import { INPUT_LIMITS, checkDate, checkId, checkInteger, checkString, validateMessages, validateMetadata } from './validation';

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
  /** Replace the built-in instructions: `extraction` (what to remember), `update` (how to reconcile). */
  readonly prompts?: { readonly extraction?: string; readonly update?: string };
  /** Re-orders search results when a search asks for `rerank: true`. */
  readonly reranker?: Reranker;
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
}

/** A memory as `Memory` returns it. */
export interface MemoryItem {
  readonly id: string;
  readonly text: string;
  /** SHA-256 of the text. */
  readonly hash: string;
  readonly metadata: Metadata;
  readonly scope: Scope;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /** When the conversation the memory came from happened. */
  readonly occurredAt: Date;
}

/** A search result. */
export interface SearchResult extends MemoryItem {
  /** Cosine similarity to the query, in [-1, 1]; higher is better. */
  readonly score: number;
  /** Keyword (BM25) relevance, when keyword search found the memory. */
  readonly keywordScore?: number;
  /** The reranker's score, when the search was reranked. */
  readonly rerankScore?: number;
}

/** Options of {@link Memory.add}. */
export interface AddOptions {
  readonly scope: Scope;
  /** Stored on every memory the call creates (and merged into updated ones). */
  readonly metadata?: Metadata;
  /** `false` stores the messages as given, without an LLM. @default true */
  readonly infer?: boolean;
  /** Custom extraction instructions for this call; overrides `prompts.extraction`. */
  readonly prompt?: string;
  /** When the conversation happened; relative dates resolve against it. @default now */
  readonly occurredAt?: Date | string | number;
  readonly signal?: AbortSignal;
}

/** What {@link Memory.add} did. */
export interface AddResult {
  /** One event per fact: ADD, UPDATE (with `previousText`), DELETE, or NONE (already known). */
  readonly events: MemoryEvent[];
  /** The memories created or updated, as stored. */
  readonly memories: MemoryItem[];
  readonly usage: Usage;
  /** What the conversation changed in the graph; present when a graph store is configured and `infer` is not false. */
  readonly graph?: GraphAddResult;
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
  readonly signal?: AbortSignal;
}

/** What {@link Memory.search} returns. */
export interface SearchResponse {
  readonly results: SearchResult[];
  /** Graph memory: relations around the query's entities, most relevant first (present when a graph store is configured). */
  readonly relations?: GraphSearchRelation[];
  /** Graph memory: the entities that seeded `relations` (present when a graph store is configured). */
  readonly entities?: GraphSearchEntity[];
  readonly usage: Usage;
}

/** A scoped call. */
export interface ScopeOptions {
  readonly scope: Scope;
  readonly signal?: AbortSignal;
}

/**
 * Long-term memory for an assistant: `add` conversations, `search` what was learned.
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
  private readonly prompts: { extraction: string; update: string };
  private readonly reranker: Reranker | undefined;
  private readonly candidateLimit: number;
  private readonly now: () => Date;
  private readonly graph: GraphSettings | undefined;
  private readonly locks = new KeyedMutex();
  /** Ids of history events this instance is writing (pending until their vector write is done). */
  private readonly inFlight = new Set<string>();

  /** @throws {InvalidInputError} when a required part is missing. */
  constructor(options: MemoryOptions) {
    for (const part of ['embedder', 'vectorStore', 'historyStore'] as const) {
      if (!options?.[part])
        throw new MissingSettingError(part, `Pass { ${part} } to new Memory(); see the README for the embedded SQLite default.`);
    }
    this.embedder = options.embedder;
    this.vectorStore = options.vectorStore;
    this.historyStore = options.historyStore;
    this.llm = options.llm;
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
          : checkString(options.prompts.extraction, 'options.prompts.extraction', { max: 20_000 }),
      update:
        options.prompts?.update === undefined
          ? DEFAULT_UPDATE_INSTRUCTIONS
          : checkString(options.prompts.update, 'options.prompts.update', { max: 20_000 }),
    };
    this.reranker = options.reranker;
    this.candidateLimit = checkInteger(options.candidateLimit, 'options.candidateLimit', 0, 100, 10);
    this.now = options.now ?? (() => new Date());
    this.graph = options.graphStore === undefined ? undefined : resolveGraphSettings(options.graphStore, options.graph);
  }

  /**
   * Learns from a conversation: extracts facts and reconciles them with what is stored (or, with
   * `infer: false`, stores the messages as given). Adds for one scope apply one at a time, so
   * concurrent callers lose nothing and create no duplicates.
   *
   * @param messages - one user message as a string, or chat messages
   * @throws {InvalidInputError} for bad input; nothing is written.
   * @throws {ProviderResponseInvalidError} when the LLM's answer stays unusable after one corrective retry; nothing is written.
   * @example
   * const { events } = await memory.add(
   *   [{ role: 'user', content: 'I moved to Lisbon last month' }],
   *   { scope: { userId: 'alice' }, occurredAt: new Date('2024-06-10') },
   * );
   */
  async add(messages: string | readonly ChatMessage[], options: AddOptions): Promise<AddResult> {
    const scope = validateScope(options?.scope, 'options.scope');
    const checked = validateMessages(messages);
    const metadata = validateMetadata(options.metadata, 'options.metadata');
    const occurredAt = checkDate(options.occurredAt, 'options.occurredAt', this.now);
    if (options.infer !== undefined && typeof options.infer !== 'boolean') {
      throw new InvalidInputError('options.infer', 'expected a boolean', 'Pass infer: false to store messages as given.');
    }
    const strategy = options.infer === false ? rawStrategy : this.strategy;
    if (this.graph && options.infer !== false && !this.llm) {
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
    const extraction =
      options.prompt === undefined ? this.prompts.extraction : checkString(options.prompt, 'options.prompt', { max: 20_000 });
    const meter = new UsageMeter();
    const context: AddContext = {
      messages: checked,
      scope,
      occurredAt,
      llm: this.llm,
      embedder: this.embedder,
      vectorStore: this.vectorStore,
      meter,
      prompts: { extraction, update: this.prompts.update },
      candidateLimit: this.candidateLimit,
      ...(this.graph && options.infer !== false ? { graph: this.graph } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    };
    // Planning (the LLM call) runs outside the lock; applying re-reads the records under it.
    const plan = await strategy.plan(context);
    // Graph memory: extracted in the strategy's call when it can (reconcile), else in one more call;
    // names are normalised and embedded here, outside the lock.
    const graph = context.graph;
    const preparedGraph = graph ? await prepareGraph(context, plan.graph ?? (await extractGraph(context, graph))) : undefined;
    // The scope's lock serialises adds (no duplicates); the locks of the memories the plan may change
    // serialise it with update/delete calls made through another, overlapping scope.
    const targets = plan.operations.flatMap((operation) =>
      operation.kind !== 'ADD' && plan.candidates.has(operation.id) ? [operation.id] : [],
    );
    const { events, records, graphResult } = await this.locks.runAll([scopeLock(scope), ...targets.map(recordLock)], async () => {
      const applied = await applyPlan({
        plan,
        context,
        metadata,
        historyStore: this.historyStore,
        now: this.now(),
        inFlight: this.inFlight,
      });
      // The graph is written after the memories; a graph store failure leaves the memories written.
      const graphResult =
        graph && preparedGraph
          ? await applyGraph({
              settings: graph,
              scope,
              occurredAt,
              prepared: preparedGraph,
              ...(options.signal ? { signal: options.signal } : {}),
            })
          : undefined;
      return { ...applied, graphResult };
    });
    return { events, memories: records.map(toItem), usage: meter.usage, ...(graphResult ? { graph: graphResult } : {}) };
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
    const filter = options.filter === undefined ? undefined : parseFilter(options.filter, 'options.filter');
    const limit = checkInteger(options.limit, 'options.limit', 1, INPUT_LIMITS.maxLimit, 10);
    if (
      options.threshold !== undefined &&
      (typeof options.threshold !== 'number' || !(options.threshold >= -1 && options.threshold <= 1))
    ) {
      throw new InvalidInputError('options.threshold', 'expected a number from -1 to 1 (cosine similarity)', 'Pass e.g. threshold: 0.3.');
    }
    if (options.rerank && !this.reranker) {
      throw new MissingSettingError('reranker', 'Pass { reranker } to new Memory() to search with rerank: true.');
    }
    const relationLimit = checkInteger(options.relationLimit, 'options.relationLimit', 1, INPUT_LIMITS.maxLimit, limit);
    if (options.includeInvalidRelations !== undefined && typeof options.includeInvalidRelations !== 'boolean') {
      throw new InvalidInputError(
        'options.includeInvalidRelations',
        'expected a boolean',
        'Pass includeInvalidRelations: true to see ended relations too.',
      );
    }
    const meter = new UsageMeter();
    const signal = options.signal ? { signal: options.signal } : {};
    const [vector] = await meter.embed(this.embedder, { texts: [query], purpose: 'query', ...signal });
    await ensureDimensions({ vectorStore: this.vectorStore, ...signal }, vector!.length);
    // The graph search reuses the query vector: no extra embedding call.
    const graphSearch = this.graph
      ? searchGraph({
          settings: this.graph,
          scope,
          query,
          vector: vector!,
          limit: relationLimit,
          includeInvalid: options.includeInvalidRelations === true,
          ...signal,
        })
      : undefined;
    // Awaited below; the handler only keeps a failure from being reported as unhandled meanwhile.
    graphSearch?.catch(() => undefined);
    let ranked: { match: Awaited<ReturnType<typeof hybridSearch>>[number]; rerankScore?: number }[] = (
      await hybridSearch(this.vectorStore, {
        scope,
        vector: vector!,
        text: query,
        limit,
        keyword: options.keyword !== false,
        ...(filter ? { filter } : {}),
        ...(options.threshold === undefined ? {} : { threshold: options.threshold }),
        ...signal,
      })
    ).map((match) => ({ match }));
    if (options.rerank && this.reranker && ranked.length > 0) {
      const scores = await this.reranker.rerank({ query, documents: ranked.map(({ match }) => match.record.text), ...signal });
      ranked = ranked.map((entry, index) => ({ ...entry, rerankScore: scores[index] ?? Number.NEGATIVE_INFINITY }));
      ranked.sort((a, b) => b.rerankScore! - a.rerankScore!);
    }
    const results = ranked.slice(0, limit).map(({ match, rerankScore }) => ({
      ...toItem(match.record),
      score: match.score,
      ...(match.keywordScore === undefined ? {} : { keywordScore: match.keywordScore }),
      ...(rerankScore === undefined ? {} : { rerankScore }),
    }));
    const graph = graphSearch ? await graphSearch : undefined;
    return { results, ...(graph ? { relations: graph.relations, entities: graph.entities } : {}), usage: meter.usage };
  }

  /** The memory with this id in `scope`, or `null`. */
  async get(id: string, options: ScopeOptions): Promise<MemoryItem | null> {
    const scope = validateScope(options?.scope, 'options.scope');
    checkId(id);
    const [record] = await this.vectorStore.get({ scope, ids: [id], ...(options.signal ? { signal: options.signal } : {}) });
    return record ? toItem(record) : null;
  }

  /**
   * Lists the memories of a scope in id order (creation order for ids mem made), a page at a time.
   * Pass the returned `nextCursor` as `cursor` to get the next page.
   */
  async getAll(
    options: ScopeOptions & { filter?: FilterInput; pageSize?: number; cursor?: string },
  ): Promise<{ results: MemoryItem[]; nextCursor?: string }> {
    const scope = validateScope(options?.scope, 'options.scope');
    const filter = options.filter === undefined ? undefined : parseFilter(options.filter, 'options.filter');
    const pageSize = checkInteger(options.pageSize, 'options.pageSize', 1, INPUT_LIMITS.maxLimit, 100);
    const after = options.cursor === undefined ? undefined : checkId(options.cursor, 'options.cursor');
    const results: MemoryItem[] = [];
    let more = false;
    for await (const record of this.scan(scope, filter, after, options.signal)) {
      if (results.length === pageSize) {
        more = true;
        break;
      }
      results.push(toItem(record));
    }
    return { results, ...(more ? { nextCursor: results[results.length - 1]!.id } : {}) };
  }

  /**
   * Changes a memory's text and/or metadata. Scope ids can never change; metadata keys are merged.
   * A new text is re-embedded (reported in `usage`).
   * @throws {NotFoundError} when no memory with this id is in `scope`.
   */
  async update(
    id: string,
    change: string | { text?: string; metadata?: Metadata },
    options: ScopeOptions,
  ): Promise<{ memory: MemoryItem; usage: Usage }> {
    const scope = validateScope(options?.scope, 'options.scope');
    checkId(id);
    const patch = typeof change === 'string' ? { text: change } : change;
    if (typeof patch !== 'object' || patch === null || (patch.text === undefined && patch.metadata === undefined)) {
      throw new InvalidInputError(
        'change',
        'expected a text or { text?, metadata? }',
        'Pass the new text, e.g. memory.update(id, "Lives in Porto", { scope }).',
      );
    }
    const text =
      patch.text === undefined ? undefined : checkString(patch.text, 'change.text', { max: INPUT_LIMITS.maxMemoryTextLength }).trim();
    const metadata = patch.metadata === undefined ? undefined : validateMetadata(patch.metadata, 'change.metadata');
    const signal = options.signal ? { signal: options.signal } : {};
    return this.locks.runAll([scopeLock(scope), recordLock(id)], async () => {
      const [record] = await this.vectorStore.get({ scope, ids: [id], ...signal });
      if (!record) throw new NotFoundError('memory', id);
      const now = this.now();
      const meter = new UsageMeter();
      const textChanged = text !== undefined && text !== record.text;
      const vector = textChanged
        ? (await meter.embed(this.embedder, { texts: [text], purpose: 'document', ...signal }))[0]!
        : record.vector;
      const updated: MemoryRecord = {
        ...record,
        vector,
        text: textChanged ? text : record.text,
        hash: textChanged ? hashText(text) : record.hash,
        metadata: metadata ? { ...record.metadata, ...metadata } : record.metadata,
        updatedAt: now,
      };
      const events = [historyEvent(record, 'UPDATE', record.text, updated.text, now, 'update')];
      await writeAhead({ historyStore: this.historyStore, vectorStore: this.vectorStore, events, inFlight: this.inFlight, ...signal }, () =>
        this.vectorStore.upsert({ records: [updated], ...signal }),
      );
      return { memory: toItem(updated), usage: meter.usage };
    });
  }

  /** Deletes one memory of `scope`; its history is kept. @returns whether a memory was deleted. */
  async delete(id: string, options: ScopeOptions): Promise<{ deleted: boolean }> {
    const scope = validateScope(options?.scope, 'options.scope');
    checkId(id);
    const signal = options.signal ? { signal: options.signal } : {};
    return this.locks.runAll([scopeLock(scope), recordLock(id)], async () => {
      const [record] = await this.vectorStore.get({ scope, ids: [id], ...signal });
      if (!record) return { deleted: false };
      const events = [historyEvent(record, 'DELETE', record.text, null, this.now(), 'delete')];
      await writeAhead({ historyStore: this.historyStore, vectorStore: this.vectorStore, events, inFlight: this.inFlight, ...signal }, () =>
        this.vectorStore.delete({ scope, ids: [id], ...signal }),
      );
      return { deleted: true };
    });
  }

  /**
   * Deletes every memory of `scope` that matches `filter` (all of them, however many). Without a
   * filter, also deletes the scope's graph (entities and relations, open and closed).
   */
  async deleteAll(options: ScopeOptions & { filter?: FilterInput }): Promise<{ deleted: number }> {
    const scope = validateScope(options?.scope, 'options.scope');
    const filter = options.filter === undefined ? undefined : parseFilter(options.filter, 'options.filter');
    const signal = options.signal ? { signal: options.signal } : {};
    return this.locks.run(scopeLock(scope), async () => {
      // Collect first: deleting while paging a cursor would be safe with id order, but not every
      // backend pages consistently under concurrent deletes.
      const doomed: string[] = [];
      for await (const record of this.scan(scope, filter, undefined, options.signal)) doomed.push(record.id);
      let deleted = 0;
      for (let start = 0; start < doomed.length; start += 500) {
        const ids = doomed.slice(start, start + 500);
        // Under the memories' locks, re-read them: a call through an overlapping scope may have
        // changed (or deleted) one since the scan, and the history must start from its last text.
        deleted += await this.locks.runAll(ids.map(recordLock), async () => {
          const batch = (await this.vectorStore.get({ scope, ids, ...signal })).filter(
            (record) => !filter || evaluateFilter(filter, record),
          );
          const now = this.now();
          const events = batch.map((record) => historyEvent(record, 'DELETE', record.text, null, now, 'deleteAll'));
          await writeAhead(
            { historyStore: this.historyStore, vectorStore: this.vectorStore, events, inFlight: this.inFlight, ...signal },
            () =>
              batch.length === 0 ? Promise.resolve() : this.vectorStore.delete({ scope, ids: batch.map((record) => record.id), ...signal }),
          );
          return batch.length;
        });
      }
      // Graph memory: without a filter, the graph of the scope goes too (a metadata filter selects memories only).
      if (this.graph && filter === undefined) await this.graph.store.deleteAll({ scope, ...signal });
      return { deleted };
    });
  }

  /** The change log of one memory, oldest first. Only events of memories in `scope` are returned. */
  async history(id: string, options: ScopeOptions): Promise<HistoryEvent[]> {
    const scope = validateScope(options?.scope, 'options.scope');
    checkId(id);
    const events = await this.historyStore.list({ memoryId: id, ...(options.signal ? { signal: options.signal } : {}) });
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
    const signal = options.signal ? { signal: options.signal } : {};
    const total: SettleReport = { committed: 0, discarded: 0, completed: 0 };
    const settled = new Set<string>();
    for (;;) {
      // Events this instance is writing right now are pending by design: skip them.
      const listed = await this.historyStore.listPending({ limit: 500 + this.inFlight.size, ...signal });
      const events = listed.filter((event) => !this.inFlight.has(event.id));
      if (events.length === 0) return total;
      if (events.some((event) => settled.has(event.id))) {
        throw new MemError(
          'CONFLICT',
          `${this.historyStore.provider} history store still lists events as pending after settling them. Check that its settle() commits and discards them.`,
        );
      }
      const report = await settlePending({
        historyStore: this.historyStore,
        vectorStore: this.vectorStore,
        events,
        finishDeletes: true,
        ...signal,
      });
      for (const event of events) settled.add(event.id);
      total.committed += report.committed;
      total.discarded += report.discarded;
      total.completed += report.completed;
    }
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

  /**
   * Stores records as they are (e.g. from `mem export`), re-embedding none. Each record is checked
   * like API input (id, scope, text, metadata, dates, a finite vector of one length for all) before
   * anything is written, and gets a history event (ADD, or UPDATE when its id is already stored in
   * its scope), written ahead like every other change, under the same locks.
   *
   * @throws {InvalidInputError} naming `records[i].<field>`; nothing is written.
   */
  async importRecords(
    records: readonly MemoryRecord[],
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<{ added: number; updated: number }> {
    if (!Array.isArray(records))
      throw new InvalidInputError('records', 'expected an array of memory records', 'Pass the records of an export.');
    if (records.length === 0) return { added: 0, updated: 0 };
    const dimensions = Array.isArray(records[0]?.vector) ? records[0]!.vector.length : 0;
    const checked = records.map((record, index) => checkRecord(record, `records[${index}]`, dimensions));
    const signal = options.signal ? { signal: options.signal } : {};
    await ensureDimensions({ vectorStore: this.vectorStore, ...signal }, dimensions);
    const counts = { added: 0, updated: 0 };
    const byScope = new Map<string, MemoryRecord[]>();
    for (const record of checked) byScope.set(scopeKey(record.scope), [...(byScope.get(scopeKey(record.scope)) ?? []), record]);
    for (const group of byScope.values()) {
      const scope = group[0]!.scope;
      await this.locks.runAll([scopeLock(scope), ...group.map((record) => recordLock(record.id))], async () => {
        const existing = new Map(
          (await this.vectorStore.get({ scope, ids: group.map((record) => record.id), ...signal })).map((record) => [record.id, record]),
        );
        const now = this.now();
        const events = group.map((record) => {
          const previous = existing.get(record.id);
          if (previous) counts.updated++;
          else counts.added++;
          return historyEvent(record, previous ? 'UPDATE' : 'ADD', previous?.text ?? null, record.text, now, previous ? 'update' : 'add');
        });
        await writeAhead(
          { historyStore: this.historyStore, vectorStore: this.vectorStore, events, inFlight: this.inFlight, ...signal },
          () => upsertInBatches(this.vectorStore, group, options.signal),
        );
      });
    }
    return counts;
  }

  private async *scan(
    scope: Scope,
    filter: Filter | undefined,
    after: string | undefined,
    signal: AbortSignal | undefined,
  ): AsyncIterable<MemoryRecord> {
    const { native, residual } = splitFilter(filter, this.vectorStore.capabilities.filterOperators);
    for await (const record of this.vectorStore.list({
      scope,
      ...(native ? { filter: native } : {}),
      ...(after === undefined ? {} : { after }),
      ...(signal ? { signal } : {}),
    })) {
      if (!residual || evaluateFilter(residual, record)) yield record;
    }
  }
}

/** Lock of a scope: adds and deleteAlls of one scope run one at a time. Sorts before every record lock. */
function scopeLock(scope: Scope): string {
  return `0|${scopeKey(scope)}`;
}

/** Lock of one memory: changes to it run one at a time, whatever scope they come through. */
function recordLock(id: string): string {
  return `1|${id}`;
}

function historyEvent(
  record: MemoryRecord,
  kind: HistoryEvent['kind'],
  previousText: string | null,
  text: string | null,
  now: Date,
  actor: HistoryEvent['actor'],
): HistoryEvent {
  return {
    id: uuidv7(now.getTime()),
    memoryId: record.id,
    kind,
    previousText,
    text,
    scope: record.scope,
    validAt: now,
    createdAt: now,
    actor,
  };
}

/** Checks one imported record like API input; returns a copy with a recomputed hash. */
function checkRecord(record: MemoryRecord, field: string, dimensions: number): MemoryRecord {
  if (typeof record !== 'object' || record === null)
    throw new InvalidInputError(field, 'expected a memory record', 'Pass the records of an export.');
  const id = checkId(record.id, `${field}.id`);
  const scope = validateScope(record.scope, `${field}.scope`);
  const text = checkString(record.text, `${field}.text`, { max: INPUT_LIMITS.maxMessageLength });
  const metadata = validateMetadata(record.metadata, `${field}.metadata`);
  const vector = record.vector;
  if (
    !Array.isArray(vector) ||
    vector.length === 0 ||
    vector.length !== dimensions ||
    !vector.every((x) => typeof x === 'number' && Number.isFinite(x))
  ) {
    throw new InvalidInputError(
      `${field}.vector`,
      `expected ${dimensions || 'some'} finite numbers, like the first record`,
      'Import records embedded by one model.',
    );
  }
  const date = (key: 'createdAt' | 'updatedAt' | 'occurredAt') => {
    const value = record[key];
    if (!(value instanceof Date) || Number.isNaN(value.getTime()))
      throw new InvalidInputError(`${field}.${key}`, 'expected a valid Date', 'Parse the dates of the export into Date objects.');
    return value;
  };
  return {
    id,
    vector: [...vector],
    text,
    hash: hashText(text),
    scope,
    metadata,
    createdAt: date('createdAt'),
    updatedAt: date('updatedAt'),
    occurredAt: date('occurredAt'),
  };
}

function toItem(record: MemoryRecord): MemoryItem {
  return {
    id: record.id,
    text: record.text,
    hash: record.hash,
    metadata: record.metadata,
    scope: record.scope,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    occurredAt: record.occurredAt,
  };
}
