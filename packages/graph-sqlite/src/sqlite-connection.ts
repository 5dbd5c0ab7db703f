import Database from 'better-sqlite3';
import { DEFAULT_BUSY_TIMEOUT_MS, DEFAULT_SQLITE_PATH } from './sqlite-graph-store-options';
import { toSqliteError } from './sqlite-errors';

/** A connection and whether the store opened it (and so must close it). */
export interface SqliteConnection {
  readonly database: Database.Database;
  readonly owned: boolean;
}

/**
 * Opens the connection a store works on. A connection passed by the caller is used as is; one the
 * store opens gets WAL (readers never wait for the writer, and a killed process loses no committed
 * transaction), a busy timeout, the chosen `synchronous` level, and 8 KiB pages when the file is new.
 */
export function openSqliteConnection(options: {
  readonly path?: string;
  readonly database?: Database.Database;
  readonly busyTimeoutMs?: number;
  readonly synchronous?: 'NORMAL' | 'FULL';
}): SqliteConnection {
  if (options.database) return { database: options.database, owned: false };
  let database: Database.Database | undefined;
  try {
    database = new Database(options.path ?? DEFAULT_SQLITE_PATH, { timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS });
    // 8 KiB pages hold a 1536-dimension float32 vector (6 KiB) and its row in one page instead of
    // a chain of overflow pages. Only a new, empty file takes it; an existing one keeps its size.
    if (database.pragma('page_count', { simple: true }) === 0) database.pragma('page_size = 8192');
    if (!database.memory) database.pragma('journal_mode = WAL');
    database.pragma(`synchronous = ${options.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
    return { database, owned: true };
  } catch (error) {
    database?.close();
    throw toSqliteError(error, 'open');
  }
}
