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
import {
  memgraphQueries,
  schemaNames,
  scopeCondition,
  scopeProperties,
  type MemgraphQueries,
  type MemgraphSchemaNames,
} from './memgraph-cypher';
import { MEMGRAPH_PROVIDER, describeServer, isUniqueConflict, toMemgraphError, type MemgraphErrorContext } from './memgraph-errors';
import {
  checkGraphBatch as checkBatch,
  checkGraphCount as checkCount,
  checkGraphDimensions,
  checkGraphRelationKey as checkKey,
  checkGraphName as checkName,
  checkGraphVector as checkVector,
  graphEpochMs as epochMs,
} from '@mem/core';
import { resolveMemgraphOptions, type MemgraphGraphStoreOptions } from './memgraph-graph-store-options';

/** Entities deleted per transaction by `deleteAll` / `reset`. */
const DELETE_BATCH = 5_000;
/** First index search fetches `topK` times this many global candidates (at least {@link MIN_CANDIDATES}). */
const OVERFETCH = 10;
const MIN_CANDIDATES = 100;
/** Each further round fetches this many times more candidates. */
const GROWTH = 4;
/** Attempts of a write that lost a race for a new entity's unique key. */
const UNIQUE_CONFLICT_ATTEMPTS = 5;

interface EntityRow {
  readonly name: string;
  readonly type: string;
  readonly userId: string | null;
  readonly agentId: string | null;
  readonly runId: string | null;
  readonly similarity: number;
}

/**
 * A {@link GraphStore} on Memgraph 3 through `neo4j-driver` (Memgraph speaks Bolt): entities are
 * `(:<namespace>_Entity)` nodes keyed by exact scope and name (unique constraint), relations are
 * `[:<namespace>_RELATION]` edges carrying their name, `valid_from`, `valid_to` and `open`, and
 * entity embeddings have a Memgraph vector index (`metric: "cos"`), searched with
 * `vector_search.search`.
 *
 * Every value is a query parameter; only names derived from the validated `namespace` (and the
 * validated vector index dimension and capacity) are part of the Cypher text. Data runs in managed
 * transactions (retried by the driver on Memgraph's transient write conflicts), schema changes in
 * auto-commit ones, on a session closed on every path.
 *
 * @example
 * import { MemgraphGraphStore } from '@mem/graph-memgraph';
 * const graphStore = new MemgraphGraphStore({ uri: 'bolt://localhost:7687' });
 * const memory = new Memory({ embedder, llm, vectorStore, historyStore, graphStore });
 */
export class MemgraphGraphStore implements GraphStore {
  /** `'memgraph'`. */
  readonly provider = MEMGRAPH_PROVIDER;
  /** Immediate reads after writes; up to 1000 entities or relations per upsert (one transaction each). */
  readonly capabilities = defineGraphStoreCapabilities({ maxBatchSize: 1_000, readAfterWrite: 'immediate' });
  /** Prefix of the label, edge type and vector index name this store uses. */
  readonly namespace: string;
  /** The label, edge type and index names of {@link namespace}. */
  readonly names: MemgraphSchemaNames;

  private readonly driver: Driver;
  private readonly ownsDriver: boolean;
  private readonly database: string | undefined;
  private readonly exactSearchLimit: number;
  private readonly vectorIndexCapacity: number;
  private readonly queries: MemgraphQueries;
  private readonly context: MemgraphErrorContext;
  private dimensions: number | undefined;
  private closed = false;

