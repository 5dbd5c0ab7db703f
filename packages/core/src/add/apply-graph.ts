import type { GraphRelationKey } from '../contract/interfaces';
import type { Scope } from '../contract/types';
import type { GraphSettings } from '../graph/graph-options';
import { ensureGraphSchema } from '../store/readiness';
import type { PreparedGraph } from './prepare-graph';
import { resolveEntities } from './resolve-entities';

/** What `add` changed in the graph. */
export interface GraphAddResult {
  /** The entities of the conversation under their stored names (after resolution), with types. */
  readonly entities: readonly { readonly name: string; readonly type: string }[];
  /** The relations the conversation asserts (already-open ones are left as they are). */
  readonly relations: readonly GraphRelationKey[];
  /** Open relations closed by this `add` (validTo = the conversation's `occurredAt`), never deleted. */
  readonly invalidated: readonly GraphRelationKey[];
}

const keyId = (key: GraphRelationKey) => JSON.stringify([key.source, key.relation, key.target]);

/**
 * Stage 5 of `add` (under the locks, after the memories were applied): resolves the
 * entities, closes contradicted relations, then writes entities and relations, all in `scope`.
 *
 * A stored open relation is contradicted, and closed with `validTo = occurredAt`, when
 * - the model listed it as ended, or
 * - it is single-valued (`singleValuedRelations`) and the conversation gives its source the same
 *   relation with another target: (user, lives_in, porto) closes (user, lives_in, lisbon).
 * A relation the conversation asserts is never closed by the same `add`.
 */
export async function applyGraph(options: {
  readonly settings: GraphSettings;
  readonly scope: Scope;
  readonly occurredAt: Date;
  readonly prepared: PreparedGraph;
  readonly signal?: AbortSignal;
}): Promise<GraphAddResult> {
  const { settings, scope, occurredAt, prepared } = options;
  const signal = options.signal ? { signal: options.signal } : {};
  const { store } = settings;
  if (prepared.entities.length === 0 && prepared.ended.length === 0) return { entities: [], relations: [], invalidated: [] };
  if (prepared.entities.length > 0) await ensureGraphSchema(store, prepared.entities[0]!.vector.length, options.signal);

  const resolved = await resolveEntities({ settings, scope, entities: prepared.entities, ...signal });
  const relations = new Map<string, GraphRelationKey>();
  for (const relation of prepared.relations) {
    const key = {
      source: resolved.canonical.get(relation.source) ?? relation.source,
      relation: relation.relation,
      target: resolved.canonical.get(relation.target) ?? relation.target,
    };
    relations.set(keyId(key), key);
  }

  const closing = new Map<string, GraphRelationKey>();
  for (const key of prepared.ended) if (!relations.has(keyId(key))) closing.set(keyId(key), key);
  const singleValued = [...relations.values()].filter((relation) => settings.singleValuedRelations.has(relation.relation));
  if (singleValued.length > 0) {
    const sources = [...new Set(singleValued.map((relation) => relation.source))];
    const current = await store.neighbors({ scope, entities: sources, limit: settings.neighborLimit, ...signal });
    for (const stored of current) {
      const replaced = singleValued.some(
        (relation) => relation.source === stored.source && relation.relation === stored.relation && relation.target !== stored.target,
      );
      const key = { source: stored.source, relation: stored.relation, target: stored.target };
      if (replaced && !relations.has(keyId(key))) closing.set(keyId(key), key);
    }
  }

  const invalidated = [...closing.values()];
  if (invalidated.length > 0) await store.invalidateRelations({ scope, relations: invalidated, validTo: occurredAt, ...signal });
  const batch = Math.max(1, store.capabilities.maxBatchSize);
  for (let start = 0; start < resolved.upserts.length; start += batch) {
    await store.upsertEntities({ scope, entities: resolved.upserts.slice(start, start + batch), ...signal });
  }
  const inputs = [...relations.values()].map((relation) => ({ ...relation, validFrom: occurredAt }));
  for (let start = 0; start < inputs.length; start += batch) {
    await store.upsertRelations({ scope, relations: inputs.slice(start, start + batch), ...signal });
  }
  return { entities: resolved.entities, relations: [...relations.values()], invalidated };
}
