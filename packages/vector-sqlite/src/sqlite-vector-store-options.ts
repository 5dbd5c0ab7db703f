import type { SqliteConnectionOptions } from '@mem/sqlite';

/**
 * Options of {@link SqliteVectorStore}: where the connection comes from (`path` or a shared `database`,
 * see {@link SqliteConnectionOptions}) and where in the file the store keeps its data.
 */
export interface SqliteVectorStoreOptions extends SqliteConnectionOptions {
  /**
   * Name of the table holding the memories; `<table>_fts` (keyword index) and `<table>_meta`
   * (dimensions) sit next to it. Use one name per collection to keep several in one file.
   * 1–40 characters: a letter, then letters, digits or `_`; not starting with `sqlite_`.
   * @default 'memories'
   */
  readonly table?: string;
  /**
   * Keep each searched scope's vectors in memory, so `query` and `queryAny` rank without reading
   * them from the file: built on a scope's first search, kept in step with every connection's and
   * process's writes through a change log the file's triggers write (`<table>_changes`). `false`
   * ranks inside SQLite on every search, as before.
   * @default true
   */
  readonly vectorCache?: boolean;
  /**
   * Most bytes the vector cache holds across scopes; the scopes searched least recently leave first,
   * and a scope larger than this is searched in SQLite. Each memory costs its vector (4 bytes per
   * dimension) plus about 160 bytes. The default holds 1,000,000 memories of 384 dimensions.
   * @default 2147483648 (2 GiB)
   */
  readonly vectorCacheBytes?: number;
  /**
   * Keep each keyword-searched scope's FTS5 terms in memory (postings in typed arrays), so
   * `keywordQuery` ranks by BM25 without FTS5 scoring every match: built on a scope's second keyword
   * search, kept in step with every connection's and process's writes through the same change log as
   * the vector cache. The same records, order and scores as FTS5's `bm25()`. `false` ranks every
   * keyword search with FTS5 in SQLite, as before.
   * @default true
   */
  readonly keywordIndex?: boolean;
  /**
   * Most bytes the keyword index holds across scopes (about 200 bytes a memory plus 8 a distinct
   * term per memory: some 1 KB a memory of conversation turns); the scopes searched least recently
   * leave first, and a scope larger than this is ranked by FTS5.
   * @default 536870912 (512 MiB)
   */
  readonly keywordIndexBytes?: number;
  /**
   * Search scopes of at least {@link approximateMinScope} memories through an approximate
   * nearest-neighbour index (HNSW from usearch, int8 vectors) instead of scanning every vector: the
   * index proposes candidates, whose vectors are then read from the file and ranked exactly, so
   * scores are exact but a true neighbour the index misses is left out (recall below 1; see the
   * package README for measured recall). Held in place of the scope's float32 vectors in the vector
   * cache (it needs `vectorCache`) and kept in step through the change log. The index is built from
   * the scope's second search on, in a worker thread (the event loop stays free; writes made during
   * the build are taken in from the change log), while the scope's searches rank exactly in SQLite;
   * the first search after the build switches to it (see `approximateIndexesBuilt()`). It is saved
   * beside the file (`<file>.ann/`) and read again on reopening. `false` keeps every search exact.
   * @default false
   */
  readonly approximate?: boolean;
  /**
   * Candidates the index's graph keeps while searching (HNSW's ef): higher finds more of the true
   * neighbours at a higher latency. An integer from 1 to 10,000; read at open (a saved index is
   * searched with this store's value). 1024 reached recall@10 0.997 at 1M × 384 clustered vectors
   * (256: 0.988; see the package README).
   * @default 1024
   */
  readonly approximateExpansion?: number;
  /**
   * Fewest candidates asked of the index per query vector, ranked exactly before the best `topK`
   * are kept (a search asks at least 4 × topK + 16): more finds true neighbours that int8
   * quantisation ranked a little low, at the cost of reading their vectors. An integer from 1 to
   * 10,000.
   * @default 64
   */
  readonly approximateCandidates?: number;
  /**
   * Fewest memories a scope holds for {@link approximate} search; smaller scopes are scanned exactly
   * (fast enough below it). An integer ≥ 1.
   * @default 50000
   */
  readonly approximateMinScope?: number;
}

/** Default of {@link SqliteVectorStoreOptions.keywordIndexBytes}. */
export const DEFAULT_KEYWORD_INDEX_BYTES = 512 * 1024 * 1024;

/** Default of {@link SqliteVectorStoreOptions.approximateMinScope}. */
export const DEFAULT_APPROXIMATE_MIN_SCOPE = 50_000;

/** Default of {@link SqliteVectorStoreOptions.vectorCacheBytes}: 1,000,000 × (384 × 4 + 160) bytes fit. */
export const DEFAULT_VECTOR_CACHE_BYTES = 2 * 1024 * 1024 * 1024;

/** Default of {@link SqliteVectorStoreOptions.table}. */
export const DEFAULT_VECTOR_TABLE = 'memories';

/** Example given in the fix of an invalid table. */
export const DEFAULT_VECTOR_TABLE_EXAMPLE = '"memories" or "memories_work"';
