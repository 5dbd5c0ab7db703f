export { SqliteGraphStore } from './sqlite-graph-store';
export { DEFAULT_GRAPH_TABLE_PREFIX, type SqliteGraphStoreOptions } from './sqlite-graph-store-options';
