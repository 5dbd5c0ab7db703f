import { InvalidInputError, MissingSettingError, integerOption, nonEmptySetting, processEnvironment, type Environment } from '@mem/core';
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

/** Options after defaults and environment fallbacks. */
export interface ResolvedNeo4jOptions {
  readonly connection:
    | { readonly kind: 'driver'; readonly driver: Driver }
    | { readonly kind: 'uri'; readonly uri: string; readonly username: string; readonly password: string };
  readonly database: string | undefined;
  readonly namespace: string;
  readonly exactSearchLimit: number;
  readonly maxTransactionRetryTimeMs: number;
  readonly connectionTimeoutMs: number;
}

/** Documented defaults. */
export const NEO4J_DEFAULTS = {
  username: 'neo4j',
  namespace: 'mem',
  exactSearchLimit: 200,
  maxTransactionRetryTimeMs: 30_000,
  connectionTimeoutMs: 30_000,
} as const;

const NAMESPACE = /^[A-Za-z][A-Za-z0-9_]{0,47}$/;
const BOLT_SCHEMES = new Set(['bolt:', 'bolt+s:', 'bolt+ssc:', 'neo4j:', 'neo4j+s:', 'neo4j+ssc:']);

/**
 * Applies defaults and the `NEO4J_URI` / `NEO4J_USERNAME` / `NEO4J_PASSWORD` / `NEO4J_DATABASE`
 * fallbacks, and validates every option.
 *
 * @throws {InvalidInputError} naming the option or variable that is wrong.
 * @throws {MissingSettingError} when neither `uri`, `NEO4J_URI` nor `driver` is given.
 */
export function resolveNeo4jOptions(options: Neo4jGraphStoreOptions = {}): ResolvedNeo4jOptions {
  const env = options.env ?? processEnvironment();
  const namespace = validateNamespace(options.namespace ?? NEO4J_DEFAULTS.namespace, 'options.namespace');
  const exactSearchLimit = integerOption(
    options.exactSearchLimit,
    'options.exactSearchLimit',
    NEO4J_DEFAULTS.exactSearchLimit,
    0,
    1_000_000,
  );
  const maxTransactionRetryTimeMs = integerOption(
    options.maxTransactionRetryTimeMs,
    'options.maxTransactionRetryTimeMs',
    NEO4J_DEFAULTS.maxTransactionRetryTimeMs,
    0,
    600_000,
  );
  const connectionTimeoutMs = integerOption(
    options.connectionTimeoutMs,
    'options.connectionTimeoutMs',
    NEO4J_DEFAULTS.connectionTimeoutMs,
    1,
    600_000,
  );
  const database = nonEmptySetting(options.database) ?? nonEmptySetting(env.NEO4J_DATABASE);
  const common = { database, namespace, exactSearchLimit, maxTransactionRetryTimeMs, connectionTimeoutMs };
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
  const uri = fromOption ?? nonEmptySetting(env.NEO4J_URI);
  if (uri === undefined) {
    throw new MissingSettingError('NEO4J_URI', 'Pass { uri: "neo4j://localhost:7687" } or set NEO4J_URI (or pass your own driver).');
  }
  checkBoltUri(uri, fromOption === undefined ? 'NEO4J_URI' : 'options.uri');
  const username = nonEmptySetting(options.username) ?? nonEmptySetting(env.NEO4J_USERNAME) ?? NEO4J_DEFAULTS.username;
  const password = options.password ?? env.NEO4J_PASSWORD ?? '';
  return { connection: { kind: 'uri', uri, username, password }, ...common };
}

/**
 * Checks a namespace: a letter, then letters, digits or `_`, at most 48 characters. It becomes
 * part of labels, a relationship type and index names, which Cypher cannot take as parameters.
 * @throws {InvalidInputError} naming `field`.
 */
export function validateNamespace(value: unknown, field: string): string {
  if (typeof value !== 'string' || !NAMESPACE.test(value)) {
    throw new InvalidInputError(
      field,
      'expected a letter followed by up to 47 letters, digits or underscores',
      'Pass e.g. "mem" or "assistant_graph".',
    );
  }
  return value;
}

function checkBoltUri(uri: string, setting: string): void {
  let protocol: string;
  try {
    protocol = new URL(uri).protocol;
  } catch {
    throw new InvalidInputError(setting, 'is not an absolute URI', 'Use e.g. neo4j://localhost:7687 or neo4j+s://<id>.databases.neo4j.io.');
  }
  if (!BOLT_SCHEMES.has(protocol)) {
    throw new InvalidInputError(
      setting,
      `uses the ${protocol} scheme`,
      'Use a Bolt URI: neo4j://, neo4j+s://, bolt:// or bolt+s:// (not the http:// browser address).',
    );
  }
}
