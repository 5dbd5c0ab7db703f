import { createHash, randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import {
  DimensionMismatchError,
  FILTER_OPERATORS,
  InvalidInputError,
  MemError,
  ProviderRequestError,
  UnsupportedCapabilityError,
  defineVectorStoreCapabilities,
  filterOperatorsUsed,
  throwIfAborted,
  validateScope,
  type Call,
  type Filter,
  type MemoryKey,
  type MemoryRecord,
  type Metadata,
  type Scope,
  type ScopedCall,
  type VectorMatch,
  type VectorStore,
} from '@mem/core/adapter';
import type Database from 'better-sqlite3';
import {
  SQLITE_PROVIDER,
  StatementCache,
  openSqliteConnection,
  toSqliteError,
  validateConnectionOptions,
  validateTableName,
} from '@mem/sqlite';
import { filterToSql, metadataMirrors, metadataMirrorsSql, type MetadataMirrors, type SqlCondition, type SqlValue } from './sqlite-filter';
import { keywordQueryWords, toFtsQuery, toFtsTextQuery } from './sqlite-fts-query';
import { ftsTerms, learnCharacters, type CharacterClass } from './sqlite-fts-tokenizer';
import {
  inverseFrequencies,
  type KeywordIndexSource,
  type KeywordIndexState,
  type KeywordSourceRow,
  SqliteKeywordIndex,
  varints,
} from './sqlite-keyword-index';
import { idOrderKey } from './sqlite-id-order';
import {
  SqliteVectorCache,
  compileCacheFilter,
  looseCacheFilter,
  scopeRestTest,
  unitVector,
  type CacheChange,
  type CacheSourceRow,
  type CachedRowTest,
  type ScopeColumn,
  type ScopeRun,
  type VectorCacheSource,
} from './sqlite-vector-cache';
import { APPROXIMATE_MIN_CANDIDATES, AnnScope, AnnStorage, DEFAULT_APPROXIMATE_EXPANSION } from './sqlite-vector-ann';
import { vectorArena } from './sqlite-vector-scan';
import {
  DEFAULT_KEYWORD_INDEX_BYTES,
  DEFAULT_APPROXIMATE_MIN_SCOPE,
  DEFAULT_VECTOR_CACHE_BYTES,
  DEFAULT_VECTOR_TABLE,
  DEFAULT_VECTOR_TABLE_EXAMPLE,
  type SqliteVectorStoreOptions,
} from './sqlite-vector-store-options';

/** Rows `list` reads per statement; each page is a fresh keyset query, so writes between pages are safe. */
const LIST_PAGE_SIZE = 500;
/** Prepared statements kept per store (statements differ by scope shape and filter shape). */
/** Version of the table layout, kept in `<table>_meta` for future migrations. */
const SCHEMA_VERSION = '4';
/** Rows a scope's block of seq values holds: 2^32. */
const BLOCK_SIZE = 4_294_967_296;
/** Blocks: 1 to 2^21 - 1, so every seq stays below 2^53 (a safe JavaScript integer); rows from before blocks sit in block 0. */
const BLOCKS = 2_097_152;

/** Most occurredAt values of a listing's filter that still read the scope's conversation index (see conversationColumn). */
const MAX_CONVERSATION_VALUES = 64;
/**
 * Most rows of the scope in a query's occurredAt range for which the ranking step reads the scope's
 * (column, occurred_at) index rather than walking the whole scope in id order (see rankingIndex).
 */
const PERIOD_INDEX_ROWS = 1_000;
/**
 * The ranking step reads the (column, occurred_at) index only when the scope holds more than this
 * many times the rows in the range: on 10,000 memories of 384 dimensions in one scope, the two plans
 * cost the same at about 2,500 rows in range (a quarter), reading a row out of order costing about
 * four times what testing its occurred_at in an id-order walk does.
 */
const PERIOD_INDEX_RATIO = 4;
/** How many times topK matches the first step of a keyword query ranks by BM25 alone (see isExactHead). */
const KEYWORD_HEAD_FACTOR = 4;
/**
 * Least share of the keyword index's rows a scope's block of seq values must hold for its keyword
 * query to leave the scope's token out of the FTS5 match (see scopeFillsIndex). In a scope that is
 * (nearly) the whole index the token narrows nothing, and FTS5 still walks its posting list twice (for
 * the match and for its BM25 weight): at 10,000 memories in one scope, a quarter of the ranking's time.
 */
const KEYWORD_SCOPE_SHARE = 0.9;
/**
 * Rows the change log keeps (see the `changeLog` statements): a vector cache that falls further
 * behind than this rebuilds its scopes instead of applying the changes.
 */
const CHANGE_LOG_ROWS = 50_000;
/**
 * Candidates the vector cache finds beyond topK, to be ranked again by sqlite-vec's distance (see
 * cachedQuery): enough for the near-ties float rounding may order differently at the boundary.
 */
const CACHE_EXTRA_CANDIDATES = 16;
/** Most memories the vector cache reads in one statement when it reads a scope (see scopeRuns). */
const CACHE_RUN_ROWS = 4096;
/** Most vector bytes one such statement reads. */
const CACHE_RUN_BYTES = 16 * 1024 * 1024;
/** Query words whose FTS5 term a store remembers (see keywordTerms); past this many it starts over. */
const MAX_REMEMBERED_WORDS = 100_000;
/**
 * Memories the keyword index reads into a scope being read per turn of the event loop between
 * searches (see readKeywordsWhileIdle): some 25 to 60 ms of LongMemEval turns, so a search that comes
 * meanwhile waits at most that long.
 */
const KEYWORD_ROWS_PER_IDLE_TURN = 256;
/** Characters probed per round through the temporary FTS5 table (see probeCharacters). */
const PROBE_BATCH = 256;
/** The change log's table and its seven triggers (see the `changeLog` statements; the dates trigger is counted apart). */
const CHANGE_LOG_PARTS = 8;
/** Most vectors one queryAny takes (each is a bound parameter; SQLite takes up to 32,766). */
const MAX_QUERY_VECTORS = 10_000;
/** Largest `approximateExpansion` and `approximateCandidates` (usearch keeps that many candidates per search). */
const MAX_APPROXIMATE_SEARCH = 10_000;
/**
 * Most candidates the vector cache or the keyword index ranks under a looser test than a query's
 * filter before checking them in SQL (see firstPassing); a narrower filter ranks in SQLite.
 */
const MAX_FILTERED_CANDIDATES = 10_000;
/** Largest vector length accepted by ensureCollection. */
const MAX_DIMENSIONS = 65_536;
const EMPTY_KEY = Buffer.alloc(0);
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const SCOPE_COLUMNS = [
  ['userId', 'user_id'],
  ['agentId', 'agent_id'],
  ['runId', 'run_id'],
] as const;

/** The columns of the memories table (layout 4 order), but its vector. */
const MEMORY_COLUMNS = 'seq, id, id_order, user_id, agent_id, run_id, hash, metadata, created_at, updated_at, occurred_at, text';

/** Columns a record is rebuilt from, read through the aliases `m` (the memories table) and `v` (its vectors table). */
const RECORD_COLUMNS =
  'm.id, m.user_id, m.agent_id, m.run_id, m.text, m.hash, m.metadata, m.created_at, m.updated_at, m.occurred_at, v.embedding';

interface MemoryRow {
  readonly id: string;
  readonly user_id: string | null;
  readonly agent_id: string | null;
  readonly run_id: string | null;
  readonly text: string;
  readonly hash: string;
  readonly metadata: string;
  readonly created_at: number;
  readonly updated_at: number;
  readonly occurred_at: number;
  readonly embedding: Buffer;
}

type RankedRow = MemoryRow & { readonly rank: number };

interface UpsertRow {
  readonly block: number;
  readonly id: string;
  readonly id_order: Buffer;
  readonly user_id: string | null;
  readonly agent_id: string | null;
  readonly run_id: string | null;
  readonly text: string;
  readonly hash: string;
  readonly metadata: string;
  readonly created_at: number;
  readonly updated_at: number;
  readonly occurred_at: number;
  readonly embedding: Buffer;
  readonly mirrors: MetadataMirrors;
}

/**
 * A {@link VectorStore} in one SQLite file: exact cosine search with sqlite-vec, every filter
 * operator translated to SQL, FTS5 keyword search, WAL for crash safety. The embedded default of mem.
 *
 * Records live in a plain table (`id`, scope columns, `text`, `hash`, JSON `metadata`, dates as
 * epoch milliseconds) with an index per scope column, so a search reads only the caller's scope
 * before computing distances. Vectors are stored as float32 BLOBs in a narrow table of their own
 * (`<table>_vectors`, one row per memory, same key), so a search reads the scope's vectors without
 * reading its texts.
 *
 * @example
 * import { SqliteVectorStore } from '@mem/vector-sqlite';
 * const store = new SqliteVectorStore({ path: 'mem.db' });
 * await store.ensureCollection({ dimensions: 1536 });
 * const matches = await store.query({ scope: { userId: 'u1' }, vector, topK: 5 });
 * await store.close();
 */
export class SqliteVectorStore implements VectorStore {
  /** `'sqlite'`. */
  readonly provider = SQLITE_PROVIDER;
  /** Every filter operator runs natively in SQL; keyword search runs on FTS5 (BM25). */
  readonly capabilities = defineVectorStoreCapabilities({
    filterOperators: FILTER_OPERATORS,
    maxUpsertBatch: 1000,
    readAfterWrite: 'immediate',
    keywordSearch: true,
  });
  /** Name of the table holding the memories. */
  readonly table: string;

  private readonly database: Database.Database;
  /** Closes the connection when this store opened it and no other store of the process shares it (see openSqliteConnection). */
  private readonly releaseConnection: () => void;
  private readonly statements: StatementCache;
  private readonly sql: ReturnType<typeof buildStatements>;
  private schemaReady = false;
  private dimensions: number | undefined;
  private closed = false;
  /** The scope vector cache (see {@link SqliteVectorStoreOptions.vectorCache}); `undefined` when turned off. */
  private readonly cache: SqliteVectorCache | undefined;
  private readonly cacheSource: VectorCacheSource;
  /** HNSW's ef and the fewest candidates per query vector of approximate search (see the options). */
  private readonly approximateSearch: { readonly expansion: number; readonly candidates: number };
  /** SQLite's schema cookie when {@link tableSchema} last read the store's schema, and what it read. */
  private schemaSeen: { readonly cookie: number; readonly identity: string } | undefined;
  /** The scope keyword index (see {@link SqliteVectorStoreOptions.keywordIndex}); `undefined` when turned off. */
  private readonly keywordIndex: SqliteKeywordIndex | undefined;
  private readonly keywordSource: KeywordIndexSource;
  /** FTS5's term of each query word tokenised lately (`null`: not exactly one term); see keywordTerms. */
  private readonly termsOfWords = new Map<string, string | null>();
  /** FTS5's document count of each term lately asked, as of {@link frequenciesAt} (see tableFrequencies). */
  private readonly frequencies = new Map<string, number>();
  /** The schema identity and change log version the remembered document counts are of. */
  private frequenciesAt: string | undefined;
  /**
   * Whether the temporary tokenizer tables exist on this connection (see ensureTokenizer), or cannot
   * (a build of SQLite without FTS5's vocabulary tables or the math functions): then the keyword
   * index stays off.
   */
  private tokenizer: 'unknown' | 'ready' | 'unavailable' = 'unknown';
  /** The next turn of the event loop that reads a scope into the keyword index (see readKeywordsWhileIdle). */
  private keywordReading: NodeJS.Immediate | undefined;
  /** Runs work in one read transaction (a savepoint inside the caller's own transaction): one snapshot for all its reads. */
  private readonly inReadTransaction: <T>(work: () => T) => T;

  /**
   * Opens (or adopts) the connection and loads sqlite-vec. Tables are created on first use.
   * @throws {InvalidInputError} for invalid options (both `path` and `database`, a bad table name, …).
   * @throws {ProviderRequestError} when the file cannot be opened or sqlite-vec cannot be loaded.
   */
  constructor(options: SqliteVectorStoreOptions = {}) {
    validateConnectionOptions(options);
    this.table = validateTableName(options.table ?? DEFAULT_VECTOR_TABLE, 'options.table', DEFAULT_VECTOR_TABLE_EXAMPLE);
    this.sql = buildStatements(this.table);
    const cacheBytes = validateCacheOptions(options);
    const keywordBytes = validateKeywordIndexOptions(options);
    const approximateMinRows = validateApproximateOptions(options);
    this.approximateSearch = validateApproximateSearchOptions(options);
    const connection = openSqliteConnection(options, { sqliteVec: true });
    this.database = connection.database;
    this.releaseConnection = connection.release;
    this.statements = new StatementCache(this.database);
    // No WebAssembly (Node's --jitless): the cache stays off and every search ranks in SQLite.
    const arena = cacheBytes === undefined ? undefined : vectorArena();
    this.cache =
      cacheBytes === undefined || arena === undefined
        ? undefined
        : new SqliteVectorCache(
            cacheBytes,
            arena,
            approximateMinRows,
            annStorage(this.database, approximateMinRows, this.table),
            this.approximateSearch,
          );
    this.cacheSource = this.buildCacheSource();
    this.keywordIndex = keywordBytes === undefined ? undefined : new SqliteKeywordIndex(keywordBytes);
    this.keywordSource = this.buildKeywordSource();
    const transaction = this.database.transaction((work: () => unknown) => work());
    this.inReadTransaction = <T>(work: () => T) => transaction(work) as T;
  }

  /**
   * Creates the tables if they are missing and records `dimensions`; checks them when the table exists.
   * @throws {DimensionMismatchError} when the table holds vectors of another length.
   */
  async ensureCollection(request: Call<{ readonly dimensions: number }>): Promise<void> {
    const { dimensions } = request;
    if (typeof dimensions !== 'number' || !Number.isInteger(dimensions) || dimensions < 1 || dimensions > MAX_DIMENSIONS) {
      throw new InvalidInputError(
        'dimensions',
        `expected an integer from 1 to ${MAX_DIMENSIONS}`,
        "Pass the embedder's vector length, e.g. 1536.",
      );
    }
    this.execute('ensureCollection', request.signal, () => {
      this.database
        .transaction(() => {
          const stored = this.readDimensions();
          if (stored === undefined) {
            this.statement(this.sql.writeMeta).run('dimensions', String(dimensions));
          } else if (stored !== dimensions) {
            throw this.dimensionMismatch(
              stored,
              dimensions,
              'Use a new path or table for this embedder, or re-embed every memory into a new table.',
            );
          }
        })
        .immediate();
      this.dimensions = dimensions;
    });
  }

  /**
   * Inserts or replaces records by id, all in one transaction: every record or none.
   * @throws {DimensionMismatchError} when a vector has the wrong length (nothing is written).
   * @throws {InvalidInputError} when a record is malformed (nothing is written).
   */
  async upsert(request: Call<{ readonly records: readonly MemoryRecord[] }>): Promise<void> {
    this.execute('upsert', request.signal, () => {
      if (!Array.isArray(request.records)) {
        throw new InvalidInputError('records', 'expected an array of memory records', 'Pass { records: [record] }.');
      }
      const dimensions = this.requireDimensions();
      // Validate and encode every record before the transaction opens, so a bad one writes nothing.
      const rows = request.records.map((record, index) => this.toUpsertRow(record, index, dimensions));
      if (rows.length === 0) return;
      const statement = this.statement(this.sql.upsert);
      const vectorStatement = this.statement(this.sql.upsertVector);
      this.database
        .transaction(() => {
          for (const { embedding, mirrors, ...row } of rows) {
            const { seq } = statement.get(row) as { seq: number };
            vectorStatement.run({ seq, embedding, ...mirrors });
          }
        })
        .immediate();
    });
  }

  /** The `topK` records in scope nearest to `vector` by exact cosine similarity, best first. */
  async query(
    request: ScopedCall<{ readonly vector: readonly number[]; readonly topK: number; readonly filter?: Filter }>,
  ): Promise<VectorMatch[]> {
    return this.execute('query', request.signal, () => {
      const scope = validateScope(request.scope);
      const topK = validateTopK(request.topK);
      const dimensions = this.requireDimensions();
      if (vectorLength(request.vector) !== dimensions) {
        throw this.dimensionMismatch(dimensions, vectorLength(request.vector), 'Embed queries with the same model as the memories.');
      }
      const vector = encodeVector(request.vector, 'vector');
      const where = this.whereClause(scope, request.filter);
      if (topK === 0) return [];
      const cached = this.cachedQuery(scope, request.filter, where, [vector], topK, dimensions);
      if (cached !== undefined) return cached;
      const index = this.rankingIndex(scope, request.filter);
      const rows = this.statement(this.sql.query(where.sql, index)).all(vector, ...where.params, topK) as RankedRow[];
      // sqlite-vec yields NULL for a zero vector; core's cosine similarity calls that 0, distance 1.
      return rows.map((row) => ({ record: toRecord(row), score: clampScore(1 - row.rank) }));
    });
  }

  /**
   * The `topK` records in scope nearest to any of `vectors` by exact cosine similarity, best first;
   * score is the best similarity to one of them. One pass over the scope's rows, whatever the number
   * of vectors (core's `add` asks it once for all the messages of a call).
   */
  async queryAny(
    request: ScopedCall<{ readonly vectors: readonly (readonly number[])[]; readonly topK: number; readonly filter?: Filter }>,
  ): Promise<VectorMatch[]> {
    return this.execute('queryAny', request.signal, () => {
      const scope = validateScope(request.scope);
      const topK = validateTopK(request.topK);
      const dimensions = this.requireDimensions();
      if (!Array.isArray(request.vectors) || request.vectors.length === 0 || request.vectors.length > MAX_QUERY_VECTORS) {
        throw new InvalidInputError('vectors', `expected an array of 1 to ${MAX_QUERY_VECTORS} vectors`, 'Pass { vectors: [vector] }.');
      }
      const vectors = request.vectors.map((vector, index) => {
        if (vectorLength(vector) !== dimensions) {
          throw this.dimensionMismatch(dimensions, vectorLength(vector), 'Embed queries with the same model as the memories.');
        }
        return encodeVector(vector, `vectors[${index}]`);
      });
      const where = this.whereClause(scope, request.filter);
      if (topK === 0) return [];
      const cached = this.cachedQuery(scope, request.filter, where, vectors, topK, dimensions);
      if (cached !== undefined) return cached;
      const index = this.rankingIndex(scope, request.filter);
      const rows = this.statement(this.sql.queryAny(where.sql, vectors.length, index)).all(
        ...vectors,
        ...where.params,
        topK,
      ) as RankedRow[];
      return rows.map((row) => ({ record: toRecord(row), score: clampScore(1 - row.rank) }));
    });
  }

  /**
   * The `topK` records in scope ranked by FTS5 BM25 relevance to the words of `text`, best first;
   * score is the BM25 relevance (positive, higher is better). Records sharing no word are left out.
   */
  async keywordQuery(
    request: ScopedCall<{ readonly text: string; readonly topK: number; readonly filter?: Filter }>,
  ): Promise<VectorMatch[]> {
    return this.execute('keywordQuery', request.signal, () => {
      const scope = validateScope(request.scope);
      const topK = validateTopK(request.topK);
      if (typeof request.text !== 'string') {
        throw new InvalidInputError('text', 'expected a string', 'Pass the words to search for.');
      }
      const where = this.whereClause(scope, request.filter, false);
      // The scope's keyword index, when it holds the scope (the same answer as the ranking below).
      const indexed = this.indexedKeywordQuery(scope, request.filter, request.text, topK);
      if (indexed !== undefined) return indexed;
      // The scope is always in `where`; in the match it only narrows what FTS5 ranks, and the scope's
      // token adds nothing to BM25 (its column weighs 0), so either match gives the same scores.
      const match = this.scopeFillsIndex(scope) ? toFtsTextQuery(request.text) : toFtsQuery(request.text, scope);
      if (match === undefined || topK === 0) return [];
      // A filter that only leaves memories out (core's "not expired", "not procedural") usually
      // keeps most matches: rank the best matches by BM25 alone (FTS5 ranks without reading the
      // memories table), then test the scope and filter on those; when that cannot be the exact
      // answer, the whole ranking. Other filters go straight to the whole ranking, where the head
      // would seldom hold topK passing matches.
      if (!onlyExcludes(request.filter)) {
        const rows = this.statement(this.sql.keywordQuery(where.sql)).all(match, ...where.params, topK) as RankedRow[];
        return rows.map((row) => ({ record: toRecord(row), score: -row.rank }));
      }
      const head = this.statement(this.sql.keywordQueryHead(where.sql)).all(
        match,
        topK * KEYWORD_HEAD_FACTOR,
        ...where.params,
        topK,
      ) as (RankedRow & { readonly ranked: number; readonly bound: number })[];
      const rows = isExactHead(head, topK, topK * KEYWORD_HEAD_FACTOR)
        ? head
        : (this.statement(this.sql.keywordQuery(where.sql)).all(match, ...where.params, topK) as RankedRow[]);
      // bm25() is negative, more negative is better; FTS5 floors each term's IDF above 0, so -bm25 > 0.
      return rows.map((row) => ({ record: toRecord(row), score: -row.rank }));
    });
  }

  /** The records in scope with these ids, in the order of the first occurrence of each id; missing ids are left out. */
  async get(request: ScopedCall<{ readonly ids: readonly string[] }>): Promise<MemoryRecord[]> {
    return this.execute('get', request.signal, () => {
      const scope = validateScope(request.scope);
      const ids = validateIds(request.ids);
      if (ids.length === 0) return [];
      const scopeCondition = scopeSql(scope);
      const rows = this.statement(this.sql.get(scopeCondition.sql)).all(JSON.stringify(ids), ...scopeCondition.params) as MemoryRow[];
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.flatMap((id) => {
        const row = byId.get(id);
        return row ? [toRecord(row)] : [];
      });
    });
  }

  /**
   * The records in scope whose text hash is one of `hashes`, in ascending id order, read through
   * the index on `hash`: `add` finds a stored copy of a text without reading the scope's vectors.
   */
  async findByHash(request: ScopedCall<{ readonly hashes: readonly string[] }>): Promise<MemoryRecord[]> {
    return this.execute('findByHash', request.signal, () => {
      const scope = validateScope(request.scope);
      const hashes = request.hashes;
      if (!Array.isArray(hashes) || !hashes.every((hash) => typeof hash === 'string')) {
        throw new InvalidInputError('hashes', 'expected an array of strings', 'Pass { hashes: [hashText(text)] }.');
      }
      if (hashes.length === 0) return [];
      const scopeCondition = scopeSql(scope);
      const rows = this.statement(this.sql.findByHash(scopeCondition.sql)).all(
        JSON.stringify([...new Set(hashes)]),
        ...scopeCondition.params,
      ) as MemoryRow[];
      return rows.map(toRecord);
    });
  }

  /** Deletes the records in scope with these ids; missing ids and records of other scopes are left alone. */
  async delete(request: ScopedCall<{ readonly ids: readonly string[] }>): Promise<void> {
    this.execute('delete', request.signal, () => {
      const scope = validateScope(request.scope);
      const ids = validateIds(request.ids);
      if (ids.length === 0) return;
      const scopeCondition = scopeSql(scope);
      this.statement(this.sql.delete(scopeCondition.sql)).run(JSON.stringify(ids), ...scopeCondition.params);
    });
  }

  /**
   * Every record in scope matching `filter`, in ascending id order (JavaScript string order), after
   * `after` if given. Reads pages of 500 rows with keyset pagination, one statement per page.
   */
  list(request: ScopedCall<{ readonly filter?: Filter; readonly after?: string }>): AsyncIterable<MemoryRecord> {
    return this.listPages(request);
  }

  /**
   * The id, createdAt and occurredAt of the first `limit` records in scope matching `filter`, in
   * ascending id order, read from the rows' leading columns (not the text, stored last, nor the
   * vector). A filter pinning occurredAt, as core's search sends to read the conversations of its best
   * candidates, reads the scope's (column, occurred_at) index (see conversationColumn).
   *
   * Asked `unordered`, SQLite stops at the `limit`-th match in the index's order instead of reading
   * every match to sort it: a search's conversations of 2,500 memories each took 77 ms at 1M memories
   * ordered, to tell only that they were too long to read. The keys read are then sorted by id, so an
   * answer holding every match is the ordered one.
   */
  async listKeys(
    request: ScopedCall<{ readonly filter?: Filter; readonly limit: number; readonly unordered?: boolean }>,
  ): Promise<MemoryKey[]> {
    return this.execute('listKeys', request.signal, () => {
      const scope = validateScope(request.scope);
      const limit = request.limit;
      if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0) {
        throw new InvalidInputError('limit', 'expected a non-negative integer', 'Pass e.g. limit: 100.');
      }
      const unordered = request.unordered;
      if (unordered !== undefined && typeof unordered !== 'boolean') {
        throw new InvalidInputError('unordered', 'expected a boolean', 'Pass unordered: true, or leave it out.');
      }
      const where = this.whereClause(scope, request.filter);
      const cached = this.cachedKeys(scope, request.filter, limit);
      if (cached !== undefined) return cached;
      const rows = this.statement(this.sql.listKeys(where.sql, conversationColumn(scope, request.filter), unordered === true)).all(
        ...where.params,
        limit,
      ) as { id: string; created_at: number; occurred_at: number; id_order: Buffer }[];
      if (unordered === true) rows.sort((a, b) => Buffer.compare(a.id_order, b.id_order));
      return rows.map((row) => ({ id: row.id, createdAt: new Date(row.created_at), occurredAt: new Date(row.occurred_at) }));
    });
  }

  /**
   * Like {@link list}, newest first: every record in scope matching `filter` in descending id order
   * (the reverse of `list`, so newest first for ids mem made), before `before` if given. Reads pages
   * of 500 rows backwards along the scope's index, so the first page costs the same at 10 or 100,000
   * records. Not part of the `VectorStore` interface: the REST server's memory browser uses it.
   */
  listNewestFirst(request: ScopedCall<{ readonly filter?: Filter; readonly before?: string }>): AsyncIterable<MemoryRecord> {
    return this.listPages({ ...request, descending: true, ...(request.before === undefined ? {} : { after: request.before }) });
  }

  /**
   * The scopes that hold memories, with how many each holds: one entry per exact combination of
   * userId, agentId and runId, ordered by userId, agentId, runId (a missing id first). `only`
   * restricts a field to some values (and then requires it to be set), e.g. the ids an API key may
   * use. At most `limit` entries; `truncated` says whether more exist. Not part of the `VectorStore`
   * interface: the REST server's memory browser uses it.
   *
   * @throws {InvalidInputError} when `limit` is not a positive integer or an `only` list is not a list of strings.
   */
  async scopes(
    request: Call<{
      readonly limit: number;
      readonly only?: { readonly userIds?: readonly string[]; readonly agentIds?: readonly string[]; readonly runIds?: readonly string[] };
    }>,
  ): Promise<{ scopes: { scope: Scope; count: number }[]; truncated: boolean }> {
    return this.execute('scopes', request.signal, () => {
      const limit = request.limit;
      if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) {
        throw new InvalidInputError('limit', 'expected a positive integer', 'Pass e.g. limit: 1000.');
      }
      const conditions: string[] = [];
      const params: SqlValue[] = [];
      for (const [field, column] of SCOPE_COLUMNS) {
        const values = request.only?.[`${field}s`];
        if (values === undefined) continue;
        if (!Array.isArray(values) || !values.every((value) => typeof value === 'string')) {
          throw new InvalidInputError(`only.${field}s`, 'expected a list of ids', `Pass e.g. { ${field}s: ["a"] }, or leave it out.`);
        }
        conditions.push(`m.${column} IN (SELECT value FROM json_each(?))`);
        params.push(JSON.stringify(values));
      }
      const rows = this.statement(this.sql.scopes(conditions.length === 0 ? '1' : conditions.join(' AND '))).all(...params, limit + 1) as {
        user_id: string | null;
        agent_id: string | null;
        run_id: string | null;
        count: number;
      }[];
      return {
        scopes: rows.slice(0, limit).map((row) => ({
          scope: {
            ...(row.user_id === null ? {} : { userId: row.user_id }),
            ...(row.agent_id === null ? {} : { agentId: row.agent_id }),
            ...(row.run_id === null ? {} : { runId: row.run_id }),
          },
          count: row.count,
        })),
        truncated: rows.length > limit,
      };
    });
  }

  /** Deletes every record in every scope; the table and its dimensions stay. */
  async reset(request?: Call<object>): Promise<void> {
    this.execute('reset', request?.signal, () => {
      this.database.transaction(() => this.statement(this.sql.reset).run()).immediate();
    });
  }

  /**
   * Drops the table, its keyword index and its dimensions, e.g. to dispose of a test collection.
   * The next call recreates them empty; call {@link ensureCollection} again before writing.
   */
  async dropCollection(request?: Call<object>): Promise<void> {
    this.execute('dropCollection', request?.signal, () => {
      this.statements.clear();
      this.cache?.clear();
      this.keywordIndex?.clear();
      this.database.transaction(() => this.database.exec(this.sql.drop)).immediate();
      this.schemaReady = false;
      this.dimensions = undefined;
    });
  }

  /**
   * Settles once no approximate index is being built (see {@link SqliteVectorStoreOptions.approximate}):
   * the next search of each scope built then answers through its index, or, when the build missed
   * the recall floor, holds the scope exact. Searches never wait for a build (they rank exactly
   * meanwhile); this is for tests, benchmarks and warm-up scripts.
   */
  async approximateIndexesBuilt(): Promise<void> {
    await this.cache?.built();
  }

  /**
   * Closes the connection if the store opened it and no other store of this process still shares it
   * (a connection passed as `database` stays open). Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.cache !== undefined && this.database.open) {
      try {
        // Approximate indexes changed since they were saved (see SqliteVectorCache.persist).
        this.cache.persist(this.cacheSource);
      } catch {
        // The file cannot be read any more: nothing is saved, and the next open builds the index.
      }
    }
    if (this.keywordReading !== undefined) clearImmediate(this.keywordReading);
    this.keywordReading = undefined;
    this.statements.clear();
    this.cache?.clear();
    this.keywordIndex?.clear();
    // Index builds under way stop; their workers are waited for, so that no file of theirs outlives close.
    await this.cache?.stopped();
    try {
      this.releaseConnection();
    } catch (error) {
      throw toSqliteError(error, 'close');
    }
  }

  private async *listPages(
    request: ScopedCall<{ readonly filter?: Filter; readonly after?: string; readonly descending?: boolean }>,
  ): AsyncGenerator<MemoryRecord> {
    const descending = request.descending === true;
    const {
      where,
      index,
      cursor: start,
    } = this.execute('list', request.signal, () => {
      const scope = validateScope(request.scope);
      if (request.after !== undefined && typeof request.after !== 'string') {
        throw new InvalidInputError(
          descending ? 'before' : 'after',
          'expected an id string',
          'Pass the id of the last record you received.',
        );
      }
      return {
        where: this.whereClause(scope, request.filter),
        index: conversationColumn(scope, request.filter),
        cursor: request.after === undefined ? undefined : idOrderKey(request.after),
      };
    });
    let cursor = start;
    for (;;) {
      const rows = this.execute('list', request.signal, () =>
        descending
          ? cursor === undefined
            ? this.statement(this.sql.listDescending(where.sql, false, index)).all(...where.params, LIST_PAGE_SIZE)
            : this.statement(this.sql.listDescending(where.sql, true, index)).all(cursor, ...where.params, LIST_PAGE_SIZE)
          : this.statement(this.sql.list(where.sql, index)).all(cursor ?? EMPTY_KEY, ...where.params, LIST_PAGE_SIZE),
      ) as (MemoryRow & { readonly id_order: Buffer })[];
      for (const row of rows) yield toRecord(row);
      if (rows.length < LIST_PAGE_SIZE) return;
      cursor = rows[rows.length - 1]!.id_order;
    }
  }

  /** Runs synchronous driver work for one operation, mapping driver failures to mem errors. */
  private execute<T>(operation: string, signal: AbortSignal | undefined, work: () => T): T {
    throwIfAborted(signal, `sqlite ${operation}`);
    if (this.closed) {
      throw new ProviderRequestError({
        provider: SQLITE_PROVIDER,
        operation,
        message: 'the store is closed. Create a new SqliteVectorStore.',
        retryable: false,
      });
    }
    try {
      this.ensureSchema();
      return work();
    } catch (error) {
      throw toSqliteError(error, operation);
    }
  }

  private ensureSchema(): void {
    if (this.schemaReady) return;
    this.database
      .transaction(() => {
        // Layouts 1 to 3 rebuild their table first (see rebuildTable); the schema then adds what is missing.
        const columns = this.database.prepare('SELECT name FROM pragma_table_info(?)').pluck().all(this.table) as string[];
        if (columns.includes('embedding')) this.database.exec(this.sql.rebuildTable);
        this.database.exec(this.sql.schema);
        // A read-only connection cannot add the change log to a file written before it: its vector
        // cache then stays off (see SqliteVectorCache), and queries rank in SQLite.
        if (!this.database.readonly) this.database.exec(this.sql.changeLog);
        const version = this.database.prepare(this.sql.readMeta).pluck().get('schema_version') as string | undefined;
        // A new table's generation (see tableSchema); a table dropped and created again gets another.
        if (!this.database.readonly) this.database.prepare(this.sql.writeMetaIfAbsent).run('generation', randomBytes(8).toString('hex'));
        if (version === undefined) {
          this.database.prepare(this.sql.writeMeta).run('schema_version', SCHEMA_VERSION);
        } else if (version === '1' || version === '2' || version === '3') {
          if (version !== '3') this.database.exec(this.sql.rebuildKeywordIndex);
          this.database.prepare(`UPDATE "${this.table}_meta" SET value = ? WHERE key = 'schema_version'`).run(SCHEMA_VERSION);
        } else if (version !== SCHEMA_VERSION) {
          throw new MemError(
            'CONFLICT',
            `SQLite table "${this.table}" has layout version ${version}, but this @mem/vector-sqlite reads version ${SCHEMA_VERSION}. Upgrade @mem/vector-sqlite, or use another table.`,
          );
        }
      })
      .immediate();
    this.schemaReady = true;
  }

  /**
   * The answer of a vector query from the scope vector cache, or `undefined` when the cache cannot
   * give it (turned off, inside the caller's own transaction, no change log in the file, a scope
   * larger than the cache, a scope's first search, a filter on other columns than core's own filters
   * read that keeps too few of the scope: see firstPassing): the caller then ranks in SQLite. The cache is brought
   * up to date and read, and the records of the best matches are read, in one read transaction, so
   * the answer is that of one snapshot of the file, as the SQL statement's is.
   */
  private cachedQuery(
    scope: Scope,
    filter: Filter | undefined,
    where: SqlCondition,
    vectors: readonly Buffer[],
    topK: number,
    dimensions: number,
  ): VectorMatch[] | undefined {
    const cache = this.cache;
    // Inside a transaction of the caller's (a shared `database`), the cache would take in changes that
    // may yet be rolled back, and whose log versions the next writes would then reuse: rank in SQLite.
    if (cache === undefined || this.database.inTransaction) return undefined;
    // A filter the cache cannot test whole (a metadata key of the caller's) is tested in SQL on the
    // candidates: the approximate index's (filtered in SQL anyway), or the exact scan's under the
    // parts the cache can test (see firstPassing).
    const filterTest = compileCacheFilter(filter);
    // A period (core's "when" searches) ranks in SQLite through the (scope, occurred_at) index, which
    // reads only the period's memories: a narrow one would pass few of the cache's candidates.
    if (filterTest === undefined && readsOccurredAt(filter!)) return undefined;
    const looseTest = filterTest ?? looseCacheFilter(filter);
    const column = scopeColumn(scope) as ScopeColumn;
    const value = scope[SCOPE_COLUMNS.find(([, name]) => name === column)![0]]!;
    const queries = vectors.map((vector) => unitVector(vector, dimensions));
    const rest = scopeRestTest(scope, column);
    const test: CachedRowTest = rest === undefined ? looseTest : (entry, slot) => rest(entry, slot) && looseTest(entry, slot);
    return this.inReadTransaction(() => {
      const entry = cache.scope(this.cacheSource, column, value, dimensions);
      if (entry === undefined) return undefined;
      if (entry instanceof AnnScope) return this.approximateQuery(entry, where, vectors, queries, topK);
      if (rest !== undefined) entry.loadScopeValues(this.cacheSource);
      // A few more candidates than asked: the final order is sqlite-vec's, whose float rounding may
      // order near-ties (less than about 1e-7 apart) differently from the cache's scan.
      const wanted = topK + CACHE_EXTRA_CANDIDATES;
      const found =
        filterTest !== undefined
          ? cache.top(entry, queries, wanted, test)
          : this.firstPassing((count) => cache.top(entry, queries, count, test), where, wanted, entry.count);
      if (found === undefined) return undefined;
      if (found.length === 0) return [];
      // Of those extra candidates, only the ones the rounding could move into the top topK: within
      // nearTie of the topK-th score (the others cannot pass it whatever the rounding).
      const floor = found.length > topK ? found[topK - 1]!.score - nearTie(dimensions) : Number.NEGATIVE_INFINITY;
      let kept = Math.min(topK, found.length);
      while (kept < found.length && found[kept]!.score >= floor) kept++;
      const matches = kept === found.length ? found : found.slice(0, kept);
      // The candidates' records and their distances as the SQL ranking computes them, so scores and
      // order are exactly those of `vectorCache: false` (the same function on the same bytes).
      const rows = this.statement(this.sql.rescore(vectors.length)).all(
        ...vectors,
        JSON.stringify(matches.map((match) => match.seq)),
      ) as (RankedRow & { readonly id_order: Buffer })[];
      if (rows.length !== matches.length) {
        // The cache held a memory the snapshot lacks: never expected, but rank in SQLite rather than answer short.
        cache.clear();
        return undefined;
      }
      rows.sort((a, b) => a.rank - b.rank || Buffer.compare(a.id_order, b.id_order));
      return rows.slice(0, topK).map((row) => ({ record: toRecord(row), score: clampScore(1 - row.rank) }));
    });
  }

  /**
   * The answer of `listKeys` for a conversation listing (core's neighbour read: occurredAt one of a
   * few values, and core's own filters) from the scope's held vectors, or `undefined` when the cache
   * cannot give it (turned off, inside the caller's own transaction, another filter, the scope not
   * held exactly): the caller then asks SQLite. The same keys, in the same id order, from one read
   * transaction; the dates are read once per held scope and kept in step through the change log.
   */
  private cachedKeys(scope: Scope, filter: Filter | undefined, limit: number): MemoryKey[] | undefined {
    const cache = this.cache;
    if (cache === undefined || this.database.inTransaction) return undefined;
    const conversation = conversationFilter(filter);
    if (conversation === undefined) return undefined;
    const filterTest = compileCacheFilter(conversation.rest);
    if (filterTest === undefined) return undefined;
    const column = scopeColumn(scope) as ScopeColumn;
    const value = scope[SCOPE_COLUMNS.find(([, name]) => name === column)![0]]!;
    const rest = scopeRestTest(scope, column);
    const test: CachedRowTest = rest === undefined ? filterTest : (entry, slot) => rest(entry, slot) && filterTest(entry, slot);
    return this.inReadTransaction(() => {
      const entry = cache.held(this.cacheSource, column, value);
      if (entry === undefined) return undefined;
      if (rest !== undefined) entry.loadScopeValues(this.cacheSource);
      entry.loadDates(this.cacheSource);
      return entry
        .conversationKeys(conversation.times, test, limit)
        .map((key) => ({ id: key.id, createdAt: new Date(key.createdAt), occurredAt: new Date(key.occurredAt) }));
    });
  }

  /**
   * The first `wanted` of a ranking (best first, in the store's total order) that pass `where` (a
   * query's scope and filter), when the cache ranks under a looser test than the filter (see
   * looseCacheFilter): `top(count)` gives the first `count` under the looser test, which are checked
   * in SQL by seq. Whatever passes among the first `count` is the head of the filter's own ranking, so
   * once `wanted` pass (or the looser ranking ends) the answer is exact. Otherwise `count` grows by
   * the share that passed (a filter keeping 1 in 12 asks about 12 times as many), at least doubling.
   * When that would be more than {@link MAX_FILTERED_CANDIDATES} or an eighth of the `scopeSize`
   * memories ranked (checking a memory by seq costs several times what ranking it in SQL does), or
   * when `top` gives `undefined`: `undefined`, and the caller ranks in SQLite.
   */
  private firstPassing<T extends { readonly seq: number }>(
    top: (count: number) => readonly T[] | undefined,
    where: SqlCondition,
    wanted: number,
    scopeSize: number,
  ): T[] | undefined {
    const limit = Math.max(wanted, Math.min(MAX_FILTERED_CANDIDATES, Math.floor(scopeSize / 8)));
    let count = wanted;
    for (;;) {
      const ranked = top(count);
      if (ranked === undefined) return undefined;
      if (ranked.length === 0) return [];
      const passing = new Set(
        this.statement(this.sql.passingSeqs(where.sql))
          .pluck()
          .all(JSON.stringify(ranked.map((match) => match.seq)), ...where.params) as number[],
      );
      const kept = ranked.filter((match) => passing.has(match.seq));
      if (kept.length >= wanted || ranked.length < count) return kept.slice(0, wanted);
      count = Math.max(2 * count, Math.ceil((wanted * ranked.length) / Math.max(kept.length, 1)));
      if (count > limit) return undefined;
    }
  }

  /**
   * The answer of a vector query on a scope held in an approximate index (see
   * {@link SqliteVectorStoreOptions.approximate}), inside cachedQuery's read transaction: the index's
   * {@link approximateCandidates} nearest memories to each query vector, those passing the scope and
   * filter in SQL (the same condition the SQL ranking uses) ranked by sqlite-vec's exact distance.
   * When fewer than `topK` candidates pass (a filter, expired memories), the index is asked again for
   * as many more as the share that passed says the filter needs, so that the `topK`-th memory that
   * passes lies as deep among the candidates as without a filter (a filter keeping 1 in 12 asks 12
   * times as many), while that is at most {@link MAX_APPROXIMATE_SEARCH} and less than the scope.
   * `undefined` (rank in SQLite) otherwise: a narrow filter, or a scope smaller than `topK`, whose
   * answer the index cannot be trusted to hold whole.
   */
  private approximateQuery(
    entry: AnnScope,
    where: SqlCondition,
    vectors: readonly Buffer[],
    queries: readonly Float32Array[],
    topK: number,
  ): VectorMatch[] | undefined {
    const first = Math.max(this.approximateSearch.candidates, approximateCandidates(topK));
    let wanted = first;
    for (;;) {
      const seqs = entry.candidates(queries, wanted);
      if (seqs.length < topK) return undefined;
      const rows = this.statement(this.sql.rescoreWhere(vectors.length, where.sql)).all(
        ...vectors,
        JSON.stringify(seqs),
        ...where.params,
        topK,
      ) as RankedRow[];
      if (rows.length >= topK) return rows.map((row) => ({ record: toRecord(row), score: clampScore(1 - row.rank) }));
      // rows.length of seqs.length passed (fewer than topK, so all that passed): first ÷ that share,
      // at least twice as many as this round.
      wanted = Math.max(2 * wanted, Math.ceil((first * seqs.length) / Math.max(rows.length, 1)));
      if (wanted > MAX_APPROXIMATE_SEARCH || wanted >= entry.count) return undefined;
    }
  }

  /**
   * The identity of this store's own schema (its tables, indexes, triggers and generation: see the
   * tableSchema statement), which the vector cache, the keyword index and saved approximate indexes
   * are built under. Read again only when SQLite's schema cookie moves: a table another store creates
   * in the same file (the history store's, a graph store's) moves the cookie but not this identity,
   * so it no longer drops the held scopes nor the saved indexes.
   */
  private tableSchema(): string {
    const cookie = this.statement(this.sql.schemaCookie).pluck().get() as number;
    if (cookie !== this.schemaSeen?.cookie) {
      const schema = this.statement(this.sql.tableSchema).pluck().get() as string;
      this.schemaSeen = { cookie, identity: createHash('sha256').update(schema).digest('hex').slice(0, 32) };
    }
    return this.schemaSeen.identity;
  }

  /** The cache's reads of the file (see {@link VectorCacheSource}), through this store's prepared statements. */
  private buildCacheSource(): VectorCacheSource {
    return {
      schemaVersion: () => this.tableSchema(),
      hasChangeLog: () => (this.statement(this.sql.changeLogParts).pluck().get() as number) === CHANGE_LOG_PARTS,
      hasDatesLog: () => (this.statement(this.sql.datesLogged).pluck().get() as number) === 1,
      logBounds: () => this.statement(this.sql.logBounds).get() as { first: number; last: number },
      changesSince: (version) => this.statement(this.sql.changesSince).all(version) as CacheChange[],
      changeAt: (version) => this.statement(this.sql.changeAt).get(version) as CacheChange | undefined,
      rowsBySeq: (seqs) => this.statement(this.sql.cacheRowsBySeq).all(JSON.stringify(seqs)) as CacheSourceRow[],
      countScope: (column, value) => this.statement(this.sql.cacheCount(column)).pluck().get(value) as number,
      scopeRuns: (column, value, dimensions) => this.scopeRuns(column, value, dimensions),
      readNow: (work) => (this.closed || !this.database.open || this.database.inTransaction ? undefined : this.inReadTransaction(work)),
      scopeValues: (column, value) =>
        this.statement(this.sql.cacheScopeValues(column)).raw().all(value) as [number, string | null, string | null, string | null][],
      scopeDates: (column, value) => this.statement(this.sql.cacheScopeDates(column)).raw().all(value) as [number, number, number][],
    };
  }

  /**
   * The answer of a keyword query from the scope keyword index, or `undefined` when the index cannot
   * give it (turned off, inside the caller's own transaction, no change log, a scope larger than the
   * budget, a scope's first keyword search, a query word FTS5 splits into several terms, a filter on
   * other columns than core's own filters read that keeps too few of the matches: see firstPassing):
   * the caller then ranks with FTS5. The same
   * records, order and scores as FTS5's ranking (see ScopeKeywords.top), from one read transaction.
   */
  private indexedKeywordQuery(scope: Scope, filter: Filter | undefined, text: string, topK: number): VectorMatch[] | undefined {
    const index = this.keywordIndex;
    if (index === undefined || this.database.inTransaction) return undefined;
    const filterTest = compileCacheFilter(filter);
    const looseTest = filterTest ?? looseCacheFilter(filter);
    const words = keywordQueryWords(text);
    if (words.length === 0 || topK === 0) return [];
    const column = scopeColumn(scope) as ScopeColumn;
    const value = scope[SCOPE_COLUMNS.find(([, name]) => name === column)![0]]!;
    const rest = scopeRestTest(scope, column);
    const test: CachedRowTest = rest === undefined ? looseTest : (entry, slot) => rest(entry, slot) && looseTest(entry, slot);
    return this.inReadTransaction(() => {
      if (!this.ensureTokenizer()) return undefined;
      const entry = index.scope(this.keywordSource, column, value);
      if (entry === undefined) {
        if (index.reading) this.readKeywordsWhileIdle();
        return undefined;
      }
      const terms = this.keywordTerms(words);
      if (terms === undefined) return undefined;
      const totals = this.keywordSource.totals();
      if (totals.rows === 0 || entry.count === 0) return [];
      // A scope that is the whole index has the index's document frequencies; others ask FTS5.
      const local = totals.rows === entry.count;
      const frequencies = local ? terms.map((term) => entry.frequency(term)) : this.tableFrequencies(terms);
      const idfs = inverseFrequencies(totals.rows, frequencies, this.keywordSource.logs);
      const averageLength = totals.tokens / totals.rows;
      // A filter the index cannot test whole: its best under the parts it can test, checked in SQL.
      const matches =
        filterTest !== undefined
          ? entry.top(terms, idfs, averageLength, topK, test)
          : this.firstPassing(
              (count) => entry.top(terms, idfs, averageLength, count, test),
              this.whereClause(scope, filter),
              topK,
              entry.count,
            );
      if (matches === undefined) return undefined;
      if (matches.length === 0) return [];
      const rows = this.statement(this.sql.recordsBySeq).all(JSON.stringify(matches.map((match) => match.seq))) as (MemoryRow & {
        readonly seq: number;
      })[];
      if (rows.length !== matches.length) {
        // The index held a memory the snapshot lacks: never expected, but rank with FTS5 rather than answer short.
        index.clear();
        return undefined;
      }
      const bySeq = new Map(rows.map((row) => [row.seq, row]));
      return matches.map((match) => ({ record: toRecord(bySeq.get(match.seq)!), score: match.score }));
    });
  }

  /**
   * FTS5's document count of each term over the whole table, for a scope that is not the whole
   * index. Each count reads the term's whole document list (about 15 ms a query at 1M memories), so
   * the counts are remembered while the file is unchanged: until the change log moves (any write,
   * by any connection or process: the log's last version only grows, its newest row is never
   * pruned) or the store's schema does. Inside the caller's read transaction, so the counts and the
   * version are of one snapshot.
   */
  private tableFrequencies(terms: readonly string[]): number[] {
    const at = `${this.cacheSource.schemaVersion()} ${this.cacheSource.logBounds().last}`;
    if (at !== this.frequenciesAt) {
      this.frequencies.clear();
      this.frequenciesAt = at;
    }
    return terms.map((term) => {
      let count = this.frequencies.get(term);
      if (count === undefined) {
        if (this.frequencies.size >= MAX_REMEMBERED_WORDS) this.frequencies.clear();
        count = this.keywordSource.documentFrequency(term);
        this.frequencies.set(term, count);
      }
      return count;
    });
  }

  /**
   * Reads the scope being read into the keyword index a page per turn of the event loop, each page
   * in its own read transaction (see SqliteKeywordIndex.readMore), until it is held (a turn inside
   * the caller's own transaction stops, until the next search). Searches run between the turns, answered by
   * FTS5 until the scope is held. A failed read stops the reading (the next search starts it again).
   */
  private readKeywordsWhileIdle(): void {
    if (this.keywordReading !== undefined || this.closed) return;
    this.keywordReading = setImmediate(() => {
      this.keywordReading = undefined;
      const index = this.keywordIndex;
      // Inside the caller's own transaction, the reading waits for the next search after it.
      if (this.closed || index === undefined || !index.reading || this.database.inTransaction) return;
      try {
        if (this.inReadTransaction(() => index.readMore(this.keywordSource, KEYWORD_ROWS_PER_IDLE_TURN))) this.readKeywordsWhileIdle();
      } catch {
        index.stopReading();
      }
    });
    // Reading never keeps the process alive.
    this.keywordReading.unref();
  }

  /**
   * What the scope keyword index holds (see {@link SqliteVectorStoreOptions.keywordIndex}): scopes,
   * their estimated bytes, their postings and those postings' compressed bytes, and whether a scope
   * is being read; `undefined` when the index is turned off.
   */
  keywordIndexState(): KeywordIndexState | undefined {
    return this.keywordIndex?.state;
  }

  /**
   * FTS5's term for each word (its Porter stem, as the index's tokenizer gives it), or `undefined`
   * when one is not exactly one term (then FTS5 reads the word as a phrase, which the index does not
   * hold). Words are tokenised by FTS5 itself in a temporary table, and remembered.
   */
  private keywordTerms(words: readonly string[]): string[] | undefined {
    const missing = words.filter((word) => !this.termsOfWords.has(word));
    if (missing.length > 0) {
      this.ensureTokenizer();
      const insert = this.statement(this.sql.tokenizeInsert);
      missing.forEach((word, index) => insert.run(index + 1, word));
      const found = new Map<number, string[]>();
      try {
        for (const [doc, term] of this.statement(this.sql.tokenizedTerms).raw().all() as [number, string][]) {
          const list = found.get(doc);
          if (list === undefined) found.set(doc, [term]);
          else list.push(term);
        }
      } finally {
        this.statement(this.sql.tokenizeClear).run();
      }
      if (this.termsOfWords.size + missing.length > MAX_REMEMBERED_WORDS) this.termsOfWords.clear();
      missing.forEach((word, index) => {
        const terms = found.get(index + 1);
        // The index holds the terms ftsTerms makes of the memories: a word it reads otherwise than FTS5 goes to FTS5.
        learnCharacters([word], this.keywordSource.probe);
        const own = ftsTerms(word);
        this.termsOfWords.set(word, terms?.length === 1 && own.length === 1 && own[0] === terms[0] ? terms[0]! : null);
      });
    }
    const terms: string[] = [];
    for (const word of words) {
      const term = this.termsOfWords.get(word);
      if (term === null || term === undefined) return undefined;
      terms.push(term);
    }
    return terms;
  }

  /** Creates this connection's temporary tokenizer tables (an FTS5 table with the index's tokenizer, its instances, and the index's terms). */
  private ensureTokenizer(): boolean {
    if (this.tokenizer === 'unknown') {
      try {
        this.database.exec(this.sql.tokenizer);
        this.database.prepare('SELECT ln(2.0)').get();
        this.tokenizer = 'ready';
      } catch {
        this.tokenizer = 'unavailable';
      }
    }
    return this.tokenizer === 'ready';
  }

  /**
   * How FTS5 reads each character (see CharacterClass): "x" + c + "x" is one token when a token goes
   * on over c (its middle is c folded), and c + "x" starts with c when a token may start with it.
   * Neither ends with a suffix the Porter steps touch, so the tokens come back unstemmed.
   */
  private probeCharacters(characters: readonly string[]): CharacterClass[] {
    this.ensureTokenizer();
    const insert = this.statement(this.sql.tokenizeInsert);
    const classes: CharacterClass[] = [];
    for (let first = 0; first < characters.length; first += PROBE_BATCH) {
      const batch = characters.slice(first, first + PROBE_BATCH);
      batch.forEach((character, index) => {
        insert.run(index * 2 + 1, `x${character}x`);
        insert.run(index * 2 + 2, `${character}x`);
      });
      const tokens = new Map<number, string[]>();
      try {
        for (const [doc, term] of this.statement(this.sql.tokenizedTerms).raw().all() as [number, string][]) {
          const list = tokens.get(doc);
          if (list === undefined) tokens.set(doc, [term]);
          else list.push(term);
        }
      } finally {
        this.statement(this.sql.tokenizeClear).run();
      }
      batch.forEach((_, index) => {
        const inside = tokens.get(index * 2 + 1) ?? [];
        const leading = tokens.get(index * 2 + 2) ?? [];
        const continues = inside.length === 1;
        const fold = continues ? inside[0]!.slice(1, -1) : '';
        classes.push({
          continues,
          starts: leading.length === 1 && leading[0] !== 'x',
          fold: continues ? fold : (leading[0]?.slice(0, -1) ?? ''),
        });
      });
    }
    return classes;
  }

  /** The keyword index's reads of the file (see {@link KeywordIndexSource}). */
  private buildKeywordSource(): KeywordIndexSource {
    return {
      schemaVersion: () => this.cacheSource.schemaVersion(),
      // A text changes only with its memory's upsert, which also writes the vectors row: the log has it.
      hasChangeLog: () => this.cacheSource.hasChangeLog(),
      logBounds: () => this.cacheSource.logBounds(),
      changesSince: (version) => this.cacheSource.changesSince(version),
      rowsBySeq: (seqs) => this.statement(this.sql.keywordRowsBySeq).all(JSON.stringify(seqs)) as KeywordSourceRow[],
      countScope: (column, value) => this.cacheSource.countScope(column, value),
      scopePage: (column, value, after, limit) =>
        this.statement(this.sql.keywordScopeRows(column)).all(value, after, limit) as KeywordSourceRow[],
      probe: (characters) => this.probeCharacters(characters),
      totals: () => {
        const averages = this.statement(this.sql.keywordAverages).get() as { block: Buffer } | undefined;
        return averages === undefined ? { rows: 0, tokens: 0 } : averagesOf(averages.block);
      },
      documentFrequency: (term) => {
        this.ensureTokenizer();
        return (this.statement(this.sql.termFrequency).pluck().get(term) as number | undefined) ?? 0;
      },
      logs: (values) =>
        this.statement(this.sql.logs(values.length))
          .raw()
          .get(...values) as number[],
    };
  }

  /**
   * A scope's memories for the vector cache, in runs of up to {@link CACHE_RUN_ROWS} rows (fewer for
   * long vectors: at most {@link CACHE_RUN_BYTES} of them), each run one statement that reads the next
   * rows in id order after the last run's: a large scope's vectors never sit in memory twice.
   */
  private *scopeRuns(column: ScopeColumn, value: string, dimensions: number): Generator<ScopeRun> {
    const limit = Math.max(1, Math.min(CACHE_RUN_ROWS, Math.floor(CACHE_RUN_BYTES / (dimensions * 4))));
    const statement = this.statement(this.sql.cacheScopeRun(column));
    let after: Buffer = EMPTY_KEY;
    for (;;) {
      const run = statement.get(value, after, limit) as { count: number; last: Buffer | null; rows: string; vectors: Buffer | null };
      if (run.count === 0 || run.vectors === null || run.last === null) return;
      yield { rows: JSON.parse(run.rows) as ScopeRun['rows'], vectors: run.vectors };
      if (run.count < limit) return;
      after = run.last;
    }
  }

  private readDimensions(): number | undefined {
    const value = this.statement(this.sql.readMeta).pluck().get('dimensions') as string | undefined;
    return value === undefined ? undefined : Number(value);
  }

  private requireDimensions(): number {
    this.dimensions ??= this.readDimensions();
    if (this.dimensions === undefined) {
      throw new MemError('CONFLICT', `SQLite table "${this.table}" has no dimensions yet. Call ensureCollection({ dimensions }) first.`);
    }
    return this.dimensions;
  }

  private dimensionMismatch(expected: number, actual: number, fix: string): DimensionMismatchError {
    return new DimensionMismatchError(`SQLite table "${this.table}"`, expected, actual, fix);
  }

  /**
   * The scope and filter as one condition over `m` (the memories) and, with `mirrors`, `v` (their
   * vectors table, whose copies of expiresAt and memoryType then answer those keys). The keyword
   * query reads memory rows anyway (FTS5 matches join them), so it leaves the vectors table out.
   */
  private whereClause(scope: Scope, filter: Filter | undefined, mirrors = true): SqlCondition {
    const scopeCondition = scopeSql(scope);
    if (filter === undefined) return scopeCondition;
    for (const op of filterOperatorsUsed(filter)) {
      if (!this.capabilities.filterOperators.has(op)) {
        throw new UnsupportedCapabilityError(
          this.provider,
          `the filter operator "${String(op)}"`,
          'Use one of eq, ne, in, nin, gt, gte, lt, lte, contains, and, or, not.',
        );
      }
    }
    const filterCondition = filterToSql(filter, 'm', mirrors ? 'v' : undefined);
    return { sql: `${scopeCondition.sql} AND ${filterCondition.sql}`, params: [...scopeCondition.params, ...filterCondition.params] };
  }

  /**
   * Whether `scope` sets one id and its block of seq values (see scopeBlock) holds at least
   * {@link KEYWORD_SCOPE_SHARE} of the keyword index's rows (FTS5's own row count, the first varint
   * of its averages record, id 1 of `<table>_kw_data`). Both reads are one B-tree lookup. Only a
   * choice of plan: the block may also hold rows another scope wrote (a shared block) or count rows
   * since deleted, and keywordQuery filters by the scope either way.
   */
  private scopeFillsIndex(scope: Scope): boolean {
    if (SCOPE_COLUMNS.filter(([field]) => scope[field] !== undefined).length !== 1) return false;
    const averages = this.statement(this.sql.keywordAverages).get() as { block: Buffer } | undefined;
    const indexed = averages ? leadingVarint(averages.block) : 0;
    if (indexed === 0) return false;
    const block = scopeBlock(scope);
    const top = (this.statement(this.sql.blockTop).get(block * BLOCK_SIZE, (block + 1) * BLOCK_SIZE) as { top: number | null }).top;
    return top !== null && top - block * BLOCK_SIZE + 1 >= KEYWORD_SCOPE_SHARE * indexed;
  }

  /**
   * The index the ranking step of a vector query walks: the scope's (column, id_order) one, or its
   * (column, occurred_at) one when the filter pins occurredAt to a range (see occurredRange) that
   * holds fewer than {@link PERIOD_INDEX_ROWS} of the scope's rows and at most 1 in
   * {@link PERIOD_INDEX_RATIO} of them, which two capped counts on the indexes tell. The occurred_at
   * index reads only those rows, but at random places in the scope's run of pages: for a wide range
   * the walk in id order is faster. Both plans sort by (rank, id_order),
   * a total order, so the answer is the same either way.
   */
  private rankingIndex(scope: Scope, filter: Filter | undefined): string {
    const column = scopeColumn(scope);
    const range = occurredRange(filter);
    if (range === undefined) return column;
    const field = SCOPE_COLUMNS.find(([, name]) => name === column)![0];
    const id = scope[field];
    const inRange = (this.statement(this.sql.countInPeriod(column)).get(id, range.from, range.to, PERIOD_INDEX_ROWS) as { count: number })
      .count;
    if (inRange >= PERIOD_INDEX_ROWS) return column;
    const cap = inRange * PERIOD_INDEX_RATIO + 1;
    const inScope = (this.statement(this.sql.countInScope(column)).get(id, cap) as { count: number }).count;
    return inScope >= cap ? `${column}_occurred` : column;
  }

  private statement(sql: string): Database.Statement {
    return this.statements.get(sql);
  }

  private toUpsertRow(record: MemoryRecord, index: number, dimensions: number): UpsertRow {
    const at = `records[${index}]`;
    if (typeof record !== 'object' || record === null) {
      throw new InvalidInputError(at, 'expected a memory record', 'Pass objects with id, vector, text, hash, scope, metadata and dates.');
    }
    const id = validateId(record.id, `${at}.id`);
    if (vectorLength(record.vector) !== dimensions) {
      throw this.dimensionMismatch(dimensions, vectorLength(record.vector), 'Embed with the same model the collection was created with.');
    }
    for (const field of ['text', 'hash'] as const) {
      if (typeof record[field] !== 'string')
        throw new InvalidInputError(`${at}.${field}`, 'expected a string', 'Pass the memory text and its SHA-256 hex digest.');
    }
    const scope = validateScope(record.scope, `${at}.scope`);
    return {
      block: scopeBlock(scope),
      id,
      id_order: idOrderKey(id),
      user_id: scope.userId ?? null,
      agent_id: scope.agentId ?? null,
      run_id: scope.runId ?? null,
      text: record.text,
      hash: record.hash,
      metadata: encodeMetadata(record.metadata, `${at}.metadata`),
      mirrors: metadataMirrors(record.metadata),
      created_at: epochMs(record.createdAt, `${at}.createdAt`),
      updated_at: epochMs(record.updatedAt, `${at}.updatedAt`),
      occurred_at: epochMs(record.occurredAt, `${at}.occurredAt`),
      embedding: encodeVector(record.vector, `${at}.vector`),
    };
  }
}

