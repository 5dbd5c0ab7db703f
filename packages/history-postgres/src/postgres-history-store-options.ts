import type { PostgresConnectionOptions } from '@mem/postgres';

/**
 * Options of {@link PostgresHistoryStore}: where the connections come from (`connectionString`, a
 * `pool` you own, or `DATABASE_URL`; see {@link PostgresConnectionOptions}) and the table's name.
 */
export interface PostgresHistoryStoreOptions extends PostgresConnectionOptions {
  /**
   * Name of the table holding the events (in `schema`). A letter or `_`, then letters, digits or
   * `_`; at most 40 characters; not starting with `pg_`.
   * @default 'memory_history'
   */
  readonly table?: string;
}

/** Default of {@link PostgresHistoryStoreOptions.table}. */
export const DEFAULT_HISTORY_TABLE = 'memory_history';
