import {
  DimensionMismatchError,
  InvalidInputError,
  MemError,
  ProviderRequestError,
  ProviderResponseInvalidError,
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
} from '@mem/core';
import neo4j, { type Driver, type ManagedTransaction, type Session } from 'neo4j-driver';
import { neo4jQueries, schemaNames, scopeCondition, scopeProperties, type Neo4jQueries, type Neo4jSchemaNames } from './neo4j-cypher';
import { NEO4J_PROVIDER, describeServer, toNeo4jError, type Neo4jErrorContext } from './neo4j-errors';
import {
  checkGraphBatch as checkBatch,
  checkGraphCount as checkCount,
  checkGraphDimensions,
  checkGraphRelationKey as checkKey,
  checkGraphName as checkName,
  checkGraphVector as checkVector,
  graphEpochMs as epochMs,
} from '@mem/core';
import { resolveNeo4jOptions, type Neo4jGraphStoreOptions } from './neo4j-graph-store-options';

/** Entities deleted per transaction by `deleteAll` / `reset`, so huge scopes never need one giant transaction. */
const DELETE_BATCH = 5_000;
/** Seconds `ensureSchema` waits for new indexes to come online. */
const INDEX_ONLINE_SECONDS = 300;
/** First index search fetches `topK` times this many global candidates (at least {@link MIN_CANDIDATES}). */
const OVERFETCH = 10;
const MIN_CANDIDATES = 100;
/** Each further round fetches this many times more candidates. */
const GROWTH = 4;

interface EntityRow {
  readonly name: string;
  readonly type: string;
  readonly userId: string | null;
  readonly agentId: string | null;
  readonly runId: string | null;
  readonly similarity: number;
}

/**
 * A {@link GraphStore} on Neo4j 5 (5.18 or later; tested on 5.26 LTS) through the official
 * `neo4j-driver`: entities are `(:<namespace>_Entity)` nodes keyed by exact scope and name,
 * relations are `[:<namespace>_RELATION]` relationships carrying their name, `valid_from`,
 * `valid_to` and `open`, and entity embeddings have a cosine vector index.
 *
 * Every value is a query parameter; only names derived from the validated `namespace` are part
 * of the Cypher text. Every call runs in managed transactions (`executeRead` / `executeWrite`,
 * retried by the driver on transient errors) on a session closed on every path.
 *
 * @example
 * import { Neo4jGraphStore } from '@mem/graph-neo4j';
 * const graphStore = new Neo4jGraphStore({ uri: 'neo4j://localhost:7687', username: 'neo4j', password: process.env.NEO4J_PASSWORD });
 * const memory = new Memory({ embedder, llm, vectorStore, historyStore, graphStore });
 */
export class Neo4jGraphStore implements GraphStore {
  /** `'neo4j'`. */
  readonly provider = NEO4J_PROVIDER;
  /** Immediate reads after writes; up to 1000 entities or relations per upsert (one transaction each). */
  readonly capabilities = defineGraphStoreCapabilities({ maxBatchSize: 1_000, readAfterWrite: 'immediate' });
  /** Prefix of the labels, relationship type and index names this store uses. */
  readonly namespace: string;
  /** The label, relationship type and index names of {@link namespace}. */
  readonly names: Neo4jSchemaNames;

  private readonly driver: Driver;
  private readonly ownsDriver: boolean;
  private readonly database: string | undefined;
  private readonly exactSearchLimit: number;
  private readonly queries: Neo4jQueries;
  private readonly context: Neo4jErrorContext;
  private dimensions: number | undefined;
  private closed = false;

