import { postgresGlobalSetup } from '@mem/postgres/testing';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the PostgreSQL server the tests use; `''` when none could be started (laptop only). */
    postgresUrl: string;
    /** Why there is no server, shown as the skip reason; `''` when there is one. */
    postgresSkip: string;
  }
}

/**
 * Starts a real PostgreSQL 15 + pgvector server for this package's tests (the PostgreSQL configuration), on a free 127.0.0.1
 * port with its data in a temporary directory, stopped on teardown. Under `CI=true` a server that
 * cannot be started fails the run; elsewhere the tests skip, visibly, with the reason.
 */
export default postgresGlobalSetup;
