export {
  DEFAULT_BUSY_TIMEOUT_MS,
  DEFAULT_SQLITE_PATH,
  openSqliteConnection,
  validateConnectionOptions,
  validateTableName,
  type SqliteConnection,
  type SqliteConnectionOptions,
} from './sqlite-connection';
export { SQLITE_PROVIDER, toSqliteError } from './sqlite-errors';
