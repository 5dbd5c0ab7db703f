import { CypherGraphStore } from '@mem/cypher';
import { memgraphDialect, type MemgraphSchemaNames } from './memgraph-dialect';
import { resolveMemgraphOptions, type MemgraphGraphStoreOptions } from './memgraph-graph-store-options';

/**
 * A {@link GraphStore} on Memgraph 3 through `neo4j-driver` (Memgraph speaks Bolt): `@mem/cypher`'s
 * store with the Memgraph dialect. Entities are `(:<namespace>_Entity)` nodes keyed by exact scope
 * and name (unique constraint), relations are `[:<namespace>_RELATION]` edges carrying their name,
 * `valid_from`, `valid_to` and `open`, and entity embeddings have a Memgraph vector index
 * (`metric: "cos"`), searched with `vector_search.search`.
 *
 * Every value is a query parameter; only names derived from the validated `namespace` (and the
 * validated vector index dimension and capacity) are part of the Cypher text. Data runs in managed
 * transactions (retried by the driver on Memgraph's transient write conflicts), schema changes in
 * auto-commit ones, on a session closed on every path.
 *
 * @example
 * import { MemgraphGraphStore } from '@mem/graph-memgraph';
 * const graphStore = new MemgraphGraphStore({ uri: 'bolt://localhost:7687' });
 * const memory = new Memory({ embedder, llm, vectorStore, historyStore, graphStore });
 */
export class MemgraphGraphStore extends CypherGraphStore<MemgraphSchemaNames> {
  /** `'memgraph'`. */
  declare readonly provider: 'memgraph';

  /**
   * Creates the driver (no connection is made until the first call).
   * @throws {InvalidInputError} for an invalid option; {@link MissingSettingError} without a URI.
   */
  constructor(options: MemgraphGraphStoreOptions = {}) {
    const resolved = resolveMemgraphOptions(options);
    super(memgraphDialect(resolved.vectorIndexCapacity), resolved);
  }
}
