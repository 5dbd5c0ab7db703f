import {
  DimensionMismatchError,
  InvalidInputError,
  MemError,
  ProviderRequestError,
  ProviderResponseInvalidError,
  checkGraphBatch as checkBatch,
  checkGraphCount as checkCount,
  checkGraphDimensions,
  checkGraphRelationKey as checkKey,
  checkGraphName as checkName,
  checkGraphVector as checkVector,
  defineGraphStoreCapabilities,
  graphEpochMs as epochMs,
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
} from '@mem/core/adapter';
import neo4j, { type Driver, type Integer, type ManagedTransaction, type Session } from 'neo4j-driver';
import type { CypherDialect, CypherErrorContext, CypherSchemaNames } from './cypher-dialect';
import type { ResolvedCypherOptions } from './cypher-options';
import { cypherQueries, entityKey, scopeCondition, scopeProperties, type CypherQueries } from './cypher-queries';
import { cypherNumber, toEntityRow, toRelation, toScope, type EntityRow } from './cypher-rows';

/** Entities deleted per transaction by `deleteAll` / `reset`, so huge scopes never need one giant transaction. */
const DELETE_BATCH = 5_000;
/** First index search fetches `topK` times this many global candidates (at least {@link MIN_CANDIDATES}). */
const OVERFETCH = 10;
const MIN_CANDIDATES = 100;
/** Each further round fetches this many times more candidates. */
const GROWTH = 4;
/** Attempts of a write that lost a race for a new entity's unique key. */
const UNIQUE_CONFLICT_ATTEMPTS = 5;

/**
 * A {@link GraphStore} on a Bolt/Cypher engine through `neo4j-driver`, with a {@link CypherDialect}
 * for what the engine does its own way (`@mem/graph-neo4j` and `@mem/graph-memgraph` are this
 * store with their dialect). Entities are `(:<namespace>_Entity)` nodes keyed by exact scope and
 * name (a unique `key`), relations are `[:<namespace>_RELATION]` relationships carrying their name,
 * `valid_from`, `valid_to` and `open`, and entity embeddings have a cosine vector index.
 *
 * Every value is a query parameter; only names derived from the validated `namespace` are part of
 * the Cypher text. Data runs in managed transactions (`executeRead` / `executeWrite`, retried by
 * the driver on transient errors), schema changes in auto-commit ones, on a session closed on
 * every path.
 */
export class CypherGraphStore<Names extends CypherSchemaNames = CypherSchemaNames> implements GraphStore {
  /** The dialect's provider, e.g. `'neo4j'`. */
  readonly provider: string;
  /** Immediate reads after writes; up to 1000 entities or relations per upsert (one transaction each). */
  readonly capabilities = defineGraphStoreCapabilities({ maxBatchSize: 1_000, readAfterWrite: 'immediate' });
  /** Prefix of the labels, relationship type and index names this store uses. */
  readonly namespace: string;
  /** The label, relationship type and index names of {@link namespace}. */
  readonly names: Names;

  private readonly dialect: CypherDialect<Names>;
  private readonly driver: Driver;
  private readonly ownsDriver: boolean;
  private readonly database: string | undefined;
  private readonly exactSearchLimit: number;
  private readonly queries: CypherQueries;
  private readonly context: CypherErrorContext;
  private dimensions: number | undefined;
  private closed = false;

