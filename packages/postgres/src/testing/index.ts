/**
 * `@mem/postgres/testing`: starts a real PostgreSQL 15 + pgvector server for tests and benchmarks
 * (Debian's packages; `scripts/install-postgres.sh` installs them). Not for production use.
 */
export {
  DEFAULT_POSTGRES_BIN_DIRECTORY,
  PGVECTOR_VERSION,
  postgresForTests,
  postgresGlobalSetup,
  startPostgresServer,
  waitForPostgres,
  type PostgresForTests,
  type PostgresTestServer,
  type PostgresTestServerOptions,
} from './postgres-server';
