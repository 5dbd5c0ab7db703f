import { InvalidInputError } from '@mem/core';
import type BetterSqlite3 from 'better-sqlite3';

/**
 * Options of {@link SqliteHistoryStore}. Give `path` (the store opens and owns the connection) or
 * `database` (an open better-sqlite3 connection you own, e.g. shared with `@mem/vector-sqlite`), not both.
 */
export interface SqliteHistoryStoreOptions {
  /**
   * Database file to open (created if missing), or `':memory:'` for a private in-memory database.
   * The file may be the one `@mem/vector-sqlite` uses: WAL mode lets both stores work on it.
   * @default 'mem.db' (in the working directory)
   */
  readonly path?: string;
  /**
   * An open better-sqlite3 connection to use instead of `path`. The store leaves its pragmas
   * (journal mode, busy timeout, synchronous) as you set them, and
   * {@link SqliteHistoryStore.close} does not close it.
   */
  readonly database?: BetterSqlite3.Database;
  /**
   * Name of the table holding the events. 1–40 characters: a letter, then letters, digits or `_`;
   * not starting with `sqlite_`.
   * @default 'memory_history'
   */
  readonly table?: string;
  /** How long a write waits for another connection's lock before failing, in milliseconds (connections the store opens). @default 5000 */
  readonly busyTimeoutMs?: number;
  /**
   * SQLite `synchronous` level for connections the store opens. With WAL, `NORMAL` never loses a
   * committed write when the process dies; `FULL` also survives power loss, at a cost per commit.
   * @default 'NORMAL'
   */
  readonly synchronous?: 'NORMAL' | 'FULL';
}

/** Default of {@link SqliteHistoryStoreOptions.path}. */
export const DEFAULT_SQLITE_PATH = 'mem.db';
/** Default of {@link SqliteHistoryStoreOptions.table}. */
export const DEFAULT_HISTORY_TABLE = 'memory_history';
/** Default of {@link SqliteHistoryStoreOptions.busyTimeoutMs}. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/** Table names: a letter, then letters, digits or `_`. */
const TABLE_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,39}$/;

/**
 * Validates a table name so it can be spliced into SQL as a quoted identifier; values never are.
 * @throws {InvalidInputError} when the name does not match the pattern or is reserved by SQLite.
 */
export function validateTableName(table: unknown, field: string): string {
  if (typeof table !== 'string' || !TABLE_NAME_PATTERN.test(table) || table.toLowerCase().startsWith('sqlite_')) {
    throw new InvalidInputError(
      field,
      'a table name must be 1-40 characters: a letter, then letters, digits or "_", and must not start with "sqlite_"',
      'Pass a name such as "memory_history".',
    );
  }
  return table;
}

/** Checks the connection options shared by both sqlite stores. */
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
