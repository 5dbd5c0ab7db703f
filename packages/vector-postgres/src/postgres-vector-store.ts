import {
  type Call,
  DimensionMismatchError,
  FILTER_OPERATORS,
  type Filter,
  InvalidInputError,
  MemError,
  type MemoryRecord,
  type Metadata,
  ProviderRequestError,
  type Scope,
  type ScopedCall,
  UnsupportedCapabilityError,
  type VectorMatch,
  type VectorStore,
  defineVectorStoreCapabilities,
  filterOperatorsUsed,
  integerOption,
  throwIfAborted,
  validateScope,
} from '@mem/core/adapter';
import {
  DEFAULT_POSTGRES_SCHEMA,
  POSTGRES_PROVIDER,
  type PostgresMigration,
  checkStorableText,
  dropComponent,
  epochMs,
  isStorableText,
  migrate,
  openPostgresPool,
  qualifiedName,
  readComponent,
  sqlState,
  toPostgresError,
  validateConnectionOptions,
  validateIdentifier,
  withTransaction,
  writeStatement,
} from '@mem/postgres';
import type pg from 'pg';
import { SqlParameters, filterToSql } from './postgres-filter';
import { idOrderKey } from './postgres-id-order';
import {
  DEFAULT_EF_SEARCH,
  DEFAULT_EXACT_SEARCH_LIMIT,
  DEFAULT_ITERATIVE_SCAN,
  DEFAULT_TEXT_SEARCH_CONFIG,
  DEFAULT_VECTOR_TABLE,
  MAX_HNSW_DIMENSIONS,
  type PostgresVectorStoreOptions,
} from './postgres-vector-store-options';

/** Rows `list` reads per statement; each page is a fresh keyset query, so writes between pages are safe. */
const LIST_PAGE_SIZE = 500;
/** Largest vector pgvector's `vector` type holds. */
const MAX_DIMENSIONS = 16_000;
/** Text search configuration names: spliced into the table definition, so only plain identifiers. */
const TEXT_SEARCH_CONFIG_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;
const UNDEFINED_TABLE = '42P01';

const SCOPE_COLUMNS = [
  ['userId', 'user_id'],
  ['agentId', 'agent_id'],
  ['runId', 'run_id'],
] as const;

/** Columns a record is rebuilt from, read through the alias `m`. */
const RECORD_COLUMNS =
  'm.id, m.user_id, m.agent_id, m.run_id, m.text, m.hash, m.metadata, m.created_at, m.updated_at, m.occurred_at, m.embedding::text AS embedding';

interface MemoryRow {
  readonly id: string;
  readonly user_id: string | null;
  readonly agent_id: string | null;
  readonly run_id: string | null;
  readonly text: string;
  readonly hash: string;
  readonly metadata: Metadata;
  readonly created_at: string;
  readonly updated_at: string;
  readonly occurred_at: string;
  readonly embedding: string;
}

/** One column array per field: a batch is written by one `INSERT … SELECT FROM unnest(…)`. */
interface UpsertColumns {
  readonly id: string[];
  readonly idOrder: Buffer[];
  readonly userId: (string | null)[];
  readonly agentId: (string | null)[];
  readonly runId: (string | null)[];
  readonly text: string[];
  readonly hash: string[];
  readonly metadata: string[];
  readonly createdAt: number[];
  readonly updatedAt: number[];
  readonly occurredAt: number[];
  readonly embedding: string[];
}

/**
 * A {@link VectorStore} in PostgreSQL with pgvector: one table per collection, scope ids as indexed
 * columns, metadata as `jsonb` with every filter operator evaluated in SQL, an HNSW (cosine) index
 * for large scopes and exact search for small ones, and a `tsvector` keyword index for hybrid search.
 *
 * The table is created, and later migrated, on `ensureCollection`: versioned steps under one
 * advisory lock, so several processes may start at once. Every write is one statement, so a batch
 * is stored whole or not at all, and concurrent writers (other processes included) lose nothing.
 *
 * @example
 * import { PostgresVectorStore } from '@mem/vector-postgres';
 * const store = new PostgresVectorStore({ connectionString: process.env.DATABASE_URL });
 * await store.ensureCollection({ dimensions: 1536 });
 * const matches = await store.query({ scope: { userId: 'u1' }, vector, topK: 5 });
 * await store.close();
 */
