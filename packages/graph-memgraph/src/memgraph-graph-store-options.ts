import { integerOption, type Environment } from '@mem/core/adapter';
import { resolveCypherOptions, type ResolvedCypherOptions } from '@mem/cypher';
import type { Driver } from 'neo4j-driver';

/** Options of {@link MemgraphGraphStore}. */
export interface MemgraphGraphStoreOptions {
  /** Bolt URI of the server, e.g. `bolt://localhost:7687`. Falls back to `MEMGRAPH_URI`. Required unless `driver` is given. */
  readonly uri?: string;
  /** User name (Memgraph without users accepts any). Falls back to `MEMGRAPH_USERNAME`, then `''`. */
  readonly username?: string;
  /** Password. Falls back to `MEMGRAPH_PASSWORD`. Never appears in errors. */
  readonly password?: string;
  /** Database of a multi-tenant Memgraph (Enterprise), sent as the Bolt session database. Falls back to `MEMGRAPH_DATABASE`, then the default. */
  readonly database?: string;
  /**
   * A neo4j-driver `Driver` you created yourself. The store uses it and never closes it; `uri`,
   * `username`, `password` and `maxTransactionRetryTimeMs` are then ignored.
   */
  readonly driver?: Driver;
  /**
   * Prefix of every name the store creates, so several mem graphs can share one database:
   * entities are `(:<namespace>_Entity)` nodes, relations `[:<namespace>_RELATION]` edges, and the
   * vector index is `<namespace>_entity_embedding`. A letter, then letters, digits or `_`; at most 48 characters.
   * @default 'mem'
   */
  readonly namespace?: string;
  /**
   * `searchEntities` computes exact cosine similarity over the scope's entities when the scope
   * holds at most this many entities with embeddings, and uses the vector index above that. `0`
   * always uses the index.
   * @default 1000
   */
  readonly exactSearchLimit?: number;
  /** Initial capacity of a new vector index (Memgraph grows it when full). @default 1024 */
  readonly vectorIndexCapacity?: number;
  /** How long the driver retries a transaction after a transient failure (a write conflict). @default 30000 */
  readonly maxTransactionRetryTimeMs?: number;
  /** Milliseconds to wait for a connection to the server. @default 30000 */
  readonly connectionTimeoutMs?: number;
  /**
   * Environment the `MEMGRAPH_*` fallbacks are read from.
   * @default process.env
   */
  readonly env?: Environment;
}

/** Options after defaults and environment fallbacks. */
export interface ResolvedMemgraphOptions extends ResolvedCypherOptions {
  readonly vectorIndexCapacity: number;
}

/** Documented defaults. */
export const MEMGRAPH_DEFAULTS = {
  namespace: 'mem',
  exactSearchLimit: 1_000,
  vectorIndexCapacity: 1_024,
  maxTransactionRetryTimeMs: 30_000,
  connectionTimeoutMs: 30_000,
} as const;

/**
 * Applies defaults and the `MEMGRAPH_URI` / `MEMGRAPH_USERNAME` / `MEMGRAPH_PASSWORD` /
 * `MEMGRAPH_DATABASE` fallbacks, and validates every option.
 *
 * @throws {InvalidInputError} naming the option or variable that is wrong.
 * @throws {MissingSettingError} when neither `uri`, `MEMGRAPH_URI` nor `driver` is given.
 */
export function resolveMemgraphOptions(options: MemgraphGraphStoreOptions = {}): ResolvedMemgraphOptions {
  const vectorIndexCapacity = integerOption(
    options.vectorIndexCapacity,
    'options.vectorIndexCapacity',
    MEMGRAPH_DEFAULTS.vectorIndexCapacity,
    1,
    1_000_000_000,
  );
  const resolved = resolveCypherOptions(options, {
    variables: { uri: 'MEMGRAPH_URI', username: 'MEMGRAPH_USERNAME', password: 'MEMGRAPH_PASSWORD', database: 'MEMGRAPH_DATABASE' },
    defaults: { ...MEMGRAPH_DEFAULTS, username: '' },
    uriExample: 'bolt://localhost:7687',
    notUriFix: 'Use e.g. bolt://localhost:7687.',
    schemeFix: 'Use a Bolt URI: bolt://, bolt+s:// (or neo4j://).',
  });
  return { ...resolved, vectorIndexCapacity };
}
