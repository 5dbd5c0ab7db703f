import type { SqliteConnectionOptions } from '@mem/sqlite';

/**
 * Options of {@link SqliteVectorStore}: where the connection comes from (`path` or a shared `database`,
 * see {@link SqliteConnectionOptions}) and where in the file the store keeps its data.
 */
export interface SqliteVectorStoreOptions extends SqliteConnectionOptions {
  /**
   * Name of the table holding the memories; `<table>_fts` (keyword index) and `<table>_meta`
   * (dimensions) sit next to it. Use one name per collection to keep several in one file.
   * 1–40 characters: a letter, then letters, digits or `_`; not starting with `sqlite_`.
   * @default 'memories'
   */
  readonly table?: string;
}

/** Default of {@link SqliteVectorStoreOptions.table}. */
export const DEFAULT_VECTOR_TABLE = 'memories';

/** Example given in the fix of an invalid table. */
export const DEFAULT_VECTOR_TABLE_EXAMPLE = '"memories" or "memories_work"';
