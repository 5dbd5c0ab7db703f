import type { Environment } from '@mem/core/adapter';
import { resolveCypherOptions, type ResolvedCypherOptions } from '@mem/cypher';
import type { Driver } from 'neo4j-driver';

/** Options of {@link Neo4jGraphStore}. */
export interface Neo4jGraphStoreOptions {
  /**
   * Bolt URI of the server, e.g. `neo4j://localhost:7687`, `bolt://127.0.0.1:7687` or an Aura
   * `neo4j+s://…` URI. Falls back to `NEO4J_URI`. Required unless `driver` is given.
   */
  readonly uri?: string;
  /** User name. Falls back to `NEO4J_USERNAME`, then `neo4j`. */
  readonly username?: string;
  /** Password. Falls back to `NEO4J_PASSWORD`. Never appears in errors. */
  readonly password?: string;
  /** Database to use (Enterprise/Aura can hold several). Falls back to `NEO4J_DATABASE`, then the server's default database. */
  readonly database?: string;
  /**
   * A driver you created yourself (shared with your application). The store uses it and never
   * closes it; `uri`, `username`, `password` and `maxTransactionRetryTimeMs` are then ignored.
   */
  readonly driver?: Driver;
  /**
   * Prefix of every name the store creates, so several mem graphs can share one database:
   * entities are `(:<namespace>_Entity)` nodes, relations `[:<namespace>_RELATION]`
   * relationships, and the indexes and constraint are named `<namespace>_entity_…`. A letter, then
   * letters, digits or `_`; at most 48 characters.
   * @default 'mem'
   */
  readonly namespace?: string;
  /**
   * `searchEntities` computes exact cosine similarity over the scope's entities when the scope
   * holds at most this many entities with embeddings, and uses the vector index above that (see
   * README, "How entity search stays scoped"). `0` always uses the index.
   * @default 200
   */
  readonly exactSearchLimit?: number;
  /** How long the driver retries a transaction after a transient failure (deadlock, leader switch). @default 30000 */
  readonly maxTransactionRetryTimeMs?: number;
  /** Milliseconds to wait for a connection to the server. @default 30000 */
  readonly connectionTimeoutMs?: number;
  /**
   * Environment the `NEO4J_*` fallbacks are read from.
   * @default process.env
   */
  readonly env?: Environment;
}

/** Documented defaults. */
export const NEO4J_DEFAULTS = {
  username: 'neo4j',
  namespace: 'mem',
  exactSearchLimit: 200,
  maxTransactionRetryTimeMs: 30_000,
  connectionTimeoutMs: 30_000,
} as const;

/**
 * Applies defaults and the `NEO4J_URI` / `NEO4J_USERNAME` / `NEO4J_PASSWORD` / `NEO4J_DATABASE`
 * fallbacks, and validates every option.
 *
 * @throws {InvalidInputError} naming the option or variable that is wrong.
 * @throws {MissingSettingError} when neither `uri`, `NEO4J_URI` nor `driver` is given.
 */
export function resolveNeo4jOptions(options: Neo4jGraphStoreOptions = {}): ResolvedCypherOptions {
  return resolveCypherOptions(options, {
    variables: { uri: 'NEO4J_URI', username: 'NEO4J_USERNAME', password: 'NEO4J_PASSWORD', database: 'NEO4J_DATABASE' },
    defaults: NEO4J_DEFAULTS,
    uriExample: 'neo4j://localhost:7687',
    notUriFix: 'Use e.g. neo4j://localhost:7687 or neo4j+s://<id>.databases.neo4j.io.',
    schemeFix: 'Use a Bolt URI: neo4j://, neo4j+s://, bolt:// or bolt+s:// (not the http:// browser address).',
  });
}