export class PostgresVectorStore implements VectorStore {
  /** `'postgres'`. */
  readonly provider = POSTGRES_PROVIDER;
  /** Every filter operator runs natively in SQL; keyword search runs on a `tsvector` column. */
  readonly capabilities = defineVectorStoreCapabilities({
    filterOperators: FILTER_OPERATORS,
    maxUpsertBatch: 1000,
    readAfterWrite: 'immediate',
    keywordSearch: true,
  });
  /** Name of the table holding the memories. */
  readonly table: string;
  /** Schema holding the table. */
  readonly schema: string;
  /** Text search configuration of the keyword index. */
  readonly textSearchConfig: string;

  private readonly pool: pg.Pool;
  private readonly ownsPool: boolean;
  private readonly qualified: string;
  private readonly component: string;
  private readonly exactSearchLimit: number;
  private readonly efSearch: number;
  private readonly iterativeScan: 'strict_order' | 'relaxed_order';
  private readonly maxScanTuples: number;
  private readonly hnswM: number;
  private readonly hnswEfConstruction: number;
  private dimensions: number | undefined;
  private closed = false;

  /**
   * Opens a pool (or adopts yours). Nothing is sent to the server until the first call.
   * @throws {InvalidInputError} for invalid options (both `connectionString` and `pool`, a bad table name, …).
   * @throws {MissingSettingError} when neither `connectionString`, `pool` nor `DATABASE_URL` is given.
   */
  constructor(options: PostgresVectorStoreOptions = {}) {
    validateConnectionOptions(options);
    this.schema = options.schema ?? DEFAULT_POSTGRES_SCHEMA;
    this.table = validateIdentifier(options.table ?? DEFAULT_VECTOR_TABLE, 'options.table', '"memories" or "memories_work"');
    const config = options.textSearchConfig ?? DEFAULT_TEXT_SEARCH_CONFIG;
    if (typeof config !== 'string' || !TEXT_SEARCH_CONFIG_PATTERN.test(config)) {
      throw new InvalidInputError(
        'options.textSearchConfig',
        'expected the name of a PostgreSQL text search configuration (lower-case letters, digits, "_")',
        'Pass e.g. "simple" or "english" (SELECT cfgname FROM pg_ts_config lists them).',
      );
    }
    this.textSearchConfig = config;
    this.exactSearchLimit = integerOption(options.exactSearchLimit, 'options.exactSearchLimit', DEFAULT_EXACT_SEARCH_LIMIT, 0, 10_000_000);
    this.efSearch = integerOption(options.efSearch, 'options.efSearch', DEFAULT_EF_SEARCH, 1, 1_000);
    const iterativeScan: string = options.iterativeScan ?? DEFAULT_ITERATIVE_SCAN;
    if (iterativeScan !== 'strict_order' && iterativeScan !== 'relaxed_order') {
      throw new InvalidInputError(
        'options.iterativeScan',
        'expected "strict_order" or "relaxed_order"',
        'Pass iterativeScan: "strict_order" or "relaxed_order" (the default, re-sorted by the store), or leave it out.',
      );
    }
    this.iterativeScan = iterativeScan;
    this.maxScanTuples = integerOption(
      options.maxScanTuples,
      'options.maxScanTuples',
      Math.max(20_000, this.exactSearchLimit * 4),
      1,
      2_147_483_647,
    );
    this.hnswM = integerOption(options.hnswM, 'options.hnswM', 16, 2, 100);
    this.hnswEfConstruction = integerOption(options.hnswEfConstruction, 'options.hnswEfConstruction', 64, 4, 1_000);
    if (this.hnswEfConstruction < 2 * this.hnswM) {
      throw new InvalidInputError(
        'options.hnswEfConstruction',
        'must be at least twice hnswM (pgvector refuses less)',
        'Raise it, or lower hnswM.',
      );
    }
    this.qualified = qualifiedName(this.schema, this.table);
    this.component = `vector:${this.table}`;
    const connection = openPostgresPool(options);
    this.pool = connection.pool;
    this.ownsPool = connection.owned;
  }