function buildStatements(table: string) {
  const t = `"${table}"`;
  const vectors = `"${table}_vectors"`;
  const kw = `"${table}_kw"`;
  const meta = `"${table}_meta"`;
  // The keyword index holds each memory's words and its scope as tokens ("u" + hex of the userId
  // + "0", "a" agentId, "r" runId), so a scoped keyword query intersects posting lists inside FTS5
  // instead of matching every scope's memories and filtering afterwards. The Porter tokenizer stems
  // words in the index and in queries alike ("researching" and "researched" are one term).
  const keywordIndex = `
      CREATE VIRTUAL TABLE IF NOT EXISTS ${kw} USING fts5(text, scope, content='', contentless_delete=1, tokenize='porter unicode61 remove_diacritics 0');
      CREATE TRIGGER IF NOT EXISTS "${table}_kw_insert" AFTER INSERT ON ${t} BEGIN
        INSERT INTO ${kw} (rowid, text, scope) VALUES (new.seq, new.text, ${scopeTokens('new')});
      END;
      CREATE TRIGGER IF NOT EXISTS "${table}_kw_delete" AFTER DELETE ON ${t} BEGIN
        DELETE FROM ${kw} WHERE rowid = old.seq;
      END;
      CREATE TRIGGER IF NOT EXISTS "${table}_kw_update" AFTER UPDATE OF text, user_id, agent_id, run_id ON ${t} BEGIN
        DELETE FROM ${kw} WHERE rowid = old.seq;
        INSERT INTO ${kw} (rowid, text, scope) VALUES (new.seq, new.text, ${scopeTokens('new')});
      END;`;
  // A scope's memories by occurredAt (a conversation): core's hybrid search reads the conversations
  // of its best candidates with an occurredAt filter, which these answer without reading the scope.
  // Plain indexes, so a file gains them on first open and older versions of this package keep them
  // up to date (the layout version stays).
  const conversationIndexes = SCOPE_COLUMNS.map(
    ([, column]) => `CREATE INDEX IF NOT EXISTS "${table}_${column}_occurred" ON ${t} (${column}, occurred_at);`,
  ).join('\n      ');
  const mirrors = metadataMirrorsSql('metadata');
  const previous = `"${table}_layout3"`;
  // The text last: a long text spills into overflow pages, and SQLite walks them to reach any column
  // stored after it. Every other column (the metadata a filter reads included) sits before it.
  const memoriesTable = `
      CREATE TABLE IF NOT EXISTS ${t} (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        id_order BLOB NOT NULL,
        user_id TEXT,
        agent_id TEXT,
        run_id TEXT,
        hash TEXT NOT NULL,
        metadata TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        occurred_at INTEGER NOT NULL,
        text TEXT NOT NULL,
        CHECK (user_id IS NOT NULL OR agent_id IS NOT NULL OR run_id IS NOT NULL)
      );`;
  // Layout 4: each memory's vector in a narrow table keyed by the memory's seq, so a scoped search
  // reads 1.5 KB (384 dimensions) per memory instead of the whole row with its text, which for long
  // texts spills into overflow pages that SQLite must walk to reach a column stored after it.
  // Deleting a memory deletes its vector in the same statement, whoever deletes it.
  // Beside the vector, copies of the metadata keys core filters on in every search and add (expiry,
  // memory type; see MetadataMirrors), so those filters read this table only.
  const vectorTable = `
      CREATE TABLE IF NOT EXISTS ${vectors} (seq INTEGER PRIMARY KEY, expires_at REAL, memory_type, embedding BLOB NOT NULL);
      CREATE TRIGGER IF NOT EXISTS "${table}_vectors_delete" AFTER DELETE ON ${t} BEGIN
        DELETE FROM ${vectors} WHERE seq = old.seq;
      END;`;
  // A listing through the (column, occurred_at) index of its scope column `index` (see conversationColumn):
  // `rest` (WHERE … ORDER BY m.id_order … LIMIT ?) picks and sorts keys, then whole rows are read in that order.
  const sortedFirst = (index: string, rest: string, direction: 'ASC' | 'DESC') => `
      WITH picked AS (
        SELECT m.seq AS seq, m.id_order AS id_order FROM ${t} AS m INDEXED BY "${table}_${index}_occurred" CROSS JOIN ${vectors} AS v ON v.seq = m.seq ${rest}
      )
      SELECT ${RECORD_COLUMNS}, m.id_order FROM picked CROSS JOIN ${t} AS m ON m.seq = picked.seq CROSS JOIN ${vectors} AS v ON v.seq = m.seq
      ORDER BY picked.id_order ${direction}`;
  // Rows of a memory and its vector, joined in that order (CROSS JOIN fixes it): the scope's index
  // picks the memories, the vectors table is read by key.
  const withVectors = `${t} AS m CROSS JOIN ${vectors} AS v ON v.seq = m.seq`;
  const changes = `"${table}_changes"`;
  const logRow = (row: string) =>
    `INSERT INTO ${changes} (seq, user_id, agent_id, run_id) VALUES (${row}.seq, ${row}.user_id, ${row}.agent_id, ${row}.run_id);`;
  const logVector = (seqs: string) =>
    `INSERT INTO ${changes} (seq, user_id, agent_id, run_id) SELECT seq, user_id, agent_id, run_id FROM ${t} WHERE seq IN (${seqs});`;
  // Columns the vector cache reads of a memory (see CacheSourceRow).
  const cacheColumns =
    'm.seq, m.id_order, m.user_id, m.agent_id, m.run_id, v.expires_at, v.memory_type, v.embedding, m.occurred_at, m.created_at';
  // Columns the keyword index reads of a memory (see KeywordSourceRow), FTS5's size record of its row
  // included; and this connection's temporary tables: an FTS5 table with the index's tokenizer (for
  // query words and probing characters), its instances, and the index's terms (document counts).
  const keywordColumns = 'm.seq, m.id_order, m.user_id, m.agent_id, m.run_id, v.expires_at, v.memory_type, d.sz, m.text';
  const docsize = `"${table}_kw_docsize"`;
  const tokens = `"${table}_kw_tokens"`;
  const tokenInstances = `"${table}_kw_tokens_instances"`;
  const terms = `"${table}_kw_terms"`;
  return {
    // seq is the INTEGER PRIMARY KEY (stable across VACUUM) that the FTS5 external-content index
    // points at; id is the unique public key; id_order is the id's UTF-16 sort key.
    schema: `
      ${memoriesTable}
      CREATE INDEX IF NOT EXISTS "${table}_user_id" ON ${t} (user_id, id_order);
      CREATE INDEX IF NOT EXISTS "${table}_agent_id" ON ${t} (agent_id, id_order);
      CREATE INDEX IF NOT EXISTS "${table}_run_id" ON ${t} (run_id, id_order);
      CREATE INDEX IF NOT EXISTS "${table}_hash" ON ${t} (hash);
      ${conversationIndexes}
      ${vectorTable}
      ${keywordIndex}
      CREATE TABLE IF NOT EXISTS ${meta} (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
    `,
    // Layout 1 kept an external-content FTS5 index of the text alone; layout 2 a scoped index without
    // stemming. Layout 3 (Porter stemming, stemmer-proof scope tokens) is rebuilt from the table.
    rebuildKeywordIndex: `
      DROP TRIGGER IF EXISTS "${table}_fts_insert";
      DROP TRIGGER IF EXISTS "${table}_fts_delete";
      DROP TRIGGER IF EXISTS "${table}_fts_update";
      DROP TABLE IF EXISTS "${table}_fts";
      DROP TRIGGER IF EXISTS "${table}_kw_insert";
      DROP TRIGGER IF EXISTS "${table}_kw_delete";
      DROP TRIGGER IF EXISTS "${table}_kw_update";
      DROP TABLE IF EXISTS ${kw};
      ${keywordIndex}
      INSERT INTO ${kw} (rowid, text, scope) SELECT seq, text, ${scopeTokens(t)} FROM ${t};
    `,
    // Layouts 1 to 3 kept the vector in the table's last column, after the text. The table is rebuilt
    // in layout 4's column order (same seq, so the keyword index stays valid) and the vectors move to
    // their table; the indexes and triggers, dropped with the old table, come back with the schema.
    rebuildTable: `
      ${[
        ...['fts_insert', 'fts_delete', 'fts_update', 'kw_insert', 'kw_delete', 'kw_update', 'vectors_delete'].map(
          (name) => `DROP TRIGGER IF EXISTS "${table}_${name}";`,
        ),
      ]
        .concat(
          ['user_id', 'agent_id', 'run_id', 'hash', ...SCOPE_COLUMNS.map(([, column]) => `${column}_occurred`)].map(
            (name) => `DROP INDEX IF EXISTS "${table}_${name}";`,
          ),
        )
        .join('\n      ')}
      ALTER TABLE ${t} RENAME TO ${previous};
      ${memoriesTable}
      INSERT INTO ${t} (${MEMORY_COLUMNS}) SELECT ${MEMORY_COLUMNS} FROM ${previous};
      ${vectorTable}
      INSERT OR REPLACE INTO ${vectors} (seq, expires_at, memory_type, embedding)
        SELECT seq, ${mirrors.expires_at}, ${mirrors.memory_type}, embedding FROM ${previous};
      DROP TABLE ${previous};
    `,
    // The change log of the vector cache (see SqliteVectorCache): triggers add a row, in the same
    // transaction as the change, for every memory or vector inserted, deleted, or updated in a column
    // the cache holds, naming the memory's seq and its scope before the change and, when that differs,
    // after it; whoever writes, through this store or not. Each row added prunes the log to its last
    // CHANGE_LOG_ROWS rows (the newest always stays, so versions only grow). A reader that reflects
    // version V re-reads the memories of the rows after V that name a scope it holds.
    changeLog: `
      CREATE TABLE IF NOT EXISTS ${changes} (version INTEGER PRIMARY KEY, seq INTEGER NOT NULL, user_id TEXT, agent_id TEXT, run_id TEXT);
      CREATE TRIGGER IF NOT EXISTS "${table}_changes_prune" AFTER INSERT ON ${changes} BEGIN
        DELETE FROM ${changes} WHERE version <= new.version - ${CHANGE_LOG_ROWS};
      END;
      CREATE TRIGGER IF NOT EXISTS "${table}_changes_insert" AFTER INSERT ON ${t} BEGIN
        ${logRow('new')}
      END;
      CREATE TRIGGER IF NOT EXISTS "${table}_changes_update" AFTER UPDATE OF seq, id, user_id, agent_id, run_id ON ${t} BEGIN
        ${logRow('old')}
        INSERT INTO ${changes} (seq, user_id, agent_id, run_id) SELECT new.seq, new.user_id, new.agent_id, new.run_id
          WHERE new.seq IS NOT old.seq OR new.user_id IS NOT old.user_id OR new.agent_id IS NOT old.agent_id OR new.run_id IS NOT old.run_id;
      END;
      CREATE TRIGGER IF NOT EXISTS "${table}_changes_delete" AFTER DELETE ON ${t} BEGIN
        ${logRow('old')}
      END;
      CREATE TRIGGER IF NOT EXISTS "${table}_changes_dates" AFTER UPDATE OF occurred_at, created_at ON ${t}
        WHEN new.occurred_at IS NOT old.occurred_at OR new.created_at IS NOT old.created_at BEGIN
        ${logRow('new')}
      END;
      CREATE TRIGGER IF NOT EXISTS "${table}_changes_vector_insert" AFTER INSERT ON ${vectors} BEGIN
        ${logVector('new.seq')}
      END;
      CREATE TRIGGER IF NOT EXISTS "${table}_changes_vector_update" AFTER UPDATE ON ${vectors} BEGIN
        ${logVector('old.seq, new.seq')}
      END;
      CREATE TRIGGER IF NOT EXISTS "${table}_changes_vector_delete" AFTER DELETE ON ${vectors} BEGIN
        ${logVector('old.seq')}
      END;`,
    // How many of the change log's table and triggers the file holds (CHANGE_LOG_PARTS when all).
    changeLogParts: `SELECT count(*) FROM sqlite_schema WHERE (type = 'table' AND name = '${table}_changes') OR (type = 'trigger' AND name IN (${[
      'prune',
      'insert',
      'update',
      'delete',
      'vector_insert',
      'vector_update',
      'vector_delete',
    ]
      .map((name) => `'${table}_changes_${name}'`)
      .join(', ')}))`,
    // Whether the file has the change log's trigger for dates (added after the others: see cachedKeys).
    datesLogged: `SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND name = '${table}_changes_dates'`,
    schemaCookie: 'PRAGMA schema_version',
    // The store's own tables, indexes and triggers as SQLite records them (root pages included, so a
    // table dropped and created again differs), and the generation ensureSchema writes into a new
    // table's meta: what the cache's and keyword index's scopes and saved approximate indexes were
    // built under (see tableSchema). Other tables of the file do not count.
    tableSchema: `SELECT coalesce((SELECT value FROM ${meta} WHERE key = 'generation'), '') || char(10) || coalesce((SELECT group_concat(entry, char(10)) FROM (SELECT type || ' ' || name || ' ' || rootpage || ' ' || coalesce(sql, '') AS entry FROM sqlite_schema WHERE tbl_name IN ('${table}', '${table}_vectors', '${table}_kw', '${table}_meta', '${table}_changes') ORDER BY type, name)), '')`,
    logBounds: `SELECT coalesce((SELECT min(version) FROM ${changes}), 0) AS first, coalesce((SELECT max(version) FROM ${changes}), 0) AS last`,
    changesSince: `SELECT version, seq, user_id, agent_id, run_id FROM ${changes} WHERE version > ? ORDER BY version`,
    changeAt: `SELECT version, seq, user_id, agent_id, run_id FROM ${changes} WHERE version = ?`,
    cacheRowsBySeq: `SELECT ${cacheColumns} FROM ${withVectors} WHERE m.seq IN (SELECT value FROM json_each(?))`,
    cacheCount: (column: string) => `SELECT count(*) FROM ${t} INDEXED BY "${table}_${column}_occurred" WHERE ${column} = ?`,
    // The next `?` memories of a scope in id order after `?` (see scopeRuns), through the scope's
    // (column, id_order) index (seq is its rowid) and the vectors table, so no memory row is read: each
    // memory's columns as JSON ([seq, hex id_order, expires_at, memory_type]; SQLite writes doubles
    // that read back exact), and every vector in one BLOB in the same order (both aggregates step over
    // the same rows; group_concat copies a BLOB's bytes as they are, and the CAST gives them back).
    cacheScopeRun: (column: string) => `
      SELECT count(*) AS count, max(id_order) AS last,
        json_group_array(json_array(seq, lower(hex(id_order)), expires_at,
          CASE typeof(memory_type) WHEN 'blob' THEN json(CAST(memory_type AS TEXT)) ELSE memory_type END)) AS rows,
        CAST(group_concat(embedding, '') AS BLOB) AS vectors
      FROM (
        SELECT m.seq, m.id_order, v.expires_at, v.memory_type, v.embedding
        FROM ${t} AS m INDEXED BY "${table}_${column}" CROSS JOIN ${vectors} AS v ON v.seq = m.seq
        WHERE m.${column} = ? AND m.id_order > ? ORDER BY m.id_order LIMIT ?
      )`,
    // The keyword index's reads (see KeywordIndexSource): memories by seq or a scope's next page in id
    // order; the temporary tables (see keywordColumns).
    keywordRowsBySeq: `SELECT ${keywordColumns} FROM ${withVectors} LEFT JOIN ${docsize} AS d ON d.id = m.seq WHERE m.seq IN (SELECT value FROM json_each(?))`,
    keywordScopeRows: (column: string) =>
      `SELECT ${keywordColumns} FROM ${t} AS m INDEXED BY "${table}_${column}" CROSS JOIN ${vectors} AS v ON v.seq = m.seq LEFT JOIN ${docsize} AS d ON d.id = m.seq WHERE m.${column} = ? AND m.id_order > ? ORDER BY m.id_order LIMIT ?`,
    tokenizer: `
      CREATE VIRTUAL TABLE IF NOT EXISTS temp.${tokens} USING fts5(text, content='', tokenize='porter unicode61 remove_diacritics 0');
      CREATE VIRTUAL TABLE IF NOT EXISTS temp.${tokenInstances} USING fts5vocab(temp, ${tokens}, instance);
      CREATE VIRTUAL TABLE IF NOT EXISTS temp.${terms} USING fts5vocab(main, ${kw}, col);`,
    tokenizeInsert: `INSERT INTO temp.${tokens} (rowid, text) VALUES (?, ?)`,
    tokenizedTerms: `SELECT doc, term FROM temp.${tokenInstances} ORDER BY doc, offset`,
    tokenizeClear: `INSERT INTO temp.${tokens} (${tokens}) VALUES ('delete-all')`,
    termFrequency: `SELECT doc FROM temp.${terms} WHERE term = ? AND col = 'text'`,
    logs: (count: number) => `SELECT ${Array.from({ length: count }, () => 'ln(?)').join(', ')}`,
    recordsBySeq: `SELECT ${RECORD_COLUMNS}, m.seq AS seq FROM ${withVectors} WHERE m.seq IN (SELECT value FROM json_each(?))`,
    cacheScopeValues: (column: string) =>
      `SELECT m.seq, m.user_id, m.agent_id, m.run_id FROM ${t} AS m INDEXED BY "${table}_${column}" WHERE m.${column} = ?`,
    cacheScopeDates: (column: string) =>
      `SELECT m.seq, m.occurred_at, m.created_at FROM ${t} AS m INDEXED BY "${table}_${column}" WHERE m.${column} = ?`,
    // The vector cache's candidates (seqs as JSON, the last `?`), with the rank query and queryAny give them.
    // Of the seqs (JSON, the first `?`), those whose memory passes a query's scope and filter.
    passingSeqs: (where: string) =>
      `SELECT m.seq FROM json_each(?) AS candidate CROSS JOIN ${t} AS m ON m.seq = candidate.value CROSS JOIN ${vectors} AS v ON v.seq = m.seq WHERE ${where}`,
    rescore: (count: number) => `
      SELECT ${RECORD_COLUMNS}, m.id_order,
        ${leastOf(Array.from({ length: count }, () => 'COALESCE(vec_distance_cosine(v.embedding, ?), 1.0)'))} AS rank
      FROM ${withVectors} WHERE m.seq IN (SELECT value FROM json_each(?))`,
    // The approximate index's candidates (seqs as JSON, the first `?` after the vectors), read by seq (the
    // CROSS JOIN keeps SQLite from walking the scope's index instead), those passing the query's scope and filter ranked exactly and the best `?` (the last) read whole, as the query statement does.
    rescoreWhere: (count: number, where: string) => `
      WITH top AS (
        SELECT m.seq AS seq, m.id_order AS id_order,
          ${leastOf(Array.from({ length: count }, () => 'COALESCE(vec_distance_cosine(v.embedding, ?), 1.0)'))} AS rank
        FROM json_each(?) AS candidate CROSS JOIN ${t} AS m ON m.seq = candidate.value CROSS JOIN ${vectors} AS v ON v.seq = m.seq
        WHERE ${where}
        ORDER BY rank, m.id_order
        LIMIT ?
      )
      SELECT ${RECORD_COLUMNS}, top.rank AS rank FROM top CROSS JOIN ${t} AS m ON m.seq = top.seq CROSS JOIN ${vectors} AS v ON v.seq = m.seq ORDER BY top.rank, top.id_order`,
    drop: `
      DROP TABLE IF EXISTS ${changes};
      DROP TABLE IF EXISTS ${vectors};
      DROP TABLE IF EXISTS ${kw};
      DROP TABLE IF EXISTS ${t};
      DROP TABLE IF EXISTS ${meta};
    `,
    readMeta: `SELECT value FROM ${meta} WHERE key = ?`,
    writeMeta: `INSERT INTO ${meta} (key, value) VALUES (?, ?)`,
    writeMetaIfAbsent: `INSERT OR IGNORE INTO ${meta} (key, value) VALUES (?, ?)`,
    // A new row takes the next seq of its scope's block (see scopeBlock), so a scope's rows sit side
    // by side in the table; a full block (2^32 rows) leaves the choice to SQLite. An existing id keeps its seq.
    upsert: `
      INSERT INTO ${t} (seq, id, id_order, user_id, agent_id, run_id, text, hash, metadata, created_at, updated_at, occurred_at)
      VALUES (
        (SELECT CASE WHEN max(seq) IS NULL THEN @block * ${BLOCK_SIZE} WHEN max(seq) < (@block + 1) * ${BLOCK_SIZE} - 1 THEN max(seq) + 1 END
         FROM ${t} WHERE seq >= @block * ${BLOCK_SIZE} AND seq < (@block + 1) * ${BLOCK_SIZE}),
        @id, @id_order, @user_id, @agent_id, @run_id, @text, @hash, @metadata, @created_at, @updated_at, @occurred_at)
      ON CONFLICT (id) DO UPDATE SET
        user_id = excluded.user_id, agent_id = excluded.agent_id, run_id = excluded.run_id,
        text = excluded.text, hash = excluded.hash, metadata = excluded.metadata,
        created_at = excluded.created_at, updated_at = excluded.updated_at, occurred_at = excluded.occurred_at
      RETURNING seq`,
    upsertVector: `
      INSERT INTO ${vectors} (seq, expires_at, memory_type, embedding) VALUES (@seq, @expires_at, @memory_type, @embedding)
      ON CONFLICT (seq) DO UPDATE SET expires_at = excluded.expires_at, memory_type = excluded.memory_type, embedding = excluded.embedding`,
    // Rank inside the scope (index on the scope column), then read whole rows for the topK only,
    // so the sorter never carries the other rows' columns.
    // The ranking step walks the index `index` names (see rankingIndex): the scope's (column, id_order)
    // one, named so that SQLite does not take the (column, occurred_at) one when a filter needs the
    // memory rows (id order is (nearly) the order rows were written in, so it reads the scope's run of
    // pages in order, not at random), or the (column, occurred_at) one for a narrow occurredAt range.
    query: (where: string, index: string) => `
      WITH top AS (
        SELECT m.seq AS seq, m.id_order AS id_order, COALESCE(vec_distance_cosine(v.embedding, ?), 1.0) AS rank
        FROM ${t} AS m INDEXED BY "${table}_${index}" CROSS JOIN ${vectors} AS v ON v.seq = m.seq
        WHERE ${where}
        ORDER BY rank, m.id_order
        LIMIT ?
      )
      SELECT ${RECORD_COLUMNS}, top.rank AS rank FROM top CROSS JOIN ${t} AS m ON m.seq = top.seq CROSS JOIN ${vectors} AS v ON v.seq = m.seq ORDER BY top.rank, top.id_order`,
    queryAny: (where: string, count: number, index: string) => `
      WITH top AS (
        SELECT m.seq AS seq, m.id_order AS id_order, ${leastOf(Array.from({ length: count }, () => 'COALESCE(vec_distance_cosine(v.embedding, ?), 1.0)'))} AS rank
        FROM ${t} AS m INDEXED BY "${table}_${index}" CROSS JOIN ${vectors} AS v ON v.seq = m.seq
        WHERE ${where}
        ORDER BY rank, m.id_order
        LIMIT ?
      )
      SELECT ${RECORD_COLUMNS}, top.rank AS rank FROM top CROSS JOIN ${t} AS m ON m.seq = top.seq CROSS JOIN ${vectors} AS v ON v.seq = m.seq ORDER BY top.rank, top.id_order`,
    // FTS5's averages record (the index's row count, then its token counts), and the last seq of a block.
    keywordAverages: `SELECT block FROM "${table}_kw_data" WHERE id = 1`,
    blockTop: `SELECT max(seq) AS top FROM ${t} WHERE seq >= ? AND seq < ?`,
    // How many of the scope's rows have occurred_at in [?, ?], counted up to the last `?` (index only).
    countInPeriod: (column: string) => `
      SELECT count(*) AS count FROM (
        SELECT 1 FROM ${t} INDEXED BY "${table}_${column}_occurred" WHERE ${column} = ? AND occurred_at >= ? AND occurred_at <= ? LIMIT ?
      )`,
    // How many rows the scope holds, counted up to `?` (index only; the (column, occurred_at) index
    // has smaller entries than the id-order one, and countInPeriod has just read part of it).
    countInScope: (column: string) =>
      `SELECT count(*) AS count FROM (SELECT 1 FROM ${t} INDEXED BY "${table}_${column}_occurred" WHERE ${column} = ? LIMIT ?)`,
    // The head of the keyword ranking: the `?` best matches by BM25 alone (FTS5 ranks without the
    // memories table), then the scope and filter on those; `ranked` and `bound` (how many it ranked,
    // and the worst rank among them) tell whether that is the exact answer (see isExactHead).
    keywordQueryHead: (where: string) => `
      WITH ranked AS MATERIALIZED (
        SELECT ${kw}.rowid AS seq, bm25(${kw}, 1.0, 0.0) AS relevance FROM ${kw} WHERE ${kw} MATCH ? ORDER BY relevance LIMIT ?
      ),
      top AS (
        SELECT m.seq AS seq, m.id_order AS id_order, ranked.relevance AS rank
        FROM ranked CROSS JOIN ${t} AS m ON m.seq = ranked.seq
        WHERE ${where}
        ORDER BY rank, m.id_order
        LIMIT ?
      )
      SELECT ${RECORD_COLUMNS}, top.rank AS rank, (SELECT count(*) FROM ranked) AS ranked, (SELECT max(relevance) FROM ranked) AS bound
      FROM top CROSS JOIN ${t} AS m ON m.seq = top.seq CROSS JOIN ${vectors} AS v ON v.seq = m.seq ORDER BY top.rank, top.id_order`,
    keywordQuery: (where: string) => `
      WITH top AS (
        SELECT m.seq AS seq, m.id_order AS id_order, bm25(${kw}, 1.0, 0.0) AS rank
        FROM ${kw} JOIN ${t} AS m ON m.seq = ${kw}.rowid
        WHERE ${kw} MATCH ? AND ${where}
        ORDER BY rank, m.id_order
        LIMIT ?
      )
      SELECT ${RECORD_COLUMNS}, top.rank AS rank FROM top CROSS JOIN ${t} AS m ON m.seq = top.seq CROSS JOIN ${vectors} AS v ON v.seq = m.seq ORDER BY top.rank, top.id_order`,
    // get and delete look each id up in the id index, then test the scope: json_each drives the join
    // (CROSS JOIN fixes the order). Left to itself, SQLite may walk the scope's index and test every
    // row's id against the list instead, which reads the whole scope (10k rows: 24 ms instead of 0.1).
    get: (scope: string) =>
      `SELECT ${RECORD_COLUMNS} FROM json_each(?) AS asked CROSS JOIN ${t} AS m ON m.id = asked.value CROSS JOIN ${vectors} AS v ON v.seq = m.seq WHERE ${scope}`,
    findByHash: (scope: string) =>
      `SELECT ${RECORD_COLUMNS} FROM ${t} AS m INDEXED BY "${table}_hash" CROSS JOIN ${vectors} AS v ON v.seq = m.seq WHERE m.hash IN (SELECT value FROM json_each(?)) AND ${scope} ORDER BY m.id_order`,
    delete: (scope: string) =>
      `DELETE FROM ${t} WHERE seq IN (SELECT m.seq FROM json_each(?) AS asked CROSS JOIN ${t} AS m ON m.id = asked.value WHERE ${scope})`,
    // `index`: a scope column whose (column, occurred_at) index the plan must use (see conversationColumn);
    // without it SQLite walks the scope in id order, reading every row to test occurred_at. The rows
    // found through that index come in occurred_at order, so they are sorted by id first (seq and
    // id_order only, a small sort) and read whole afterwards, not carried whole through the sorter.
    list: (where: string, index?: string) =>
      index === undefined
        ? `SELECT ${RECORD_COLUMNS}, m.id_order FROM ${t} AS m CROSS JOIN ${vectors} AS v ON v.seq = m.seq WHERE m.id_order > ? AND ${where} ORDER BY m.id_order LIMIT ?`
        : sortedFirst(index, `WHERE m.id_order > ? AND ${where} ORDER BY m.id_order LIMIT ?`, 'ASC'),
    listDescending: (where: string, bounded: boolean, index?: string) =>
      index === undefined
        ? `SELECT ${RECORD_COLUMNS}, m.id_order FROM ${t} AS m CROSS JOIN ${vectors} AS v ON v.seq = m.seq WHERE ${bounded ? 'm.id_order < ? AND ' : ''}${where} ORDER BY m.id_order DESC LIMIT ?`
        : sortedFirst(index, `WHERE ${bounded ? 'm.id_order < ? AND ' : ''}${where} ORDER BY m.id_order DESC LIMIT ?`, 'DESC'),
    // Unordered: the first `limit` matches in whatever order the plan reads them, sorted afterwards.
    listKeys: (where: string, index: string | undefined, unordered: boolean) =>
      `SELECT m.id, m.created_at, m.occurred_at, m.id_order FROM ${t} AS m${index === undefined ? '' : ` INDEXED BY "${table}_${index}_occurred"`} CROSS JOIN ${vectors} AS v ON v.seq = m.seq WHERE ${where}${unordered ? '' : ' ORDER BY m.id_order'} LIMIT ?`,
    scopes: (where: string) =>
      `SELECT m.user_id, m.agent_id, m.run_id, COUNT(*) AS count FROM ${t} AS m WHERE ${where}
       GROUP BY m.user_id, m.agent_id, m.run_id ORDER BY m.user_id, m.agent_id, m.run_id LIMIT ?`,
    reset: `DELETE FROM ${t}`,
  };
}

