import type { Scope } from '@mem/core';

/**
 * The Cypher text of every operation of {@link MemgraphGraphStore}, in Memgraph's dialect where it
 * differs from Neo4j's: `CREATE INDEX ON :Label(property)` and `CREATE CONSTRAINT ON … ASSERT …`
 * (no names, no IF NOT EXISTS), `CREATE VECTOR INDEX … WITH CONFIG {…}`, `SHOW … INFO`, and
 * `vector_search.search` (which yields the cosine itself, not Neo4j's (1 + cosine) / 2).
 * Values always travel as parameters; only names derived from the validated namespace, fixed scope
 * property names and validated integers (vector index dimension and capacity) enter the text.
 */

/** Names of everything the store creates in the database for one namespace. */
export interface MemgraphSchemaNames {
  /** Label of entity nodes, e.g. `mem_Entity`. */
  readonly entityLabel: string;
  /** Type of relation edges, e.g. `mem_RELATION`. */
  readonly relationType: string;
  /** Vector index on entity embeddings (the only named index in Memgraph). */
  readonly vectorIndex: string;
  /** Properties with a label-property index. */
  readonly indexedProperties: readonly string[];
}

/** Scope ids and the node properties holding them (absent when the id is unset). */
export const SCOPE_PROPERTIES = [
  ['userId', 'user_id'],
  ['agentId', 'agent_id'],
  ['runId', 'run_id'],
] as const;

/** The names of a namespace (already validated: a letter, then letters, digits or `_`). */
export function schemaNames(namespace: string): MemgraphSchemaNames {
  return {
    entityLabel: `${namespace}_Entity`,
    relationType: `${namespace}_RELATION`,
    vectorIndex: `${namespace}_entity_embedding`,
    indexedProperties: ['key', 'name', ...SCOPE_PROPERTIES.map(([, property]) => property)],
  };
}

/** `e.user_id = $scope_user_id AND …` for every id the scope sets (containment), or `true`. */
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

function setScope(variable: string): string {
  return `${variable}.scope_key = $write.scopeKey, ${variable}.user_id = $write.userId, ${variable}.agent_id = $write.agentId, ${variable}.run_id = $write.runId`;
}

/** Builds every query for one namespace. */
export function memgraphQueries(names: MemgraphSchemaNames) {
  const { entityLabel: entity, relationType: relation } = names;
  return {
    showVectorIndexes: 'SHOW VECTOR INDEX INFO',
    showIndexes: 'SHOW INDEX INFO',
    showConstraints: 'SHOW CONSTRAINT INFO',
    createLabelIndex: `CREATE INDEX ON :${entity}`,
    createPropertyIndex: (property: string) => `CREATE INDEX ON :${entity}(${property})`,
    createKeyConstraint: `CREATE CONSTRAINT ON (e:${entity}) ASSERT e.key IS UNIQUE`,
    createVectorIndex: (dimensions: number, capacity: number) =>
      `CREATE VECTOR INDEX ${names.vectorIndex} ON :${entity}(embedding) WITH CONFIG {"dimension": ${dimensions}, "capacity": ${capacity}, "metric": "cos"}`,
    dropVectorIndex: `DROP VECTOR INDEX ${names.vectorIndex}`,
    dropKeyConstraint: `DROP CONSTRAINT ON (e:${entity}) ASSERT e.key IS UNIQUE`,
    dropPropertyIndex: (property: string) => `DROP INDEX ON :${entity}(${property})`,
    dropLabelIndex: `DROP INDEX ON :${entity}`,

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
      // Under snapshot isolation two writers adding the same edge do not conflict by themselves;
      // writing both endpoints makes the later one fail with a transient conflict, and its retry
      // then finds the edge instead of adding a second one.
      'SET source.revision = coalesce(source.revision, 0) + 1, target.revision = coalesce(target.revision, 0) + 1',
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

    countSearchable: (scope: string) =>
      [`MATCH (e:${entity})`, `WHERE ${scope} AND e.embedding IS NOT NULL`, 'WITH e LIMIT $cap', 'RETURN count(e) AS searchable'].join(
        '\n',
      ),

    /** Exact cosine over the scope's entities, in plain Cypher ($norm is the query vector's length). */
    exactSearch: (scope: string, withThreshold: boolean) =>
      [
        `MATCH (e:${entity})`,
        `WHERE ${scope} AND e.embedding IS NOT NULL`,
        'WITH e, e.embedding AS embedding',
        'WITH e, reduce(dot = 0.0, i IN range(0, size($vector) - 1) | dot + embedding[i] * $vector[i]) AS dot, reduce(squares = 0.0, x IN embedding | squares + x * x) AS squares',
        'WITH e, CASE WHEN squares = 0 THEN null ELSE dot / (sqrt(squares) * $norm) END AS similarity',
        `WHERE similarity IS NOT NULL${withThreshold ? ' AND similarity >= $threshold' : ''}`,
        'RETURN e.name AS name, e.type AS type, e.user_id AS userId, e.agent_id AS agentId, e.run_id AS runId, similarity',
        'ORDER BY similarity DESC, name',
        'LIMIT $topK',
      ].join('\n'),

    /** The vector index's global top `$candidates`, of which the entities in scope are kept. */
    indexSearch: (scope: string) =>
      [
        'CALL vector_search.search($index, $candidates, $vector) YIELD node, similarity',
        'WITH node AS e, similarity',
        'WITH count(*) AS fetched, min(similarity) AS lowest,',
        `  collect(CASE WHEN ${scope} THEN {name: e.name, type: e.type, userId: e.user_id, agentId: e.agent_id, runId: e.run_id, similarity: similarity} END) AS matches`,
        'RETURN fetched, lowest, matches',
      ].join('\n'),

    countEntities: `MATCH (e:${entity}) RETURN count(e) AS entities`,

    deleteBatch: (scope: string) =>
      [`MATCH (e:${entity})`, `WHERE ${scope}`, 'WITH e LIMIT $batch', 'DETACH DELETE e', 'RETURN count(*) AS deleted'].join('\n'),
  };
}

export type MemgraphQueries = ReturnType<typeof memgraphQueries>;