  /**
   * Creates the table and its indexes if they are missing (once, under the migration lock, even
   * when several processes start at once), or checks an existing table's dimensions and keyword
   * language. Creates the `vector` extension when the database lacks it (needs the privilege).
   * @throws {DimensionMismatchError} when the table holds vectors of another length.
   * @throws {InvalidInputError} when the table was created with another `textSearchConfig`, or the configuration does not exist.
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
    await this.execute('ensureCollection', request.signal, async () => {
      try {
        await this.pool.query('SELECT $1::regconfig', [this.textSearchConfig]);
      } catch (error) {
        if (sqlState(error) !== '42704') throw error;
        throw new InvalidInputError(
          'options.textSearchConfig',
          `PostgreSQL has no text search configuration "${this.textSearchConfig}"`,
          'Pass one that SELECT cfgname FROM pg_ts_config lists, e.g. "simple" or "english".',
        );
      }
      const result = await migrate(this.pool, {
        schema: this.schema,
        component: this.component,
        extensions: ['vector'],
        migrations: this.migrations(dimensions),
        settings: { dimensions, textSearchConfig: this.textSearchConfig },
      });
      const stored = Number(result.settings.dimensions);
      if (stored !== dimensions) {
        throw new DimensionMismatchError(
          `PostgreSQL table ${this.schema}.${this.table}`,
          stored,
          dimensions,
          'Use a new table for this embedder, or re-embed every memory into a new table.',
        );
      }
      if (result.settings.textSearchConfig !== this.textSearchConfig) {
        throw new InvalidInputError(
          'options.textSearchConfig',
          `the table ${this.schema}.${this.table} was created with "${String(result.settings.textSearchConfig)}"`,
          `Pass textSearchConfig: "${String(result.settings.textSearchConfig)}", or use another table.`,
        );
      }
      this.dimensions = dimensions;
    });
  }

  /**
   * Inserts or replaces records by id in one statement: every record or none. A batch naming an id
   * twice keeps the last version.
   * @throws {DimensionMismatchError} when a vector has the wrong length (nothing is written).
   * @throws {InvalidInputError} when a record is malformed or holds text PostgreSQL cannot store (U+0000) (nothing is written).
   */
  async upsert(request: Call<{ readonly records: readonly MemoryRecord[] }>): Promise<void> {
    await this.execute('upsert', request.signal, async () => {
      if (!Array.isArray(request.records)) {
        throw new InvalidInputError('records', 'expected an array of memory records', 'Pass { records: [record] }.');
      }
      const dimensions = await this.requireDimensions();
      // Validate and encode every record before writing, so a bad one writes nothing.
      const latest = new Map<string, MemoryRecord>();
      request.records.forEach((record, index) => {
        this.validateRecord(record, index, dimensions);
        latest.delete(record.id);
        latest.set(record.id, record);
      });
      if (latest.size === 0) return;
      const columns = toColumns([...latest.values()]);
      await writeStatement(
        this.pool,
        `INSERT INTO ${this.qualified} AS m (id, id_order, user_id, agent_id, run_id, text, hash, metadata, created_at, updated_at, occurred_at, embedding)
         SELECT * FROM unnest($1::text[], $2::bytea[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::jsonb[], $9::int8[], $10::int8[], $11::int8[], $12::vector[])
         ON CONFLICT (id) DO UPDATE SET
           id_order = excluded.id_order, user_id = excluded.user_id, agent_id = excluded.agent_id, run_id = excluded.run_id,
           text = excluded.text, hash = excluded.hash, metadata = excluded.metadata,
           created_at = excluded.created_at, updated_at = excluded.updated_at, occurred_at = excluded.occurred_at,
           embedding = excluded.embedding`,
        [
          columns.id,
          columns.idOrder,
          columns.userId,
          columns.agentId,
          columns.runId,
          columns.text,
          columns.hash,
          columns.metadata,
          columns.createdAt,
          columns.updatedAt,
          columns.occurredAt,
          columns.embedding,
        ],
      );
    });
  }

