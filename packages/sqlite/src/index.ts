export {
  DEFAULT_BUSY_TIMEOUT_MS,
  DEFAULT_MMAP_SIZE_BYTES,
  DEFAULT_SQLITE_PATH,
  StatementCache,
  openSqliteConnection,
  validateConnectionOptions,
  validateTableName,
  type SqliteConnection,
  type SqliteConnectionOptions,
} from './sqlite-connection';
export { SQLITE_PROVIDER, toSqliteError } from './sqlite-errors';
export { DEFAULT_FILE_LOCK_TIMEOUT_MS, SqliteFileLock } from './sqlite-file-lock';
