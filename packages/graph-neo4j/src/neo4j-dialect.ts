import { MemError } from '@mem/core/adapter';
import { cypherNumber, type CypherDialect, type CypherSchemaNames } from '@mem/cypher';
import neo4j, { type Session } from 'neo4j-driver';
import { NEO4J_PROVIDER, describeServer, toNeo4jError } from './neo4j-errors';

/**
 * What Neo4j 5 does its own way, for `@mem/cypher`'s store: named schema objects created with
 * `IF NOT EXISTS` (a uniqueness constraint, range indexes, a vector index with `OPTIONS`),
 * `db.awaitIndexes`, `db.index.vector.queryNodes` for the index and `vector.similarity.cosine`
 * for exact similarity, both of which score `(1 + cosine) / 2`.
 */

/** Names of everything the store creates in the database for one namespace. */
export interface Neo4jSchemaNames extends CypherSchemaNames {
  /** Uniqueness constraint on `key` (exact scope + name). */
  readonly keyConstraint: string;
  /** Range indexes: entity name and the three scope ids. */
  readonly rangeIndexes: ReadonlyArray<{ readonly name: string; readonly property: string }>;
}

/** Seconds `ensureSchema` waits for new indexes to come online. */
const INDEX_ONLINE_SECONDS = 300;

/** The names of a namespace (already validated: a letter, then letters, digits or `_`). */
export function schemaNames(namespace: string): Neo4jSchemaNames {
  return {
    entityLabel: `${namespace}_Entity`,
    relationType: `${namespace}_RELATION`,
    keyConstraint: `${namespace}_entity_key`,
    rangeIndexes: [
      { name: `${namespace}_entity_name`, property: 'name' },
      ...['user_id', 'agent_id', 'run_id'].map((property) => ({ name: `${namespace}_entity_${property}`, property })),
    ],
    vectorIndex: `${namespace}_entity_embedding`,
  };
}

/** The schema statements of one namespace. */
export function neo4jSchemaQueries(names: Neo4jSchemaNames) {
  const entity = names.entityLabel;
  return {
    createConstraint: `CREATE CONSTRAINT ${names.keyConstraint} IF NOT EXISTS FOR (e:${entity}) REQUIRE e.key IS UNIQUE`,
    createRangeIndexes: names.rangeIndexes.map(
      (index) => `CREATE INDEX ${index.name} IF NOT EXISTS FOR (e:${entity}) ON (e.${index.property})`,
    ),
    /** Reads the dimensions of the vector index, if it exists. */
    showVectorIndex: `SHOW VECTOR INDEXES YIELD name, labelsOrTypes, properties, options WHERE name = $name RETURN labelsOrTypes, properties, options`,
    createVectorIndex: (dimensions: number) =>
      // `dimensions` is a validated integer: the OPTIONS map takes no parameters in every 5.x release.
      `CREATE VECTOR INDEX ${names.vectorIndex} IF NOT EXISTS FOR (e:${entity}) ON (e.embedding) OPTIONS { indexConfig: { \`vector.dimensions\`: ${dimensions}, \`vector.similarity_function\`: 'cosine' } }`,
    awaitIndexes: 'CALL db.awaitIndexes($seconds)',
    dropIndexes: [names.vectorIndex, ...names.rangeIndexes.map((index) => index.name)].map((name) => `DROP INDEX ${name} IF EXISTS`),
    dropConstraint: `DROP CONSTRAINT ${names.keyConstraint} IF EXISTS`,
  };
}

/** The Neo4j dialect of `@mem/cypher`'s graph store. */
export const neo4jDialect: CypherDialect<Neo4jSchemaNames> = {
  provider: NEO4J_PROVIDER,
  engine: 'Neo4j',
  storeClass: 'Neo4jGraphStore',
  userAgent: 'mem-graph-neo4j',
  uriExample: 'neo4j://localhost:7687',
  maxDimensions: { limit: 4_096, why: 'the largest a Neo4j 5.26 vector index takes' },
  schemaNames,

  async readVectorDimensions(session, names) {
    const result = await session.run(neo4jSchemaQueries(names).showVectorIndex, { name: names.vectorIndex });
    const record = result.records[0];
    if (!record) return undefined;
    const options = record.get('options') as { indexConfig?: Record<string, unknown> } | null;
    const dimensions = options?.indexConfig?.['vector.dimensions'];
    if (dimensions === undefined || dimensions === null) {
      throw new MemError(
        'CONFLICT',
        `The Neo4j vector index ${names.vectorIndex} has no vector.dimensions. Drop it (dropSchema) and call ensureSchema again.`,
      );
    }
    return cypherNumber(dimensions, 'vector.dimensions', NEO4J_PROVIDER);
  },

  async createSchema(session: Session, names, dimensions) {
    const queries = neo4jSchemaQueries(names);
    // Schema commands run in auto-commit transactions (Neo4j does not allow them in managed ones with data).
    for (const query of [queries.createConstraint, ...queries.createRangeIndexes, queries.createVectorIndex(dimensions)]) {
      await session.run(query);
    }
    await session.run(queries.awaitIndexes, { seconds: neo4j.int(INDEX_ONLINE_SECONDS) });
  },

  async dropSchema(session, names) {
    const queries = neo4jSchemaQueries(names);
    for (const query of [...queries.dropIndexes, queries.dropConstraint]) await session.run(query);
  },

  exactSimilarity: ['WITH e, vector.similarity.cosine(e.embedding, $vector) AS similarity'],
  exactSimilarityParams: () => ({}),
  // The index may compare quantized vectors: each match keeps its exact similarity.
  indexSearch: {
    call: ['CALL db.index.vector.queryNodes($index, $candidates, $vector) YIELD node AS e, score'],
    score: 'score',
    similarity: 'vector.similarity.cosine(e.embedding, $vector)',
  },
  toCosine: (similarity) => similarity * 2 - 1,
  fromCosine: (cosine) => (1 + cosine) / 2,

  // MERGE on a uniquely constrained property locks it in Neo4j: a concurrent writer waits, then
  // finds the entity, so no write loses that race.
  isUniqueConflict: () => false,
  toError: toNeo4jError,
  describeServer,
};