  /**
   * The `topK` records in scope nearest to `vector` by cosine similarity, best first. Scopes of at
   * most `exactSearchLimit` memories are ranked exactly; larger ones through the HNSW index, with
   * pgvector's iterative scan so a filter never leaves the result short when enough records match.
   */
  async query(
    request: ScopedCall<{ readonly vector: readonly number[]; readonly topK: number; readonly filter?: Filter }>,
  ): Promise<VectorMatch[]> {
    return this.execute('query', request.signal, async () => {
      const scope = validateScope(request.scope);
      const topK = validateTopK(request.topK);
      const dimensions = await this.requireDimensions();
      if (vectorLength(request.vector) !== dimensions) {
        throw this.dimensionMismatch(dimensions, vectorLength(request.vector), 'Embed queries with the same model as the memories.');
      }
      const vector = encodeVector(request.vector, 'vector');
      const parameters = new SqlParameters();
      const where = this.whereClause(scope, request.filter, parameters);
      if (topK === 0) return [];
      const rows = await withTransaction(
        this.pool,
        async (client) => {
          if (await this.isSmallScope(client, scope)) {
            // MATERIALIZED keeps the planner from answering through the (approximate) HNSW index:
            // the scope's rows come through its B-tree index and every distance is computed.
            const query = parameters.add(vector, '::vector');
            const limit = parameters.add(topK, '::int');
            const result = await client.query<MemoryRow & { distance: number }>(
              `WITH candidates AS MATERIALIZED (
                 SELECT m.id, m.id_order, COALESCE(NULLIF(m.embedding <=> ${query}, 'NaN'), 1) AS distance
                 FROM ${this.qualified} AS m WHERE ${where}
               ), top AS (SELECT id, id_order, distance FROM candidates ORDER BY distance, id_order LIMIT ${limit})
               SELECT ${RECORD_COLUMNS}, top.distance FROM top JOIN ${this.qualified} AS m ON m.id = top.id ORDER BY top.distance, top.id_order`,
              parameters.values,
            );
            return result.rows;
          }
          await client.query(
            "SELECT set_config('hnsw.ef_search', $1, true), set_config('hnsw.iterative_scan', $2, true), set_config('hnsw.max_scan_tuples', $3, true)",
            [String(Math.min(1_000, Math.max(this.efSearch, topK))), this.iterativeScan, String(this.maxScanTuples)],
          );
          const query = parameters.add(vector, '::vector');
          const limit = parameters.add(topK, '::int');
          if (this.iterativeScan === 'relaxed_order') {
            // The index may return rows slightly out of order: keep its first topK (MATERIALIZED, so
            // the planner does not merge the two sorts) and sort them by distance; `+ 0` keeps the
            // outer sort from being answered by the index again.
            const result = await client.query<MemoryRow & { distance: number }>(
              `WITH found AS MATERIALIZED (
                 SELECT ${RECORD_COLUMNS}, m.id_order, m.embedding <=> ${query} AS distance
                 FROM ${this.qualified} AS m WHERE ${where}
                 ORDER BY m.embedding <=> ${query} LIMIT ${limit}
               )
               SELECT * FROM found ORDER BY distance + 0, id_order`,
              parameters.values,
            );
            return result.rows;
          }
          const result = await client.query<MemoryRow & { distance: number }>(
            `SELECT ${RECORD_COLUMNS}, m.embedding <=> ${query} AS distance
             FROM ${this.qualified} AS m WHERE ${where}
             ORDER BY m.embedding <=> ${query} LIMIT ${limit}`,
            parameters.values,
          );
          return result.rows;
        },
        { readOnly: true },
      );
      // pgvector's cosine distance of a zero vector is NaN; core calls its similarity 0 (distance 1).
      return rows.map((row) => ({ record: toRecord(row), score: clampScore(1 - (Number.isNaN(row.distance) ? 1 : row.distance)) }));
    });
  }

