import { defineGraphStoreCapabilities } from '../contract/capabilities';
import { DimensionMismatchError, InvalidInputError, MemError, throwIfAborted } from '../contract/errors';
import type {
  GraphEntity,
  GraphEntityInput,
  GraphEntityMatch,
  GraphRelation,
  GraphRelationInput,
  GraphRelationKey,
  GraphStore,
} from '../contract/interfaces';
import { scopeContains, scopeKey } from '../contract/scope';
import { SCOPE_FIELDS, type Call, type Scope, type ScopedCall } from '../contract/types';
import { cosineSimilarity } from '../kit/vector-math';

interface StoredEntity {
  readonly scope: Scope;
  readonly name: string;
  type: string;
  embedding: readonly number[] | undefined;
}

interface StoredRelation {
  readonly scope: Scope;
  readonly scopeKey: string;
  readonly source: string;
  readonly relation: string;
  readonly target: string;
  readonly validFrom: number;
  validTo: number | null;
  /** Insertion order, to break ties between equal `validFrom`s (newer first). */
  readonly sequence: number;
}

/**
 * The reference {@link GraphStore}, in process memory: exact entity search, every rule of the
 * interface, nothing survives the process. Use `@mem/graph-sqlite` to keep the graph.
 *
 * @example
 * const memory = new Memory({ embedder, vectorStore, historyStore, llm, graphStore: new InMemoryGraphStore() });
 */
export class InMemoryGraphStore implements GraphStore {
  readonly provider = 'in-memory';
  readonly capabilities = defineGraphStoreCapabilities({ maxBatchSize: 10_000 });
  private dimensions: number | undefined;
  private readonly entities = new Map<string, StoredEntity>();
  private relations: StoredRelation[] = [];
  private sequence = 0;

  async ensureSchema(request: Call<{ dimensions: number }>): Promise<void> {
    throwIfAborted(request.signal, 'in-memory ensureSchema');
    if (!Number.isInteger(request.dimensions) || request.dimensions < 1) {
      throw new InvalidInputError('dimensions', 'expected a positive integer', "Pass the embedder's vector length.");
    }
    if (this.dimensions !== undefined && this.dimensions !== request.dimensions) {
      throw new DimensionMismatchError(
        'The in-memory graph',
        this.dimensions,
        request.dimensions,
        'Use one embedder per graph store, or create a new store.',
      );
    }
    this.dimensions = request.dimensions;
  }

  async upsertEntities(request: ScopedCall<{ entities: readonly GraphEntityInput[] }>): Promise<void> {
    throwIfAborted(request.signal, 'in-memory upsertEntities');
    const dimensions = this.requireDimensions();
    // Validate the whole batch first: all of it or none of it.
    for (const entity of request.entities) {
      if (entity.embedding.length !== dimensions) {
        throw new DimensionMismatchError(
          'The in-memory graph',
          dimensions,
          entity.embedding.length,
          'Embed entity names with the same model the graph was created with.',
        );
      }
    }
    const scope = ownScope(request.scope);
    for (const entity of request.entities) {
      const key = entityKey(scope, entity.name);
      const stored = this.entities.get(key);
      if (stored) {
        stored.type = entity.type;
        stored.embedding = [...entity.embedding];
      } else {
        this.entities.set(key, { scope, name: entity.name, type: entity.type, embedding: [...entity.embedding] });
      }
    }
  }

  async upsertRelations(request: ScopedCall<{ relations: readonly GraphRelationInput[] }>): Promise<void> {
    throwIfAborted(request.signal, 'in-memory upsertRelations');
    this.requireDimensions();
    for (const [index, relation] of request.relations.entries()) checkDate(relation.validFrom, `relations[${index}].validFrom`);
    const scope = ownScope(request.scope);
    const key = scopeKey(scope);
    for (const relation of request.relations) {
      for (const name of [relation.source, relation.target]) {
        const id = entityKey(scope, name);
        if (!this.entities.has(id)) this.entities.set(id, { scope, name, type: 'entity', embedding: undefined });
      }
      const open = this.relations.some((stored) => stored.validTo === null && stored.scopeKey === key && sameKey(stored, relation));
      if (open) continue;
      this.relations.push({
        scope,
        scopeKey: key,
        source: relation.source,
        relation: relation.relation,
        target: relation.target,
        validFrom: relation.validFrom.getTime(),
        validTo: null,
        sequence: this.sequence++,
      });
    }
  }