  /**
   * Creates the driver (no connection is made until the first call).
   * @throws {InvalidInputError} for an invalid option; {@link MissingSettingError} without a URI.
   */
  constructor(options: Neo4jGraphStoreOptions = {}) {
    const resolved = resolveNeo4jOptions(options);
    this.namespace = resolved.namespace;
    this.names = schemaNames(resolved.namespace);
    this.queries = neo4jQueries(this.names);
    this.database = resolved.database;
    this.exactSearchLimit = resolved.exactSearchLimit;
    if (resolved.connection.kind === 'driver') {
      this.driver = resolved.connection.driver;
      this.ownsDriver = false;
      this.context = { server: 'the configured driver', database: this.database };
    } else {
      const { uri, username, password } = resolved.connection;
      this.context = { server: describeServer(uri), database: this.database };
      try {
        this.driver = neo4j.driver(uri, neo4j.auth.basic(username, password), {
          maxTransactionRetryTime: resolved.maxTransactionRetryTimeMs,
          connectionTimeout: resolved.connectionTimeoutMs,
          userAgent: 'mem-graph-neo4j',
        });
      } catch (error) {
        throw new InvalidInputError(
          'options.uri',
          `the driver rejected it (${error instanceof Error ? error.name : 'error'})`,
          'Use e.g. neo4j://localhost:7687.',
        );
      }
      this.ownsDriver = true;
    }
  }

  /**
   * Creates the key constraint, the range indexes (name, user_id, agent_id, run_id) and the cosine
   * vector index on entity embeddings if missing, and waits until they are online.
   * @throws {DimensionMismatchError} when the vector index exists with other dimensions.
   */
  async ensureSchema(request: Call<{ readonly dimensions: number }>): Promise<void> {
    const dimensions = checkGraphDimensions(request.dimensions, 4_096, 'the largest a Neo4j 5.26 vector index takes');
    await this.execute('ensureSchema', request.signal, async (session) => {
      const existing = await this.readDimensions(session);
      if (existing !== undefined && existing !== dimensions)
        throw this.dimensionMismatch(existing, dimensions, 'Use another namespace for this embedder.');
      // Schema commands run in auto-commit transactions (Neo4j does not allow them in managed ones with data).
      for (const query of [this.queries.createConstraint, ...this.queries.createRangeIndexes, this.queries.createVectorIndex(dimensions)]) {
        await session.run(query);
      }
      await session.run(this.queries.awaitIndexes, { seconds: neo4j.int(INDEX_ONLINE_SECONDS) });
      // Two stores racing with different dimensions: whichever index won is the truth.
      const created = await this.readDimensions(session);
      if (created !== dimensions) throw this.dimensionMismatch(created ?? 0, dimensions, 'Use another namespace for this embedder.');
      this.dimensions = dimensions;
    });
  }