  /**
   * The `topK` records in scope ranked by `ts_rank` against any word of `text`, best first; score
   * is the rank (positive, higher is better). The words are parsed with the table's text search
   * configuration, as the stored texts were. Records sharing no word are left out.
   */
  async keywordQuery(
    request: ScopedCall<{ readonly text: string; readonly topK: number; readonly filter?: Filter }>,
  ): Promise<VectorMatch[]> {
    return this.execute('keywordQuery', request.signal, async () => {
      const scope = validateScope(request.scope);
      const topK = validateTopK(request.topK);
      if (typeof request.text !== 'string') {
        throw new InvalidInputError('text', 'expected a string', 'Pass the words to search for.');
      }
      const parameters = new SqlParameters();
      const where = this.whereClause(scope, request.filter, parameters);
      if (topK === 0 || !/[\p{L}\p{N}]/u.test(request.text)) return [];
      const text = parameters.add(request.text.replaceAll('\u0000', ' ').replace(/[\uD800-\uDFFF]/g, ' '), '::text');
      const config = parameters.add(this.textSearchConfig, '::regconfig');
      const limit = parameters.add(topK, '::int');
      // Any word matches (OR, like BM25): the query's lexemes, normalised by the same configuration
      // as the index, are joined with | and cast to tsquery (quoted, so no word is read as syntax).
      const rows = await this.readRows<MemoryRow & { rank: number }>(
        `WITH q AS (
           SELECT (SELECT string_agg('''' || replace(replace(lexeme, '\\', '\\\\'), '''', '''''') || '''', ' | ')
                   FROM unnest(tsvector_to_array(to_tsvector(${config}, ${text}))) AS lexeme)::tsquery AS query
         )
         SELECT ${RECORD_COLUMNS}, ts_rank(m.text_search, q.query) AS rank
         FROM ${this.qualified} AS m, q
         WHERE m.text_search @@ q.query AND ${where}
         ORDER BY rank DESC, m.id_order LIMIT ${limit}`,
        parameters.values,
      );
      return rows.map((row) => ({ record: toRecord(row), score: row.rank }));
    });
  }

  /** The records in scope with these ids, in the order of the first occurrence of each id; missing ids are left out. */
  async get(request: ScopedCall<{ readonly ids: readonly string[] }>): Promise<MemoryRecord[]> {
    return this.execute('get', request.signal, async () => {
      const scope = validateScope(request.scope);
      const ids = validateIds(request.ids);
      if (ids.length === 0) return [];
      const parameters = new SqlParameters();
      const ids$ = parameters.add(ids, '::text[]');
      const rows = await this.readRows<MemoryRow>(
        `SELECT ${RECORD_COLUMNS} FROM ${this.qualified} AS m WHERE m.id = ANY(${ids$}) AND ${scopeSql(scope, parameters)}`,
        parameters.values,
      );
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.flatMap((id) => {
        const row = byId.get(id);
        return row ? [toRecord(row)] : [];
      });
    });
  }

  /** Deletes the records in scope with these ids; missing ids and records of other scopes are left alone. */
  async delete(request: ScopedCall<{ readonly ids: readonly string[] }>): Promise<void> {
    await this.execute('delete', request.signal, async () => {
      const scope = validateScope(request.scope);
      const ids = validateIds(request.ids);
      if (ids.length === 0) return;
      const parameters = new SqlParameters();
      const ids$ = parameters.add(ids, '::text[]');
      await this.writeIfTable(
        `DELETE FROM ${this.qualified} AS m WHERE m.id = ANY(${ids$}) AND ${scopeSql(scope, parameters)}`,
        parameters.values,
      );
    });
  }

  /**
   * Every record in scope matching `filter`, in ascending id order (JavaScript string order), after
   * `after` if given. Reads pages of 500 rows with keyset pagination, one statement per page.
   */
  list(request: ScopedCall<{ readonly filter?: Filter; readonly after?: string }>): AsyncIterable<MemoryRecord> {
    return this.listPages(request);
  }

  /** Deletes every record in every scope; the table, its indexes and its dimensions stay. */
  async reset(request?: Call<object>): Promise<void> {
    await this.execute('reset', request?.signal, async () => {
      await this.writeIfTable(`TRUNCATE ${this.qualified}`, []);
    });
  }