/**
 * How far apart two cosine similarities of `dimensions`-float vectors may be ranked differently by the
 * cache's scan and by sqlite-vec: twice a bound on both one's rounding errors. Each computes in float32
 * (2^-24 relative rounding), and a sum of n products is off by at most about n · 2^-24 of the product of
 * the lengths; the cache's unit vectors and sqlite-vec's division by the lengths add a few more such
 * terms. 8 · n · 2^-24: 1.8e-4 at 384 dimensions, 7.3e-4 at 1536, far below the gaps between the
 * scores of distinct memories that decide a ranking, far above the differences actually seen (about 1e-7).
 */
function nearTie(dimensions: number): number {
  return 8 * dimensions * 2 ** -24;
}

/** Options of the keyword index, checked: its byte budget, or `undefined` when it is off. */
function validateKeywordIndexOptions(options: SqliteVectorStoreOptions): number | undefined {
  const { keywordIndex, keywordIndexBytes } = options;
  if (keywordIndex !== undefined && typeof keywordIndex !== 'boolean') {
    throw new InvalidInputError(
      'options.keywordIndex',
      'expected a boolean',
      'Pass keywordIndex: false to rank keyword searches with FTS5 in SQLite, or leave it out.',
    );
  }
  if (
    keywordIndexBytes !== undefined &&
    (typeof keywordIndexBytes !== 'number' || !Number.isSafeInteger(keywordIndexBytes) || keywordIndexBytes < 1)
  ) {
    throw new InvalidInputError(
      'options.keywordIndexBytes',
      'expected a positive integer',
      `Pass a byte budget such as ${DEFAULT_KEYWORD_INDEX_BYTES}, or leave it out.`,
    );
  }
  return keywordIndex === false ? undefined : (keywordIndexBytes ?? DEFAULT_KEYWORD_INDEX_BYTES);
}

