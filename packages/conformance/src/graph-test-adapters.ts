// Deliberately broken and deliberately limited graph stores, built on core's reference store.
// Only the self-tests import this file; it is not exported.
import {
  defineGraphStoreCapabilities,
  type GraphEntityInput,
  type GraphEntityMatch,
  type GraphRelation,
  type GraphRelationInput,
  type GraphRelationKey,
  type ScopedCall,
} from '@mem/core/adapter';
import { InMemoryGraphStore } from '@mem/core';

type NeighborsRequest = ScopedCall<{ entities: readonly string[]; limit: number; includeInvalid?: boolean }>;

/** Correct, but applies writes 10 ms late and takes batches of 3: the suite must poll and split. */
export class LaggingGraphStore extends InMemoryGraphStore {
  override readonly capabilities = defineGraphStoreCapabilities({ maxBatchSize: 3, readAfterWrite: 'eventual' });
  private pending: Promise<unknown> = Promise.resolve();

  private later<T>(apply: () => Promise<T>): Promise<void> {
    const applied = this.pending.then(() => new Promise((resolve) => setTimeout(resolve, 10))).then(apply);
    this.pending = applied.catch(() => undefined);
    return Promise.resolve();
  }

  override async upsertEntities(request: ScopedCall<{ entities: readonly GraphEntityInput[] }>): Promise<void> {
    if (request.entities.length > this.capabilities.maxBatchSize) throw new RangeError('batch larger than maxBatchSize');
    if (request.entities.some((entity) => entity.embedding.length !== request.entities[0]!.embedding.length))
      return super.upsertEntities(request);
    const copy = structuredClone({ scope: request.scope, entities: request.entities });
    return this.later(() => super.upsertEntities(copy));
  }

  override async upsertRelations(request: ScopedCall<{ relations: readonly GraphRelationInput[] }>): Promise<void> {
    if (request.relations.length > this.capabilities.maxBatchSize) throw new RangeError('batch larger than maxBatchSize');
    const copy = structuredClone({ scope: request.scope, relations: request.relations });
    return this.later(() => super.upsertRelations(copy));
  }

  override async invalidateRelations(
    request: ScopedCall<{ relations: readonly GraphRelationKey[]; validTo: Date }>,
  ): Promise<{ invalidated: number }> {
    // Invalidation reports a count, so it waits for earlier writes and applies at once.
    await this.pending;
    return super.invalidateRelations(request);
  }
}

/** Broken: neighbors ignores the call's scope. */
export class IgnoresScopeGraphStore extends InMemoryGraphStore {
  override async neighbors(request: NeighborsRequest): Promise<GraphRelation[]> {
    const everyone = [{ userId: 'user-a' }, { userId: 'user-b' }, { agentId: 'agent-x' }, { runId: 'run-r' }];
    const results = await Promise.all(everyone.map((scope) => super.neighbors({ ...request, scope })));
    const seen = new Set<string>();
    return results.flat().filter((relation) => {
      const key = JSON.stringify(relation);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }
}

/** Broken: invalidation deletes the relation instead of closing it (no history). */
export class DeletesOnInvalidateGraphStore extends InMemoryGraphStore {
  private readonly deleted = new Set<string>();

  override async invalidateRelations(
    request: ScopedCall<{ relations: readonly GraphRelationKey[]; validTo: Date }>,
  ): Promise<{ invalidated: number }> {
    const result = await super.invalidateRelations(request);
    for (const key of request.relations) this.deleted.add(JSON.stringify([key.source, key.relation, key.target]));
    return result;
  }

  override async neighbors(request: NeighborsRequest): Promise<GraphRelation[]> {
    return (await super.neighbors(request)).filter(
      (relation) => relation.validTo === null || !this.deleted.has(JSON.stringify([relation.source, relation.relation, relation.target])),
    );
  }
}

/**
 * Broken: not idempotent. A repeated upsert stores a second relation (as a MERGE keyed on validFrom
 * too would), which shows as the first one closed and a new one open.
 */
export class DuplicatesRelationsGraphStore extends InMemoryGraphStore {
  override async upsertRelations(request: ScopedCall<{ relations: readonly GraphRelationInput[] }>): Promise<void> {
    for (const relation of request.relations) {
      await super.invalidateRelations({ scope: request.scope, relations: [relation], validTo: relation.validFrom });
      await super.upsertRelations({ scope: request.scope, relations: [relation] });
    }
  }
}

/** Broken: lower-cases and trims names, the way a store that "helpfully" normalises would. */
export class FoldsNamesGraphStore extends InMemoryGraphStore {
  override async upsertEntities(request: ScopedCall<{ entities: readonly GraphEntityInput[] }>): Promise<void> {
    return super.upsertEntities({
      ...request,
      entities: request.entities.map((entity) => ({ ...entity, name: entity.name.trim().toLowerCase() })),
    });
  }
}

/** Broken: under concurrent calls, only the last relation upsert of a burst is kept. */
export class LosesConcurrentWritesGraphStore extends InMemoryGraphStore {
  private latest: object | undefined;

  override async upsertRelations(request: ScopedCall<{ relations: readonly GraphRelationInput[] }>): Promise<void> {
    this.latest = request;
    await new Promise((resolve) => setTimeout(resolve, 1));
    if (this.latest !== request) return;
    return super.upsertRelations(request);
  }
}

/** Broken: deleteAll deletes only data written with exactly the call's scope, not the scopes inside it. */
export class ExactScopeDeleteAllGraphStore extends InMemoryGraphStore {
  private readonly kept: GraphRelation[] = [];

  override async deleteAll(request: ScopedCall<object>): Promise<void> {
    const relations = await super.neighbors({ scope: request.scope, entities: ['alice', 'bob'], limit: 1_000, includeInvalid: true });
    const wider = relations.filter((relation) => JSON.stringify(relation.scope) !== JSON.stringify(request.scope));
    await super.deleteAll(request);
    this.kept.push(...wider);
  }

  override async neighbors(request: NeighborsRequest): Promise<GraphRelation[]> {
    const names = new Set(request.entities);
    const kept = this.kept.filter((relation) => names.has(relation.source) || names.has(relation.target));
    return [...(await super.neighbors(request)), ...kept];
  }
}

/** Broken: returns the similarity as Neo4j's index reports it, (1 + cosine) / 2, without converting. */
export class UnconvertedScoreGraphStore extends InMemoryGraphStore {
  override async searchEntities(
    request: ScopedCall<{ vector: readonly number[]; topK: number; threshold?: number }>,
  ): Promise<GraphEntityMatch[]> {
    const { threshold: _threshold, ...rest } = request;
    const matches = await super.searchEntities(rest);
    return matches
      .map((match) => ({ ...match, score: (1 + match.score) / 2 }))
      .filter((match) => request.threshold === undefined || match.score >= request.threshold);
  }
}
