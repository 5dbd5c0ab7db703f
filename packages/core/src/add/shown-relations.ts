import type { GraphRelationKey } from '../contract/interfaces';
import type { Scope } from '../contract/types';
import { USER_ENTITY, type GraphSettings } from '../graph/graph-options';
import { ensureGraphSchema } from '../store/readiness';

/** A stored relation shown to the LLM under a short alias, so it can say the relation has ended. */
export interface ShownRelation {
  /** `g1`, `g2`, … */
  readonly alias: string;
  /** `user lives_in lisbon` */
  readonly text: string;
  readonly key: GraphRelationKey;
}

/**
 * The stored open relations the conversation may end, shown to the LLM so it can say so: in the
 * same call that extracts the facts (the `reconcile` strategy), or in the graph-only call of
 * `extractGraph`. Seeds: the user's own entity, plus the entities most
 * similar to each message (reusing the message vectors the memory retrieval already computed,
 * so no extra embedding call). At most `contextLimit` relations, newest first, all in scope.
 */
export async function retrieveGraphContext(options: {
  readonly settings: GraphSettings;
  readonly scope: Scope;
  readonly vectors: readonly (readonly number[])[];
  readonly signal?: AbortSignal;
}): Promise<ShownRelation[]> {
  const { settings, scope, vectors } = options;
  if (settings.contextLimit === 0) return [];
  const signal = options.signal ? { signal: options.signal } : {};
  const seeds = new Set([USER_ENTITY]);
  if (vectors.length > 0) {
    await ensureGraphSchema(settings.store, vectors[0]!.length, options.signal);
    const found = await Promise.all(
      vectors.map((vector) => settings.store.searchEntities({ scope, vector, topK: 3, threshold: settings.searchThreshold, ...signal })),
    );
    for (const matches of found) for (const match of matches) seeds.add(match.entity.name);
  }
  const relations = await settings.store.neighbors({ scope, entities: [...seeds], limit: settings.contextLimit, ...signal });
  const seen = new Set<string>();
  const shown: ShownRelation[] = [];
  for (const relation of relations) {
    const key = { source: relation.source, relation: relation.relation, target: relation.target };
    const id = JSON.stringify([key.source, key.relation, key.target]);
    if (seen.has(id)) continue; // the same key open in two sub-scopes is shown once
    seen.add(id);
    shown.push({ alias: `g${shown.length + 1}`, text: `${key.source} ${key.relation} ${key.target}`, key });
  }
  return shown;
}
