import { postgresGlobalSetup } from '@mem/postgres/testing';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the PostgreSQL server the two-instance test uses; `''` when none could be started (laptop only). */
    postgresUrl: string;
    /** Why there is no server, shown as the skip reason; `''` when there is one. */
    postgresSkip: string;
  }
}

/** A real PostgreSQL 15 + pgvector server for test/two-instances.test.ts; fails the run under CI=true when it cannot start. */
export default postgresGlobalSetup;