/** The row count and the token count over all columns of FTS5's averages record: varints, the row count first, then one per column. */
function averagesOf(block: Buffer): { rows: number; tokens: number } {
  const values = varints(block);
  const [rows = 0, ...columns] = values;
  return { rows, tokens: columns.reduce((sum, count) => sum + count, 0) };
}

/**
 * Candidates asked of the approximate index per query vector for `topK` answers (at least
 * `approximateCandidates`): enough beyond topK that a few the filter drops (expired memories) or
 * the index ranks slightly out of order leave the true top `topK` among them.
 */
function approximateCandidates(topK: number): number {
  return 4 * topK + CACHE_EXTRA_CANDIDATES;
}

/**
 * Where approximate indexes are saved for a file (see {@link AnnStorage}): `<file>.ann/` next to it;
 * `undefined` when approximate search is off or the database has no file (`:memory:`, a temporary one).
 */
function annStorage(database: Database.Database, approximateMinRows: number | undefined, table: string): AnnStorage | undefined {
  const name = database.name;
  if (approximateMinRows === undefined || name === '' || name === ':memory:' || name.startsWith('file:')) return undefined;
  return new AnnStorage(`${resolve(name)}.ann`, table);
}

/** Options of approximate search, checked: the fewest memories of an approximate scope, or `undefined` when it is off. */
function validateApproximateOptions(options: SqliteVectorStoreOptions): number | undefined {
  const { approximate, approximateMinScope } = options;
  if (approximate !== undefined && typeof approximate !== 'boolean') {
    throw new InvalidInputError(
      'options.approximate',
      'expected a boolean',
      'Pass approximate: true to search large scopes through an approximate index, or leave it out for exact search.',
    );
  }
  if (approximate === true && options.vectorCache === false) {
    throw new InvalidInputError(
      'options.approximate',
      'approximate search lives in the vector cache, which vectorCache: false turns off',
      'Leave vectorCache out (or true) to search approximately, or leave approximate out.',
    );
  }
  if (
    approximateMinScope !== undefined &&
    (typeof approximateMinScope !== 'number' || !Number.isSafeInteger(approximateMinScope) || approximateMinScope < 1)
  ) {
    throw new InvalidInputError(
      'options.approximateMinScope',
      'expected an integer of at least 1',
      `Pass the fewest memories of a scope searched approximately, e.g. ${DEFAULT_APPROXIMATE_MIN_SCOPE}, or leave it out.`,
    );
  }
  return approximate === true ? (approximateMinScope ?? DEFAULT_APPROXIMATE_MIN_SCOPE) : undefined;
}