  /**
   * Drops the table (with its indexes) and forgets its layout version, e.g. to dispose of a test
   * collection. Call {@link ensureCollection} again before writing.
   */
  async dropCollection(request?: Call<object>): Promise<void> {
    await this.execute('dropCollection', request?.signal, async () => {
      await dropComponent(this.pool, this.schema, this.component, [`DROP TABLE IF EXISTS ${this.qualified}`]);
      this.dimensions = undefined;
    });
  }

  /** Ends the pool if the store opened it (a pool passed as `pool` stays open). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsPool) {
      try {
        await this.pool.end();
      } catch (error) {
        throw toPostgresError(error, 'close');
      }
    }
  }

  private async *listPages(request: ScopedCall<{ readonly filter?: Filter; readonly after?: string }>): AsyncGenerator<MemoryRecord> {
    const prepared = await this.execute('list', request.signal, async () => {
      const scope = validateScope(request.scope);
      if (request.after !== undefined && (typeof request.after !== 'string' || !isStorableText(request.after))) {
        throw new InvalidInputError('after', 'expected an id string', 'Pass the id of the last record you received.');
      }
      const parameters = new SqlParameters();
      const where = this.whereClause(scope, request.filter, parameters);
      return { where, values: parameters.values };
    });
    let cursor = request.after === undefined ? Buffer.alloc(0) : idOrderKey(request.after);
    const cursorAt = prepared.values.length + 1;
    for (;;) {
      const rows = await this.execute('list', request.signal, () =>
        this.readRows<MemoryRow & { id_order: Buffer }>(
          `SELECT ${RECORD_COLUMNS}, m.id_order FROM ${this.qualified} AS m
           WHERE m.id_order > $${cursorAt}::bytea AND ${prepared.where}
           ORDER BY m.id_order LIMIT ${LIST_PAGE_SIZE}`,
          [...prepared.values, cursor],
        ),
      );
      for (const row of rows) yield toRecord(row);
      if (rows.length < LIST_PAGE_SIZE) return;
      cursor = rows[rows.length - 1]!.id_order;
    }
  }

  /** Runs one operation, mapping driver failures to mem errors. */
  private async execute<T>(operation: string, signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
    throwIfAborted(signal, `postgres ${operation}`);
    if (this.closed) {
      throw new ProviderRequestError({
        provider: POSTGRES_PROVIDER,
        operation,
        message: 'the store is closed. Create a new PostgresVectorStore.',
        retryable: false,
      });
    }
    try {
      return await work();
    } catch (error) {
      throw toPostgresError(error, operation);
    }
  }

  /** Rows of a read; a table that does not exist yet holds none. */
  private async readRows<Row extends pg.QueryResultRow>(sql: string, values: readonly unknown[]): Promise<Row[]> {
    try {
      return (await this.pool.query<Row>(sql, values as unknown[])).rows;
    } catch (error) {
      if (sqlState(error) === UNDEFINED_TABLE) return [];
      throw error;
    }
  }

  /** A delete or truncate; on a table that does not exist yet there is nothing to do. */
  private async writeIfTable(sql: string, values: readonly unknown[]): Promise<void> {
    try {
      await writeStatement(this.pool, sql, values);
    } catch (error) {
      if (sqlState(error) !== UNDEFINED_TABLE) throw error;
    }
  }

  private async requireDimensions(): Promise<number> {
    if (this.dimensions === undefined) {
      const component = await readComponent(this.pool, this.schema, this.component);
      if (component !== undefined) this.dimensions = Number(component.settings.dimensions);
    }
    if (this.dimensions === undefined) {
      throw new MemError(
        'CONFLICT',
        `PostgreSQL table ${this.schema}.${this.table} does not exist yet. Call ensureCollection({ dimensions }) first.`,
      );
    }
    return this.dimensions;
  }

