import {
  type Environment,
  InvalidInputError,
  MissingSettingError,
  integerOption,
  nonEmptySetting,
  processEnvironment,
} from '@mem/core/adapter';
import pg from 'pg';

/**
 * How a PostgreSQL store gets its connections. Give `connectionString` (the store opens a pool and
 * owns it), or `pool` (a `pg.Pool` you own, shared by several stores), not both. With neither, the
 * store reads `DATABASE_URL`.
 */
export interface PostgresConnectionOptions {
  /**
   * A PostgreSQL connection URL, e.g. `postgres://mem:secret@127.0.0.1:5432/mem`. Any form
   * node-postgres accepts (`sslmode`, `host=/var/run/postgresql` sockets, …).
   * @default process.env.DATABASE_URL
   */
  readonly connectionString?: string;
  /**
   * A node-postgres pool to use instead of `connectionString`. The store never ends it (its
   * `close()` leaves the pool open) and adds no `'error'` listener: handle idle-client errors on it.
   */
  readonly pool?: pg.Pool;
  /** Largest number of connections of a pool the store opens. @default 10 */
  readonly maxConnections?: number;
  /**
   * Schema holding the store's tables (created if missing). Several schemas keep several
   * deployments apart in one database. A letter or `_`, then letters, digits or `_`; at most 40.
   * @default 'public'
   */
  readonly schema?: string;
}

/** Default of {@link PostgresConnectionOptions.maxConnections}. */
export const DEFAULT_MAX_CONNECTIONS = 10;
/** Default of {@link PostgresConnectionOptions.schema}. */
export const DEFAULT_POSTGRES_SCHEMA = 'public';

/** A pool and whether the store opened it (and so must end it). */
export interface PostgresConnection {
  readonly pool: pg.Pool;
  readonly owned: boolean;
}

/** Names spliced into SQL as quoted identifiers (values never are): short enough to take suffixes. */
const IDENTIFIER_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,39}$/;

/**
 * Validates a schema or table name so it can be spliced into SQL as a quoted identifier.
 * @param example - a valid name for the fix, e.g. `"memories"`
 * @throws {InvalidInputError} when the name does not match the pattern or starts with `pg_` (reserved).
 */
export function validateIdentifier(name: unknown, field: string, example: string): string {
  if (typeof name !== 'string' || !IDENTIFIER_PATTERN.test(name) || name.toLowerCase().startsWith('pg_')) {
    throw new InvalidInputError(
      field,
      'a name must be 1-40 characters: a letter or "_", then letters, digits or "_", and must not start with "pg_"',
      `Pass a name such as ${example}.`,
    );
  }
  return name;
}

/** `"schema"."name"`, from names checked by {@link validateIdentifier}. */
export function qualifiedName(schema: string, name: string): string {
  return `"${schema}"."${name}"`;
}

/**
 * Checks the connection options every PostgreSQL store takes.
 * @throws {InvalidInputError} naming the option.
 */
export function validateConnectionOptions(options: PostgresConnectionOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidInputError('options', 'expected an object', 'Pass { connectionString } or { pool }.');
  }
  if (options.connectionString !== undefined && options.pool !== undefined) {
    throw new InvalidInputError(
      'options',
      'both connectionString and pool are set',
      'Pass connectionString to let the store open a pool, or pool to share yours, not both.',
    );
  }
  if (options.connectionString !== undefined && (typeof options.connectionString !== 'string' || options.connectionString.trim() === '')) {
    throw new InvalidInputError(
      'options.connectionString',
      'expected a non-empty string',
      'Pass e.g. "postgres://user:password@host:5432/db".',
    );
  }
  if (options.pool !== undefined) {
    const pool = options.pool as { connect?: unknown; query?: unknown } | null;
    if (typeof pool !== 'object' || pool === null || typeof pool.connect !== 'function' || typeof pool.query !== 'function') {
      throw new InvalidInputError('options.pool', 'expected a pg.Pool', 'Pass new pg.Pool({ connectionString }) from the pg package.');
    }
    if (options.maxConnections !== undefined) {
      throw new InvalidInputError(
        'options.maxConnections',
        'it applies only to a pool the store opens',
        'Set max on your pg.Pool instead.',
      );
    }
  }
  integerOption(options.maxConnections, 'options.maxConnections', DEFAULT_MAX_CONNECTIONS, 1, 1_000);
  if (options.schema !== undefined) validateIdentifier(options.schema, 'options.schema', '"public" or "mem"');
}

/**
 * Opens the pool a store works on, or adopts the caller's. A pool the store opens gets
 * `application_name: 'mem'` and an `'error'` listener (an idle connection dropped by the server then
 * fails the next query instead of crashing the process).
 *
 * @throws {MissingSettingError} when neither `connectionString`, `pool` nor `DATABASE_URL` is set.
 */
export function openPostgresPool(options: PostgresConnectionOptions, env: Environment = processEnvironment()): PostgresConnection {
  if (options.pool) return { pool: options.pool, owned: false };
  const connectionString = options.connectionString ?? nonEmptySetting(env.DATABASE_URL);
  if (connectionString === undefined) {
    throw new MissingSettingError(
      'DATABASE_URL',
      'Pass connectionString (e.g. "postgres://user:password@127.0.0.1:5432/mem") or a pg.Pool as pool, or set DATABASE_URL.',
    );
  }
  const pool = new pg.Pool({
    connectionString,
    max: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
    application_name: 'mem',
  });
  pool.on('error', () => {
    // An idle client lost its connection; the pool drops it and the next query opens a new one.
  });
  return { pool, owned: true };
}
