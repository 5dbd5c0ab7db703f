import { InvalidInputError } from '@mem/core';
import type BetterSqlite3 from 'better-sqlite3';

/**
 * Options of {@link SqliteGraphStore}. Give `path` (the store opens and owns the connection) or
 * `database` (an open better-sqlite3 connection you own, e.g. shared with `@mem/vector-sqlite` and
 * `@mem/history-sqlite`), not both.
 */
export interface SqliteGraphStoreOptions {
  /**
   * Database file to open (created if missing), or `':memory:'` for a private in-memory database.
   * The file may be the one `@mem/vector-sqlite` and `@mem/history-sqlite` use: WAL mode lets the
   * stores work on it together.
   * @default 'mem.db' (in the working directory)
   */
  readonly path?: string;
  /**
   * An open better-sqlite3 connection to use instead of `path`. The store loads sqlite-vec into it
   * (if not loaded yet) but leaves its pragmas as you set them, and {@link SqliteGraphStore.close}
   * does not close it.
   */
  readonly database?: BetterSqlite3.Database;
  /**
   * Prefix of the store's tables: `<prefix>_entities`, `<prefix>_relations`, `<prefix>_meta`. Use
   * one prefix per graph to keep several in one file. 1–40 characters: a letter, then letters,
   * digits or `_`; not starting with `sqlite_`.
   * @default 'graph'
   */
  readonly tablePrefix?: string;
  /** How long a write waits for another connection's lock before failing, in milliseconds (connections the store opens). @default 5000 */
  readonly busyTimeoutMs?: number;
  /**
   * SQLite `synchronous` level for connections the store opens. With WAL, `NORMAL` never loses a
   * committed write when the process dies; `FULL` also survives power loss, at a cost per commit.
   * @default 'NORMAL'
   */
  readonly synchronous?: 'NORMAL' | 'FULL';
}

/** Default of {@link SqliteGraphStoreOptions.path}. */
export const DEFAULT_SQLITE_PATH = 'mem.db';
/** Default of {@link SqliteGraphStoreOptions.tablePrefix}. */
export const DEFAULT_GRAPH_TABLE_PREFIX = 'graph';
/** Default of {@link SqliteGraphStoreOptions.busyTimeoutMs}. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/** Table prefixes: a letter, then letters, digits or `_`; short enough to take the suffixes. */
const TABLE_PREFIX_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,39}$/;

/**
 * Validates a table prefix so it can be spliced into SQL as part of a quoted identifier; values never are.
 * @throws {InvalidInputError} when the prefix does not match the pattern or is reserved by SQLite.
 */
export function validateTablePrefix(prefix: unknown, field: string): string {
  if (typeof prefix !== 'string' || !TABLE_PREFIX_PATTERN.test(prefix) || prefix.toLowerCase().startsWith('sqlite_')) {
    throw new InvalidInputError(
      field,
      'a table prefix must be 1-40 characters: a letter, then letters, digits or "_", and must not start with "sqlite_"',
      'Pass a prefix such as "graph" or "graph_work".',
    );
  }
  return prefix;
}

/** Checks the connection options. */
export function validateConnectionOptions(options: {
  readonly path?: unknown;
  readonly database?: unknown;
  readonly busyTimeoutMs?: unknown;
  readonly synchronous?: unknown;
}): void {
  if (options.path !== undefined && options.database !== undefined) {
    throw new InvalidInputError('options', 'both path and database are set', 'Pass path to let the store open the file, or database to share your connection, not both.');
  }
  if (options.path !== undefined && (typeof options.path !== 'string' || options.path.length === 0)) {
    throw new InvalidInputError('options.path', 'expected a non-empty string', 'Pass a file path such as "mem.db", or ":memory:".');
  }
  if (options.database !== undefined) {
    const database = options.database as { open?: unknown; prepare?: unknown } | null;
    if (typeof database !== 'object' || database === null || typeof database.prepare !== 'function') {
      throw new InvalidInputError('options.database', 'expected a better-sqlite3 Database', 'Pass new Database(path) from better-sqlite3.');
    }
    if (database.open !== true) {
      throw new InvalidInputError('options.database', 'the connection is closed', 'Pass an open connection.');
    }
  }
  if (options.busyTimeoutMs !== undefined && (typeof options.busyTimeoutMs !== 'number' || !Number.isInteger(options.busyTimeoutMs) || options.busyTimeoutMs < 0)) {
    throw new InvalidInputError('options.busyTimeoutMs', 'expected a non-negative integer number of milliseconds', 'Pass e.g. 5000.');
  }
  if (options.synchronous !== undefined && options.synchronous !== 'NORMAL' && options.synchronous !== 'FULL') {
    throw new InvalidInputError('options.synchronous', 'expected "NORMAL" or "FULL"', 'Leave it out for NORMAL.');
  }
}
