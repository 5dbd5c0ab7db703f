import type { GraphEntityInput } from '../contract/interfaces';
import { scopeKey } from '../contract/scope';
import type { Scope } from '../contract/types';
import type { GraphSettings } from '../graph/graph-options';
import { cosineSimilarity } from '../kit/vector-math';
import type { PreparedEntity } from './prepare-graph';

/** How the entities of one `add` map onto the graph. */
export interface ResolvedEntities {
  /** Extracted name → the name stored (its own, or the stored / earlier entity it was merged into). */
  readonly canonical: ReadonlyMap<string, string>;
  /** Entities to upsert: new ones, and stored ones of another (narrower) scope copied into this scope. */
  readonly upserts: readonly GraphEntityInput[];
  /** Every entity of the `add` under its stored name, with its type. */
  readonly entities: readonly { readonly name: string; readonly type: string }[];
}

/**
 * Part of stage 5 of `add` (under the locks): resolves each extracted entity against the
 * stored ones and the earlier ones of the same `add`. Names equal after normalisation are one
 * entity already; beyond that, an entity whose embedding has cosine similarity ≥ `entityThreshold`
 * with a stored entity in scope (or an earlier one of this `add`) takes that entity's name.
 * A stored entity keeps its type and embedding: merging never lets a variant spelling drift it.
 */
export async function resolveEntities(options: {
  readonly settings: GraphSettings;
  readonly scope: Scope;
  readonly entities: readonly PreparedEntity[];
  readonly signal?: AbortSignal;
}): Promise<ResolvedEntities> {
  const { settings, scope, entities } = options;
  const signal = options.signal ? { signal: options.signal } : {};
  const ownScope = scopeKey(scope);
  const canonical = new Map<string, string>();
  const upserts: GraphEntityInput[] = [];
  const resolved = new Map<string, string>();
  const accepted: PreparedEntity[] = [];
  const stored = await Promise.all(
    entities.map((entity) =>
      settings.store.searchEntities({ scope, vector: entity.vector, topK: 1, threshold: settings.entityThreshold, ...signal }),
    ),
  );
  entities.forEach((entity, index) => {
    const earlier = accepted.find((candidate) => cosineSimilarity(candidate.vector, entity.vector) >= settings.entityThreshold);
    if (earlier) {
      canonical.set(entity.name, canonical.get(earlier.name)!);
      return;
    }
    accepted.push(entity);
    const match = stored[index]![0];
    if (match) {
      canonical.set(entity.name, match.entity.name);
      if (!resolved.has(match.entity.name)) resolved.set(match.entity.name, match.entity.type);
      // Relations are written in this exact scope, so the entity must exist here too.
      if (scopeKey(match.entity.scope) !== ownScope)
        upserts.push({ name: match.entity.name, type: match.entity.type, embedding: entity.vector });
      return;
    }
    canonical.set(entity.name, entity.name);
    resolved.set(entity.name, entity.type);
    upserts.push({ name: entity.name, type: entity.type, embedding: entity.vector });
  });
  return { canonical, upserts: dedupe(upserts), entities: [...resolved].map(([name, type]) => ({ name, type })) };
}

function dedupe(entities: readonly GraphEntityInput[]): GraphEntityInput[] {
  const byName = new Map<string, GraphEntityInput>();
  for (const entity of entities) if (!byName.has(entity.name)) byName.set(entity.name, entity);
  return [...byName.values()];
}
