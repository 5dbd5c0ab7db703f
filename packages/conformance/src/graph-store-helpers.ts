import assert from 'node:assert/strict';
import type { GraphEntityInput, GraphRelation, GraphRelationInput, GraphStore, Scope } from '@mem/core/adapter';
import { baseHelpers, type CaseHelpers, type RunCaseOptions } from './case';
import { CONFORMANCE_DIMENSIONS } from './vector-store-helpers';

/** Helpers handed to every graph store case. */
export interface GraphStoreCaseHelpers extends CaseHelpers {
  /** Embedding length the suite prepared the store with ({@link CONFORMANCE_DIMENSIONS}). */
  readonly dimensions: number;
  /** The unit vector along axis `index` (0-based), times `sign`. */
  axis(index: number, sign?: 1 | -1): number[];
  /** A unit vector at `angleDegrees` from axis 0 towards axis 1: its cosine with `axis(0)` is `cos(angle)`. */
  angled(angleDegrees: number): number[];
  /** An entity input. Defaults: type `person`, embedding `axis(0)`. */
  entity(name: string, fields?: { type?: string; embedding?: readonly number[] }): GraphEntityInput;
  /** A relation input. Default `validFrom`: 2024-05-17T09:30:15.123Z. */
  relation(source: string, relation: string, target: string, validFrom?: Date): GraphRelationInput;
  /** Upserts entities in `scope`, in batches of at most `capabilities.maxBatchSize`. */
  writeEntities(scope: Scope, entities: readonly GraphEntityInput[]): Promise<void>;
  /** Upserts relations in `scope`, in batches of at most `capabilities.maxBatchSize`. */
  writeRelations(scope: Scope, relations: readonly GraphRelationInput[]): Promise<void>;
}

/** Builds the helpers for one graph store case. */
export function createGraphStoreHelpers(
  store: GraphStore,
  options: RunCaseOptions & { readonly namespace: string },
): GraphStoreCaseHelpers {
  const axis = (index: number, sign: 1 | -1 = 1) =>
    Array.from({ length: CONFORMANCE_DIMENSIONS }, (_, position) => (position === index ? sign : 0));
  const batches = async <T>(items: readonly T[], write: (batch: readonly T[]) => Promise<void>) => {
    const size = Math.max(1, store.capabilities.maxBatchSize);
    for (let start = 0; start < items.length; start += size) await write(items.slice(start, start + size));
  };
  return {
    ...baseHelpers({ ...options, consistency: store.capabilities.readAfterWrite }),
    dimensions: CONFORMANCE_DIMENSIONS,
    axis,
    angled(angleDegrees) {
      const radians = (angleDegrees * Math.PI) / 180;
      return Array.from({ length: CONFORMANCE_DIMENSIONS }, (_, position) =>
        position === 0 ? Math.cos(radians) : position === 1 ? Math.sin(radians) : 0,
      );
    },
    entity: (name, fields = {}) => ({ name, type: fields.type ?? 'person', embedding: fields.embedding ?? axis(0) }),
    relation: (source, relation, target, validFrom = new Date(Date.UTC(2024, 4, 17, 9, 30, 15, 123))) => ({
      source,
      relation,
      target,
      validFrom,
    }),
    writeEntities: (scope, entities) => batches(entities, (batch) => store.upsertEntities({ scope, entities: batch })),
    writeRelations: (scope, relations) => batches(relations, (batch) => store.upsertRelations({ scope, relations: batch })),
  };
}

/** Large enough to return every relation or entity a case writes. */
export const GRAPH_ALL = 1_000;

/** Scores are compared with this tolerance: backends may store float32 embeddings. */
export const GRAPH_SCORE_TOLERANCE = 1e-3;

/** A relation as the cases compare it: `source|relation|target|validFrom|validTo|scope`, dates in ms. */
export function relationSignature(relation: GraphRelation): string {
  assert.ok(relation.validFrom instanceof Date, 'validFrom must be a Date');
  assert.ok(
    relation.validTo === null || relation.validTo instanceof Date,
    `validTo must be a Date or null, got ${String(relation.validTo)}`,
  );
  return JSON.stringify([
    relation.source,
    relation.relation,
    relation.target,
    relation.validFrom.getTime(),
    relation.validTo === null ? null : relation.validTo.getTime(),
    definedScope(relation.scope),
  ]);
}

/** Signatures of relations, sorted, for set comparisons. */
export function relationSignatures(relations: readonly GraphRelation[]): string[] {
  return relations.map(relationSignature).sort();
}

/** The expected signature of a relation written with `input` in `scope`. */
export function expectedSignature(input: GraphRelationInput, scope: Scope, validTo: Date | null = null): string {
  return JSON.stringify([
    input.source,
    input.relation,
    input.target,
    input.validFrom.getTime(),
    validTo === null ? null : validTo.getTime(),
    definedScope(scope),
  ]);
}

/** A scope with only the ids that are set, keys in a fixed order. */
export function definedScope(scope: Scope): Scope {
  const result: { userId?: string; agentId?: string; runId?: string } = {};
  for (const key of ['userId', 'agentId', 'runId'] as const) {
    const value = scope[key];
    if (value !== undefined) {
      assert.equal(typeof value, 'string', `scope.${key} must be a string or left out, got ${value === null ? 'null' : typeof value}`);
      result[key] = value;
    }
  }
  return result;
}