  /**
   * Creates the driver (no connection is made until the first call).
   * @throws {InvalidInputError} when the driver rejects the URI.
   */
  constructor(dialect: CypherDialect<Names>, options: ResolvedCypherOptions) {
    this.dialect = dialect;
    this.provider = dialect.provider;
    this.namespace = options.namespace;
    this.names = dialect.schemaNames(options.namespace);
    this.queries = cypherQueries(this.names, dialect);
    this.database = options.database;
    this.exactSearchLimit = options.exactSearchLimit;
    if (options.connection.kind === 'driver') {
      this.driver = options.connection.driver;
      this.ownsDriver = false;
      this.context = { server: 'the configured driver', database: this.database };
    } else {
      const { uri, username, password } = options.connection;
      this.context = { server: dialect.describeServer(uri), database: this.database };
      try {
        this.driver = neo4j.driver(uri, neo4j.auth.basic(username, password), {
          maxTransactionRetryTime: options.maxTransactionRetryTimeMs,
          connectionTimeout: options.connectionTimeoutMs,
          userAgent: dialect.userAgent,
        });
      } catch (error) {
        throw new InvalidInputError(
          'options.uri',
          `the driver rejected it (${error instanceof Error ? error.name : 'error'})`,
          `Use e.g. ${dialect.uriExample}.`,
        );
      }
      this.ownsDriver = true;
    }
  }

  /**
   * Creates what the schema lacks (the dialect's indexes, the unique constraint on `key` and the
   * cosine vector index on entity embeddings) and waits until it can be used.
   * @throws {DimensionMismatchError} when the vector index exists with other dimensions.
   */
  async ensureSchema(request: Call<{ readonly dimensions: number }>): Promise<void> {
    const { maxDimensions } = this.dialect;
    const dimensions =
      maxDimensions === undefined
        ? checkGraphDimensions(request.dimensions)
        : checkGraphDimensions(request.dimensions, maxDimensions.limit, maxDimensions.why);
    await this.execute('ensureSchema', request.signal, async (session) => {
      const existing = await this.dialect.readVectorDimensions(session, this.names);
      if (existing !== undefined && existing !== dimensions)
        throw this.dimensionMismatch(existing, dimensions, 'Use another namespace for this embedder.');
      await this.dialect.createSchema(session, this.names, dimensions, existing);
      // Two stores racing with different dimensions: whichever index won is the truth.
      const created = await this.dialect.readVectorDimensions(session, this.names);
      if (created !== dimensions) throw this.dimensionMismatch(created ?? 0, dimensions, 'Use another namespace for this embedder.');
      this.dimensions = dimensions;
    });
  }

  /**
   * Inserts entities, or replaces the type and embedding of the entity with the same exact scope
   * and name (a name twice in one request: the last one wins). All or none.
   */
  async upsertEntities(request: ScopedCall<{ readonly entities: readonly GraphEntityInput[] }>): Promise<void> {
    const scope = validateScope(request.scope);
    const entities = checkBatch(request.entities, 'entities', this.capabilities.maxBatchSize);
    await this.execute('upsertEntities', request.signal, async (session) => {
      const dimensions = await this.requireDimensions(session);
      const key = scopeKey(scope);
      // One row per key, in the place of its last occurrence.
      const rows = new Map<string, { key: string; name: string; type: string; embedding: number[] }>();
      entities.forEach((entity, index) => {
        const at = `entities[${index}]`;
        if (typeof entity !== 'object' || entity === null)
          throw new InvalidInputError(at, 'expected an entity', 'Pass { name, type, embedding }.');
        const name = checkName(entity.name, `${at}.name`);
        const row = {
          key: entityKey(key, name),
          name,
          type: checkName(entity.type, `${at}.type`),
          embedding: checkVector(
            entity.embedding,
            `${at}.embedding`,
            dimensions,
            this.where(),
            'Embed entity names with the same model the graph was created with.',
          ),
        };
        rows.delete(row.key);
        rows.set(row.key, row);
      });
      if (rows.size === 0) return;
      const params = { entities: [...rows.values()], write: scopeProperties(scope, key) };
      await this.write(session, (transaction) => transaction.run(this.queries.upsertEntities, params));
    });
  }