/** Options of approximate search's searches, checked, with their defaults. */
function validateApproximateSearchOptions(options: SqliteVectorStoreOptions): { expansion: number; candidates: number } {
  const checked = (field: 'approximateExpansion' | 'approximateCandidates', fallback: number): number => {
    const value = options[field];
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > MAX_APPROXIMATE_SEARCH) {
      throw new InvalidInputError(
        `options.${field}`,
        `expected an integer from 1 to ${MAX_APPROXIMATE_SEARCH}`,
        `Pass e.g. ${fallback} (the default), or leave it out.`,
      );
    }
    return value;
  };
  return {
    expansion: checked('approximateExpansion', DEFAULT_APPROXIMATE_EXPANSION),
    candidates: checked('approximateCandidates', APPROXIMATE_MIN_CANDIDATES),
  };
}

/** Options of the vector cache, checked: its byte budget, or `undefined` when it is off. */
function validateCacheOptions(options: SqliteVectorStoreOptions): number | undefined {
  const { vectorCache, vectorCacheBytes } = options;
  if (vectorCache !== undefined && typeof vectorCache !== 'boolean') {
    throw new InvalidInputError('options.vectorCache', 'expected a boolean', 'Pass vectorCache: false to rank in SQLite, or leave it out.');
  }
  if (
    vectorCacheBytes !== undefined &&
    (typeof vectorCacheBytes !== 'number' || !Number.isSafeInteger(vectorCacheBytes) || vectorCacheBytes < 1)
  ) {
    throw new InvalidInputError(
      'options.vectorCacheBytes',
      'expected a positive integer number of bytes',
      'Pass e.g. 536870912 (512 MiB), or leave it out for 2 GiB.',
    );
  }
  return vectorCache === false ? undefined : (vectorCacheBytes ?? DEFAULT_VECTOR_CACHE_BYTES);
}

