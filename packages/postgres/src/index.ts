export {
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_POSTGRES_SCHEMA,
  openPostgresPool,
  qualifiedName,
  validateConnectionOptions,
  validateIdentifier,
  type PostgresConnection,
  type PostgresConnectionOptions,
} from './postgres-connection';
export { POSTGRES_PROVIDER, sqlState, toPostgresError } from './postgres-errors';
export {
  MIGRATION_LOCK_KEY,
  VERSIONS_TABLE,
  dropComponent,
  migrate,
  readComponent,
  withTransaction,
  writeStatement,
  type MigrationResult,
  type PostgresMigration,
} from './postgres-migrations';
export { checkStorableText, epochMs, isStorableText } from './postgres-text';
export { DEFAULT_LOCK_TIMEOUT_MS, LockLostError, PostgresAdvisoryLocks } from './postgres-locks';