  /**
   * Stores relations under exactly the request's scope; an open relation with the same key is left
   * as it is (MERGE on the open relation; the same key twice in one request: the first one and its
   * `validFrom` are stored). Missing endpoints become entities of type `'entity'` without embedding.
   * All or none.
   */
  async upsertRelations(request: ScopedCall<{ readonly relations: readonly GraphRelationInput[] }>): Promise<void> {
    const scope = validateScope(request.scope);
    const relations = checkBatch(request.relations, 'relations', this.capabilities.maxBatchSize);
    const key = scopeKey(scope);
    const rows = new Map<string, GraphRelationKey & { sourceKey: string; targetKey: string; validFrom: Integer }>();
    relations.forEach((relation, index) => {
      const checked = checkKey(relation, `relations[${index}]`);
      const validFrom = neo4j.int(epochMs(relation.validFrom, `relations[${index}].validFrom`));
      const id = JSON.stringify([checked.source, checked.relation, checked.target]);
      if (!rows.has(id))
        rows.set(id, { ...checked, sourceKey: entityKey(key, checked.source), targetKey: entityKey(key, checked.target), validFrom });
    });
    await this.execute('upsertRelations', request.signal, async (session) => {
      await this.requireDimensions(session);
      if (rows.size === 0) return;
      const params = { relations: [...rows.values()], write: scopeProperties(scope, key) };
      await this.write(session, (transaction) => transaction.run(this.queries.upsertRelations, params));
    });
  }

  /** Closes the open relations in scope matching the keys (`valid_to`, never before `valid_from`). */
  async invalidateRelations(
    request: ScopedCall<{ readonly relations: readonly GraphRelationKey[]; readonly validTo: Date }>,
  ): Promise<{ invalidated: number }> {
    const condition = scopeCondition('source', validateScope(request.scope));
    const validTo = epochMs(request.validTo, 'validTo');
    const keys = uniqueKeys(
      checkBatch(request.relations, 'relations', Number.MAX_SAFE_INTEGER).map((key, index) => checkKey(key, `relations[${index}]`)),
    );
    return this.execute('invalidateRelations', request.signal, async (session) => {
      if (keys.length === 0) return { invalidated: 0 };
      const result = await this.write(session, (transaction) =>
        transaction.run(this.queries.invalidateRelations(condition.text), { ...condition.params, keys, validTo: neo4j.int(validTo) }),
      );
      return { invalidated: this.number(result.records[0]?.get('invalidated'), 'invalidated') };
    });
  }

  /** Relations in scope touching any of the named entities (one hop), newest `validFrom` first, at most `limit`. */
  async neighbors(
    request: ScopedCall<{ readonly entities: readonly string[]; readonly limit: number; readonly includeInvalid?: boolean }>,
  ): Promise<GraphRelation[]> {
    const condition = scopeCondition('e', validateScope(request.scope));
    if (!Array.isArray(request.entities))
      throw new InvalidInputError('entities', 'expected an array of names', 'Pass { entities: ["alice"] }.');
    const names = [...new Set(request.entities.map((name, index) => checkName(name, `entities[${index}]`)))];
    const limit = checkCount(request.limit, 'limit');
    return this.execute('neighbors', request.signal, async (session) => {
      if (names.length === 0 || limit === 0) return [];
      const query = this.queries.neighbors(condition.text, request.includeInvalid === true);
      const result = await session.executeRead((transaction) =>
        transaction.run(query, { ...condition.params, names, limit: neo4j.int(limit) }),
      );
      return result.records.map((record) => toRelation(record.toObject(), this.provider));
    });
  }