/** The scope column a scoped read walks: the first of userId, agentId, runId the scope sets. */
function scopeColumn(scope: Scope): string {
  return SCOPE_COLUMNS.find(([field]) => scope[field] !== undefined)![1];
}

/**
 * The scope column whose (column, occurred_at) index a listing should read, or `undefined` for the
 * usual walk in id order: when the filter pins occurredAt to a few values (`eq`, or `in` with at
 * most {@link MAX_CONVERSATION_VALUES}), alone or in a top-level `and`, as core's hybrid search
 * does to read the conversations of its best candidates. The rows found are then sorted by id,
 * which costs little next to reading every row of a large scope to test its occurred_at.
 */
function conversationColumn(scope: Scope, filter: Filter | undefined): string | undefined {
  if (filter === undefined) return undefined;
  const pinsOccurredAt = (node: Filter): boolean =>
    (node.op === 'eq' && node.field === 'occurredAt') ||
    (node.op === 'in' && node.field === 'occurredAt' && Array.isArray(node.values) && node.values.length <= MAX_CONVERSATION_VALUES);
  const pinned = filter.op === 'and' ? Array.isArray(filter.filters) && filter.filters.some(pinsOccurredAt) : pinsOccurredAt(filter);
  if (!pinned) return undefined;
  return scopeColumn(scope);
}

