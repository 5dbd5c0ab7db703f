import { CypherGraphStore } from '@mem/cypher';
import { neo4jDialect, type Neo4jSchemaNames } from './neo4j-dialect';
import { resolveNeo4jOptions, type Neo4jGraphStoreOptions } from './neo4j-graph-store-options';

/**
 * A {@link GraphStore} on Neo4j 5 (5.18 or later; tested on 5.26 LTS) through the official
 * `neo4j-driver`: `@mem/cypher`'s store with the Neo4j dialect. Entities are
 * `(:<namespace>_Entity)` nodes keyed by exact scope and name, relations are
 * `[:<namespace>_RELATION]` relationships carrying their name, `valid_from`, `valid_to` and `open`,
 * and entity embeddings have a cosine vector index.
 *
 * Every value is a query parameter; only names derived from the validated `namespace` are part
 * of the Cypher text. Every call runs in managed transactions (`executeRead` / `executeWrite`,
 * retried by the driver on transient errors) on a session closed on every path.
 *
 * @example
 * import { Neo4jGraphStore } from '@mem/graph-neo4j';
 * const graphStore = new Neo4jGraphStore({ uri: 'neo4j://localhost:7687', username: 'neo4j', password: process.env.NEO4J_PASSWORD });
 * const memory = new Memory({ embedder, llm, vectorStore, historyStore, graphStore });
 */
export class Neo4jGraphStore extends CypherGraphStore<Neo4jSchemaNames> {
  /** `'neo4j'`. */
  declare readonly provider: 'neo4j';

  /**
   * Creates the driver (no connection is made until the first call).
   * @throws {InvalidInputError} for an invalid option; {@link MissingSettingError} without a URI.
   */
  constructor(options: Neo4jGraphStoreOptions = {}) {
    super(neo4jDialect, resolveNeo4jOptions(options));
  }
}