  /**
   * The `topK` entities in scope most similar to `vector`, best first, at or above `threshold`
   * (cosine similarity). A zero vector is similar to nothing.
   *
   * A scope holding at most `exactSearchLimit` entities with embeddings is searched exactly (over
   * the scope's nodes, found through the scope index). A larger scope is searched through the
   * vector index: the global top candidates are fetched and filtered by scope, fetching more (×4
   * per round) until `topK` matches are found, the threshold cuts off, or the index is exhausted,
   * so a scope is never starved by other scopes' entities.
   */
  async searchEntities(
    request: ScopedCall<{ readonly vector: readonly number[]; readonly topK: number; readonly threshold?: number }>,
  ): Promise<GraphEntityMatch[]> {
    const scope = validateScope(request.scope);
    const topK = checkCount(request.topK, 'topK');
    const { threshold } = request;
    if (threshold !== undefined && (typeof threshold !== 'number' || Number.isNaN(threshold))) {
      throw new InvalidInputError('threshold', 'expected a number', 'Pass a cosine similarity such as 0.8.');
    }
    return this.execute('searchEntities', request.signal, async (session) => {
      const dimensions = await this.requireDimensions(session);
      const vector = checkVector(request.vector, 'vector', dimensions, this.where(), 'Embed queries with the same model as the entities.');
      if (topK === 0 || vector.every((value) => value === 0)) return [];
      const minimum = threshold === undefined ? undefined : this.dialect.fromCosine(threshold);
      const matches = await session.executeRead(async (transaction) => {
        if (await this.fitsExactSearch(transaction, scope)) return this.exactSearch(transaction, scope, vector, topK, minimum);
        return this.indexSearch(transaction, scope, vector, topK, minimum);
      });
      return matches.map((row) => ({
        entity: { name: row.name, type: row.type, scope: toScope(row) },
        score: Math.min(1, Math.max(-1, this.dialect.toCosine(row.similarity))),
      }));
    });
  }

  /** Deletes every entity and relation in scope (containment); other scopes keep theirs. */
  async deleteAll(request: ScopedCall<object>): Promise<void> {
    const condition = scopeCondition('e', validateScope(request.scope));
    await this.execute('deleteAll', request.signal, (session) => this.deleteInBatches(session, condition.text, condition.params));
  }

  /** Deletes every entity and relation of this namespace in every scope; the indexes and their dimensions stay. */
  async reset(request?: Call<object>): Promise<void> {
    await this.execute('reset', request?.signal, (session) => this.deleteInBatches(session, 'true', {}));
  }

  /**
   * Deletes every entity and relation of this namespace and drops its indexes and constraint, e.g.
   * to dispose of a test graph. Call {@link ensureSchema} again before the next write.
   */
  async dropSchema(request?: Call<object>): Promise<void> {
    await this.execute('dropSchema', request?.signal, async (session) => {
      await this.deleteInBatches(session, 'true', {});
      await this.dialect.dropSchema(session, this.names);
      this.dimensions = undefined;
    });
  }

  /** Closes the driver if the store created it (a driver passed as `driver` stays open). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsDriver) {
      try {
        await this.driver.close();
      } catch (error) {
        throw this.dialect.toError(error, 'close', this.context);
      }
    }
  }

  /** Opens a session for one operation, maps failures to mem errors, and closes the session on every path. */
  private async execute<T>(operation: string, signal: AbortSignal | undefined, work: (session: Session) => Promise<T>): Promise<T> {
    throwIfAborted(signal, `${this.provider} ${operation}`);
    if (this.closed) {
      throw new ProviderRequestError({
        provider: this.provider,
        operation,
        message: `the store is closed. Create a new ${this.dialect.storeClass}.`,
        retryable: false,
      });
    }
    let session: Session | undefined;
    try {
      session = this.driver.session(this.database === undefined ? {} : { database: this.database });
      return await work(session);
    } catch (error) {
      throw this.dialect.toError(error, operation, this.context);
    } finally {
      if (session) await session.close().catch(() => undefined);
    }
  }

