import type { Scope } from '@mem/core/adapter';
import type { CypherDialect, CypherSchemaNames } from './cypher-dialect';

/**
 * The Cypher text of every data operation of {@link CypherGraphStore}, the same on every engine
 * except where the dialect adds its own lines (similarity, vector search, a write guard). Values
 * always travel as parameters; the only things spliced into the text are names derived from the
 * validated namespace and the fixed scope property names chosen by which scope ids a call sets.
 */

/** Scope ids and the node properties holding them (absent when the id is unset). */
export const SCOPE_PROPERTIES = [
  ['userId', 'user_id'],
  ['agentId', 'agent_id'],
  ['runId', 'run_id'],
] as const;

/**
 * `e.user_id = $scope_user_id AND …` for every id the scope sets (containment: unset ids match
 * anything), or `true` for no condition. Only fixed property names enter the text.
 */
export function scopeCondition(variable: string, scope: Scope): { text: string; params: Record<string, string> } {
  const parts: string[] = [];
  const params: Record<string, string> = {};
  for (const [field, property] of SCOPE_PROPERTIES) {
    const value = scope[field];
    if (value === undefined) continue;
    parts.push(`${variable}.${property} = $scope_${property}`);
    params[`scope_${property}`] = value;
  }
  return { text: parts.length === 0 ? 'true' : parts.join(' AND '), params };
}

/** Properties written on a new entity node: the exact scope of the write (null for unset ids). */
export function scopeProperties(scope: Scope, scopeKey: string): Record<string, string | null> {
  return { scopeKey, userId: scope.userId ?? null, agentId: scope.agentId ?? null, runId: scope.runId ?? null };
}

/** The value of an entity's unique `key` property: its exact scope and name. */
export function entityKey(scopeKey: string, name: string): string {
  return JSON.stringify([scopeKey, name]);
}

/** Cypher fragment: `SET`s the scope properties of a just-created node from `$write`. */
function setScope(variable: string): string {
  return `${variable}.scope_key = $write.scopeKey, ${variable}.user_id = $write.userId, ${variable}.agent_id = $write.agentId, ${variable}.run_id = $write.runId`;
}

/** Builds every data query for one namespace in one dialect. */
export function cypherQueries<Names extends CypherSchemaNames>(names: Names, dialect: CypherDialect<Names>) {
  const { entityLabel: entity, relationType: relation } = names;
  const entityRow = 'name: e.name, type: e.type, userId: e.user_id, agentId: e.agent_id, runId: e.run_id';
  return {
    upsertEntities: [
      'UNWIND $entities AS entity',
      `MERGE (e:${entity} {key: entity.key})`,
      `ON CREATE SET e.name = entity.name, ${setScope('e')}`,
      'SET e.type = entity.type, e.embedding = entity.embedding',
    ].join('\n'),

    upsertRelations: [
      'UNWIND $relations AS relation',
      `MERGE (source:${entity} {key: relation.sourceKey})`,
      `ON CREATE SET source.name = relation.source, source.type = 'entity', ${setScope('source')}`,
      `MERGE (target:${entity} {key: relation.targetKey})`,
      `ON CREATE SET target.name = relation.target, target.type = 'entity', ${setScope('target')}`,
      ...(dialect.relationMergeGuard ?? []),
      // Only open relations carry open = true, so MERGE finds the open one or creates a new period.
      `MERGE (source)-[r:${relation} {name: relation.relation, open: true}]->(target)`,
      'ON CREATE SET r.valid_from = relation.validFrom',
    ].join('\n'),

    invalidateRelations: (scope: string) =>
      [
        'UNWIND $keys AS key',
        `MATCH (source:${entity} {name: key.source})-[r:${relation} {name: key.relation, open: true}]->(target:${entity} {name: key.target})`,
        `WHERE ${scope}`,
        'SET r.open = false, r.valid_to = CASE WHEN $validTo < r.valid_from THEN r.valid_from ELSE $validTo END',
        'RETURN count(r) AS invalidated',
      ].join('\n'),

    neighbors: (scope: string, includeInvalid: boolean) =>
      [
        `MATCH (e:${entity})`,
        `WHERE e.name IN $names AND ${scope}`,
        `MATCH (e)-[r:${relation}]-()`,
        ...(includeInvalid ? [] : ['WHERE r.open']),
        'WITH DISTINCT r',
        'WITH r, startNode(r) AS source, endNode(r) AS target',
        'RETURN source.name AS source, r.name AS relation, target.name AS target, r.valid_from AS validFrom, r.valid_to AS validTo,',
        '  source.user_id AS userId, source.agent_id AS agentId, source.run_id AS runId',
        'ORDER BY validFrom DESC, source, relation, target',
        'LIMIT $limit',
      ].join('\n'),

    /** How many entities with an embedding the scope holds, counting no further than `$cap`. */
    countSearchable: (scope: string) =>
      [`MATCH (e:${entity})`, `WHERE ${scope} AND e.embedding IS NOT NULL`, 'WITH e LIMIT $cap', 'RETURN count(e) AS searchable'].join(
        '\n',
      ),

    /** Exact similarity over the scope's entities, best first. */
    exactSearch: (scope: string, withThreshold: boolean) =>
      [
        `MATCH (e:${entity})`,
        `WHERE ${scope} AND e.embedding IS NOT NULL`,
        ...dialect.exactSimilarity,
        `WHERE similarity IS NOT NULL${withThreshold ? ' AND similarity >= $threshold' : ''}`,
        'RETURN e.name AS name, e.type AS type, e.user_id AS userId, e.agent_id AS agentId, e.run_id AS runId, similarity',
        'ORDER BY similarity DESC, name',
        'LIMIT $topK',
      ].join('\n'),

    /**
     * The vector index's global top `$candidates`, of which the entities in scope are kept, with
     * their similarity. `fetched` and `lowest` tell the caller whether to look further.
     */
    indexSearch: (scope: string) =>
      [
        ...dialect.indexSearch.call,
        `WITH count(*) AS fetched, min(${dialect.indexSearch.score}) AS lowest,`,
        `  collect(CASE WHEN ${scope} THEN {${entityRow}, similarity: ${dialect.indexSearch.similarity}} END) AS matches`,
        'RETURN fetched, lowest, matches',
      ].join('\n'),

    /** Count of entity nodes (all scopes). */
    countEntities: `MATCH (e:${entity}) RETURN count(e) AS entities`,

    /** Deletes up to `$batch` entities (and their relations) in scope; returns how many. */
    deleteBatch: (scope: string) =>
      [`MATCH (e:${entity})`, `WHERE ${scope}`, 'WITH e LIMIT $batch', 'DETACH DELETE e', 'RETURN count(*) AS deleted'].join('\n'),
  };
}

export type CypherQueries = ReturnType<typeof cypherQueries>;
