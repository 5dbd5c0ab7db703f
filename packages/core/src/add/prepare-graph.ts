import type { GraphRelationKey } from '../contract/interfaces';
import { MAX_GRAPH_NAME_LENGTH, normalizeEntityName, normalizeRelationName } from '../graph/graph-names';
import type { GraphPlan } from './add-strategy';

/** An extracted entity, normalised and embedded. */
export interface PreparedEntity {
  readonly name: string;
  readonly type: string;
  readonly vector: readonly number[];
}

/** The graph part of one `add`, ready to be resolved against the store. */
export interface PreparedGraph {
  /** Distinct entities (relation endpoints included), in the order the model gave them. */
  readonly entities: readonly PreparedEntity[];
  /** Distinct relations with normalised names. */
  readonly relations: readonly GraphRelationKey[];
  /** Stored relations the model said have ended (from the shown aliases; unknown aliases are dropped). */
  readonly ended: readonly GraphRelationKey[];
}

const usable = (name: string) => name.length > 0 && name.length <= MAX_GRAPH_NAME_LENGTH;

/**
 * Stage 2 of `add` (outside the locks): normalises names (entities: lower case,
 * collapsed spaces; relations and types: lower snake_case), drops items whose names are empty or
 * longer than 256 characters, and embeds every entity name in ONE embedding call.
 */
export async function prepareGraph(
  plan: GraphPlan,
  /** Embeds documents through the call's usage meter. */
  embed: (texts: readonly string[]) => Promise<number[][]>,
): Promise<PreparedGraph> {
  const types = new Map<string, string>();
  for (const entity of plan.extraction.entities) {
    const name = normalizeEntityName(entity.name);
    const type = normalizeRelationName(entity.type);
    if (!usable(name)) continue;
    // The first specific type wins; a generic 'entity' never replaces a specific one.
    if (!types.has(name) || (types.get(name) === 'entity' && usable(type) && type !== 'entity'))
      types.set(name, usable(type) ? type : 'entity');
  }
  const relations: GraphRelationKey[] = [];
  const seen = new Set<string>();
  for (const item of plan.extraction.relations) {
    const key = {
      source: normalizeEntityName(item.source),
      relation: normalizeRelationName(item.relation),
      target: normalizeEntityName(item.target),
    };
    if (!usable(key.source) || !usable(key.relation) || !usable(key.target)) continue;
    const id = JSON.stringify([key.source, key.relation, key.target]);
    if (seen.has(id)) continue;
    seen.add(id);
    relations.push(key);
    for (const name of [key.source, key.target]) if (!types.has(name)) types.set(name, 'entity');
  }
  const aliases = new Map(plan.shown.map((shown) => [shown.alias, shown.key]));
  const ended = [...new Set(plan.extraction.ended)].flatMap((alias) => {
    const key = aliases.get(alias);
    return key ? [key] : [];
  });
  const names = [...types.keys()];
  const vectors = await embed(names);
  return { entities: names.map((name, index) => ({ name, type: types.get(name)!, vector: vectors[index]! })), relations, ended };
}
