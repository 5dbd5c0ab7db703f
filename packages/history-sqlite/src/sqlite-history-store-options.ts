import type { SqliteConnectionOptions } from '@mem/sqlite';

/**
 * Options of {@link SqliteHistoryStore}: where the connection comes from (`path` or a shared `database`,
 * see {@link SqliteConnectionOptions}) and where in the file the store keeps its data.
 */
export interface SqliteHistoryStoreOptions extends SqliteConnectionOptions {
  /**
   * Name of the table holding the events. 1–40 characters: a letter, then letters, digits or `_`;
   * not starting with `sqlite_`.
   * @default 'memory_history'
   */
  readonly table?: string;
}

/** Default of {@link SqliteHistoryStoreOptions.table}. */
export const DEFAULT_HISTORY_TABLE = 'memory_history';

/** Example given in the fix of an invalid table. */
export const DEFAULT_HISTORY_TABLE_EXAMPLE = '"memory_history"';
