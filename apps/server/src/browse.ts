import { andFilters, evaluateFilter, notExpiredFilter, parseFilter, splitFilter, toMemoryItem, validateScope } from '@mem/core/adapter';
import { UnsupportedCapabilityError, type FilterInput, type Memory, type MemoryItem, type Scope, type VectorStore } from '@mem/core';
import { SqliteVectorStore } from '@mem/vector-sqlite';
import type { ApiKey } from './keys';

/** One exact scope that holds memories, and how many. */
export interface ScopeCount {
  readonly scope: Scope;
  readonly count: number;
}

/**
 * What the memory browser needs beyond `Memory`: the scopes with their counts, and a listing
 * newest first. The embedded SQLite store answers both from its indexes; other stores list newest
 * first by reading the scope through `Memory.getAll` (every page costs a read of the whole scope)
 * and cannot list their scopes.
 */
export interface MemoryCatalog {
  /** Whether {@link scopes} works with this store. */
  readonly listsScopes: boolean;
  /**
   * The scopes the key may use that hold memories, with counts: every field the key restricts is
   * set to one of its ids (what `authorizeScope` lets the key read).
   * @throws {UnsupportedCapabilityError} when the store cannot list its scopes.
   */
  scopes(request: { key: ApiKey; limit: number; signal?: AbortSignal }): Promise<{ scopes: ScopeCount[]; truncated: boolean }>;
  /** A page of the scope newest first (descending id order), before the id `cursor`. */
  newest(request: {
    scope: Scope;
    filter?: FilterInput;
    pageSize: number;
    cursor?: string;
    /** Also list memories whose expiresAt has passed (as `Memory.getAll`). */
    includeExpired?: boolean;
    signal?: AbortSignal;
  }): Promise<{ results: MemoryItem[]; nextCursor?: string }>;
}

/** The catalog of a memory: native on `SqliteVectorStore`, else by reading through `Memory`. */
export function memoryCatalog(memory: Memory, vectorStore: VectorStore | undefined): MemoryCatalog {
  return vectorStore instanceof SqliteVectorStore ? sqliteCatalog(vectorStore) : scanningCatalog(memory, vectorStore?.provider);
}

function sqliteCatalog(store: SqliteVectorStore): MemoryCatalog {
  return {
    listsScopes: true,
    async scopes({ key, limit, signal }) {
      const only = {
        ...(key.userIds === '*' ? {} : { userIds: key.userIds }),
        ...(key.agentIds === '*' ? {} : { agentIds: key.agentIds }),
        ...(key.runIds === '*' ? {} : { runIds: key.runIds }),
      };
      return store.scopes({ limit, only, ...(signal ? { signal } : {}) });
    },
    async newest({ scope, filter, pageSize, cursor, includeExpired, signal }) {
      // The same checks and filter handling as Memory.getAll, walking the index the other way.
      const checkedScope = validateScope(scope, 'scope');
      const userFilter = filter === undefined ? undefined : parseFilter(filter, 'filter');
      const parsed = includeExpired ? userFilter : andFilters(userFilter, notExpiredFilter(new Date()));
      const { native, residual } = splitFilter(parsed, store.capabilities.filterOperators);
      const results: MemoryItem[] = [];
      let more = false;
      for await (const record of store.listNewestFirst({
        scope: checkedScope,
        ...(native ? { filter: native } : {}),
        ...(cursor === undefined ? {} : { before: cursor }),
        ...(signal ? { signal } : {}),
      })) {
        if (residual && !evaluateFilter(residual, record)) continue;
        if (results.length === pageSize) {
          more = true;
          break;
        }
        results.push(toMemoryItem(record));
      }
      return { results, ...(more ? { nextCursor: results[results.length - 1]!.id } : {}) };
    },
  };
}

function scanningCatalog(memory: Memory, provider: string | undefined): MemoryCatalog {
  return {
    listsScopes: false,
    async scopes() {
      throw new UnsupportedCapabilityError(provider ?? 'this vector store', 'listing its scopes', 'Pick a scope by its ids.');
    },
    async newest({ scope, filter, pageSize, cursor, includeExpired, signal }) {
      // Keep the last pageSize + 1 items before the cursor while reading the scope in id order.
      const window: MemoryItem[] = [];
      let after: string | undefined;
      scan: for (;;) {
        const page = await memory.getAll({
          scope,
          pageSize: 1000,
          ...(filter === undefined ? {} : { filter }),
          ...(after === undefined ? {} : { cursor: after }),
          ...(includeExpired ? { includeExpired } : {}),
          ...(signal ? { signal } : {}),
        });
        for (const item of page.results) {
          // Ids sort in JavaScript string order (core's compareIds), the order getAll pages in.
          if (cursor !== undefined && item.id >= cursor) break scan;
          window.push(item);
          if (window.length > pageSize + 1) window.shift();
        }
        if (page.nextCursor === undefined) break;
        after = page.nextCursor;
      }
      const results = window.reverse().slice(0, pageSize);
      return { results, ...(window.length > pageSize ? { nextCursor: results[results.length - 1]!.id } : {}) };
    },
  };
}
