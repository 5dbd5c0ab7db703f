import type { MemError } from '@mem/core/adapter';
import type { Session } from 'neo4j-driver';

/** Names every dialect derives from a namespace: the rest (indexes, constraints) is the dialect's own. */
export interface CypherSchemaNames {
  /** Label of entity nodes, e.g. `mem_Entity`. */
  readonly entityLabel: string;
  /** Type of relation relationships, e.g. `mem_RELATION`. */
  readonly relationType: string;
  /** Vector index on entity embeddings, e.g. `mem_entity_embedding`. */
  readonly vectorIndex: string;
}

/** Where a store connects, for messages: scheme, host and port only (never credentials). */
export interface CypherErrorContext {
  /** e.g. `bolt://127.0.0.1:7687`, or `the configured driver`. */
  readonly server: string;
  /** The database name, when one was configured. */
  readonly database?: string | undefined;
}

/**
 * What one Bolt/Cypher engine does its own way, for {@link CypherGraphStore}: schema statements
 * (indexes, the unique key constraint, the vector index), vector search, the unit of its similarity
 * scores, and its errors. Everything else (the data model, every data query, batching, scope
 * filtering of vector search, sessions and transactions) is shared.
 *
 * Values always travel as parameters. Text a dialect adds to a query may contain only names derived
 * from the validated namespace and validated integers.
 */
export interface CypherDialect<Names extends CypherSchemaNames = CypherSchemaNames> {
  /** `GraphStore.provider` and the provider of every error, e.g. `'neo4j'`. */
  readonly provider: string;
  /** The engine's name in messages, e.g. `Neo4j`. */
  readonly engine: string;
  /** The public class, named in "create a new …" messages, e.g. `Neo4jGraphStore`. */
  readonly storeClass: string;
  /** The driver's user agent, e.g. `mem-graph-neo4j`. */
  readonly userAgent: string;
  /** A Bolt URI to show in messages, e.g. `neo4j://localhost:7687`. */
  readonly uriExample: string;
  /** The largest embedding the engine's vector index takes, and why; core's limit when absent. */
  readonly maxDimensions?: { readonly limit: number; readonly why: string };

  /** The names of a namespace (already validated: a letter, then letters, digits or `_`). */
  schemaNames(namespace: string): Names;
  /** The dimensions of the namespace's vector index; `undefined` when it does not exist. */
  readVectorDimensions(session: Session, names: Names): Promise<number | undefined>;
  /**
   * Creates whatever of the schema is missing (indexes, the unique constraint on `key`, the vector
   * index with `dimensions`) in auto-commit transactions, and returns once it can be used.
   * `existing` is what {@link readVectorDimensions} found (equal to `dimensions`, or `undefined`).
   */
  createSchema(session: Session, names: Names, dimensions: number, existing: number | undefined): Promise<void>;
  /** Drops the namespace's indexes and constraint (its data is already deleted). */
  dropSchema(session: Session, names: Names): Promise<void>;

  /** Cypher lines binding `similarity` for the entity `e` and the query `$vector` (exact search). */
  readonly exactSimilarity: readonly string[];
  /** Extra parameters {@link exactSimilarity} reads, computed from the query vector. */
  exactSimilarityParams(vector: readonly number[]): Record<string, unknown>;
  /**
   * Vector index search: `call` binds the candidates as `e` from `$index`, `$candidates` and
   * `$vector`; `score` is the index's score expression (for the lowest one fetched), `similarity`
   * the similarity expression kept for each match. Both in the unit of {@link toCosine}.
   */
  readonly indexSearch: { readonly call: readonly string[]; readonly score: string; readonly similarity: string };
  /** The engine's similarity as a cosine in [-1, 1] (Neo4j: (1 + cosine) / 2, so `2s - 1`). */
  toCosine(similarity: number): number;
  /** A cosine threshold in the engine's similarity unit. */
  fromCosine(cosine: number): number;
  /** Lines written before the relation's MERGE in `upsertRelations` (Memgraph: a write-conflict guard). */
  readonly relationMergeGuard?: readonly string[];

  /** Whether a write lost a race for a new entity's unique key (the store then runs it again). */
  isUniqueConflict(error: unknown): boolean;
  /** A driver failure as a mem error naming the engine's settings; mem errors pass through. */
  toError(error: unknown, operation: string, context: CypherErrorContext): MemError;
  /** Scheme, host and port of a Bolt URI, safe to name in errors. */
  describeServer(uri: string): string;
}