  async invalidateRelations(
    request: ScopedCall<{ relations: readonly GraphRelationKey[]; validTo: Date }>,
  ): Promise<{ invalidated: number }> {
    throwIfAborted(request.signal, 'in-memory invalidateRelations');
    const validTo = checkDate(request.validTo, 'validTo');
    let invalidated = 0;
    for (const stored of this.relations) {
      if (stored.validTo !== null || !scopeContains(request.scope, stored.scope)) continue;
      if (!request.relations.some((key) => sameKey(stored, key))) continue;
      stored.validTo = Math.max(validTo, stored.validFrom);
      invalidated++;
    }
    return { invalidated };
  }

  async neighbors(request: ScopedCall<{ entities: readonly string[]; limit: number; includeInvalid?: boolean }>): Promise<GraphRelation[]> {
    throwIfAborted(request.signal, 'in-memory neighbors');
    const names = new Set(request.entities);
    return this.relations
      .filter(
        (stored) =>
          (request.includeInvalid === true || stored.validTo === null) &&
          (names.has(stored.source) || names.has(stored.target)) &&
          scopeContains(request.scope, stored.scope),
      )
      .sort((a, b) => b.validFrom - a.validFrom || b.sequence - a.sequence)
      .slice(0, Math.max(0, request.limit))
      .map(toRelation);
  }

  async searchEntities(request: ScopedCall<{ vector: readonly number[]; topK: number; threshold?: number }>): Promise<GraphEntityMatch[]> {
    throwIfAborted(request.signal, 'in-memory searchEntities');
    const dimensions = this.requireDimensions();
    if (request.vector.length !== dimensions) {
      throw new DimensionMismatchError(
        'The in-memory graph',
        dimensions,
        request.vector.length,
        'Embed queries with the same model as the entities.',
      );
    }
    const matches: GraphEntityMatch[] = [];
    for (const entity of this.entities.values()) {
      if (!entity.embedding || !scopeContains(request.scope, entity.scope)) continue;
      const score = cosineSimilarity(request.vector, entity.embedding);
      if (request.threshold !== undefined && score < request.threshold) continue;
      matches.push({ entity: toEntity(entity), score });
    }
    return matches.sort((a, b) => b.score - a.score).slice(0, Math.max(0, request.topK));
  }

  async deleteAll(request: ScopedCall<object>): Promise<void> {
    throwIfAborted(request.signal, 'in-memory deleteAll');
    for (const [key, entity] of this.entities) if (scopeContains(request.scope, entity.scope)) this.entities.delete(key);
    this.relations = this.relations.filter((stored) => !scopeContains(request.scope, stored.scope));
  }

  async reset(): Promise<void> {
    this.entities.clear();
    this.relations = [];
  }

  async close(): Promise<void> {}

  private requireDimensions(): number {
    if (this.dimensions === undefined) {
      throw new MemError('CONFLICT', 'The in-memory graph has no schema yet. Call ensureSchema({ dimensions }) first.');
    }
    return this.dimensions;
  }
}

function ownScope(scope: Scope): Scope {
  const copy: { userId?: string; agentId?: string; runId?: string } = {};
  for (const field of SCOPE_FIELDS) if (scope[field] !== undefined) copy[field] = scope[field];
  return copy;
}

function entityKey(scope: Scope, name: string): string {
  return JSON.stringify([scopeKey(scope), name]);
}

function sameKey(a: GraphRelationKey, b: GraphRelationKey): boolean {
  return a.source === b.source && a.relation === b.relation && a.target === b.target;
}

function checkDate(value: Date, field: string): number {
  const time = value instanceof Date ? value.getTime() : Number.NaN;
  if (Number.isNaN(time)) throw new InvalidInputError(field, 'expected a valid Date', 'Pass e.g. new Date("2024-06-01").');
  return time;
}

function toEntity(entity: StoredEntity): GraphEntity {
  return { name: entity.name, type: entity.type, scope: { ...entity.scope } };
}

function toRelation(stored: StoredRelation): GraphRelation {
  return {
    source: stored.source,
    relation: stored.relation,
    target: stored.target,
    scope: { ...stored.scope },
    validFrom: new Date(stored.validFrom),
    validTo: stored.validTo === null ? null : new Date(stored.validTo),
  };
}
