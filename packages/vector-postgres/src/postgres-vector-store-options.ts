import type { PostgresConnectionOptions } from '@mem/postgres';

/**
 * Options of {@link PostgresVectorStore}: where the connections come from (`connectionString`, a
 * `pool` you own, or `DATABASE_URL`; see {@link PostgresConnectionOptions}), and the table, keyword
 * language and search settings.
 */
export interface PostgresVectorStoreOptions extends PostgresConnectionOptions {
  /**
   * Name of the table holding the memories (in `schema`); its indexes are named after it. Use one
   * name per collection to keep several in one schema. A letter or `_`, then letters, digits or
   * `_`; at most 40 characters; not starting with `pg_`.
   * @default 'memories'
   */
  readonly table?: string;
  /**
   * PostgreSQL text search configuration of the keyword index (`tsvector` column), e.g.
   * `'english'` (stemming, stop words) or `'simple'` (lower-cased words, any language). Fixed when
   * the table is created; a store opened later with another value is refused.
   * @default 'simple'
   */
  readonly textSearchConfig?: string;
  /**
   * Scopes holding at most this many memories are searched exactly (every vector of the scope
   * compared, through the scope's B-tree index); larger ones through the HNSW index, which is
   * approximate. `0` sends every search through the index.
   * @default 10_000
   */
  readonly exactSearchLimit?: number;
  /**
   * `hnsw.ef_search` of index searches: candidates kept while walking the graph. Higher finds
   * more of the true nearest neighbours, slower. Raised to `topK` when a search asks for more.
   * @default 100
   */
  readonly efSearch?: number;
  /**
   * `hnsw.iterative_scan` of index searches, which keep scanning the index when a scope or filter
   * leaves fewer than `topK` rows: `'relaxed_order'` lets the index return them slightly out of
   * order and the store re-sorts the `topK` it keeps, so results are still best first;
   * `'strict_order'` has the index return rows in distance order, dropping those that come too
   * late, which loses recall when a scope or filter is selective (apps/bench: recall@10 of a 1 %
   * scope 0.97 strict against 0.99 relaxed on clustered vectors, 0.13 against 0.45 on uniform ones).
   * @default 'relaxed_order'
   */
  readonly iterativeScan?: 'strict_order' | 'relaxed_order';
  /**
   * `hnsw.max_scan_tuples` of index searches: index tuples an iterative scan visits at most before
   * it gives up (then a selective filter can return fewer than `topK`).
   * @default max(20_000, 4 × exactSearchLimit)
   */
  readonly maxScanTuples?: number;
  /** HNSW `m` (links per node) of a new table's index. @default 16 */
  readonly hnswM?: number;
  /** HNSW `ef_construction` of a new table's index. @default 64 */
  readonly hnswEfConstruction?: number;
}

/** Default of {@link PostgresVectorStoreOptions.table}. */
export const DEFAULT_VECTOR_TABLE = 'memories';
/** Default of {@link PostgresVectorStoreOptions.textSearchConfig}. */
export const DEFAULT_TEXT_SEARCH_CONFIG = 'simple';
/** Default of {@link PostgresVectorStoreOptions.exactSearchLimit}. */
export const DEFAULT_EXACT_SEARCH_LIMIT = 10_000;
/** Default of {@link PostgresVectorStoreOptions.efSearch}. */
export const DEFAULT_EF_SEARCH = 100;
/** Default of {@link PostgresVectorStoreOptions.iterativeScan}. */
export const DEFAULT_ITERATIVE_SCAN = 'relaxed_order';
/** pgvector's HNSW index takes `vector` columns of at most this many dimensions. */
export const MAX_HNSW_DIMENSIONS = 2_000;
