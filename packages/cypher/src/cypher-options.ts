import {
  InvalidInputError,
  MissingSettingError,
  integerOption,
  nonEmptySetting,
  processEnvironment,
  type Environment,
} from '@mem/core/adapter';
import type { Driver } from 'neo4j-driver';

/** The options every Bolt graph store takes (each adapter documents them with its own variables). */
export interface CypherStoreOptions {
  readonly uri?: string;
  readonly username?: string;
  readonly password?: string;
  readonly database?: string;
  readonly driver?: Driver;
  readonly namespace?: string;
  readonly exactSearchLimit?: number;
  readonly maxTransactionRetryTimeMs?: number;
  readonly connectionTimeoutMs?: number;
  readonly env?: Environment;
}

/** Options after defaults and environment fallbacks: what {@link CypherGraphStore} takes. */
export interface ResolvedCypherOptions {
  readonly connection:
    | { readonly kind: 'driver'; readonly driver: Driver }
    | { readonly kind: 'uri'; readonly uri: string; readonly username: string; readonly password: string };
  readonly database: string | undefined;
  readonly namespace: string;
  readonly exactSearchLimit: number;
  readonly maxTransactionRetryTimeMs: number;
  readonly connectionTimeoutMs: number;
}

/** How one adapter reads its settings: its variables, defaults and the advice its messages give. */
export interface CypherSettings {
  /** The provider's own variables, e.g. `NEO4J_URI`. */
  readonly variables: { readonly uri: string; readonly username: string; readonly password: string; readonly database: string };
  readonly defaults: {
    readonly username: string;
    readonly namespace: string;
    readonly exactSearchLimit: number;
    readonly maxTransactionRetryTimeMs: number;
    readonly connectionTimeoutMs: number;
  };
  /** A URI for "pass { uri: … }", e.g. `neo4j://localhost:7687`. */
  readonly uriExample: string;
  /** The fix for a value that is not an absolute URI. */
  readonly notUriFix: string;
  /** The fix for a URI with another scheme than Bolt's. */
  readonly schemeFix: string;
}

const NAMESPACE = /^[A-Za-z][A-Za-z0-9_]{0,47}$/;
const BOLT_SCHEMES = new Set(['bolt:', 'bolt+s:', 'bolt+ssc:', 'neo4j:', 'neo4j+s:', 'neo4j+ssc:']);

/**
 * Applies defaults and the provider's variables (URI, user name, password, database), and validates
 * every option.
 *
 * @throws {InvalidInputError} naming the option or variable that is wrong.
 * @throws {MissingSettingError} naming the URI variable when neither `uri`, it nor `driver` is given.
 */
export function resolveCypherOptions(options: CypherStoreOptions, settings: CypherSettings): ResolvedCypherOptions {
  const env = options.env ?? processEnvironment();
  const { variables, defaults } = settings;
  const namespace = validateNamespace(options.namespace ?? defaults.namespace, 'options.namespace');
  const exactSearchLimit = integerOption(options.exactSearchLimit, 'options.exactSearchLimit', defaults.exactSearchLimit, 0, 1_000_000);
  const maxTransactionRetryTimeMs = integerOption(
    options.maxTransactionRetryTimeMs,
    'options.maxTransactionRetryTimeMs',
    defaults.maxTransactionRetryTimeMs,
    0,
    600_000,
  );
  const connectionTimeoutMs = integerOption(
    options.connectionTimeoutMs,
    'options.connectionTimeoutMs',
    defaults.connectionTimeoutMs,
    1,
    600_000,
  );
  const database = nonEmptySetting(options.database) ?? nonEmptySetting(env[variables.database]);
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
  const uri = fromOption ?? nonEmptySetting(env[variables.uri]);
  if (uri === undefined) {
    throw new MissingSettingError(
      variables.uri,
      `Pass { uri: "${settings.uriExample}" } or set ${variables.uri} (or pass your own driver).`,
    );
  }
  checkBoltUri(uri, fromOption === undefined ? variables.uri : 'options.uri', settings);
  const username = nonEmptySetting(options.username) ?? nonEmptySetting(env[variables.username]) ?? defaults.username;
  const password = options.password ?? env[variables.password] ?? '';
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

function checkBoltUri(uri: string, setting: string, settings: CypherSettings): void {
  let protocol: string;
  try {
    protocol = new URL(uri).protocol;
  } catch {
    throw new InvalidInputError(setting, 'is not an absolute URI', settings.notUriFix);
  }
  if (!BOLT_SCHEMES.has(protocol)) throw new InvalidInputError(setting, `uses the ${protocol} scheme`, settings.schemeFix);
}

/** Scheme, host and port of a Bolt URI, safe to name in errors (user info and query dropped); `fallback` when it does not parse. */
export function describeBoltServer(uri: string, fallback: string): string {
  try {
    const url = new URL(uri);
    return `${url.protocol}//${url.host}`;
  } catch {
    return fallback;
  }
}
