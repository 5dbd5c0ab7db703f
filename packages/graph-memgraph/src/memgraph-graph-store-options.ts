import { InvalidInputError, MissingSettingError, integerOption, nonEmptySetting, processEnvironment, type Environment } from '@mem/core';
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
export interface ResolvedMemgraphOptions {
  readonly connection:
    | { readonly kind: 'driver'; readonly driver: Driver }
    | { readonly kind: 'uri'; readonly uri: string; readonly username: string; readonly password: string };
  readonly database: string | undefined;
  readonly namespace: string;
  readonly exactSearchLimit: number;
  readonly vectorIndexCapacity: number;
  readonly maxTransactionRetryTimeMs: number;
  readonly connectionTimeoutMs: number;
}

/** Documented defaults. */
export const MEMGRAPH_DEFAULTS = {
  namespace: 'mem',
  exactSearchLimit: 1_000,
  vectorIndexCapacity: 1_024,
  maxTransactionRetryTimeMs: 30_000,
  connectionTimeoutMs: 30_000,
} as const;

const NAMESPACE = /^[A-Za-z][A-Za-z0-9_]{0,47}$/;
const BOLT_SCHEMES = new Set(['bolt:', 'bolt+s:', 'bolt+ssc:', 'neo4j:', 'neo4j+s:', 'neo4j+ssc:']);

/**
 * Applies defaults and the `MEMGRAPH_URI` / `MEMGRAPH_USERNAME` / `MEMGRAPH_PASSWORD` /
 * `MEMGRAPH_DATABASE` fallbacks, and validates every option.
 *
 * @throws {InvalidInputError} naming the option or variable that is wrong.
 * @throws {MissingSettingError} when neither `uri`, `MEMGRAPH_URI` nor `driver` is given.
 */
export function resolveMemgraphOptions(options: MemgraphGraphStoreOptions = {}): ResolvedMemgraphOptions {
  const env = options.env ?? processEnvironment();
  const namespace = options.namespace ?? MEMGRAPH_DEFAULTS.namespace;
  if (typeof namespace !== 'string' || !NAMESPACE.test(namespace)) {
    throw new InvalidInputError(
      'options.namespace',
      'expected a letter followed by up to 47 letters, digits or underscores',
      'Pass e.g. "mem" or "assistant_graph".',
    );
  }
  const common = {
    database: nonEmptySetting(options.database) ?? nonEmptySetting(env.MEMGRAPH_DATABASE),
    namespace,
    exactSearchLimit: integerOption(options.exactSearchLimit, 'options.exactSearchLimit', MEMGRAPH_DEFAULTS.exactSearchLimit, 0, 1_000_000),
    vectorIndexCapacity: integerOption(
      options.vectorIndexCapacity,
      'options.vectorIndexCapacity',
      MEMGRAPH_DEFAULTS.vectorIndexCapacity,
      1,
      1_000_000_000,
    ),
    maxTransactionRetryTimeMs: integerOption(
      options.maxTransactionRetryTimeMs,
      'options.maxTransactionRetryTimeMs',
      MEMGRAPH_DEFAULTS.maxTransactionRetryTimeMs,
      0,
      600_000,
    ),
    connectionTimeoutMs: integerOption(
      options.connectionTimeoutMs,
      'options.connectionTimeoutMs',
      MEMGRAPH_DEFAULTS.connectionTimeoutMs,
      1,
      600_000,
    ),
  };
  if (options.driver !== undefined) {
    if (typeof options.driver !== 'object' || options.driver === null || typeof (options.driver as Driver).session !== 'function') {
      throw new InvalidInputError(
        'options.driver',
        'expected a neo4j-driver Driver',
        'Pass neo4j.driver(uri, auth), or leave it out and pass uri/username/password.',
      );
    }
    return { connection: { kind: 'driver', driver: options.driver }, ...common };
  }
  const fromOption = nonEmptySetting(options.uri);
  const uri = fromOption ?? nonEmptySetting(env.MEMGRAPH_URI);
  if (uri === undefined) {
    throw new MissingSettingError('MEMGRAPH_URI', 'Pass { uri: "bolt://localhost:7687" } or set MEMGRAPH_URI (or pass your own driver).');
  }
  const setting = fromOption === undefined ? 'MEMGRAPH_URI' : 'options.uri';
  let protocol: string;
  try {
    protocol = new URL(uri).protocol;
  } catch {
    throw new InvalidInputError(setting, 'is not an absolute URI', 'Use e.g. bolt://localhost:7687.');
  }
  if (!BOLT_SCHEMES.has(protocol)) {
    throw new InvalidInputError(setting, `uses the ${protocol} scheme`, 'Use a Bolt URI: bolt://, bolt+s:// (or neo4j://).');
  }
  const username = nonEmptySetting(options.username) ?? nonEmptySetting(env.MEMGRAPH_USERNAME) ?? '';
  const password = options.password ?? env.MEMGRAPH_PASSWORD ?? '';
  return { connection: { kind: 'uri', uri, username, password }, ...common };
}