/** Whether any comparison in `filter` reads `occurredAt`. */
function readsOccurredAt(filter: Filter): boolean {
  if (filter.op === 'and' || filter.op === 'or') return filter.filters.some(readsOccurredAt);
  if (filter.op === 'not') return readsOccurredAt(filter.filter);
  return 'field' in filter && filter.field === 'occurredAt';
}

/**
 * A conversation listing's filter split in two: the occurredAt values it pins (`in` or `eq` with
 * epoch-ms numbers, alone or as one member of a top-level `and`) and the rest; `undefined` for any
 * other filter.
 */
function conversationFilter(filter: Filter | undefined): { times: ReadonlySet<number>; rest: Filter | undefined } | undefined {
  if (filter === undefined) return undefined;
  const timesOf = (node: Filter): number[] | undefined => {
    const values: readonly unknown[] | undefined =
      node.op === 'in' && node.field === 'occurredAt'
        ? node.values
        : node.op === 'eq' && node.field === 'occurredAt'
          ? [node.value]
          : undefined;
    if (!Array.isArray(values) || values.length > MAX_CONVERSATION_VALUES) return undefined;
    return values.every((time) => typeof time === 'number' && Number.isFinite(time)) ? (values as number[]) : undefined;
  };
  if (filter.op !== 'and') {
    const times = timesOf(filter);
    return times === undefined ? undefined : { times: new Set(times), rest: undefined };
  }
  const pinned = filter.filters.findIndex((node) => timesOf(node) !== undefined);
  if (pinned < 0) return undefined;
  const others = filter.filters.filter((_, index) => index !== pinned);
  return {
    times: new Set(timesOf(filter.filters[pinned]!)),
    rest: others.length === 0 ? undefined : others.length === 1 ? others[0] : { op: 'and', filters: others },
  };
}

