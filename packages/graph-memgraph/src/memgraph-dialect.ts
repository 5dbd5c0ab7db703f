import { cypherNumber, type CypherDialect, type CypherSchemaNames } from '@mem/cypher';
import type { Session } from 'neo4j-driver';
import { MEMGRAPH_PROVIDER, describeServer, isUniqueConflict, toMemgraphError } from './memgraph-errors';

/**
 * What Memgraph does its own way, for `@mem/cypher`'s store: `CREATE INDEX ON :Label(property)` and
 * `CREATE CONSTRAINT ON … ASSERT …` (no names, no IF NOT EXISTS: the dialect reads `SHOW … INFO`
 * and creates only what is missing), `CREATE VECTOR INDEX … WITH CONFIG {…}`,
 * `vector_search.search` (which yields the cosine itself, not Neo4j's (1 + cosine) / 2), exact
 * cosine computed in plain Cypher, and a guard for concurrent writers under snapshot isolation.
 * Only names derived from the validated namespace and validated integers (vector index dimension
 * and capacity) enter the text.
 */

/** Names of everything the store creates in the database for one namespace. */
export interface MemgraphSchemaNames extends CypherSchemaNames {
  /** Properties with a label-property index. */
  readonly indexedProperties: readonly string[];
}

/** The names of a namespace (already validated: a letter, then letters, digits or `_`). */
export function schemaNames(namespace: string): MemgraphSchemaNames {
  return {
    entityLabel: `${namespace}_Entity`,
    relationType: `${namespace}_RELATION`,
    vectorIndex: `${namespace}_entity_embedding`,
    indexedProperties: ['key', 'name', 'user_id', 'agent_id', 'run_id'],
  };
}

/** The schema statements of one namespace. */
export function memgraphSchemaQueries(names: MemgraphSchemaNames) {
  const entity = names.entityLabel;
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
  };
}

/**
 * The Memgraph dialect of `@mem/cypher`'s graph store.
 * @param vectorIndexCapacity - initial capacity of a new vector index (a validated integer)
 */
export function memgraphDialect(vectorIndexCapacity: number): CypherDialect<MemgraphSchemaNames> {
  const readVectorDimensions = async (session: Session, names: MemgraphSchemaNames): Promise<number | undefined> => {
    const result = await session.run(memgraphSchemaQueries(names).showVectorIndexes);
    const record = result.records.find((row) => row.has('index_name') && row.get('index_name') === names.vectorIndex);
    if (!record) return undefined;
    return cypherNumber(record.get('dimension'), 'dimension', MEMGRAPH_PROVIDER);
  };
  return {
    provider: MEMGRAPH_PROVIDER,
    engine: 'Memgraph',
    storeClass: 'MemgraphGraphStore',
    userAgent: 'mem-graph-memgraph',
    uriExample: 'bolt://localhost:7687',
    schemaNames,
    readVectorDimensions,

    async createSchema(session, names, dimensions, existing) {
      const queries = memgraphSchemaQueries(names);
      const indexed = await readIndexes(session, names);
      if (!indexed.has(null)) await session.run(queries.createLabelIndex);
      for (const property of names.indexedProperties) {
        if (!indexed.has(property)) await session.run(queries.createPropertyIndex(property));
      }
      if (!(await hasKeyConstraint(session, names))) await session.run(queries.createKeyConstraint);
      if (existing === undefined) await session.run(queries.createVectorIndex(dimensions, vectorIndexCapacity));
    },

    async dropSchema(session, names) {
      const queries = memgraphSchemaQueries(names);
      if ((await readVectorDimensions(session, names)) !== undefined) await session.run(queries.dropVectorIndex);
      if (await hasKeyConstraint(session, names)) await session.run(queries.dropKeyConstraint);
      const indexed = await readIndexes(session, names);
      for (const property of names.indexedProperties) {
        if (indexed.has(property)) await session.run(queries.dropPropertyIndex(property));
      }
      if (indexed.has(null)) await session.run(queries.dropLabelIndex);
    },

    // Exact cosine in plain Cypher; $norm is the query vector's length (never 0: the store answers a zero vector itself).
    exactSimilarity: [
      'WITH e, e.embedding AS embedding',
      'WITH e, reduce(dot = 0.0, i IN range(0, size($vector) - 1) | dot + embedding[i] * $vector[i]) AS dot, reduce(squares = 0.0, x IN embedding | squares + x * x) AS squares',
      'WITH e, CASE WHEN squares = 0 THEN null ELSE dot / (sqrt(squares) * $norm) END AS similarity',
    ],
    exactSimilarityParams: (vector) => ({ norm: Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0)) }),
    indexSearch: {
      call: ['CALL vector_search.search($index, $candidates, $vector) YIELD node, similarity', 'WITH node AS e, similarity'],
      score: 'similarity',
      similarity: 'similarity',
    },
    toCosine: (similarity) => similarity,
    fromCosine: (cosine) => cosine,
    // Under snapshot isolation two writers adding the same edge do not conflict by themselves;
    // writing both endpoints makes the later one fail with a transient conflict, and its retry
    // then finds the edge instead of adding a second one.
    relationMergeGuard: ['SET source.revision = coalesce(source.revision, 0) + 1, target.revision = coalesce(target.revision, 0) + 1'],

    isUniqueConflict,
    toError: toMemgraphError,
    describeServer,
  };
}

/** Properties of this namespace's label with an index; `null` stands for the label index. */
async function readIndexes(session: Session, names: MemgraphSchemaNames): Promise<Set<string | null>> {
  const result = await session.run(memgraphSchemaQueries(names).showIndexes);
  const indexed = new Set<string | null>();
  for (const record of result.records) {
    if (!record.has('label') || record.get('label') !== names.entityLabel) continue;
    const property = record.has('property') ? (record.get('property') as unknown) : null;
    const single = Array.isArray(property) ? (property.length === 1 ? property[0] : undefined) : property;
    if (single === null || typeof single === 'string') indexed.add(single);
  }
  return indexed;
}

async function hasKeyConstraint(session: Session, names: MemgraphSchemaNames): Promise<boolean> {
  const result = await session.run(memgraphSchemaQueries(names).showConstraints);
  return result.records.some((record) => {
    if (!record.has('label') || record.get('label') !== names.entityLabel) return false;
    const type = record.has('constraint type') ? record.get('constraint type') : undefined;
    const properties = record.has('properties') ? (record.get('properties') as unknown) : undefined;
    const list = Array.isArray(properties) ? properties : [properties];
    return type === 'unique' && list.length === 1 && list[0] === 'key';
  });
}
