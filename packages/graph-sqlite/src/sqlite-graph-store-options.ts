import type { SqliteConnectionOptions } from '@mem/sqlite';

/**
 * Options of {@link SqliteGraphStore}: where the connection comes from (`path` or a shared `database`,
 * see {@link SqliteConnectionOptions}) and where in the file the store keeps its data.
 */
export interface SqliteGraphStoreOptions extends SqliteConnectionOptions {
  /**
   * Prefix of the store's tables: `<prefix>_entities`, `<prefix>_relations`, `<prefix>_meta`. Use
   * one prefix per graph to keep several in one file. 1–40 characters: a letter, then letters,
   * digits or `_`; not starting with `sqlite_`.
   * @default 'graph'
   */
  readonly tablePrefix?: string;
}

/** Default of {@link SqliteGraphStoreOptions.tablePrefix}. */
export const DEFAULT_GRAPH_TABLE_PREFIX = 'graph';

/** Example given in the fix of an invalid tablePrefix. */
export const DEFAULT_GRAPH_TABLE_PREFIX_EXAMPLE = '"graph"';