  /** Inserts entities, or replaces the type and embedding of the entity with the same exact scope and name. All or none. */
  async upsertEntities(request: ScopedCall<{ readonly entities: readonly GraphEntityInput[] }>): Promise<void> {
    const scope = validateScope(request.scope);
    const entities = checkBatch(request.entities, 'entities', this.capabilities.maxBatchSize);
    await this.execute('upsertEntities', request.signal, async (session) => {
      const dimensions = await this.requireDimensions(session);
      const key = scopeKey(scope);
      const rows = entities.map((entity, index) => {
        const at = `entities[${index}]`;
        if (typeof entity !== 'object' || entity === null)
          throw new InvalidInputError(at, 'expected an entity', 'Pass { name, type, embedding }.');
        const name = checkName(entity.name, `${at}.name`);
        return {
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
      });
      if (rows.length === 0) return;
      const params = { entities: rows, write: scopeProperties(scope, key) };
      await session.executeWrite((transaction) => transaction.run(this.queries.upsertEntities, params));
    });
  }

  /**
   * Stores relations under exactly the request's scope; an open relation with the same key is left
   * as it is (MERGE on the open relation). Missing endpoints become entities of type `'entity'`
   * without embedding. All or none.
   */
  async upsertRelations(request: ScopedCall<{ readonly relations: readonly GraphRelationInput[] }>): Promise<void> {
    const scope = validateScope(request.scope);
    const relations = checkBatch(request.relations, 'relations', this.capabilities.maxBatchSize);
    const key = scopeKey(scope);
    const rows = relations.map((relation, index) => {
      const checked = checkKey(relation, `relations[${index}]`);
      return {
        ...checked,
        sourceKey: entityKey(key, checked.source),
        targetKey: entityKey(key, checked.target),
        validFrom: neo4j.int(epochMs(relation.validFrom, `relations[${index}].validFrom`)),
      };
    });
    await this.execute('upsertRelations', request.signal, async (session) => {
      await this.requireDimensions(session);
      if (rows.length === 0) return;
      const params = { relations: rows, write: scopeProperties(scope, key) };
      await session.executeWrite((transaction) => transaction.run(this.queries.upsertRelations, params));
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
      const result = await session.executeWrite((transaction) =>
        transaction.run(this.queries.invalidateRelations(condition.text), { ...condition.params, keys, validTo: neo4j.int(validTo) }),
      );
      return { invalidated: toNumber(result.records[0]?.get('invalidated'), 'invalidated') };
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
      return result.records.map((record) => toRelation(record.toObject()));
    });
  }

  /**
   * The `topK` entities in scope most similar to `vector`, best first, at or above `threshold`.
   *
   * A scope holding at most `exactSearchLimit` entities with embeddings is searched exactly
   * (`vector.similarity.cosine` over the scope's nodes, found through the scope index). A larger
   * scope is searched through the vector index: the global top candidates are fetched and
   * filtered by scope, fetching more (×4 per round) until `topK` matches are found, the threshold
   * cuts off, or the index is exhausted, so a scope is never starved by other scopes' entities.
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
      if (topK === 0) return [];
      const matches = await session.executeRead(async (transaction) => {
        if (await this.fitsExactSearch(transaction, scope)) return this.exactSearch(transaction, scope, vector, topK, threshold);
        return this.indexSearch(transaction, scope, vector, topK, threshold);
      });
      return matches.map((row) => ({
        entity: { name: row.name, type: row.type, scope: toScope(row) },
        // Neo4j's cosine similarity is (1 + cosine) / 2, in [0, 1]; the interface wants the cosine.
        score: Math.min(1, Math.max(-1, row.similarity * 2 - 1)),
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
      for (const query of [...this.queries.dropIndexes, this.queries.dropConstraint]) await session.run(query);
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
        throw toNeo4jError(error, 'close', this.context);
      }
    }
  }

  /** Opens a session for one operation, maps failures to mem errors, and closes the session on every path. */
  private async execute<T>(operation: string, signal: AbortSignal | undefined, work: (session: Session) => Promise<T>): Promise<T> {
    throwIfAborted(signal, `neo4j ${operation}`);
    if (this.closed) {
      throw new ProviderRequestError({
        provider: NEO4J_PROVIDER,
        operation,
        message: 'the store is closed. Create a new Neo4jGraphStore.',
        retryable: false,
      });
    }
    let session: Session | undefined;
    try {
      session = this.driver.session(this.database === undefined ? {} : { database: this.database });
      return await work(session);
    } catch (error) {
      throw toNeo4jError(error, operation, this.context);
    } finally {
      if (session) await session.close().catch(() => undefined);
    }
  }

  private async readDimensions(session: Session): Promise<number | undefined> {
    const result = await session.run(this.queries.showVectorIndex, { name: this.names.vectorIndex });
    const record = result.records[0];
    if (!record) return undefined;
    const options = record.get('options') as { indexConfig?: Record<string, unknown> } | null;
    const dimensions = options?.indexConfig?.['vector.dimensions'];
    if (dimensions === undefined || dimensions === null) {
      throw new MemError(
        'CONFLICT',
        `The Neo4j vector index ${this.names.vectorIndex} has no vector.dimensions. Drop it (dropSchema) and call ensureSchema again.`,
      );
    }
    return toNumber(dimensions, 'vector.dimensions');
  }

  private async requireDimensions(session: Session): Promise<number> {
    this.dimensions ??= await this.readDimensions(session);
    if (this.dimensions === undefined) {
      throw new MemError(
        'CONFLICT',
        `The Neo4j graph "${this.namespace}" has no vector index yet. Call ensureSchema({ dimensions }) first.`,
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
    return toNumber(result.records[0]?.get('searchable'), 'searchable') <= this.exactSearchLimit;
  }

  private async exactSearch(
    transaction: ManagedTransaction,
    scope: Scope,
    vector: number[],
    topK: number,
    threshold: number | undefined,
  ): Promise<EntityRow[]> {
    const condition = scopeCondition('e', scope);
    const result = await transaction.run(this.queries.exactSearch(condition.text, threshold !== undefined), {
      ...condition.params,
      vector,
      topK: neo4j.int(topK),
      ...(threshold === undefined ? {} : { minimum: (1 + threshold) / 2 }),
    });
    return result.records.map((record) => toEntityRow(record.toObject()));
  }

  private async indexSearch(
    transaction: ManagedTransaction,
    scope: Scope,
    vector: number[],
    topK: number,
    threshold: number | undefined,
  ): Promise<EntityRow[]> {
    const condition = scopeCondition('e', scope);
    const total = toNumber((await transaction.run(this.queries.countEntities)).records[0]?.get('entities'), 'entities');
    const minimum = threshold === undefined ? undefined : (1 + threshold) / 2;
    let candidates = Math.min(Math.max(topK * OVERFETCH, MIN_CANDIDATES), Math.max(total, 1));
    for (;;) {
      const result = await transaction.run(this.queries.indexSearch(condition.text), {
        ...condition.params,
        index: this.names.vectorIndex,
        candidates: neo4j.int(candidates),
        vector,
      });
      const record = result.records[0];
      if (!record) throw new ProviderResponseInvalidError(NEO4J_PROVIDER, 'searchEntities', 'the vector index query returned no row');
      const fetched = toNumber(record.get('fetched'), 'fetched');
      const lowest = record.get('lowest') as number | null;
      const matches = (record.get('matches') as unknown[])
        .map(toEntityRow)
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
      const result = await session.executeWrite((transaction) => transaction.run(query, { ...params, batch: neo4j.int(DELETE_BATCH) }));
      if (toNumber(result.records[0]?.get('deleted'), 'deleted') < DELETE_BATCH) return;
    }
  }

  private where(): string {
    return `Neo4j graph "${this.namespace}"`;
  }

  private dimensionMismatch(expected: number, actual: number, fix: string): DimensionMismatchError {
    return new DimensionMismatchError(this.where(), expected, actual, fix);
  }
}

/** The value of the unique `key` property: exact scope and name. */
function entityKey(scope: string, name: string): string {
  return JSON.stringify([scope, name]);
}

function uniqueKeys(keys: readonly GraphRelationKey[]): GraphRelationKey[] {
  const seen = new Map<string, GraphRelationKey>();
  for (const key of keys) seen.set(JSON.stringify([key.source, key.relation, key.target]), key);
  return [...seen.values()];
}

function toNumber(value: unknown, field: string): number {
  if (neo4j.isInt(value)) return (value as { toNumber(): number }).toNumber();
  if (typeof value === 'number') return value;
  throw new ProviderResponseInvalidError(NEO4J_PROVIDER, 'read', `${field} is not a number`);
}

function toScope(row: { userId: unknown; agentId: unknown; runId: unknown }): Scope {
  const scope: { userId?: string; agentId?: string; runId?: string } = {};
  if (typeof row.userId === 'string') scope.userId = row.userId;
  if (typeof row.agentId === 'string') scope.agentId = row.agentId;
  if (typeof row.runId === 'string') scope.runId = row.runId;
  return scope;
}

function toEntityRow(value: unknown): EntityRow {
  const row = value as Record<string, unknown> | null;
  if (!row || typeof row.name !== 'string' || typeof row.type !== 'string' || typeof row.similarity !== 'number') {
    throw new ProviderResponseInvalidError(NEO4J_PROVIDER, 'searchEntities', 'an entity row lacks name, type or similarity');
  }
  return row as unknown as EntityRow;
}

function toRelation(row: Record<string, unknown>): GraphRelation {
  if (typeof row.source !== 'string' || typeof row.relation !== 'string' || typeof row.target !== 'string') {
    throw new ProviderResponseInvalidError(NEO4J_PROVIDER, 'neighbors', 'a relation row lacks source, relation or target');
  }
  const validTo = row.validTo === null || row.validTo === undefined ? null : new Date(toNumber(row.validTo, 'validTo'));
  return {
    source: row.source,
    relation: row.relation,
    target: row.target,
    scope: toScope(row as { userId: unknown; agentId: unknown; runId: unknown }),
    validFrom: new Date(toNumber(row.validFrom, 'validFrom')),
    validTo,
  };
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