  /** Whether the scope holds at most `exactSearchLimit` memories (counted through its index, stopping early). */
  private async isSmallScope(client: pg.PoolClient, scope: Scope): Promise<boolean> {
    if (this.exactSearchLimit === 0) return false;
    const parameters = new SqlParameters();
    const where = scopeSql(scope, parameters);
    const limit = parameters.add(this.exactSearchLimit + 1, '::int');
    const result = await client.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM (SELECT 1 FROM ${this.qualified} AS m WHERE ${where} LIMIT ${limit}) AS scoped`,
      parameters.values,
    );
    return (result.rows[0]?.count ?? 0) <= this.exactSearchLimit;
  }

  private migrations(dimensions: number): PostgresMigration[] {
    const t = this.qualified;
    const index = (suffix: string) => `"${this.table}_${suffix}"`;
    return [
      {
        version: 1,
        description: 'memories table: scope columns, jsonb metadata, vector embedding, tsvector keywords; B-tree, GIN and HNSW indexes',
        statements: [
          `CREATE TABLE ${t} (
            id text PRIMARY KEY,
            id_order bytea NOT NULL,
            user_id text,
            agent_id text,
            run_id text,
            text text NOT NULL,
            hash text NOT NULL,
            metadata jsonb NOT NULL,
            created_at bigint NOT NULL,
            updated_at bigint NOT NULL,
            occurred_at bigint NOT NULL,
            embedding vector(${dimensions}) NOT NULL,
            text_search tsvector GENERATED ALWAYS AS (to_tsvector('${this.textSearchConfig}'::regconfig, text)) STORED,
            CHECK (user_id IS NOT NULL OR agent_id IS NOT NULL OR run_id IS NOT NULL)
          )`,
          `CREATE INDEX ${index('user_id')} ON ${t} (user_id, id_order)`,
          `CREATE INDEX ${index('agent_id')} ON ${t} (agent_id, id_order)`,
          `CREATE INDEX ${index('run_id')} ON ${t} (run_id, id_order)`,
          `CREATE INDEX ${index('metadata')} ON ${t} USING gin (metadata jsonb_path_ops)`,
          `CREATE INDEX ${index('text_search')} ON ${t} USING gin (text_search)`,
          // pgvector indexes vector columns of up to 2,000 dimensions; larger ones are searched exactly.
          ...(dimensions <= MAX_HNSW_DIMENSIONS
            ? [
                `CREATE INDEX ${index('embedding')} ON ${t} USING hnsw (embedding vector_cosine_ops) WITH (m = ${this.hnswM}, ef_construction = ${this.hnswEfConstruction})`,
              ]
            : []),
        ],
      },
    ];
  }

  private dimensionMismatch(expected: number, actual: number, fix: string): DimensionMismatchError {
    return new DimensionMismatchError(`PostgreSQL table ${this.schema}.${this.table}`, expected, actual, fix);
  }

  private whereClause(scope: Scope, filter: Filter | undefined, parameters: SqlParameters): string {
    const scopeCondition = scopeSql(scope, parameters);
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
    return `${scopeCondition} AND ${filterToSql(filter, 'm', parameters)}`;
  }

  private validateRecord(record: MemoryRecord, index: number, dimensions: number): void {
    const at = `records[${index}]`;
    if (typeof record !== 'object' || record === null) {
      throw new InvalidInputError(at, 'expected a memory record', 'Pass objects with id, vector, text, hash, scope, metadata and dates.');
    }
    validateId(record.id, `${at}.id`);
    if (vectorLength(record.vector) !== dimensions) {
      throw this.dimensionMismatch(dimensions, vectorLength(record.vector), 'Embed with the same model the collection was created with.');
    }
    encodeVector(record.vector, `${at}.vector`);
    for (const field of ['text', 'hash'] as const) {
      if (typeof record[field] !== 'string') {
        throw new InvalidInputError(`${at}.${field}`, 'expected a string', 'Pass the memory text and its SHA-256 hex digest.');
      }
      checkStorableText(record[field], `${at}.${field}`);
    }
    validateScope(record.scope, `${at}.scope`);
    checkMetadata(record.metadata, `${at}.metadata`);
    for (const field of ['createdAt', 'updatedAt', 'occurredAt'] as const) epochMs(record[field], `${at}.${field}`);
  }
}

function toColumns(records: readonly MemoryRecord[]): UpsertColumns {
  const columns: UpsertColumns = {
    id: [],
    idOrder: [],
    userId: [],
    agentId: [],
    runId: [],
    text: [],
    hash: [],
    metadata: [],
    createdAt: [],
    updatedAt: [],
    occurredAt: [],
    embedding: [],
  };
  for (const record of records) {
    const scope = validateScope(record.scope);
    columns.id.push(record.id);
    columns.idOrder.push(idOrderKey(record.id));
    columns.userId.push(scope.userId ?? null);
    columns.agentId.push(scope.agentId ?? null);
    columns.runId.push(scope.runId ?? null);
    columns.text.push(record.text);
    columns.hash.push(record.hash);
    columns.metadata.push(JSON.stringify(record.metadata));
    columns.createdAt.push(record.createdAt.getTime());
    columns.updatedAt.push(record.updatedAt.getTime());
    columns.occurredAt.push(record.occurredAt.getTime());
    columns.embedding.push(encodeVector(record.vector, 'vector'));
  }
  return columns;
}

/** `m.user_id = $n AND …` for every id the scope sets (validated: at least one). */
function scopeSql(scope: Scope, parameters: SqlParameters): string {
  const parts: string[] = [];
  for (const [field, column] of SCOPE_COLUMNS) {
    const value = scope[field];
    if (value !== undefined) parts.push(`m.${column} = ${parameters.add(value, '::text')}`);
  }
  return parts.join(' AND ');
}

function validateTopK(topK: unknown): number {
  if (typeof topK !== 'number' || !Number.isInteger(topK) || topK < 0) {
    throw new InvalidInputError('topK', 'expected a non-negative integer', 'Pass e.g. topK: 10.');
  }
  return topK;
}

function validateId(id: unknown, field: string): string {
  if (typeof id !== 'string' || id.length === 0 || !isStorableText(id)) {
    throw new InvalidInputError(field, 'expected a non-empty string of well-formed Unicode without U+0000', 'Use the UUID mem created.');
  }
  return id;
}

function validateIds(ids: unknown): string[] {
  if (!Array.isArray(ids)) throw new InvalidInputError('ids', 'expected an array of ids', 'Pass { ids: ["…"] }.');
  return [...new Set(ids.map((id, index) => validateId(id, `ids[${index}]`)))];
}

/** Length of an array (or typed array) of numbers; 0 for anything else. */
function vectorLength(vector: unknown): number {
  return Array.isArray(vector) || (ArrayBuffer.isView(vector) && !(vector instanceof DataView)) ? (vector as ArrayLike<number>).length : 0;
}

/** pgvector's text form, `[1,0.5,…]`, refusing values it cannot hold (NaN, infinities). */
function encodeVector(vector: readonly number[], field: string): string {
  const parts = new Array<string>(vector.length);
  for (let index = 0; index < vector.length; index++) {
    const value = vector[index];
    if (typeof value !== 'number' || !Number.isFinite(value) || Math.abs(value) > 3.4e38) {
      throw new InvalidInputError(`${field}[${index}]`, 'expected a finite number in float32 range', 'Check the embedder output.');
    }
    parts[index] = String(value);
  }
  return `[${parts.join(',')}]`;
}

/** Refuses metadata JSON would not round-trip (NaN, objects, null, nested arrays) or jsonb cannot hold (U+0000). */
function checkMetadata(metadata: unknown, field: string): void {
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new InvalidInputError(field, 'expected an object', 'Pass metadata such as { category: "food" }, or {}.');
  }
  for (const [key, value] of Object.entries(metadata)) {
    checkStorableText(key, `${field} key`);
    const ok = isScalar(value) || (Array.isArray(value) && value.every(isScalar));
    if (!ok) {
      throw new InvalidInputError(
        `${field}.${key}`,
        'expected a string, a finite number, a boolean or an array of strings',
        'Flatten nested values into separate keys.',
      );
    }
    for (const item of Array.isArray(value) ? value : [value]) {
      if (typeof item === 'string') checkStorableText(item, `${field}.${key}`);
    }
  }
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
    vector: JSON.parse(row.embedding) as number[],
    text: row.text,
    hash: row.hash,
    scope,
    metadata: row.metadata,
    createdAt: new Date(Number(row.created_at)),
    updatedAt: new Date(Number(row.updated_at)),
    occurredAt: new Date(Number(row.occurred_at)),
  };
}

function clampScore(score: number): number {
  return Math.min(1, Math.max(-1, score));
}
