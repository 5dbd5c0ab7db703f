import { postgresGlobalSetup } from '../src/testing/postgres-server';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the PostgreSQL server the tests use; `''` when none could be started (laptop only). */
    postgresUrl: string;
    /** Why there is no server, shown as the skip reason; `''` when there is one. */
    postgresSkip: string;
  }
}

/** A real PostgreSQL 15 + pgvector server for this package's tests (locks, migrations), stopped on teardown. */
export default postgresGlobalSetup;