  /** `executeWrite`, run again when a concurrent writer committed the same new entity key first. */
  private async write<T>(session: Session, work: (transaction: ManagedTransaction) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await session.executeWrite(work);
      } catch (error) {
        if (attempt >= UNIQUE_CONFLICT_ATTEMPTS || !this.dialect.isUniqueConflict(error)) throw error;
      }
    }
  }

  private async requireDimensions(session: Session): Promise<number> {
    this.dimensions ??= await this.dialect.readVectorDimensions(session, this.names);
    if (this.dimensions === undefined) {
      throw new MemError(
        'CONFLICT',
        `The ${this.dialect.engine} graph "${this.namespace}" has no vector index yet. Call ensureSchema({ dimensions }) first.`,
      );
    }
    return this.dimensions;
  }

  private async fitsExactSearch(transaction: ManagedTransaction, scope: Scope): Promise<boolean> {
    if (this.exactSearchLimit === 0) return false;
    const condition = scopeCondition('e', scope);
    const result = await transaction.run(this.queries.countSearchable(condition.text), {
      ...condition.params,
      cap: neo4j.int(this.exactSearchLimit + 1),
    });
    return this.number(result.records[0]?.get('searchable'), 'searchable') <= this.exactSearchLimit;
  }

  /** `minimum` is the threshold in the dialect's similarity unit. */
  private async exactSearch(
    transaction: ManagedTransaction,
    scope: Scope,
    vector: number[],
    topK: number,
    minimum: number | undefined,
  ): Promise<EntityRow[]> {
    const condition = scopeCondition('e', scope);
    const result = await transaction.run(this.queries.exactSearch(condition.text, minimum !== undefined), {
      ...condition.params,
      vector,
      ...this.dialect.exactSimilarityParams(vector),
      topK: neo4j.int(topK),
      ...(minimum === undefined ? {} : { threshold: minimum }),
    });
    return result.records.map((record) => toEntityRow(record.toObject(), this.provider));
  }

  private async indexSearch(
    transaction: ManagedTransaction,
    scope: Scope,
    vector: number[],
    topK: number,
    minimum: number | undefined,
  ): Promise<EntityRow[]> {
    const condition = scopeCondition('e', scope);
    const total = this.number((await transaction.run(this.queries.countEntities)).records[0]?.get('entities'), 'entities');
    let candidates = Math.min(Math.max(topK * OVERFETCH, MIN_CANDIDATES), Math.max(total, 1));
    for (;;) {
      const result = await transaction.run(this.queries.indexSearch(condition.text), {
        ...condition.params,
        index: this.names.vectorIndex,
        candidates: neo4j.int(candidates),
        vector,
      });
      const record = result.records[0];
      if (!record) throw new ProviderResponseInvalidError(this.provider, 'searchEntities', 'the vector index query returned no row');
      const fetched = this.number(record.get('fetched'), 'fetched');
      const lowest = record.get('lowest') as number | null;
      const matches = (record.get('matches') as unknown[])
        .map((row) => toEntityRow(row, this.provider))
        .filter((row) => minimum === undefined || row.similarity >= minimum)
        .sort((a, b) => b.similarity - a.similarity || compareStrings(a.name, b.name));
      const exhausted = fetched < candidates || candidates >= total;
      const belowThreshold = minimum !== undefined && lowest !== null && lowest < minimum;
      if (matches.length >= topK || exhausted || belowThreshold) return matches.slice(0, topK);
      candidates = Math.min(candidates * GROWTH, total);
    }
  }

  private async deleteInBatches(session: Session, condition: string, params: Record<string, string>): Promise<void> {
    const query = this.queries.deleteBatch(condition);
    for (;;) {
      const result = await this.write(session, (transaction) => transaction.run(query, { ...params, batch: neo4j.int(DELETE_BATCH) }));
      if (this.number(result.records[0]?.get('deleted'), 'deleted') < DELETE_BATCH) return;
    }
  }

  private number(value: unknown, field: string): number {
    return cypherNumber(value, field, this.provider);
  }

  private where(): string {
    return `${this.dialect.engine} graph "${this.namespace}"`;
  }

  private dimensionMismatch(expected: number, actual: number, fix: string): DimensionMismatchError {
    return new DimensionMismatchError(this.where(), expected, actual, fix);
  }
}

function uniqueKeys(keys: readonly GraphRelationKey[]): GraphRelationKey[] {
  const seen = new Map<string, GraphRelationKey>();
  for (const key of keys) seen.set(JSON.stringify([key.source, key.relation, key.target]), key);
  return [...seen.values()];
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