/**
 * The bounds (inclusive, in ms) a filter puts on occurredAt, or `undefined` when it puts none: the
 * conditions `gt`, `gte`, `lt`, `lte`, `eq` and `in` on occurredAt that every match must meet (the
 * filter itself, or any of its `and`s, nested or not), as core's hybrid search sends for a query
 * that names a period. Only a hint for choosing an index: the range may hold more rows than match.
 */
function occurredRange(filter: Filter | undefined): { from: number; to: number } | undefined {
  let from = Number.NEGATIVE_INFINITY;
  let to = Number.POSITIVE_INFINITY;
  let bounded = false;
  const visit = (node: Filter, depth: number): void => {
    if (typeof node !== 'object' || node === null || depth > 8) return;
    if (node.op === 'and') {
      if (Array.isArray(node.filters)) for (const child of node.filters) visit(child, depth + 1);
      return;
    }
    if (!('field' in node) || node.field !== 'occurredAt') return;
    const values = node.op === 'in' ? (Array.isArray(node.values) ? node.values : []) : 'value' in node ? [node.value] : [];
    const numbers = values.filter((value): value is number => typeof value === 'number' && Number.isFinite(value));
    if (numbers.length === 0 || (node.op !== 'in' && numbers.length !== values.length)) return;
    const least = numbers.reduce((a, b) => Math.min(a, b));
    const most = numbers.reduce((a, b) => Math.max(a, b));
    if (node.op === 'gt' || node.op === 'gte' || node.op === 'eq' || node.op === 'in') from = Math.max(from, least);
    if (node.op === 'lt' || node.op === 'lte' || node.op === 'eq' || node.op === 'in') to = Math.min(to, most);
    bounded ||= ['gt', 'gte', 'lt', 'lte', 'eq', 'in'].includes(node.op);
  };
  if (filter !== undefined) visit(filter, 0);
  return bounded ? { from, to } : undefined;
}

/**
 * The least of SQL expressions, as SQLite's multi-argument min() nested in groups of at most 100
 * (min() takes at most 127 arguments, and with one argument it would be the aggregate).
 */
function leastOf(expressions: readonly string[]): string {
  if (expressions.length === 1) return expressions[0]!;
  if (expressions.length <= 100) return `min(${expressions.join(', ')})`;
  const groups: string[] = [];
  for (let start = 0; start < expressions.length; start += 100) groups.push(leastOf(expressions.slice(start, start + 100)));
  return leastOf(groups);
}

/** The scope tokens of a row (`new`, or a table name) as an SQL expression: see {@link scopeTokenQuery}. */
function scopeTokens(row: string): string {
  return `trim(coalesce('u' || hex(${row}.user_id) || '0', '') || ' ' || coalesce('a' || hex(${row}.agent_id) || '0', '') || ' ' || coalesce('r' || hex(${row}.run_id) || '0', ''))`;
}

/**
 * The block of seq values (the table's INTEGER PRIMARY KEY, so the order of rows in the file) that
 * new rows of `scope` take: a hash of its userId (else agentId, else runId) into 1 to 2^21 - 1. The
 * rows of one user then sit together in the table, so a scoped search or scan reads a run of
 * neighbouring pages, not one page per row spread over the whole store. Two users may share a
 * block; that costs locality, never correctness.
 */
function scopeBlock(scope: Scope): number {
  const key = scope.userId !== undefined ? `u${scope.userId}` : scope.agentId !== undefined ? `a${scope.agentId}` : `r${scope.runId ?? ''}`;
  // FNV-1a over the UTF-16 code units.
  let hash = 0x811c9dc5;
  for (let index = 0; index < key.length; index++) {
    hash ^= key.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return 1 + ((hash >>> 0) % (BLOCKS - 1));
}

/** `m.user_id = ? AND …` for every id the scope sets (validated: at least one). */
function scopeSql(scope: Scope): SqlCondition {
  const parts: string[] = [];
  const params: SqlValue[] = [];
  for (const [field, column] of SCOPE_COLUMNS) {
    const value = scope[field];
    if (value === undefined) continue;
    parts.push(`m.${column} = ?`);
    params.push(value);
  }
  return { sql: parts.join(' AND '), params };
}

function validateTopK(topK: unknown): number {
  if (typeof topK !== 'number' || !Number.isInteger(topK) || topK < 0) {
    throw new InvalidInputError('topK', 'expected a non-negative integer', 'Pass e.g. topK: 10.');
  }
  return topK;
}

function validateId(id: unknown, field: string): string {
  if (typeof id !== 'string' || id.length === 0 || LONE_SURROGATE.test(id)) {
    throw new InvalidInputError(field, 'expected a non-empty string of well-formed Unicode', 'Use the UUID mem created.');
  }
  return id;
}

function validateIds(ids: unknown): string[] {
  if (!Array.isArray(ids)) throw new InvalidInputError('ids', 'expected an array of ids', 'Pass { ids: ["…"] }.');
  return [...new Set(ids.map((id, index) => validateId(id, `ids[${index}]`)))];
}

function epochMs(date: unknown, field: string): number {
  const ms = date instanceof Date ? date.getTime() : Number.NaN;
  if (!Number.isFinite(ms)) throw new InvalidInputError(field, 'expected a valid Date', 'Pass a Date such as new Date().');
  return ms;
}

/** Length of an array (or typed array) of numbers; 0 for anything else. */
function vectorLength(vector: unknown): number {
  return Array.isArray(vector) || (ArrayBuffer.isView(vector) && !(vector instanceof DataView)) ? (vector as ArrayLike<number>).length : 0;
}

function encodeVector(vector: readonly number[], field: string): Buffer {
  const floats = new Float32Array(vector.length);
  for (let index = 0; index < vector.length; index++) {
    const value = vector[index];
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new InvalidInputError(`${field}[${index}]`, 'expected a finite number', 'Check the embedder output.');
    }
    floats[index] = value;
  }
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength);
}

/**
 * Whether the head of a keyword ranking (the `limit` best matches by BM25, then the scope and filter)
 * is the exact answer for `topK`: when FTS5 ranked every match (fewer than `limit`), or when the
 * `topK` rows that passed all rank strictly better than the worst ranked match, since every match
 * left out ranks no better than that one. An empty head is never taken as exact.
 */
function isExactHead(
  head: readonly { readonly rank: number; readonly ranked: number; readonly bound: number }[],
  topK: number,
  limit: number,
): boolean {
  const first = head[0];
  if (first === undefined) return false;
  if (first.ranked < limit) return true;
  return head.length === topK && head[topK - 1]!.rank < first.bound;
}

/**
 * The unsigned integer an SQLite varint (as FTS5 writes them) at the start of `bytes` holds: up to
 * eight bytes of 7 bits, big-endian, each with the high bit set when another follows, then a ninth of
 * 8 bits; 0 for an empty buffer.
 */
function leadingVarint(bytes: Buffer): number {
  let value = 0;
  for (let index = 0; index < 9 && index < bytes.length; index++) {
    const byte = bytes[index]!;
    if (index === 8) return value * 256 + byte;
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) return value;
  }
  return value;
}

/** Whether a filter is absent or only `not` nodes (or an `and` of them): it only leaves memories out. */
function onlyExcludes(filter: Filter | undefined): boolean {
  if (filter === undefined || filter.op === 'not') return true;
  return filter.op === 'and' && filter.filters.every((part) => part.op === 'not');
}

/** Floats a misaligned vector is copied into before decoding (grown as needed; one per process). */
let decodeScratch = new Float32Array(1536);

function decodeVector(blob: Buffer): number[] {
  const length = blob.byteLength / Float32Array.BYTES_PER_ELEMENT;
  // Read the floats where they are when the driver's Buffer starts on a 4-byte boundary (it copies each
  // BLOB into a buffer of its own, which does), else through a shared scratch copy: no new ArrayBuffer
  // per record, which a search reading a hundred records paid for in garbage collection.
  let floats: Float32Array;
  if (blob.byteOffset % Float32Array.BYTES_PER_ELEMENT === 0) floats = new Float32Array(blob.buffer, blob.byteOffset, length);
  else {
    if (decodeScratch.length < length) decodeScratch = new Float32Array(length);
    new Uint8Array(decodeScratch.buffer, 0, blob.byteLength).set(blob);
    floats = decodeScratch;
  }
  // A plain loop: Array.from on a typed array is several times slower, and this runs per result.
  const vector = new Array<number>(length);
  for (let index = 0; index < length; index++) vector[index] = floats[index]!;
  return vector;
}

/** Serialises metadata, refusing values JSON would not round-trip (NaN, objects, null, nested arrays). */
function encodeMetadata(metadata: unknown, field: string): string {
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new InvalidInputError(field, 'expected an object', 'Pass metadata such as { category: "food" }, or {}.');
  }
  for (const [key, value] of Object.entries(metadata)) {
    const ok = isScalar(value) || (Array.isArray(value) && value.every(isScalar));
    if (!ok) {
      throw new InvalidInputError(
        `${field}.${key}`,
        'expected a string, a finite number, a boolean or an array of strings',
        'Flatten nested values into separate keys.',
      );
    }
  }
  return JSON.stringify(metadata);
}

function isScalar(value: unknown): boolean {
  return typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}

function toRecord(row: MemoryRow): MemoryRecord {
  const scope: { userId?: string; agentId?: string; runId?: string } = {};
  if (row.user_id !== null) scope.userId = row.user_id;
  if (row.agent_id !== null) scope.agentId = row.agent_id;
  if (row.run_id !== null) scope.runId = row.run_id;
  return {
    id: row.id,
    vector: decodeVector(row.embedding),
    text: row.text,
    hash: row.hash,
    scope,
    metadata: JSON.parse(row.metadata) as Metadata,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    occurredAt: new Date(row.occurred_at),
  };
}

function clampScore(score: number): number {
  return Math.min(1, Math.max(-1, score));
}