  /**
   * Creates the driver (no connection is made until the first call).
   * @throws {InvalidInputError} for an invalid option; {@link MissingSettingError} without a URI.
   */
  constructor(options: MemgraphGraphStoreOptions = {}) {
    const resolved = resolveMemgraphOptions(options);
    this.namespace = resolved.namespace;
    this.names = schemaNames(resolved.namespace);
    this.queries = memgraphQueries(this.names);
    this.database = resolved.database;
    this.exactSearchLimit = resolved.exactSearchLimit;
    this.vectorIndexCapacity = resolved.vectorIndexCapacity;
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
          userAgent: 'mem-graph-memgraph',
        });
      } catch (error) {
        throw new InvalidInputError(
          'options.uri',
          `the driver rejected it (${error instanceof Error ? error.name : 'error'})`,
          'Use e.g. bolt://localhost:7687.',
        );
      }
      this.ownsDriver = true;
    }
  }

  /**
   * Creates the label index, the label-property indexes (key, name, user_id, agent_id, run_id), the
   * unique constraint on `key` and the cosine vector index on embeddings, each only if missing
   * (Memgraph has no IF NOT EXISTS for them).
   * @throws {DimensionMismatchError} when the vector index exists with other dimensions.
   */
  async ensureSchema(request: Call<{ readonly dimensions: number }>): Promise<void> {
    const dimensions = checkGraphDimensions(request.dimensions);
    await this.execute('ensureSchema', request.signal, async (session) => {
      const existing = await this.readDimensions(session);
      if (existing !== undefined && existing !== dimensions)
        throw this.dimensionMismatch(existing, dimensions, 'Use another namespace for this embedder.');
      const indexed = await this.readIndexes(session);
      if (!indexed.has(null)) await session.run(this.queries.createLabelIndex);
      for (const property of this.names.indexedProperties) {
        if (!indexed.has(property)) await session.run(this.queries.createPropertyIndex(property));
      }
      if (!(await this.hasKeyConstraint(session))) await session.run(this.queries.createKeyConstraint);
      if (existing === undefined) await session.run(this.queries.createVectorIndex(dimensions, this.vectorIndexCapacity));
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
      // A name twice in one request: the last one wins (one row per key, in the last one's place).
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
   * as it is. Missing endpoints become entities of type `'entity'` without embedding. All or none.
   */
  async upsertRelations(request: ScopedCall<{ readonly relations: readonly GraphRelationInput[] }>): Promise<void> {
    const scope = validateScope(request.scope);
    const relations = checkBatch(request.relations, 'relations', this.capabilities.maxBatchSize);
    const key = scopeKey(scope);
    // The same key twice in one request: the first one (and its validFrom) is stored.
    const rows = new Map<string, GraphRelationKey & { sourceKey: string; targetKey: string; validFrom: ReturnType<typeof neo4j.int> }>();
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
   * Scopes with at most `exactSearchLimit` embedded entities are searched exactly (cosine computed
   * in Cypher over the scope's nodes); larger ones through the vector index, fetching ever more
   * global candidates (×4 per round) until `topK` in-scope matches are found, the threshold cuts
   * off, or the index is exhausted.
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
        score: Math.min(1, Math.max(-1, row.similarity)),
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
   * Deletes every entity and relation of this namespace and drops its vector index, constraint and
   * indexes, e.g. to dispose of a test graph. Call {@link ensureSchema} again before the next write.
   */
  async dropSchema(request?: Call<object>): Promise<void> {
    await this.execute('dropSchema', request?.signal, async (session) => {
      await this.deleteInBatches(session, 'true', {});
      if ((await this.readDimensions(session)) !== undefined) await session.run(this.queries.dropVectorIndex);
      if (await this.hasKeyConstraint(session)) await session.run(this.queries.dropKeyConstraint);
      const indexed = await this.readIndexes(session);
      for (const property of this.names.indexedProperties) {
        if (indexed.has(property)) await session.run(this.queries.dropPropertyIndex(property));
      }
      if (indexed.has(null)) await session.run(this.queries.dropLabelIndex);
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
        throw toMemgraphError(error, 'close', this.context);
      }
    }
  }

  /** Opens a session for one operation, maps failures to mem errors, and closes the session on every path. */
  private async execute<T>(operation: string, signal: AbortSignal | undefined, work: (session: Session) => Promise<T>): Promise<T> {
    throwIfAborted(signal, `memgraph ${operation}`);
    if (this.closed) {
      throw new ProviderRequestError({
        provider: MEMGRAPH_PROVIDER,
        operation,
        message: 'the store is closed. Create a new MemgraphGraphStore.',
        retryable: false,
      });
    }
    let session: Session | undefined;
    try {
      session = this.driver.session(this.database === undefined ? {} : { database: this.database });
      return await work(session);
    } catch (error) {
      throw toMemgraphError(error, operation, this.context);
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
        if (attempt >= UNIQUE_CONFLICT_ATTEMPTS || !isUniqueConflict(error)) throw error;
      }
    }
  }

  private async readDimensions(session: Session): Promise<number | undefined> {
    const result = await session.run(this.queries.showVectorIndexes);
    const record = result.records.find((row) => row.has('index_name') && row.get('index_name') === this.names.vectorIndex);
    if (!record) return undefined;
    return toNumber(record.get('dimension'), 'dimension');
  }

  /** Properties of this namespace's label with an index; `null` stands for the label index. */
  private async readIndexes(session: Session): Promise<Set<string | null>> {
    const result = await session.run(this.queries.showIndexes);
    const indexed = new Set<string | null>();
    for (const record of result.records) {
      if (!record.has('label') || record.get('label') !== this.names.entityLabel) continue;
      const property = record.has('property') ? (record.get('property') as unknown) : null;
      const single = Array.isArray(property) ? (property.length === 1 ? property[0] : undefined) : property;
      if (single === null || typeof single === 'string') indexed.add(single);
    }
    return indexed;
  }

  private async hasKeyConstraint(session: Session): Promise<boolean> {
    const result = await session.run(this.queries.showConstraints);
    return result.records.some((record) => {
      if (!record.has('label') || record.get('label') !== this.names.entityLabel) return false;
      const type = record.has('constraint type') ? record.get('constraint type') : undefined;
      const properties = record.has('properties') ? (record.get('properties') as unknown) : undefined;
      const list = Array.isArray(properties) ? properties : [properties];
      return type === 'unique' && list.length === 1 && list[0] === 'key';
    });
  }

  private async requireDimensions(session: Session): Promise<number> {
    this.dimensions ??= await this.readDimensions(session);
    if (this.dimensions === undefined) {
      throw new MemError(
        'CONFLICT',
        `The Memgraph graph "${this.namespace}" has no vector index yet. Call ensureSchema({ dimensions }) first.`,
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
    const norm = Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
    if (norm === 0) return [];
    const result = await transaction.run(this.queries.exactSearch(condition.text, threshold !== undefined), {
      ...condition.params,
      vector,
      norm,
      topK: neo4j.int(topK),
      ...(threshold === undefined ? {} : { threshold }),
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
    let candidates = Math.min(Math.max(topK * OVERFETCH, MIN_CANDIDATES), Math.max(total, 1));
    for (;;) {
      const result = await transaction.run(this.queries.indexSearch(condition.text), {
        ...condition.params,
        index: this.names.vectorIndex,
        candidates: neo4j.int(candidates),
        vector,
      });
      const record = result.records[0];
      if (!record) throw new ProviderResponseInvalidError(MEMGRAPH_PROVIDER, 'searchEntities', 'the vector search returned no row');
      const fetched = toNumber(record.get('fetched'), 'fetched');
      const lowest = record.get('lowest') as number | null;
      const matches = (record.get('matches') as unknown[])
        .map(toEntityRow)
        .filter((row) => threshold === undefined || row.similarity >= threshold)
        .sort((a, b) => b.similarity - a.similarity || compareStrings(a.name, b.name));
      const exhausted = fetched < candidates || candidates >= total;
      const belowThreshold = threshold !== undefined && lowest !== null && lowest < threshold;
      if (matches.length >= topK || exhausted || belowThreshold) return matches.slice(0, topK);
      candidates = Math.min(candidates * GROWTH, total);
    }
  }

  private async deleteInBatches(session: Session, condition: string, params: Record<string, string>): Promise<void> {
    const query = this.queries.deleteBatch(condition);
    for (;;) {
      const result = await this.write(session, (transaction) => transaction.run(query, { ...params, batch: neo4j.int(DELETE_BATCH) }));
      if (toNumber(result.records[0]?.get('deleted'), 'deleted') < DELETE_BATCH) return;
    }
  }

  private where(): string {
    return `Memgraph graph "${this.namespace}"`;
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
  throw new ProviderResponseInvalidError(MEMGRAPH_PROVIDER, 'read', `${field} is not a number`);
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
    throw new ProviderResponseInvalidError(MEMGRAPH_PROVIDER, 'searchEntities', 'an entity row lacks name, type or similarity');
  }
  return row as unknown as EntityRow;
}

function toRelation(row: Record<string, unknown>): GraphRelation {
  if (typeof row.source !== 'string' || typeof row.relation !== 'string' || typeof row.target !== 'string') {
    throw new ProviderResponseInvalidError(MEMGRAPH_PROVIDER, 'neighbors', 'a relation row lacks source, relation or target');
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
