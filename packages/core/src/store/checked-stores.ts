import {
  readEntityMatches,
  readEvents,
  readIdempotencyRecord,
  readPurged,
  readInvalidated,
  readKeys,
  readListedRecord,
  readMatches,
  readRecords,
  readRelations,
} from '../contract/adapter-results';
import { UnsupportedCapabilityError } from '../contract/errors';
import type { GraphStore, HistoryStore, VectorStore } from '../contract/interfaces';
import type { MemoryRecord } from '../contract/types';

// The stores `Memory` is given, wrapped once so that every result is read against the contract
// before any part of core uses it (contract/adapter-results.ts): a malformed result, or a record of
// another scope, is a ProviderResponseInvalidError naming the store, never a TypeError or a leak.
// Writes and everything else pass through unchanged.

/** `store`, with the results of query, queryAny, keywordQuery, get, findByHash, list and listKeys checked. */
export function checkedVectorStore(store: VectorStore): VectorStore {
  const { provider } = store;
  const findByHash = store.findByHash?.bind(store);
  const queryAny = store.queryAny?.bind(store);
  const listKeys = store.listKeys?.bind(store);
  return {
    ...(listKeys
      ? {
          listKeys: async (request: Parameters<typeof listKeys>[0]) =>
            readKeys(await listKeys(request), { provider, operation: 'listKeys', limit: request.limit }),
        }
      : {}),
    ...(queryAny
      ? {
          queryAny: async (request: Parameters<typeof queryAny>[0]) =>
            readMatches(await queryAny(request), { provider, operation: 'queryAny', scope: request.scope }),
        }
      : {}),
    ...(findByHash
      ? {
          findByHash: async (request: Parameters<typeof findByHash>[0]) =>
            readRecords(await findByHash(request), { provider, operation: 'findByHash', scope: request.scope }),
        }
      : {}),
    provider,
    get capabilities() {
      return store.capabilities;
    },
    ensureCollection: (request) => store.ensureCollection(request),
    upsert: (request) => store.upsert(request),
    delete: (request) => store.delete(request),
    reset: (request) => store.reset(request),
    close: () => store.close(),
    query: async (request) => readMatches(await store.query(request), { provider, operation: 'query', scope: request.scope }),
    keywordQuery: async (request) =>
      readMatches(await store.keywordQuery(request), { provider, operation: 'keywordQuery', scope: request.scope }),
    get: async (request) => readRecords(await store.get(request), { provider, operation: 'get', scope: request.scope, ids: request.ids }),
    list: (request) => checkedListing(store.list(request), { provider, operation: 'list', scope: request.scope }),
  };
}

async function* checkedListing(
  records: AsyncIterable<MemoryRecord>,
  source: Parameters<typeof readListedRecord>[2],
): AsyncIterable<MemoryRecord> {
  let index = 0;
  for await (const record of records) yield readListedRecord(record, index++, source);
}

/**
 * `store`, with the events of list and listPending, and the record of getIdempotencyRecord, checked.
 * The idempotency methods are always there: on a store that lacks one (whatever its capabilities
 * say), they throw UnsupportedCapabilityError.
 */
export function checkedHistoryStore(store: HistoryStore): HistoryStore {
  const { provider } = store;
  const missing = (method: string): never => {
    throw new UnsupportedCapabilityError(
      `${provider} history store`,
      method,
      'Its capabilities declare idempotencyRecords without the method: fix the adapter, or add without idempotencyKey.',
    );
  };
  return {
    provider,
    get capabilities() {
      return store.capabilities;
    },
    lock: (request, work) => store.lock(request, work),
    append: (request) => store.append(request),
    settle: (request) => store.settle(request),
    reset: (request) => store.reset(request),
    close: () => store.close(),
    list: async (request) => readEvents(await store.list(request), { provider, operation: 'list', memoryId: request.memoryId }),
    listPending: async (request) => readEvents(await store.listPending(request), { provider, operation: 'listPending' }),
    getIdempotencyRecord: async (request) =>
      readIdempotencyRecord(await (store.getIdempotencyRecord ? store.getIdempotencyRecord(request) : missing('getIdempotencyRecord')), {
        provider,
        operation: 'getIdempotencyRecord',
        scope: request.scope,
        key: request.key,
        now: request.now,
      }),
    putIdempotencyRecord: (request) => (store.putIdempotencyRecord ? store.putIdempotencyRecord(request) : missing('putIdempotencyRecord')),
    purgeIdempotencyRecords: async (request) => {
      const result = await (store.purgeIdempotencyRecords ? store.purgeIdempotencyRecords(request) : missing('purgeIdempotencyRecords'));
      return readPurged(result, { provider, operation: 'purgeIdempotencyRecords' });
    },
  };
}

/** `store`, with the results of neighbors, searchEntities and invalidateRelations checked. */
export function checkedGraphStore(store: GraphStore): GraphStore {
  const { provider } = store;
  return {
    provider,
    get capabilities() {
      return store.capabilities;
    },
    ensureSchema: (request) => store.ensureSchema(request),
    upsertEntities: (request) => store.upsertEntities(request),
    upsertRelations: (request) => store.upsertRelations(request),
    deleteAll: (request) => store.deleteAll(request),
    reset: (request) => store.reset(request),
    close: () => store.close(),
    invalidateRelations: async (request) =>
      readInvalidated(await store.invalidateRelations(request), { provider, operation: 'invalidateRelations' }),
    neighbors: async (request) => readRelations(await store.neighbors(request), { provider, operation: 'neighbors', scope: request.scope }),
    searchEntities: async (request) =>
      readEntityMatches(await store.searchEntities(request), { provider, operation: 'searchEntities', scope: request.scope }),
  };
}
