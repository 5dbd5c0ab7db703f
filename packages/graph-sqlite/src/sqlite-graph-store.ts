import {
  DimensionMismatchError,
  InvalidInputError,
  MemError,
  ProviderRequestError,
  defineGraphStoreCapabilities,
  scopeKey,
  throwIfAborted,
  validateScope,
  type Call,
  type GraphEntityInput,
  type GraphEntityMatch,
  type GraphRelation,
  type GraphRelationInput,
  type GraphRelationKey,
  type GraphStore,
  type Scope,
  type ScopedCall,
  checkGraphBatch as checkBatch,
  checkGraphDimensions,
  checkGraphCount as checkCount,
  checkGraphRelationKey as checkKey,
  checkGraphName as checkName,
  graphEpochMs as epochMs,
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
import { GRAPH_SCHEMA_VERSION, buildGraphStatements } from './sqlite-graph-schema';
import { DEFAULT_GRAPH_TABLE_PREFIX, DEFAULT_GRAPH_TABLE_PREFIX_EXAMPLE, type SqliteGraphStoreOptions } from './sqlite-graph-store-options';

/** Prepared statements kept per store (statements differ by scope shape). */
/** Largest embedding length accepted by ensureSchema. */
const MAX_DIMENSIONS = 65_536;
/** Longest entity, type or relation name accepted, in UTF-16 code units (core stores at most 256 characters). */

const SCOPE_COLUMNS = [
  ['userId', 'user_id'],
  ['agentId', 'agent_id'],
  ['runId', 'run_id'],
] as const;

type SqlValue = string | number | null;

interface ScopeRow {
  readonly user_id: string | null;
  readonly agent_id: string | null;
  readonly run_id: string | null;
}

interface RelationRow extends ScopeRow {
  readonly source: string;
  readonly relation: string;
  readonly target: string;
  readonly valid_from: number;
  readonly valid_to: number | null;
}

interface EntityRow extends ScopeRow {
  readonly name: string;
  readonly type: string;
  readonly score: number;
}

/**
 * A {@link GraphStore} in one SQLite file: entities (with types and float32 embeddings), relations
 * with `valid_from` / `valid_to`, and exact cosine entity search with sqlite-vec, all in plain
 * tables. The embedded default of mem's graph memory: no server, and it can share the file (or the
 * connection) of `@mem/vector-sqlite` and `@mem/history-sqlite`.
 *
 * Every value is a bound parameter; only the validated table prefix is part of the SQL text.
 * Each call runs in one transaction, so it applies completely or not at all.
 *
 * @example
 * import { SqliteGraphStore } from '@mem/graph-sqlite';
 * const graphStore = new SqliteGraphStore({ path: 'mem.db' });
 * const memory = new Memory({ embedder, llm, vectorStore, historyStore, graphStore });
 */
export class SqliteGraphStore implements GraphStore {
  /** `'sqlite'`. */
  readonly provider = SQLITE_PROVIDER;
  /** Immediate reads after writes; up to 1000 entities or relations per upsert. */
  readonly capabilities = defineGraphStoreCapabilities({ maxBatchSize: 1000, readAfterWrite: 'immediate' });
  /** Prefix of the store's tables. */
  readonly tablePrefix: string;

  private readonly database: Database.Database;
  /** Closes the connection when this store opened it and no other store of the process shares it (see openSqliteConnection). */
  private readonly releaseConnection: () => void;
  private readonly sql: ReturnType<typeof buildGraphStatements>;
  private readonly statements: StatementCache;
  private schemaReady = false;
  private dimensions: number | undefined;
  private closed = false;

  /**
   * Opens (or adopts) the connection and loads sqlite-vec. Tables are created on first use.
   * @throws {InvalidInputError} for invalid options (both `path` and `database`, a bad prefix, …).
   * @throws {ProviderRequestError} when the file cannot be opened or sqlite-vec cannot be loaded.
   */
  constructor(options: SqliteGraphStoreOptions = {}) {
    validateConnectionOptions(options);
    this.tablePrefix = validateTableName(
      options.tablePrefix ?? DEFAULT_GRAPH_TABLE_PREFIX,
      'options.tablePrefix',
      DEFAULT_GRAPH_TABLE_PREFIX_EXAMPLE,
    );
    this.sql = buildGraphStatements(this.tablePrefix);
    const connection = openSqliteConnection(options, { sqliteVec: true });
    this.database = connection.database;
    this.releaseConnection = connection.release;
    this.statements = new StatementCache(this.database);
  }

  /**
   * Creates the tables if they are missing and records `dimensions`; checks them when already recorded.
   * @throws {DimensionMismatchError} when the store holds embeddings of another length.
   */
  async ensureSchema(request: Call<{ readonly dimensions: number }>): Promise<void> {
    const dimensions = checkGraphDimensions(request.dimensions, MAX_DIMENSIONS);
    this.execute('ensureSchema', request.signal, () => {
      this.database
        .transaction(() => {
          const stored = this.readDimensions();
          if (stored === undefined) this.statement(this.sql.writeMeta).run('dimensions', String(dimensions));
          else if (stored !== dimensions) {
            throw this.dimensionMismatch(stored, dimensions, 'Use another path or tablePrefix for this embedder.');
          }
        })
        .immediate();
      this.dimensions = dimensions;
    });
  }

  /** Inserts entities, or replaces the type and embedding of the entity with the same exact scope and name. All or none. */
  async upsertEntities(request: ScopedCall<{ readonly entities: readonly GraphEntityInput[] }>): Promise<void> {
    this.execute('upsertEntities', request.signal, () => {
      const scope = scopeColumns(validateScope(request.scope));
      const dimensions = this.requireDimensions();
      const entities = checkBatch(request.entities, 'entities', this.capabilities.maxBatchSize);
      // Validate and encode everything before the transaction opens, so a bad item writes nothing.
      const rows = entities.map((entity, index) => {
        const at = `entities[${index}]`;
        if (typeof entity !== 'object' || entity === null)
          throw new InvalidInputError(at, 'expected an entity', 'Pass { name, type, embedding }.');
        if (vectorLength(entity.embedding) !== dimensions) {
          throw this.dimensionMismatch(
            dimensions,
            vectorLength(entity.embedding),
            'Embed entity names with the same model the graph was created with.',
          );
        }
        return {
          ...scope,
          name: checkName(entity.name, `${at}.name`),
          type: checkName(entity.type, `${at}.type`),
          embedding: encodeVector(entity.embedding, `${at}.embedding`),
        };
      });
      if (rows.length === 0) return;
      const statement = this.statement(this.sql.upsertEntity);
      this.database.transaction(() => rows.forEach((row) => statement.run(row))).immediate();
    });
  }

  /**
   * Stores relations under exactly the request's scope; an open relation with the same key is left
   * as it is. Missing endpoints become entities of type `'entity'` without embedding. All or none.
   */
  async upsertRelations(request: ScopedCall<{ readonly relations: readonly GraphRelationInput[] }>): Promise<void> {
    this.execute('upsertRelations', request.signal, () => {
      const scope = scopeColumns(validateScope(request.scope));
      this.requireDimensions();
      const relations = checkBatch(request.relations, 'relations', this.capabilities.maxBatchSize);
      const rows = relations.map((relation, index) => ({
        ...scope,
        ...checkKey(relation, `relations[${index}]`),
        valid_from: epochMs(relation.validFrom, `relations[${index}].validFrom`),
      }));
      if (rows.length === 0) return;
      const endpoint = this.statement(this.sql.ensureEndpoint);
      const insert = this.statement(this.sql.insertRelation);
      this.database
        .transaction(() => {
          for (const row of rows) {
            endpoint.run({ ...scope, name: row.source });
            endpoint.run({ ...scope, name: row.target });
            insert.run(row);
          }
        })
        .immediate();
    });
  }

  /** Closes the open relations in scope matching the keys (`valid_to`, never before `valid_from`). */
  async invalidateRelations(
    request: ScopedCall<{ readonly relations: readonly GraphRelationKey[]; readonly validTo: Date }>,
  ): Promise<{ invalidated: number }> {
    return this.execute('invalidateRelations', request.signal, () => {
      const condition = scopeSql(validateScope(request.scope));
      const validTo = epochMs(request.validTo, 'validTo');
      const keys = checkBatch(request.relations, 'relations', Number.MAX_SAFE_INTEGER).map((key, index) =>
        checkKey(key, `relations[${index}]`),
      );
      if (keys.length === 0) return { invalidated: 0 };
      const statement = this.statement(this.sql.invalidate(condition.sql));
      return this.database
        .transaction(() => {
          let invalidated = 0;
          for (const key of keys) invalidated += statement.run({ ...key, ...condition.params, valid_to: validTo }).changes;
          return { invalidated };
        })
        .immediate();
    });
  }

  /** Relations in scope touching any of the named entities (one hop), newest `validFrom` first, at most `limit`. */
  async neighbors(
    request: ScopedCall<{ readonly entities: readonly string[]; readonly limit: number; readonly includeInvalid?: boolean }>,
  ): Promise<GraphRelation[]> {
    return this.execute('neighbors', request.signal, () => {
      // Unary plus keeps SQLite from picking a scope column index: the (source | target) indexes are
      // far more selective than "every relation of this user".
      const condition = scopeSql(validateScope(request.scope), { unindexed: true });
      if (!Array.isArray(request.entities))
        throw new InvalidInputError('entities', 'expected an array of names', 'Pass { entities: ["alice"] }.');
      const names = request.entities.map((name, index) => checkName(name, `entities[${index}]`));
      const limit = checkCount(request.limit, 'limit');
      if (names.length === 0 || limit === 0) return [];
      const rows = this.statement(this.sql.neighbors(condition.sql, request.includeInvalid === true)).all({
        ...condition.params,
        names: JSON.stringify(names),
        limit,
      }) as RelationRow[];
      return rows.map(toRelation);
    });
  }

  /** The `topK` entities in scope most similar to `vector` (exact cosine), best first, at or above `threshold`. */
  async searchEntities(
    request: ScopedCall<{ readonly vector: readonly number[]; readonly topK: number; readonly threshold?: number }>,
  ): Promise<GraphEntityMatch[]> {
    return this.execute('searchEntities', request.signal, () => {
      const condition = scopeSql(validateScope(request.scope));
      const topK = checkCount(request.topK, 'topK');
      const dimensions = this.requireDimensions();
      if (vectorLength(request.vector) !== dimensions) {
        throw this.dimensionMismatch(dimensions, vectorLength(request.vector), 'Embed queries with the same model as the entities.');
      }
      const { threshold } = request;
      if (threshold !== undefined && (typeof threshold !== 'number' || Number.isNaN(threshold))) {
        throw new InvalidInputError('threshold', 'expected a number', 'Pass a cosine similarity such as 0.8.');
      }
      if (topK === 0) return [];
      const rows = this.statement(this.sql.searchEntities(condition.sql, threshold !== undefined)).all({
        ...condition.params,
        vector: encodeVector(request.vector, 'vector'),
        limit: topK,
        ...(threshold === undefined ? {} : { threshold }),
      }) as EntityRow[];
      return rows.map((row) => ({
        entity: { name: row.name, type: row.type, scope: toScope(row) },
        score: Math.min(1, Math.max(-1, row.score)),
      }));
    });
  }

  /** Deletes every entity and relation in scope (containment); other scopes keep theirs. */
  async deleteAll(request: ScopedCall<object>): Promise<void> {
    this.execute('deleteAll', request.signal, () => {
      const condition = scopeSql(validateScope(request.scope));
      const relations = this.statement(this.sql.deleteRelations(condition.sql));
      const entities = this.statement(this.sql.deleteEntities(condition.sql));
      this.database
        .transaction(() => {
          relations.run(condition.params);
          entities.run(condition.params);
        })
        .immediate();
    });
  }

  /** Deletes every entity and relation in every scope; the tables and their dimensions stay. */
  async reset(request?: Call<object>): Promise<void> {
    this.execute('reset', request?.signal, () => {
      const relations = this.statement(this.sql.resetRelations);
      const entities = this.statement(this.sql.resetEntities);
      this.database
        .transaction(() => {
          relations.run();
          entities.run();
        })
        .immediate();
    });
  }

  /**
   * Drops the store's tables (and recorded dimensions), e.g. to dispose of a test graph. Call
   * {@link ensureSchema} again before the next write.
   */
  async dropTables(request?: Call<object>): Promise<void> {
    this.execute('dropTables', request?.signal, () => {
      this.statements.clear();
      this.database.transaction(() => this.database.exec(this.sql.drop)).immediate();
      this.schemaReady = false;
      this.dimensions = undefined;
    });
  }

  /**
   * Closes the connection if the store opened it and no other store of this process still shares it
   * (a connection passed as `database` stays open). Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.statements.clear();
    try {
      this.releaseConnection();
    } catch (error) {
      throw toSqliteError(error, 'close');
    }
  }

  /** Runs synchronous driver work for one operation, mapping driver failures to mem errors. */
  private execute<T>(operation: string, signal: AbortSignal | undefined, work: () => T): T {
    throwIfAborted(signal, `sqlite ${operation}`);
    if (this.closed) {
      throw new ProviderRequestError({
        provider: SQLITE_PROVIDER,
        operation,
        message: 'the store is closed. Create a new SqliteGraphStore.',
        retryable: false,
      });
    }
    try {
      this.createTables();
      return work();
    } catch (error) {
      throw toSqliteError(error, operation);
    }
  }

  private createTables(): void {
    if (this.schemaReady) return;
    this.database
      .transaction(() => {
        this.database.exec(this.sql.schema);
        const version = this.database.prepare(this.sql.readMeta).pluck().get('schema_version') as string | undefined;
        if (version === undefined) {
          this.database.prepare(this.sql.writeMeta).run('schema_version', GRAPH_SCHEMA_VERSION);
        } else if (version !== GRAPH_SCHEMA_VERSION) {
          throw new MemError(
            'CONFLICT',
            `SQLite graph tables "${this.tablePrefix}_*" have layout version ${version}, but this @mem/graph-sqlite reads version ${GRAPH_SCHEMA_VERSION}. Upgrade @mem/graph-sqlite, or use another tablePrefix.`,
          );
        }
      })
      .immediate();
    this.schemaReady = true;
  }

  private readDimensions(): number | undefined {
    const value = this.statement(this.sql.readMeta).pluck().get('dimensions') as string | undefined;
    return value === undefined ? undefined : Number(value);
  }

  private requireDimensions(): number {
    this.dimensions ??= this.readDimensions();
    if (this.dimensions === undefined) {
      throw new MemError('CONFLICT', `SQLite graph "${this.tablePrefix}" has no dimensions yet. Call ensureSchema({ dimensions }) first.`);
    }
    return this.dimensions;
  }

  private dimensionMismatch(expected: number, actual: number, fix: string): DimensionMismatchError {
    return new DimensionMismatchError(`SQLite graph "${this.tablePrefix}"`, expected, actual, fix);
  }

  private statement(sql: string): Database.Statement {
    return this.statements.get(sql);
  }
}

/** The scope columns of a write: exactly the ids set, NULL for the others, and the exact key. */
function scopeColumns(scope: Scope): { scope_key: string; user_id: string | null; agent_id: string | null; run_id: string | null } {
  return { scope_key: scopeKey(scope), user_id: scope.userId ?? null, agent_id: scope.agentId ?? null, run_id: scope.runId ?? null };
}

/** `m.user_id = @scope_user_id AND …` for every id the scope sets (containment). */
function scopeSql(scope: Scope, options: { unindexed?: boolean } = {}): { sql: string; params: Record<string, SqlValue> } {
  const parts: string[] = [];
  const params: Record<string, SqlValue> = {};
  for (const [field, column] of SCOPE_COLUMNS) {
    const value = scope[field];
    if (value === undefined) continue;
    parts.push(`${options.unindexed ? '+' : ''}m.${column} = @scope_${column}`);
    params[`scope_${column}`] = value;
  }
  return { sql: parts.join(' AND '), params };
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

function toScope(row: ScopeRow): Scope {
  const scope: { userId?: string; agentId?: string; runId?: string } = {};
  if (row.user_id !== null) scope.userId = row.user_id;
  if (row.agent_id !== null) scope.agentId = row.agent_id;
  if (row.run_id !== null) scope.runId = row.run_id;
  return scope;
}

function toRelation(row: RelationRow): GraphRelation {
  return {
    source: row.source,
    relation: row.relation,
    target: row.target,
    scope: toScope(row),
    validFrom: new Date(row.valid_from),
    validTo: row.valid_to === null ? null : new Date(row.valid_to),
  };
}
